package bench

import (
	"context"
	"errors"
	"math"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/muxbench/muxbench/internal/testserver"
	"github.com/muxbench/muxbench/poller"
	"github.com/muxbench/muxbench/server"
	"github.com/muxbench/muxbench/sysstat"
)

// A server that closes the silent connections leaves the run short of
// what it claims: the run fails, naming the count.
func TestRunIdleClosedByServer(t *testing.T) {
	addr := testserver.Listen(t, func(c net.Conn) {
		// Active connections send at once; a connection silent for
		// 150 ms is an idle one, and is closed.
		c.SetReadDeadline(time.Now().Add(150 * time.Millisecond))
		var b [1]byte
		if n, err := c.Read(b[:]); err != nil || n == 0 {
			c.Close()
			return
		}
		c.SetReadDeadline(time.Time{})
		c.Write(b[:1])
		testserver.Echo(c)
	})
	cfg := quick(addr)
	cfg.Idle = 5
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Integrity.MissingConns != 5 || res.Integrity.Errors() != 5 {
		t.Fatalf("integrity %+v, want 5 missing connections; warnings %q", res.Integrity, res.Warnings)
	}
	if !strings.Contains(strings.Join(res.Warnings, "\n"), "5 of 5 idle connections closed") {
		t.Errorf("no warning names the closed connections: %q", res.Warnings)
	}
}

// A server out of descriptors (a low RLIMIT_NOFILE) takes only some of
// the connections: its own count says so, and the run fails; its accept
// counters reach the result.
func TestRunServerOutOfDescriptors(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("lowers the child's RLIMIT_NOFILE on Linux only")
	}
	backend := "epoll"
	if _, ok := poller.Lookup(backend); !ok {
		backend = "poll"
	}
	cfg := childConfig(backend)
	cfg.Conns, cfg.Idle = 8, 80
	cfg.Duration = 300 * time.Millisecond
	cfg.ServerEnv = append(cfg.ServerEnv, noFileEnv+"=48")
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := res.Server
	if s == nil || s.Accepts == nil {
		t.Fatalf("no server accept figures: %+v", s)
	}
	if s.Accepts.EMFILE == 0 || s.Accepts.Pauses == 0 {
		t.Errorf("accepts %+v: want EMFILE and pauses", s.Accepts)
	}
	if m := res.Integrity.MissingConns; m == 0 || int(m) != 88-s.Conns {
		t.Errorf("%d connections missing with %d of 88 held by the server; warnings %q", m, s.Conns, res.Warnings)
	}
}

// noFileEnv lowers the child server's RLIMIT_NOFILE (see TestMain).
const noFileEnv = "MUXBENCH_BENCH_TEST_NOFILE"

// A busy process beside the run is foreign CPU: the run is marked noisy,
// and each second of its series carries the figure.
func TestRunNoise(t *testing.T) {
	if _, err := sysstat.ReadMachineCPU(); err != nil {
		t.Skip(err)
	}
	busy := exec.Command("sh", "-c", "while :; do :; done")
	if err := busy.Start(); err != nil {
		t.Skip("no shell for a busy process:", err)
	}
	defer func() { busy.Process.Kill(); busy.Wait() }()
	cfg := quick(testserver.Listen(t, testserver.Echo))
	cfg.Duration = 2 * time.Second
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	n := res.Noise
	if n == nil {
		t.Fatalf("no noise figures; warnings %q", res.Warnings)
	}
	if !n.Noisy || n.ForeignCPU < 0.2 || n.LoadAvg <= 0 {
		t.Errorf("noise %+v beside a busy process", *n)
	}
	if len(res.Series) == 0 || res.Series[0].ForeignCPU == nil || *res.Series[0].ForeignCPU < 0.2 {
		t.Errorf("series without the foreign CPU: %+v", res.Series)
	}
}

// Noisy is the foreign and steal CPU against the run's threshold.
func TestNoiseThreshold(t *testing.T) {
	m := &noiseMeter{
		m0: sysstat.MachineCPU{ProcNs: 10e9, StealNs: 1e9},
		m1: sysstat.MachineCPU{ProcNs: 13e9, StealNs: 1.1e9},
		t1: time.Unix(2, 0), t0: time.Unix(0, 0), load: 0.5,
	}
	// 3 s of process time over 2 s, 2.8 s of it ours: 0.1 CPUs foreign,
	// 0.05 stolen.
	for _, tc := range []struct {
		threshold float64
		noisy     bool
	}{{0.05, true}, {0.14, true}, {0.16, false}} {
		n, err := m.figures(2800*time.Millisecond, tc.threshold)
		if err != nil {
			t.Fatal(err)
		}
		if n.ForeignCPU != 0.1 || n.StealCPU != 0.05 || n.LoadAvg != 0.5 || n.Noisy != tc.noisy {
			t.Errorf("threshold %v: %+v, want foreign 0.1, steal 0.05, noisy %v", tc.threshold, *n, tc.noisy)
		}
	}
}

