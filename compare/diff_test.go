package compare

import (
	"bytes"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/muxbench/muxbench/chart/charttest"
	"github.com/muxbench/muxbench/result"
)

// writeRuns saves n runs of epoll at 100 and 10 connections; cpu gives
// the 100-connection point's server CPU per round trip of run k.
func writeRuns(t *testing.T, dir string, n int, cpu func(k int) float64) {
	t.Helper()
	for k := 1; k <= n; k++ {
		for _, c := range []int{10, 100} {
			r := charttest.Result(charttest.Point{Backend: "epoll", Conns: c, MsgSize: 64, Repeat: k})
			if c == 100 {
				r.Server.Process.PerRTus = cpu(k)
			}
			if err := result.WriteFile(filepath.Join(dir, fmt.Sprintf("c%d-r%d.json", c, k)), r); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestDiffSignificance(t *testing.T) {
	old, neu := t.TempDir(), t.TempDir()
	writeRuns(t, old, 5, func(k int) float64 { return 8 + 0.1*float64(k) })
	writeRuns(t, neu, 5, func(k int) float64 { return 6 + 0.1*float64(k) })
	var stdout, stderr bytes.Buffer
	if code := DiffCommand([]string{old, neu}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	s := stdout.String()
	sec := s[strings.Index(s, "server CPU µs/rt"):strings.Index(s, "generator CPU µs/rt")]
	// 8.3 -> 6.3 with five runs a side, no overlap: significant.
	if !regexp.MustCompile(`epoll 100 conns, 64 B +8\.30 +± \S+ +6\.30 +± \S+ +-24\.10% \(p=0\.008 n=5\)`).MatchString(sec) {
		t.Errorf("the 100-connection change is not reported:\n%s", s)
	}
	// The 10-connection point is the same runs on both sides: "~".
	if !regexp.MustCompile(`epoll 10 conns, 64 B .* ~ \(p=1\.000 n=5\)`).MatchString(sec) {
		t.Errorf("an unchanged point is not \"~\":\n%s", s)
	}
	for _, m := range []string{"round trips/s", "\np50", "\np99"} {
		if !strings.Contains(s, m) {
			t.Errorf("no %q section", m)
		}
	}

	// Two runs a side cannot show a difference at 0.05: "~", and said.
	a, b := t.TempDir(), t.TempDir()
	writeRuns(t, a, 2, func(k int) float64 { return 8 })
	writeRuns(t, b, 2, func(k int) float64 { return 1 })
	stdout.Reset()
	if code := DiffCommand([]string{a, b}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if s := stdout.String(); !regexp.MustCompile(`epoll 100 conns, 64 B +8\.00 +± ∞ +1\.00 +± ∞ +~ \(p=0\.333 n=2\)`).MatchString(s) || !strings.Contains(s, "Too few runs") {
		t.Errorf("two runs a side:\n%s", s)
	}
}

func TestDiffBadInput(t *testing.T) {
	dir := t.TempDir()
	writeRuns(t, dir, 1, func(int) float64 { return 1 })
	other := t.TempDir()
	r := charttest.Result(charttest.Point{Backend: "select", Conns: 7, MsgSize: 64})
	result.WriteFile(filepath.Join(other, "x.json"), r)
	for _, args := range [][]string{{dir}, {dir, dir, dir}, {dir, filepath.Join(dir, "nope")}, {dir, other}} {
		var stdout, stderr bytes.Buffer
		if code := DiffCommand(args, &stdout, &stderr); code != 2 || strings.Count(stderr.String(), "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr.String())
		}
	}
}

// compare's two open-loop sweeps at one connection count are two points,
// matched by sweep across sets whose capacities (and so rates) differ.
func TestDiffOpenLoopBySweep(t *testing.T) {
	old, neu := t.TempDir(), t.TempDir()
	for i, dir := range []string{old, neu} {
		for k := 1; k <= 3; k++ {
			for _, sw := range []struct {
				name string
				rate float64
				cpu  float64
			}{{"cost", 20_000, 13}, {"latency", 50_000, 9}} {
				r := charttest.Result(charttest.Point{Backend: "epoll", Conns: 100, MsgSize: 64, Rate: sw.rate * float64(1+i), Repeat: k})
				r.Params.Sweep = sw.name
				r.Server.Process.PerRTus = sw.cpu
				if err := result.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-r%d.json", sw.name, k)), r); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	var stdout, stderr bytes.Buffer
	if code := DiffCommand([]string{old, neu}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	s := stdout.String()
	for _, want := range []string{
		`epoll 100 conns, 64 B, open loop \(cost\) +13\.00 .* 13\.00 .* n=3\)`,
		`epoll 100 conns, 64 B, open loop \(latency\) +9\.00 .* 9\.00 .* n=3\)`,
	} {
		if !regexp.MustCompile(want).MatchString(s) {
			t.Errorf("no row matching %q:\n%s", want, s)
		}
	}
}

// A failed run is no data point on either side: its figures cannot move
// a median or make a change significant.
func TestDiffLeavesOutFailedRuns(t *testing.T) {
	old, neu := t.TempDir(), t.TempDir()
	writeRuns(t, old, 5, func(k int) float64 { return 8 + 0.1*float64(k) })
	writeRuns(t, neu, 5, func(k int) float64 { return 8 + 0.1*float64(k) })
	for i, broke := range []func(*result.Result){
		func(r *result.Result) { r.Integrity.Mismatches = 1 },
		func(r *result.Result) { r.Integrity.MissingConns = 10 },
		func(r *result.Result) { r.Params.Extra["failed"] = "server crashed" },
	} {
		r := charttest.Result(charttest.Point{Backend: "epoll", Conns: 100, MsgSize: 64, Repeat: 10 + i})
		r.Server.Process.PerRTus = 100
		broke(r)
		if err := result.WriteFile(filepath.Join(neu, fmt.Sprintf("failed-%d.json", i)), r); err != nil {
			t.Fatal(err)
		}
	}
	var stdout, stderr bytes.Buffer
	if code := DiffCommand([]string{old, neu}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	s := stdout.String()
	if !regexp.MustCompile(`epoll 100 conns, 64 B +8\.30 +± \S+ +8\.30 +± \S+ +~ \(p=1\.000 n=5\)`).MatchString(s) {
		t.Errorf("the failed runs count:\n%s", s)
	}
	if !strings.Contains(s, "Failed runs left out: 0 in old, 3 in new.") {
		t.Errorf("the failed runs left out are not said:\n%s", s)
	}
}

// --fail-over gates on figures significantly worse by more than PCT, in
// the direction each metric counts as worse: more CPU, less throughput.
// Better figures, and changes too small or not significant, pass.
func TestDiffFailOver(t *testing.T) {
	write := func(n int, cpu, tp float64) string {
		dir := t.TempDir()
		for k := 1; k <= n; k++ {
			r := charttest.Result(charttest.Point{Backend: "epoll", Conns: 100, MsgSize: 64, Repeat: k})
			r.Server.Process.PerRTus = cpu + 0.01*float64(k)
			r.RoundTrips = uint64((tp + float64(k)) * r.WindowSec)
			r.Throughput = float64(r.RoundTrips) / r.WindowSec
			if err := result.WriteFile(filepath.Join(dir, fmt.Sprintf("r%d.json", k)), r); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	base := write(5, 8, 100_000)
	for _, tc := range []struct {
		name string
		neu  string
		pct  string
		code int
		want string
	}{
		{"CPU up 25%", write(5, 10, 100_000), "10", 1, "server CPU µs/rt, 24.9% worse"},
		{"CPU up 25%, gate at 30%", write(5, 10, 100_000), "30", 0, ""},
		{"throughput down 20%", write(5, 8, 80_000), "10", 1, "round trips/s, 20.0% worse"},
		{"better", write(5, 6, 120_000), "0", 0, ""},
		{"too few runs to tell", write(2, 20, 10_000), "1", 0, ""},
	} {
		old := base
		if tc.name == "too few runs to tell" {
			old = write(2, 8, 100_000)
		}
		var stdout, stderr bytes.Buffer
		code := DiffCommand([]string{"--fail-over", tc.pct, old, tc.neu}, &stdout, &stderr)
		if code != tc.code || !strings.Contains(stdout.String(), tc.want) || (code == 1) != strings.Contains(stdout.String(), "Worse by more than") {
			t.Errorf("%s: exit %d (want %d), stdout:\n%s\nstderr: %s", tc.name, code, tc.code, stdout.String(), stderr.String())
		}
	}
	// Without --fail-over, a worse figure is reported, not failed.
	var stdout, stderr bytes.Buffer
	if code := DiffCommand([]string{base, write(5, 10, 100_000)}, &stdout, &stderr); code != 0 {
		t.Errorf("no gate: exit %d", code)
	}
	for _, bad := range []string{"-1", "x", "+Inf"} {
		if code := DiffCommand([]string{"--fail-over", bad, base, base}, &stdout, &stderr); code != 2 {
			t.Errorf("--fail-over %s: exit %d, want 2", bad, code)
		}
	}
}
