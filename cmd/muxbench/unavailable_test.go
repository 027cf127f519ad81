package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/muxbench/muxbench/bench"
	"github.com/muxbench/muxbench/compare"
	"github.com/muxbench/muxbench/result"
	"github.com/muxbench/muxbench/server"
	"github.com/muxbench/muxbench/sweep"
	"github.com/muxbench/muxbench/sysstat"
)

// hidden is what darwin and some BSDs lack, hidden here so that their
// path runs on Linux too.
const hidden = "pin,rss,thread"

// `muxbench run` where pinning, RSS and thread CPU are unavailable: the
// default run goes unpinned and exits 0, the table and the result say what
// is missing.
func TestRunUnavailable(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(binary, "run", "--backend="+firstBackend(), "--conns=4", "--duration=500ms",
		"--warmup=100ms", "--json="+filepath.Join(dir, "r.json"))
	cmd.Env = append(os.Environ(), sysstat.HideEnv+"="+hidden)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v: %s", err, e.String())
	}
	table := strings.Join(strings.Fields(o.String()), " ")
	if !strings.Contains(table, "not available on "+runtime.GOOS) || !strings.Contains(table, "ran unpinned") {
		t.Errorf("the table does not say what is missing:\n%s", o.String())
	}
	res, err := result.ReadFile(filepath.Join(dir, "r.json"))
	if err != nil {
		t.Fatal(err)
	}
	if res.RoundTrips == 0 || res.Params.ServerCPU != nil || !res.Lacks(result.UnavailableServerRSS) || !res.Lacks(result.UnavailableGenThreadCPU) {
		t.Errorf("%d round trips, server CPUs %v, unavailable %q", res.RoundTrips, res.Params.ServerCPU, res.Unavailable)
	}
	if runtime.NumCPU() >= 2 && !res.Lacks(result.UnavailablePinning) {
		t.Errorf("unpinned run not said so: %q", res.Unavailable)
	}
}

// The comparison's whole path (runs through child servers, saved JSON,
// charts, summary.md) where pinning, RSS and thread CPU are unavailable.
func TestCompareUnavailable(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two loads")
	}
	t.Setenv(sysstat.HideEnv, hidden)
	out := t.TempDir()
	sw := sweep.Settings{Active: []int{4}, IdleActive: 4, Idle: []int{0, 16}, BaseMsg: 64,
		Duration: 400 * time.Millisecond, Warmup: 100 * time.Millisecond}
	runner := func(ctx context.Context, s compare.RunSpec, _ func(string)) (*result.Result, error) {
		return bench.Run(ctx, bench.Config{Server: server.Config{Backend: s.Backend}, Conns: s.Conns, Idle: s.Idle, MsgSize: s.MsgSize,
			Duration: s.Duration, Warmup: s.Warmup, Executable: binary})
	}
	var log bytes.Buffer
	err := compare.Run(context.Background(), compare.Options{Backends: []string{firstBackend()}, Sweeps: sw,
		Repeat: 1, Out: out, Runner: runner, Command: "muxbench compare (test)"}, &log, &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	files, _ := filepath.Glob(filepath.Join(out, "json", "*.json"))
	if len(files) != 2 {
		t.Fatalf("%d results saved, want 2:\n%s", len(files), log.String())
	}
	for _, f := range files {
		res, err := result.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Lacks(result.UnavailableServerRSS) || res.Params.GenCPU != nil {
			t.Errorf("%s: unavailable %q, generator CPUs %v", f, res.Unavailable, res.Params.GenCPU)
		}
	}
	summary, err := os.ReadFile(filepath.Join(out, "summary.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(summary), "unavailable here: ") || !strings.Contains(string(summary), result.UnavailableServerRSS) {
		t.Errorf("summary.md does not say what is missing:\n%s", summary)
	}
	if charts, _ := filepath.Glob(filepath.Join(out, "*.png")); len(charts) == 0 {
		t.Errorf("no chart drawn:\n%s", log.String())
	}
}