// A buffer above what the kernel lets a process set is said to be
// clamped.
func TestBufWarnings(t *testing.T) {
	snd, rcv, err := sysstat.SockBufMax()
	if err != nil {
		t.Skip(err)
	}
	if w := bufWarnings(&Config{Server: server.Config{SndBuf: snd, RcvBuf: rcv}}); len(w) != 0 {
		t.Errorf("warnings at the maximum: %q", w)
	}
	w := bufWarnings(&Config{Server: server.Config{SndBuf: snd + 1, RcvBuf: rcv + 1}})
	if len(w) != 2 || !strings.Contains(w[0], "--sndbuf") || !strings.Contains(w[0], "wmem_max") ||
		!strings.Contains(w[1], "--rcvbuf") || !strings.Contains(w[1], "clamps") {
		t.Errorf("warnings above the maximum: %q", w)
	}
}

func TestRunBadSocketOptions(t *testing.T) {
	for name, cfg := range map[string]Config{
		"sndbuf beyond int32": {Server: server.Config{Backend: "epoll", SndBuf: math.MaxInt32 + 1}},
		"rcvbuf beyond int32": {Server: server.Config{Backend: "epoll", RcvBuf: math.MaxInt32 + 1}},
		"noise threshold":     {Server: server.Config{Backend: "epoll"}, NoiseThreshold: -1},
	} {
		_, err := Run(context.Background(), cfg)
		if !errors.Is(err, ErrUsage) {
			t.Errorf("%s: err = %v, want a usage error", name, err)
		}
	}
}

// A muxbench server reached over loopback says its pid, so that its CPU
// is not foreign in the per-second noise.
func TestRunLoadControlLearnsServerPID(t *testing.T) {
	ch, err := server.Spawn(context.Background(), server.SpawnConfig{
		Executable: os.Args[0], Args: server.Config{Backend: poller.Stdlib}.Args(), Env: []string{serveEnv + "=1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Stop()
	cfg := quick(ch.Ready.Listen)
	cfg.Control, cfg.Token = ch.Ready.Control, ch.Token
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Params.Extra["server_pid"]; got != strconv.Itoa(ch.Ready.PID) {
		t.Errorf("server_pid %q, want %d", got, ch.Ready.PID)
	}
	if res.Integrity.Errors() != 0 || res.Server == nil || res.Server.Accepts == nil {
		t.Errorf("integrity %+v, server %+v", res.Integrity, res.Server)
	}
}

// slowAccepts is a server that takes one more connection every step,
// up to stop.
type slowAccepts struct {
	start      time.Time
	step       time.Duration
	stop, want int
}

func (p *slowAccepts) sample() (serverSample, error) {
	n := min(int(time.Since(p.start)/p.step), p.stop)
	return serverSample{countsConns: true, conns: n}, nil
}

func (p *slowAccepts) alive() error { return nil }

// The wait for the server's accepts before the window lasts as long as
// they keep coming, however long that is in all, and ends soon after
// they stop; a shortfall then says which it was.
func TestSettleWaitsForAccepts(t *testing.T) {
	const want = 40
	step := connSettle(want) / 8 // 5 connection settles to take all 40
	p := &slowAccepts{start: time.Now(), step: step, stop: want}
	s, why, err := settle(p, want)
	if err != nil || s.conns != want || why != "" {
		t.Fatalf("settle: %d of %d connections after %v, %q, %v: it gave up on a server still accepting", s.conns, want, time.Since(p.start), why, err)
	}
	p = &slowAccepts{start: time.Now(), step: time.Millisecond, stop: want / 2}
	s, why, err = settle(p, want)
	if err != nil || s.conns != want/2 || !strings.Contains(why, "stopped accepting") {
		t.Fatalf("settle: %d connections, %q, %v: want %d and the server said to have stopped accepting", s.conns, why, err, want/2)
	}
	if d := time.Since(p.start); d > 3*connSettle(want) {
		t.Errorf("waited %v for a server that stopped accepting", d)
	}
	if _, msg := shortfall("start", nil, s, want, why); msg != "the server holds 20 of the 40 connections at the window's start: "+why {
		t.Errorf("shortfall says %q", msg)
	}
}

// A server and a generator pinned to one CPU are warned about, once per
// run, naming the CPUs; apart, or unpinned, they are not.
func TestPinWarnings(t *testing.T) {
	for _, tc := range []struct {
		srv, gen []int
		want     string
	}{
		{[]int{0}, []int{1}, ""},
		{nil, []int{0}, ""},
		{[]int{0}, []int{0}, "pinned to CPU 0 together"},
		{[]int{0, 1}, []int{1, 2}, "pinned to CPU 1 together"},
	} {
		w := pinWarnings(&Config{Server: server.Config{CPUs: tc.srv}, GenCPUs: tc.gen})
		switch {
		case tc.want == "" && len(w) != 0:
			t.Errorf("server %v, generator %v: %q", tc.srv, tc.gen, w)
		case tc.want != "" && (len(w) != 1 || !strings.Contains(w[0], tc.want)):
			t.Errorf("server %v, generator %v: %q, want one warning with %q", tc.srv, tc.gen, w, tc.want)
		}
	}
}
