package bench

import (
	"context"
	"errors"
	"math"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/control"
	"github.com/muxbench/muxbench/internal/testserver"
	"github.com/muxbench/muxbench/poller"
	"github.com/muxbench/muxbench/result"
	"github.com/muxbench/muxbench/server"
	"github.com/muxbench/muxbench/sysstat"
)

// The stages of Run, each on its own.

func TestNewResultForChild(t *testing.T) {
	cfg := Config{
		Server: server.Config{Backend: "poll", SndBuf: 4096, CPUs: []int{0}, GOMAXPROCS: 3,
			Poller: poller.Options{EdgeTriggered: true, SpinSleep: 7 * time.Microsecond}},
		Conns: 10, Idle: 20, MsgSize: 128, Duration: 2 * time.Second, Warmup: time.Second,
		Rate: 500, GenSpin: true, GenCPUs: []int{1, 2},
		Extra: map[string]string{"sweep": "conns"},
	}
	res := newResult(&cfg, "epoll")
	p := res.Params
	if p.Backend != "poll" || p.Target != "" || p.Conns != 10 || p.Idle != 20 || p.MsgSize != 128 ||
		p.SndBuf != 4096 || p.DurationSec != 2 || p.WarmupSec != 1 || p.Rate != 500 || p.GenLoops != 2 {
		t.Errorf("params %+v", p)
	}
	want := map[string]string{
		"sweep": "conns", "generator_poller": "epoll", "gen_spin": "true", "edge": "true",
		"spin_sleep": "7µs", "server_gomaxprocs": "3", "server_args": strings.Join(cfg.Server.Args(), " "),
	}
	for k, v := range want {
		if p.Extra[k] != v {
			t.Errorf("extra %s = %q, want %q", k, p.Extra[k], v)
		}
	}
	if len(p.Extra) != len(want) {
		t.Errorf("extra %v, want only %v", p.Extra, want)
	}
	if res.Env.GOMAXPROCS != 3 || res.Schema != result.Schema || res.Env.Start.IsZero() {
		t.Errorf("env %+v schema %q: want GOMAXPROCS 3 for two loops", res.Env, res.Schema)
	}
	p.Extra["sweep"] = "idle"
	if cfg.Extra["sweep"] != "conns" {
		t.Error("the result's parameters share the config's Extra map")
	}
	if len(res.Unavailable) != 0 {
		t.Errorf("unavailable %v for a pinned run", res.Unavailable)
	}
}

func TestNewResultForTarget(t *testing.T) {
	cfg := Config{Target: "127.0.0.1:1", Server: server.Config{Poller: poller.Options{EdgeTriggered: true}},
		Conns: 1, unpinned: true}
	res := newResult(&cfg, "kqueue")
	p := res.Params
	if p.Backend != External || p.Target != cfg.Target || p.GenLoops != 1 || res.Env.GOMAXPROCS != 2 {
		t.Errorf("params %+v, GOMAXPROCS %d", p, res.Env.GOMAXPROCS)
	}
	// The server's own settings are not ours to record for a foreign one.
	for _, k := range []string{"edge", "server_args", "server_gomaxprocs", "gen_spin"} {
		if v, ok := p.Extra[k]; ok {
			t.Errorf("extra %s = %q for a --target run", k, v)
		}
	}
	if !res.Lacks(result.UnavailablePinning) {
		t.Errorf("unpinned run: unavailable %v", res.Unavailable)
	}
}

// stubServer answers the control channel with fixed figures.
type stubServer struct{ st control.Stats }

func (s stubServer) Stats() (control.Stats, error) { return s.st, nil }
func (s stubServer) Stop()                         {}

func controlServer(t *testing.T, token string, st control.Stats) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); control.Serve(ln, token, stubServer{st}) }()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String()
}

func attach(t *testing.T, cfg Config) (*run, error) {
	t.Helper()
	cfg.Target = "127.0.0.1:1"
	r := &run{ctx: context.Background(), cfg: cfg, target: cfg.Target}
	r.res = newResult(&r.cfg, "poll")
	t.Cleanup(r.close)
	return r, r.attachServer()
}

// Every way a --target's server cannot be read is the user's to fix,
// before any load; a server that refuses the run fails it.
func TestAttachServerRefusesBadInput(t *testing.T) {
	ctl := controlServer(t, "right", control.Stats{Backend: "epoll"})
	if _, err := attach(t, Config{Control: testserver.ClosedAddr(t)}); !errors.Is(err, ErrUsage) {
		t.Errorf("control closed: err = %v, want a usage error", err)
	}
	if _, err := attach(t, Config{Control: ctl, Token: "wrong"}); err == nil || errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), "token") {
		t.Errorf("wrong token: err = %v, want a failure naming the token, not a usage error", err)
	}
	// No process has a pid beyond the kernel's largest (2^22).
	r, err := attach(t, Config{ServerPID: 1 << 30})
	if _, perr := sysstat.ProcessByPID(os.Getpid()); errors.Is(perr, sysstat.ErrUnavailable) {
		// No /proc: the run goes on without the server's side, and says so.
		if err != nil || r.probe != nil || !r.res.Lacks(result.UnavailableServerCPU) {
			t.Errorf("--server-pid without /proc: err %v, probe %v, unavailable %v", err, r.probe, r.res.Unavailable)
		}
	} else if !errors.Is(err, ErrUsage) {
		t.Errorf("--server-pid of no process: err = %v, want a usage error", err)
	}
}

