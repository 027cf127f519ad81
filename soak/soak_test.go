package soak

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/muxbench/muxbench/control"
	"github.com/muxbench/muxbench/internal/testserver"
	"github.com/muxbench/muxbench/poller"
	"github.com/muxbench/muxbench/reactor"
	"github.com/muxbench/muxbench/result"
	"github.com/muxbench/muxbench/server"
)

// serveEnv makes the test binary play `muxbench serve` for the soak's
// child servers (the soak starts its own executable).
const serveEnv = "MUXBENCH_SOAK_TEST_SERVE"

func TestMain(m *testing.M) {
	testserver.Main(m, serveEnv, func(mode string) {
		if mode == "busy" {
			// The regression the idle check is for: a loop that spins
			// whether or not there is anything to do. On several
			// threads, so that a machine loaded many deep (CI beside
			// CPU burners, other work) still gives the server more of a
			// CPU than the check allows; one spinning thread there gets
			// a tenth of one. The server sets its GOMAXPROCS as it
			// starts: raise it again after.
			const spinners = 4
			for range spinners {
				go func() {
					for {
					}
				}()
			}
			go func() {
				for {
					if runtime.GOMAXPROCS(0) < spinners+2 {
						runtime.GOMAXPROCS(spinners + 2)
					}
					time.Sleep(100 * time.Millisecond)
				}
			}()
		}
	}, server.Command)
}

func TestBadInput(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--backend", "nope"}, `--backend "nope": unknown`},
		{[]string{"--duration", "0s"}, "positive duration"},
		{[]string{"--duration", "5s"}, "too short"},
		{[]string{"--backend", "epoll", "--inject", "1"}, "--inject 1"},
		{[]string{"--backend", "epoll", "--churn", "-1"}, "--churn -1"},
		{[]string{"--backend", "epoll", "--churn", "9223372036854775807"}, "--churn 9223372036854775807"},
		{[]string{"--backend", "epoll", "--conns", "9223372036854775807"}, "--conns 9223372036854775807"},
		{[]string{"--backend", "epoll", "--conns", "0"}, "--conns 0"},
		{[]string{"--backend", "epoll", "--msg-size", "3"}, "--msg-size 3"},
		{[]string{"--backend", "epoll", "--out", filepath.Join(file, "dir")}, "not a directory"},
		{[]string{"--backend", "poll+loops2+exclusive"}, "--accept exclusive: poll cannot wake one loop of several"},
		{[]string{"--backend", "poll+loops1"}, `"loops1": want +loopsN with N from 2 to 1024`},
		{[]string{"--backend", "poll+loops2+loops3"}, `"loops3": want +loopsN, +exclusive, +kernelbufs, or none`},
		{[]string{"--backend", "poll+kernelbufs+kernelbufs"}, `"kernelbufs": want +loopsN`},
		{[]string{"--backend", "epoll", "--idle-conns", "-1"}, "--idle-conns -1"},
		{[]string{"--backend", "nope+loops2"}, `--backend "nope+loops2": unknown backend "nope"`},
		{[]string{"--bogus"}, "unknown flag --bogus"},
		{[]string{"extra"}, "unexpected argument"},
		{[]string{"--backend", "epoll", "--never-readers", "1048576"}, "ulimit -n"},
		{[]string{"--backend", "epoll", "--hostile", "1048576"}, "ulimit -n"},
	} {
		// Nothing is created before every flag is checked.
		out := filepath.Join(t.TempDir(), "out")
		args := c.args
		if !slices.Contains(args, "--out") {
			args = append(slices.Clone(args), "--out", out)
		}
		var stdout, stderr bytes.Buffer
		start := time.Now()
		code := Command(args, &stdout, &stderr)
		msg := stderr.String()
		if code != 2 || !strings.Contains(msg, c.want) || strings.Count(msg, "\n") != 1 {
			t.Errorf("%q: exit %d, stderr %q; want 2 and one line with %q", args, code, msg, c.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%q: created %s", args, out)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("%q: refused after %v: something ran first", args, d)
		}
	}
}

func TestHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := Command([]string{"--help"}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "  --churn-conns connections\n") {
		t.Errorf("exit %d, help %q", code, stdout.String())
	}
}

// TestSoak runs the whole command, briefly, on three backends: one
// poller with injection, stdlib without, and the platform's own with two
// loops on the port.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("a soak takes seconds")
	}
	t.Setenv(serveEnv, "1")
	dir := t.TempDir()
	loops := loopsCases(poller.Default())[0]
	var stdout, stderr bytes.Buffer
	// The server child is this test binary, which under the race
	// detector takes several times a real server's memory: the memory
	// bounds are the real soak's (CI runs it), not this test's.
	code := Command([]string{"--duration", "10500ms", "--backend", "select,stdlib," + loops, "--churn", "100", "--churn-conns", "4", "--conns", "4",
		"--never-readers", "40", "--max-rss-growth", "2g", "--max-peak-rss-growth", "2g", "--out", dir}, &stdout, &stderr)
	t.Log(stdout.String())
	if code != 0 || !strings.Contains(stderr.String(), "soak select (1/3)") {
		t.Fatalf("exit %d, stderr %q: want the progress there", code, stderr.String())
	}
	out := stdout.String()
	if !strings.Contains(out, "overall: PASS (3 of 3 backends passed)") {
		t.Errorf("no overall PASS")
	}
	if !strings.Contains(out, loops+": connections per loop ") {
		t.Errorf("no spread over the loops")
	}
	res, err := result.ReadFile(filepath.Join(dir, "soak-"+loops+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if o := res.Server.Options; o.Loops != 2 || len(o.LoopAccepts) != 2 || o.LoopAccepts[0] == 0 || o.LoopAccepts[1] == 0 {
		t.Errorf("%s: server options %+v: want 2 loops, each with connections", loops, o)
	}
	for _, b := range []string{"select", "stdlib"} {
		res, err := result.ReadFile(filepath.Join(dir, "soak-"+b+".json"))
		if err != nil {
			t.Fatal(err)
		}
		f := res.Faults
		if res.Params.Backend != b || res.RoundTrips == 0 || f == nil || f.Churned == 0 || len(f.Hostile) != 6 {
			t.Errorf("%s result: backend %q, %d round trips, faults %+v", b, res.Params.Backend, res.RoundTrips, f)
		}
	}
}

// A soak that fails exits 1 with the verdict FAIL. Injection asked at a
// fraction too small ever to happen (the server's random draws are
// seeded, so this is certain) fails the backend as surely as a real
// fault would, and quickly.
func TestFailingSoakExits1(t *testing.T) {
	if testing.Short() {
		t.Skip("a soak takes seconds")
	}
	t.Setenv(serveEnv, "1")
	backend := "poll"
	if _, ok := poller.Lookup(backend); !ok {
		t.Skip("no poll backend here")
	}
	var stdout, stderr bytes.Buffer
	code := Command([]string{"--duration", "3s", "--backend", backend, "--inject", "5e-324", "--churn", "0",
		"--hostile", "0", "--never-readers", "0", "--conns", "2", "--idle-window", "0"}, &stdout, &stderr)
	out := stdout.String()
	if code != 1 || !strings.Contains(out, "overall: FAIL (0 of 1 backends passed)") ||
		!strings.Contains(out, "injection asked but not all kinds happened") {
		t.Errorf("exit %d, want 1 and the verdict FAIL naming the missing injection:\n%s\n%s", code, out, stderr.String())
	}
}

// TestJudge checks that each kind of trouble fails a backend.
func TestJudge(t *testing.T) {
	cfg := Config{Churn: 10, MaxRSSGrowth: 1 << 20, MaxPeakRSSGrowth: 4 << 20, IdleWindow: time.Second, MaxIdleCPU: 0.02}
	good := func() *Outcome {
		o := &Outcome{Backend: "epoll", Injected: true}
		o.Before = control.Stats{OpenFDs: 10, RSS: 5 << 20, MaxRSS: 5 << 20}
		o.After = o.Before
		o.After.MaxRSS = 8 << 20
		o.IdleCPU, o.IdleProcCPU = 0.004, 0.07 // the runtime's after-load work
		o.After.Time = o.After.Time.AddDate(2026, 0, 0)
		o.After.Injected = map[string]uint64{"short_writes": 1, "write_eagain": 1, "read_eagain": 1}
		o.Result = &result.Result{RoundTrips: 100, Faults: &result.Faults{Churned: 5,
			Hostile: []result.HostileKind{{Kind: "half_close", Attempted: 2, Expected: 2}}}}
		return o
	}
	o := good()
	o.judge(cfg)
	if !o.Pass() {
		t.Fatalf("a clean soak failed: %v", o.Failures)
	}
	for name, spoil := range map[string]func(o *Outcome){
		"fd leak":        func(o *Outcome) { o.After.OpenFDs++ },
		"conns left":     func(o *Outcome) { o.After.Conns = 1 },
		"RSS":            func(o *Outcome) { o.After.RSS += 2 << 20 },
		"peak RSS":       func(o *Outcome) { o.After.MaxRSS = o.Before.RSS + 5<<20 },
		"idle CPU":       func(o *Outcome) { o.IdleCPU = 0.3 },
		"idle process":   func(o *Outcome) { o.IdleProcCPU = 0.9 },
		"idle conns":     func(o *Outcome) { o.IdleWant = 100; o.IdleConns = 99 },
		"uring peak":     func(o *Outcome) { o.Backend = server.Uring; o.After.MaxRSS = o.Before.RSS + 40<<20 },
		"no injection":   func(o *Outcome) { o.After.Injected["read_eagain"] = 0 },
		"no round trips": func(o *Outcome) { o.Result.RoundTrips = 0 },
		"mismatch":       func(o *Outcome) { o.Result.Integrity.Mismatches = 1 },
		"churn error":    func(o *Outcome) { o.Result.Faults.IntegrityErrors = 1 },
		"churn failure":  func(o *Outcome) { o.Result.Faults.ConnFailures = 1 },
		"no churn":       func(o *Outcome) { o.Result.Faults.Churned = 0 },
		"hostile":        func(o *Outcome) { o.Result.Faults.Hostile[0].Unexpected = 1 },
		"hostile unrun":  func(o *Outcome) { o.Result.Faults.Hostile[0] = result.HostileKind{Kind: "half_close"} },
		"idle loop": func(o *Outcome) {
			o.After.Options = result.ServerOptions{Loops: 2, Accept: server.AcceptReusePort, LoopAccepts: []uint64{7, 0}}
		},
	} {
		o := good()
		spoil(o)
		o.judge(cfg)
		if o.Pass() {
			t.Errorf("%s: passed", name)
		}
	}
	// A shared listener owes no spread: whichever loop waits takes the
	// connection.
	o = good()
	o.After.Options = result.ServerOptions{Loops: 2, Accept: server.AcceptExclusive, LoopAccepts: []uint64{7, 0}}
	if o.judge(cfg); !o.Pass() {
		t.Errorf("exclusive accept failed on spread: %v", o.Failures)
	}
	// The uring engine's receive buffers, which the kernel fills, are
	// allowed for above the bound.
	o = good()
	o.Backend = server.Uring
	o.After.MaxRSS = o.Before.RSS + 4<<20 + server.UringBuffers*reactor.DefaultReadBufSize
	if o.judge(cfg); !o.Pass() {
		t.Errorf("uring failed within its buffers' allowance: %v", o.Failures)
	}
	// A backend that spins by design is not judged on idle CPU.
	o = good()
	o.IdleCPU, o.IdleProcCPU, o.Spins = 1, 1, true
	if o.judge(cfg); !o.Pass() {
		t.Errorf("a spinning backend failed on idle CPU: %v", o.Failures)
	}
}

// A server that keeps CPUs busy once the load has stopped fails the
// soak, and the same soak of a server that idles passes. The check is of
// the CPU the server got: a machine so busy that the spinning server got
// less than the check allows cannot tell it from an idle one, and is not
// judged (though a server that got next to nothing is: it did not spin).
func TestIdleBusyLoop(t *testing.T) {
	if testing.Short() {
		t.Skip("a soak takes seconds")
	}
	backend := "poll"
	if _, ok := poller.Lookup(backend); !ok {
		backend = poller.Stdlib
	}
	cfg := Config{Duration: minSlice, Backends: []string{backend}, Conns: 2, MsgSize: 1024,
		MaxRSSGrowth: 1 << 30, MaxPeakRSSGrowth: 1 << 30, IdleWindow: time.Second, IdleConns: 1000, MaxIdleCPU: 0.05}
	for _, mode := range []string{"1", "busy"} {
		t.Setenv(serveEnv, mode)
		out := Run(context.Background(), cfg, nil)
		if len(out) != 1 {
			t.Fatalf("%d outcomes", len(out))
		}
		o := out[0]
		spins := slices.ContainsFunc(o.Failures, func(f string) bool { return strings.Contains(f, "something spins") })
		t.Logf("%s: idle CPU %.1f%% (process %.1f%%), failures %q", mode, 100*o.IdleCPU, 100*o.IdleProcCPU, o.Failures)
		switch {
		case mode == "busy" && !spins && o.IdleProcCPU > 0.05 && o.IdleProcCPU <= maxIdleProcCPU:
			t.Logf("not judged: the machine gave the spinning server only %.1f%% of a CPU", 100*o.IdleProcCPU)
		case mode == "busy" && !spins:
			t.Errorf("a server with a busy loop passed the idle check (loops %.1f%%, process %.1f%% of a CPU)", 100*o.IdleCPU, 100*o.IdleProcCPU)
		case mode == "1" && !o.Pass():
			t.Errorf("an idle server failed: %q", o.Failures)
		case o.IdleConns != cfg.IdleConns:
			t.Errorf("the idle check held %d idle connections, want %d", o.IdleConns, cfg.IdleConns)
		}
	}
}

// Case names: a catalogue name with +loopsN and +exclusive in any order;
// "all" adds the platform's own with two loops each way it can share
// its port.
func TestCases(t *testing.T) {
	if _, ok := poller.Lookup("epoll"); !ok {
		t.Skip("no epoll here")
	}
	c, err := parseCase("epoll-et+exclusive+loops3")
	if err != nil {
		t.Fatal(err)
	}
	if sc := c.serverConfig(); sc.Backend != "epoll" || !sc.Poller.EdgeTriggered || sc.Loops != 3 || sc.Accept != server.AcceptExclusive {
		t.Errorf("server config %+v", sc)
	}
	if c, err := parseCase("epoll"); err != nil || c.serverConfig().Loops != 0 || c.serverConfig().Accept != "" {
		t.Errorf("plain epoll: %+v, %v", c, err)
	}
	cfg, err := parseFlags([]string{"--backend", "all"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if d := poller.Default(); d == "epoll" && (!slices.Contains(cfg.Backends, "epoll+loops2") || !slices.Contains(cfg.Backends, "epoll+loops2+exclusive")) {
		t.Errorf("all: %v", cfg.Backends)
	}
	if base("epoll-et+loops2") != "epoll-et" || base("stdlib") != "stdlib" {
		t.Error("base")
	}
	// The uring engine once more with the kernel's socket buffers.
	if c, err := parseCase("poll+kernelbufs"); err != nil || !c.kernelBufs || c.serverConfig().Backend != "poll" {
		t.Errorf("poll+kernelbufs: %+v, %v", c, err)
	}
	if _, err := poller.Resolve(server.Uring); err == nil && !slices.Contains(cfg.Backends, server.Uring+"+"+KernelBufs) {
		t.Errorf("all: %v, no %s+%s", cfg.Backends, server.Uring, KernelBufs)
	}
}
