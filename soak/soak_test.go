package soak

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/muxbench/muxbench/control"
	"github.com/muxbench/muxbench/result"
	"github.com/muxbench/muxbench/server"
)

// serveEnv makes the test binary play `muxbench serve` for the soak's
// child servers (the soak starts its own executable).
const serveEnv = "MUXBENCH_SOAK_TEST_SERVE"

func TestMain(m *testing.M) {
	if os.Getenv(serveEnv) == "1" {
		args := os.Args[1:]
		if len(args) > 0 && args[0] == "serve" {
			args = args[1:]
		}
		os.Exit(server.Command(args, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
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
		{[]string{"--bogus"}, "unknown flag --bogus"},
		{[]string{"extra"}, "unexpected argument"},
	} {
		var stdout, stderr bytes.Buffer
		code := Command(c.args, &stdout, &stderr)
		msg := stderr.String()
		if code != 2 || !strings.Contains(msg, c.want) || strings.Count(msg, "\n") != 1 {
			t.Errorf("%q: exit %d, stderr %q; want 2 and one line with %q", c.args, code, msg, c.want)
		}
	}
}

func TestHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := Command([]string{"--help"}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "  --churn-conns connections\n") {
		t.Errorf("exit %d, help %q", code, stdout.String())
	}
}

// TestSoak runs the whole command, briefly, on two backends: one poller
// with injection and stdlib without.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("a soak takes seconds")
	}
	t.Setenv(serveEnv, "1")
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := Command([]string{"--duration", "7s", "--backend", "select,stdlib", "--churn", "100", "--churn-conns", "4", "--conns", "4", "--out", dir}, &stdout, &stderr)
	t.Log(stdout.String())
	if code != 0 || !strings.Contains(stderr.String(), "soak select (1/2)") {
		t.Fatalf("exit %d, stderr %q: want the progress there", code, stderr.String())
	}
	out := stdout.String()
	if !strings.Contains(out, "overall: PASS (2 of 2 backends passed)") {
		t.Errorf("no overall PASS")
	}
	for _, b := range []string{"select", "stdlib"} {
		res, err := result.ReadFile(filepath.Join(dir, "soak-"+b+".json"))
		if err != nil {
			t.Fatal(err)
		}
		f := res.Faults
		if res.Params.Backend != b || res.RoundTrips == 0 || f == nil || f.Churned == 0 || len(f.Hostile) != 5 {
			t.Errorf("%s result: backend %q, %d round trips, faults %+v", b, res.Params.Backend, res.RoundTrips, f)
		}
	}
}

// TestJudge checks that each kind of trouble fails a backend.
func TestJudge(t *testing.T) {
	cfg := Config{Churn: 10, MaxRSSGrowth: 1 << 20}
	good := func() *Outcome {
		o := &Outcome{Backend: "epoll", Injected: true}
		o.Before = control.Stats{OpenFDs: 10, RSS: 5 << 20}
		o.After = o.Before
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
		"no injection":   func(o *Outcome) { o.After.Injected["read_eagain"] = 0 },
		"no round trips": func(o *Outcome) { o.Result.RoundTrips = 0 },
		"mismatch":       func(o *Outcome) { o.Result.Integrity.Mismatches = 1 },
		"churn error":    func(o *Outcome) { o.Result.Faults.IntegrityErrors = 1 },
		"churn failure":  func(o *Outcome) { o.Result.Faults.ConnFailures = 1 },
		"no churn":       func(o *Outcome) { o.Result.Faults.Churned = 0 },
		"hostile":        func(o *Outcome) { o.Result.Faults.Hostile[0].Unexpected = 1 },
		"hostile unrun":  func(o *Outcome) { o.Result.Faults.Hostile[0] = result.HostileKind{Kind: "half_close"} },
	} {
		o := good()
		spoil(o)
		o.judge(cfg)
		if o.Pass() {
			t.Errorf("%s: passed", name)
		}
	}
}