func TestAttachServerProbes(t *testing.T) {
	other := os.Getpid() + 1
	ctl := controlServer(t, "tok", control.Stats{Backend: "epoll", RSS: 5 << 20, PID: other})
	r, err := attach(t, Config{Control: ctl, Token: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.probe.(*controlProbe); !ok || r.res.Params.Backend != "epoll" || r.serverPID != 0 {
		t.Fatalf("probe %T, backend %q, pid %d: want the control channel naming epoll, pid unknown", r.probe, r.res.Params.Backend, r.serverPID)
	}
	// A loopback server gives its pid and its memory before any connection.
	r.baseline()
	if r.serverPID != other || r.res.Params.Extra["server_pid"] != strconv.Itoa(other) || r.rssBase != 5<<20 {
		t.Errorf("after baseline: pid %d (extra %q), rss base %d", r.serverPID, r.res.Params.Extra["server_pid"], r.rssBase)
	}

	r, err = attach(t, Config{ServerPID: os.Getpid()})
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS == "linux" {
		if p, ok := r.probe.(*pidProbe); !ok || p.pid != os.Getpid() || r.serverPID != os.Getpid() {
			t.Errorf("--server-pid of this process: probe %#v, pid %d", r.probe, r.serverPID)
		}
	}
	// Neither: the load runs, nothing reads the server.
	r, err = attach(t, Config{})
	if err != nil || r.probe != nil || r.serverPID != 0 {
		t.Errorf("plain --target: err %v, probe %v, pid %d", err, r.probe, r.serverPID)
	}
}

// backlogListener listens with an accept queue of one and never accepts:
// connections beyond what the queue holds cannot complete.
func backlogListener(t *testing.T) string {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 1); err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(sa.(*unix.SockaddrInet4).Port))
}

func connectRun(ctx context.Context, target string, conns, idle int) *run {
	cfg := Config{Target: target, Conns: conns, Idle: idle, ConnectTimeout: 300 * time.Millisecond}
	return &run{ctx: ctx, cfg: cfg, target: target, res: &result.Result{}}
}

// Connections that do not complete are counted, and the run goes on with
// the others.
func TestConnectCountsFailures(t *testing.T) {
	r := connectRun(context.Background(), backlogListener(t), 6, 0)
	defer r.close()
	if err := r.connect(); err != nil {
		t.Fatal(err)
	}
	defer closeAll(r.fds)
	failed := r.res.Integrity.ConnFailures
	if len(r.fds)+int(failed) != 6 {
		t.Errorf("%d connected + %d failed, want 6 in all", len(r.fds), failed)
	}
	// Linux holds backlog+1 connections in the queue and drops the rest's
	// SYNs; the retransmission comes after the timeout.
	if runtime.GOOS == "linux" && failed == 0 {
		t.Errorf("all 6 connected to a listener with a backlog of 1 that never accepts")
	}
}

func TestConnectErrors(t *testing.T) {
	r := connectRun(context.Background(), testserver.ClosedAddr(t), 2, 0)
	if err := r.connect(); !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), "--target") {
		t.Errorf("closed port: err = %v, want a usage error naming --target", err)
	}
	// A child server's address is not the user's: not a usage error.
	r = connectRun(context.Background(), testserver.ClosedAddr(t), 2, 0)
	r.cfg.Target = ""
	if err := r.connect(); err == nil || errors.Is(err, ErrUsage) {
		t.Errorf("closed port of a child: err = %v, want a plain error", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r = connectRun(ctx, testserver.ClosedAddr(t), 2, 0)
	if err := r.connect(); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v, want context.Canceled", err)
	}
}

// stubProbe stands for a server the collect stage never asks.
type stubProbe struct{}

func (stubProbe) sample() (serverSample, error) { return serverSample{}, errors.New("not asked") }
func (stubProbe) alive() error                  { return nil }

// collectEdges is a 2 s window in which the generator process used 1 s of
// CPU, the server 0.4 s, and the machine 1.6 s in all, over 1000 round
// trips on one loop.
func collectEdges(t *testing.T) (*run, *edges) {
	t.Helper()
	l, err := newGenLoop(0, GenBackend(), 64, false, schedule{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.closeAll)
	cfg := Config{Conns: 3, Idle: 1, NoiseThreshold: 0.05}
	r := &run{ctx: context.Background(), cfg: cfg, res: &result.Result{}, loops: []*genLoop{l},
		probe: stubProbe{}, serverPID: 42, rssBase: 1 << 20}
	t0 := time.Unix(1000, 0)
	w := &edges{
		winStart: 1e9, winEnd: 3e9,
		proc0:  cpuTimes{userNs: 1e9, ok: true},
		proc1:  cpuTimes{userNs: 1.5e9, sysNs: 0.5e9, ok: true},
		srv0:   serverSample{backend: "epoll", proc: cpuTimes{userNs: 1e9, ok: true}, hasIO: true},
		srv1:   serverSample{backend: "epoll", proc: cpuTimes{userNs: 1.3e9, sysNs: 0.1e9, ok: true}, hasIO: true, rss: 3 << 20, conns: 4},
		starts: []snapshot{{at: 1e9, rts: 500, cpu: cpuTimes{ok: true}}},
		ends:   []snapshot{{at: 3e9, rts: 1500, cpu: cpuTimes{userNs: 0.2e9, ok: true}}},
		noise: &noiseMeter{t0: t0, t1: t0.Add(2 * time.Second),
			m0: sysstat.MachineCPU{ProcNs: 10e9}, m1: sysstat.MachineCPU{ProcNs: 11.6e9, StealNs: 0.1e9}},
	}
	return r, w
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestCollectFigures(t *testing.T) {
	r, w := collectEdges(t)
	w.missing, w.missingWhy = 1, "the server holds 3 of the 4 connections"
	res, err := r.collect(w)
	if err != nil {
		t.Fatal(err)
	}
	if res.WindowSec != 2 || res.RoundTrips != 1000 || res.Throughput != 500 || res.Partial {
		t.Errorf("window %gs, %d round trips, %g/s, partial %v", res.WindowSec, res.RoundTrips, res.Throughput, res.Partial)
	}
	if g := res.Generator.Process; g == nil || !near(g.UserSec, 0.5) || !near(g.SysSec, 0.5) || !near(g.PerRTus, 1000) || !near(g.Utilization, 0.5) {
		t.Errorf("generator process CPU %+v, want 1 s: 1000 µs per round trip, half a CPU", g)
	}
	s := res.Server
	if s == nil || !near(s.Process.UserSec, 0.3) || !near(s.Process.PerRTus, 400) || s.RSSPerConn != float64(2<<20)/4 {
		t.Fatalf("server %+v: want 0.4 s of CPU and 512 KiB per connection", s)
	}
	// The machine's 1.6 s less the run's own 1.4 s: 0.1 CPU foreign.
	if n := res.Noise; n == nil || !near(n.ForeignCPU, 0.1) || !near(n.StealCPU, 0.05) || !n.Noisy {
		t.Errorf("noise %+v, want 0.1 foreign, 0.05 steal, noisy", res.Noise)
	}
	if res.Integrity.MissingConns != 1 {
		t.Errorf("missing connections %d, want 1", res.Integrity.MissingConns)
	}
	warns := strings.Join(res.Warnings, "\n")
	for _, want := range []string{"connections missing: the server holds 3", "noisy machine"} {
		if !strings.Contains(warns, want) {
			t.Errorf("no warning %q in %q", want, res.Warnings)
		}
	}
	if strings.Contains(warns, "not measured") || strings.Contains(warns, "stopped early") {
		t.Errorf("warnings %q", res.Warnings)
	}
}

// Without the server's end figures its CPU stays in the foreign share, and
// a window cut short by a fault is partial.
func TestCollectWithoutServerEnd(t *testing.T) {
	r, w := collectEdges(t)
	w.srvErr = errors.New("control: timeout")
	w.runErr = errors.New("server exited during the run")
	res, err := r.collect(w)
	if err != nil {
		t.Fatal(err)
	}
	if res.Server != nil || !res.Partial {
		t.Errorf("server %+v, partial %v", res.Server, res.Partial)
	}
	if n := res.Noise; n == nil || !near(n.ForeignCPU, 0.3) {
		t.Errorf("noise %+v, want 0.3 foreign: the machine's 1.6 s less the generator's 1 s", res.Noise)
	}
	warns := strings.Join(res.Warnings, "\n")
	for _, want := range []string{"server figures at window end: control: timeout", "run stopped early: server exited"} {
		if !strings.Contains(warns, want) {
			t.Errorf("no warning %q in %q", want, res.Warnings)
		}
	}
	if strings.Contains(warns, "not measured") {
		t.Errorf("server pid known, yet warned: %q", res.Warnings)
	}
}

// Nothing reads the server: said, and the noise is still given where the
// machine can be read; a cancelled run is partial without a warning.
func TestCollectNoServer(t *testing.T) {
	r, w := collectEdges(t)
	r.probe, r.serverPID = nil, 0
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r.ctx = ctx
	w.runErr = ctx.Err()
	w.noise = &noiseMeter{err: errors.New("no /proc/stat")}
	res, err := r.collect(w)
	if err != nil {
		t.Fatal(err)
	}
	if res.Server != nil || res.Noise != nil || !res.Partial {
		t.Errorf("server %+v noise %+v partial %v", res.Server, res.Noise, res.Partial)
	}
	warns := strings.Join(res.Warnings, "\n")
	for _, want := range []string{"server's CPU is not measured", "noise unavailable: no /proc/stat"} {
		if !strings.Contains(warns, want) {
			t.Errorf("no warning %q in %q", want, res.Warnings)
		}
	}
	if strings.Contains(warns, "stopped early") {
		t.Errorf("Ctrl-C warned as a fault: %q", res.Warnings)
	}
}
