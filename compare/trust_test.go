package compare

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/muxbench/muxbench/chart"
	"github.com/muxbench/muxbench/chart/charttest"
	"github.com/muxbench/muxbench/result"
	"github.com/muxbench/muxbench/sweep"
)

// A run with integrity errors is no data point: saved apart, left out of
// summary.md, listed at the end, and the comparison fails; --resume runs
// it again.
func TestRunKeepsFailedRunsApart(t *testing.T) {
	out := t.TempDir()
	var calls atomic.Int32
	var broken atomic.Bool
	broken.Store(true)
	normal := fakeRunner(&calls, 0, nil)
	runner := func(ctx context.Context, s RunSpec, progress func(string)) (*result.Result, error) {
		r, err := normal(ctx, s, progress)
		if err == nil && broken.Load() && s.Sweep == sweep.Idle && s.Backend == "select" && s.Idle == 1000 {
			r.Integrity.Mismatches = 3
		}
		return r, err
	}
	o := Options{Backends: []string{"epoll", "select"}, Sweeps: tiny, Repeat: 1, Out: out, Runner: runner, noDraw: true}
	var stdout, stderr bytes.Buffer
	err := Run(context.Background(), o, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "1 of") {
		t.Fatalf("err = %v, want one failed run", err)
	}
	name := "idle-select-c100-i1000-r1.json"
	if _, err := os.Stat(filepath.Join(out, "json", name)); err == nil {
		t.Error("the failed run is among the results")
	}
	kept, err := result.ReadFile(filepath.Join(out, "json", "failed", name))
	if err != nil {
		t.Fatal("the failed run is not kept apart:", err)
	}
	if kept.Params.Extra[chart.ExtraFailed] != "3 integrity mismatches" {
		t.Errorf("reason kept: %q", kept.Params.Extra[chart.ExtraFailed])
	}
	sum, err := os.ReadFile(filepath.Join(out, "summary.md"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(sum), "| 1000 idle | select |") {
		t.Error("summary.md has a row for the failed point")
	}
	if !strings.Contains(string(sum), "- json/failed/"+name+": select, 100 conns + 1000 idle, 64 B messages: 3 integrity mismatches") {
		t.Errorf("summary.md does not list the failed run:\n%s", sum)
	}
	log := stderr.String()
	if i := strings.LastIndex(log, "runs FAILED"); i < 0 || !strings.Contains(log[i:], "idle select c100-i1000 r1: 3 integrity mismatches") {
		t.Errorf("the failure is not listed at the end:\n%s", log)
	}

	// --resume runs only the failed point again; once it passes it
	// leaves the failed directory.
	broken.Store(false)
	calls.Store(0)
	o.Resume = true
	stdout.Reset()
	if err := Run(context.Background(), o, &stdout, &stderr); err != nil {
		t.Fatalf("resume: %v", err)
	}
	if calls.Load() != 1 {
		t.Errorf("--resume ran %d points, want the failed one", calls.Load())
	}
	if _, err := os.Stat(filepath.Join(out, "json", "failed", name)); err == nil {
		t.Error("a passing rerun left the failed file")
	}
	if _, err := result.ReadFile(filepath.Join(out, "json", name)); err != nil {
		t.Error(err)
	}
}

// A noisy run is run again after a wait for a quiet machine; the reruns
// are recorded with the result kept, and a run that stays noisy is
// marked in summary.md.
func TestRunRerunsNoisyPoints(t *testing.T) {
	out := t.TempDir()
	var calls atomic.Int32
	normal := fakeRunner(&calls, 0, nil)
	attempts := map[string]int{}
	runner := func(ctx context.Context, s RunSpec, progress func(string)) (*result.Result, error) {
		r, err := normal(ctx, s, progress)
		if err != nil {
			return r, err
		}
		attempts[s.Point.String()]++
		r.Noise = &result.Noise{ForeignCPU: 0.01}
		switch {
		case s.Sweep == sweep.Active && s.Conns == 1:
			// Noisy twice, then quiet.
			if attempts[s.Point.String()] <= 2 {
				r.Noise = &result.Noise{ForeignCPU: 0.5 - 0.1*float64(attempts[s.Point.String()]), Noisy: true}
			}
		case s.Sweep == sweep.Active && s.Conns == 100 && s.Backend == "epoll":
			r.Noise = &result.Noise{ForeignCPU: 0.3, StealCPU: 0.1, Noisy: true} // always
		}
		return r, nil
	}
	var busyCalls atomic.Int32
	busy := func(ctx context.Context) (float64, error) {
		if busyCalls.Add(1) == 1 {
			return 0.9, nil // busy at first, then quiet
		}
		return 0.01, nil
	}
	var stdout, stderr bytes.Buffer
	o := Options{Backends: []string{"epoll"}, Sweeps: tiny, Repeat: 1, Out: out, Runner: runner,
		Busy: busy, QuietBelow: 0.05, QuietWait: time.Minute, Reruns: 2, noDraw: true}
	if err := Run(context.Background(), o, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if attempts["active epoll c1 r1"] != 3 || attempts["active epoll c100 r1"] != 3 || attempts["idle epoll c100-i1000 r1"] != 1 {
		t.Errorf("attempts %v: want 3 for noisy points (2 reruns), 1 for quiet ones", attempts)
	}
	r, err := result.ReadFile(filepath.Join(out, "json", "active-epoll-c1-r1.json"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Noise.Noisy || r.Params.Extra[ExtraReruns] != "2" || r.Params.Extra[ExtraDiscarded] != "0.400,0.300" {
		t.Errorf("kept %+v, extra %v: want the quiet attempt, with two discarded", r.Noise, r.Params.Extra)
	}
	if !strings.Contains(stderr.String(), "waiting up to 1m00s for a quiet machine (0.90 CPUs used by others") ||
		!strings.Contains(stderr.String(), "was noisy (0.40 CPUs used by others); running it again") {
		t.Errorf("stderr:\n%s", stderr.String())
	}
	sum, _ := os.ReadFile(filepath.Join(out, "summary.md"))
	if !strings.Contains(string(sum), "| 100 conns | epoll | 1 |") || !strings.Contains(string(sum), "NOISY: 1 of 1 runs on a busy machine (up to 0.40 CPUs used by others); 2 noisy attempts rerun") {
		t.Errorf("noisy point not marked in summary.md:\n%s", sum)
	}
	if !strings.Contains(stderr.String(), "NOISY: 0.40 CPUs used by others") {
		t.Errorf("progress line does not mark the noisy run")
	}

	// --no-rerun: one attempt per point.
	for k := range attempts {
		delete(attempts, k)
	}
	o.Reruns, o.Out, o.noCharts = 0, t.TempDir(), true
	if err := Run(context.Background(), o, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if attempts["active epoll c100 r1"] != 1 {
		t.Errorf("without reruns: %d attempts", attempts["active epoll c100 r1"])
	}
}

// A machine that stays busy costs one bounded wait, said on stderr, not
// one per run.
func TestWaitQuietIsBounded(t *testing.T) {
	var calls atomic.Int32
	busy := func(ctx context.Context) (float64, error) {
		calls.Add(1)
		time.Sleep(time.Millisecond)
		return 0.7, nil
	}
	var stderr bytes.Buffer
	o := Options{Busy: busy, QuietBelow: 0.05, QuietWait: 20 * time.Millisecond}
	q := quietState{}
	o.waitQuiet(context.Background(), &q, &stderr)
	first := calls.Load()
	o.waitQuiet(context.Background(), &q, &stderr)
	if !q.gaveUp || calls.Load() != first+1 {
		t.Errorf("gave up %v; second wait checked %d times, want once", q.gaveUp, calls.Load()-first)
	}
	if !strings.Contains(stderr.String(), "still busy after") || strings.Count(stderr.String(), "\n") != 2 {
		t.Errorf("stderr %q: want the wait and its end, once", stderr.String())
	}
}

// Strings from a result file cannot change the table or drive the
// terminal.
func TestReportEscapesFileStrings(t *testing.T) {
	dir := t.TempDir()
	r := charttest.Result(charttest.Point{Backend: "ep|oll\n| x | y |\x1b[2J", Conns: 5, MsgSize: 64})
	p := filepath.Join(dir, "hostile.json")
	if err := result.WriteFile(p, r); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := ReportCommand([]string{p}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	s := stdout.String()
	if strings.ContainsRune(s, 0x1b) {
		t.Error("escape character reaches the terminal")
	}
	if !strings.Contains(s, `| ep\|oll\n\| x \| y \|\x1b[2J |`) {
		t.Errorf("backend cell not escaped:\n%s", s)
	}
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(line, "| 5 conns") && strings.Count(strings.ReplaceAll(line, `\|`, ""), "|") != len(columns())+1 {
			t.Errorf("row has another column count: %q", line)
		}
	}
}

// Results of two machines, two versions, or one point measured two ways
// are not pooled unless asked, and then every host and version is named.
func TestReportRefusesMixedResults(t *testing.T) {
	dir := t.TempDir()
	repeat := 0
	write := func(name string, edit func(*result.Result)) string {
		repeat++ // each a run of its own
		r := charttest.Result(charttest.Point{Backend: "epoll", Conns: 10, MsgSize: 64, Repeat: repeat})
		r.Env.Version = "v1.0.0"
		edit(r)
		p := filepath.Join(dir, name)
		if err := result.WriteFile(p, r); err != nil {
			t.Fatal(err)
		}
		return p
	}
	base := write("a.json", func(*result.Result) {})
	cases := map[string]struct {
		edit func(*result.Result)
		want string
	}{
		"machine": {func(r *result.Result) { r.Env.Hostname = "otherhost" }, "otherhost"},
		"version": {func(r *result.Result) { r.Env.Version = "v2.0.0" }, "muxbench v2.0.0"},
		"params":  {func(r *result.Result) { r.Params.WarmupSec = 3 }, "measured differently"},
	}
	for name, c := range cases {
		other := write(name+".json", c.edit)
		var stdout, stderr bytes.Buffer
		code := ReportCommand([]string{base, other}, &stdout, &stderr)
		if msg := stderr.String(); code != 2 || !strings.Contains(msg, c.want) || !strings.Contains(msg, "--allow-mixed") || strings.Count(msg, "\n") != 1 {
			t.Errorf("%s: exit %d, stderr %q", name, code, msg)
		}
		stdout.Reset()
		stderr.Reset()
		if code := ReportCommand([]string{"--allow-mixed", base, other}, &stdout, &stderr); code != 0 {
			t.Errorf("%s --allow-mixed: exit %d: %s", name, code, stderr.String())
		}
		if name == "machine" && !(strings.Contains(stdout.String(), "2 machines: testhost (") && strings.Contains(stdout.String(), "; otherhost (")) {
			t.Errorf("caption does not name both hosts:\n%s", stdout.String())
		}
		if name == "version" && !strings.Contains(stdout.String(), "muxbench versions v1.0.0, v2.0.0") {
			t.Errorf("caption does not name both versions:\n%s", stdout.String())
		}
	}
}

// A forged counter of 2^64-1 beside another failing file cannot add up
// to zero errors.
func TestReportForgedCounters(t *testing.T) {
	files := loadSuite(t)[:2]
	files[0].Integrity.Mismatches = math.MaxUint64
	files[1].Integrity.Mismatches = 1
	files[1].Params = files[0].Params
	var b bytes.Buffer
	if err := Report(&b, files); err != nil {
		t.Fatal(err)
	}
	if s := b.String(); !strings.Contains(s, "### Failed runs (2,") || !strings.Contains(s, "18446744073709551615 integrity mismatches") {
		t.Errorf("forged counters:\n%s", s)
	}
}

// merge refuses what would double-count or pool unrelated runs, and
// never merges a failed run.
func TestMergeRefusals(t *testing.T) {
	dir := t.TempDir()
	seed := 0
	write := func(name, host string, edit func(*result.Result)) string {
		seed++ // each host's run its own
		r := charttest.Result(charttest.Point{Backend: "epoll", Conns: 10, MsgSize: 64, Target: "127.0.0.1:9000", Repeat: seed})
		r.Env.Hostname = host
		if edit != nil {
			edit(r)
		}
		p := filepath.Join(dir, name)
		if err := result.WriteFile(p, r); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := write("a.json", "gen1", nil)
	b := write("b.json", "gen2", nil)
	seed = 0
	copyOfA := write("a-copy.json", "gen1", nil)
	seed = 0
	elsewhere := write("a-elsewhere.json", "gen9", nil) // a copy with only the host changed
	longer := write("long.json", "gen3", func(r *result.Result) { r.Params.DurationSec = 10 })
	later := write("later.json", "gen4", func(r *result.Result) { r.WindowStart = r.WindowStart.Add(time.Minute) })
	out := filepath.Join(dir, "m.json")
	for name, c := range map[string]struct {
		files []string
		want  string
	}{
		"same file":    {[]string{a, b, dir + "/./a.json"}, "is given twice"},
		"same run":     {[]string{a, copyOfA}, "are the same run"},
		"a copy":       {[]string{a, b, elsewhere}, "are the same run (the same latency histogram and counts), from hosts \"gen1\" and \"gen9\""},
		"same host":    {[]string{a, write("a2.json", "gen1", func(r *result.Result) { r.RoundTrips++ })}, "same load host"},
		"other window": {[]string{a, longer}, "window 10s"},
		"no overlap":   {[]string{a, b, later}, "do not overlap"},
		"backend":      {[]string{a, write("be.json", "gen7", func(r *result.Result) { r.Params.Backend = "poll" })}, `backend "poll", not "epoll"`},
		"target":       {[]string{a, write("tg.json", "gen7", func(r *result.Result) { r.Params.Target = "127.0.0.1:9001" })}, `target "127.0.0.1:9001"`},
		"message size": {[]string{a, write("ms.json", "gen7", func(r *result.Result) { r.Params.MsgSize = 4096 })}, "message size 4096, not 64"},
		"sndbuf":       {[]string{a, write("sb.json", "gen7", func(r *result.Result) { r.Params.SndBuf = 4096 })}, "other socket buffer sizes"},
		"rcvbuf":       {[]string{a, write("rb.json", "gen7", func(r *result.Result) { r.Params.RcvBuf = 4096 })}, "other socket buffer sizes"},
		"warm-up":      {[]string{a, write("wu.json", "gen7", func(r *result.Result) { r.Params.WarmupSec = 3 })}, "after 3s warm-up"},
		"load kind":    {[]string{a, write("ol.json", "gen7", func(r *result.Result) { r.Params.Rate, r.TargetRate = 1000, 1000 })}, "another load kind"},
	} {
		files := c.files
		var stdout, stderr bytes.Buffer
		code := MergeCommand(append([]string{"-o", out}, files...), &stdout, &stderr)
		if msg := stderr.String(); code != 2 || !strings.Contains(msg, c.want) || strings.Count(msg, "\n") != 1 {
			t.Errorf("%s: exit %d, stderr %q; want 2 and %q", name, code, msg, c.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("%s: wrote a merge", name)
		}
	}

	// A failed run is never merged: that is a failure, not bad input.
	for _, broke := range []func(*result.Result){
		func(r *result.Result) { r.Integrity.Mismatches = math.MaxUint64 },
		func(r *result.Result) { r.Integrity.MissingConns = 1 },
		func(r *result.Result) { r.Params.Extra["failed"] = "server crashed" },
	} {
		failed := write("failed.json", "gen5", broke)
		var stdout, stderr bytes.Buffer
		code := MergeCommand([]string{"-o", out, a, failed}, &stdout, &stderr)
		if msg := stderr.String(); code != 1 || strings.Count(msg, "\n") != 1 || !strings.Contains(msg, failed+": a failed run (") {
			t.Errorf("exit %d, stderr %q; want 1 and the failed run named", code, msg)
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatal("merged a failed run")
		}
	}
}

// The quiet-machine check sees a process that keeps a CPU busy.
func TestMachineBusySeesALoad(t *testing.T) {
	if _, err := machineBusy(context.Background()); err != nil {
		t.Skip("no machine-wide CPU figures here:", err)
	}
	// A child process, not a goroutine: this process's own CPU is not
	// foreign.
	cmd := exec.Command("sh", "-c", "while :; do :; done")
	if err := cmd.Start(); err != nil {
		t.Skip(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	busy, err := machineBusy(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if busy < 0.5 {
		t.Errorf("a spinning process reads as %.2f CPUs busy", busy)
	}
}

// The cost point runs at a fifth of epoll's closed-loop capacity (the
// median of its runs), the latency point at half the weakest backend's.
func TestCostPointLoad(t *testing.T) {
	out := t.TempDir()
	var calls atomic.Int32
	normal := fakeRunner(&calls, 0, nil)
	runner := func(ctx context.Context, s RunSpec, progress func(string)) (*result.Result, error) {
		r, err := normal(ctx, s, progress)
		if err == nil && s.Sweep == sweep.Active && s.Conns == 100 {
			r.Throughput = map[string]float64{"epoll": 50000, "select": 30000}[s.Backend] + float64(s.Repeat)
			r.RoundTrips = uint64(r.Throughput * r.WindowSec)
		}
		return r, err
	}
	o := Options{Backends: []string{"select", "epoll"}, Sweeps: tiny, Repeat: 3, Out: out, Runner: runner, noCharts: true}
	o.Sweeps.CostFraction = 0.2
	var stdout, stderr bytes.Buffer
	if err := Run(context.Background(), o, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]float64{
		"cost-select-c100-rate0.2-r3.json":   0.2 * 50001, // from the first repeat, then reused
		"latency-epoll-c100-rate0.5-r2.json": 0.5 * 30001,
	} {
		r, err := result.ReadFile(filepath.Join(out, "json", name))
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(r.Params.Rate-want) > 1e-6 {
			t.Errorf("%s: rate %g, want %g", name, r.Params.Rate, want)
		}
	}
}

// On a machine that stays busy a noisy run is kept, marked, not rerun
// in vain.
func TestNoRerunOnABusyMachine(t *testing.T) {
	var calls atomic.Int32
	normal := fakeRunner(&calls, 0, nil)
	runner := func(ctx context.Context, s RunSpec, progress func(string)) (*result.Result, error) {
		r, err := normal(ctx, s, progress)
		if err == nil {
			r.Noise = &result.Noise{ForeignCPU: 0.8, Noisy: true}
		}
		return r, err
	}
	busy := func(ctx context.Context) (float64, error) { return 0.8, nil }
	var stdout, stderr bytes.Buffer
	o := Options{Backends: []string{"epoll"}, Sweeps: tiny, Repeat: 1, Out: t.TempDir(), Runner: runner,
		Busy: busy, QuietBelow: 0.05, QuietWait: time.Millisecond, Reruns: 2, noCharts: true}
	if err := Run(context.Background(), o, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if n := len(NewPlan(tiny, o.Backends, 1, 0, Limits{}).Points); int(calls.Load()) != n {
		t.Errorf("%d runs for %d points", calls.Load(), n)
	}
	if !strings.Contains(stderr.String(), "the machine stays busy, so it is kept, marked") {
		t.Errorf("stderr:\n%s", stderr.String())
	}
}

// A run that did not hold the connections it claims fails the
// comparison, as one with wrong echoes does, and report and diff leave it
// out of their figures.
func TestMissingConnectionsFailTheRun(t *testing.T) {
	out := t.TempDir()
	var calls atomic.Int32
	normal := fakeRunner(&calls, 0, nil)
	runner := func(ctx context.Context, s RunSpec, progress func(string)) (*result.Result, error) {
		r, err := normal(ctx, s, progress)
		if err == nil && s.Sweep == sweep.Active && s.Backend == "select" && s.Conns == 100 {
			r.Integrity.MissingConns = 7
			// What would stand out in a table.
			r.RoundTrips, r.Throughput = r.RoundTrips*1000, r.Throughput*1000
		}
		return r, err
	}
	o := Options{Backends: []string{"epoll", "select"}, Sweeps: tiny, Repeat: 1, Out: out, Runner: runner, noDraw: true}
	var stdout, stderr bytes.Buffer
	if err := Run(context.Background(), o, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "1 of") {
		t.Fatalf("err = %v, want one failed run", err)
	}
	if !strings.Contains(stderr.String(), "active select c100 r1: 7 missing connections") {
		t.Errorf("the failure is not named:\n%s", stderr.String())
	}
	failed := filepath.Join(out, "json", "failed", "active-select-c100-r1.json")
	r, err := result.ReadFile(failed)
	if err != nil {
		t.Fatal("the failed run is not kept apart:", err)
	}
	delete(r.Params.Extra, chart.ExtraFailed) // as a run saved by hand
	good := filepath.Join(out, "json", "active-select-c100-r1.json")
	if err := result.WriteFile(good, r); err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	stderr.Reset()
	runs, _ := filepath.Glob(filepath.Join(out, "json", "*.json"))
	if code := ReportCommand(runs, &stdout, &stderr); code != 0 {
		t.Fatalf("report: exit %d: %s", code, stderr.String())
	}
	if s := stdout.String(); strings.Contains(s, "| 100 conns | select |") || !strings.Contains(s, "7 missing connections") {
		t.Errorf("report counts the run, or does not list it as failed:\n%s", s)
	}
}

// No string from a result file becomes HTML where summary.md or report's
// Markdown is rendered.
func TestReportEscapesAngleBrackets(t *testing.T) {
	dir := t.TempDir()
	r := charttest.Result(charttest.Point{Backend: `<img src=x onerror="alert(1)">`, Conns: 5, MsgSize: 64})
	r.Integrity.Mismatches = 1 // listed with its reason, too
	r.Params.Extra[chart.ExtraFailed] = "<script>alert(2)</script>"
	p := filepath.Join(dir, "<b>.json")
	if err := result.WriteFile(p, r); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := ReportCommand([]string{p}, &stdout, &stderr); code > 1 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	s := stdout.String()
	if m := regexp.MustCompile(`(^|[^\\])[<>]`).FindString(s); m != "" {
		t.Errorf("an unescaped %q:\n%s", m, s)
	}
	for _, want := range []string{`\<img src=x onerror="alert(1)"\>`, `\<script\>alert(2)\</script\>`, `\<b\>.json`} {
		if !strings.Contains(s, want) {
			t.Errorf("lacks %q:\n%s", want, s)
		}
	}
}

// report counts each run once, however often it is given: the same
// path again, a link to it, a directory holding it, or a copy with only
// the hostname changed. It says which it dropped.
func TestReportCountsEachRunOnce(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	var paths []string
	for k := 1; k <= 2; k++ {
		p, err := charttest.Write(dir, "active", charttest.Point{Backend: "epoll", Conns: 10, MsgSize: 64, Repeat: k})
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	a, b := paths[0], paths[1]
	alias := filepath.Join(other, "alias.json")
	if err := os.Symlink(a, alias); err != nil {
		t.Fatal(err)
	}
	r, err := result.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	r.Env.Hostname = "another-host"
	copied := filepath.Join(other, "copy.json")
	if err := result.WriteFile(copied, r); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := ReportCommand([]string{a, a, a, b, b, b, dir, alias, copied}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "| 10 conns | epoll | 2 |") {
		t.Errorf("not two runs:\n%s", stdout.String())
	}
	msg := stderr.String()
	if n := strings.Count(msg, "counted once\n"); n != 8 || !strings.Contains(msg, alias+" is "+a+" again") ||
		!strings.Contains(msg, copied+" is the same run as "+a) {
		t.Errorf("%d runs said to be counted once, want 8:\n%s", n, msg)
	}
}

// report reads at most chart.MaxLoad bytes of result files together, and
// says so before reading any.
func TestReportBoundsWhatItReads(t *testing.T) {
	dir := t.TempDir()
	for i := range chart.MaxLoad/result.MaxFileSize + 1 {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("big-%02d.json", i)))
		if err != nil {
			t.Fatal(err)
		}
		// Sparse: nothing is written to the disk.
		if err := f.Truncate(result.MaxFileSize); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	var stdout, stderr bytes.Buffer
	code := ReportCommand([]string{dir}, &stdout, &stderr)
	if msg := stderr.String(); code != 2 || strings.Count(msg, "\n") != 1 || !strings.Contains(msg, "over the 1024 MiB read at once") {
		t.Errorf("exit %d, stderr %q", code, msg)
	}
}

// report exits 1, as plot does, when every run failed: the failed runs
// are listed, and no figure is reported.
func TestReportEveryRunFailed(t *testing.T) {
	dir := t.TempDir()
	for i, broke := range []func(*result.Result){
		func(r *result.Result) { r.Integrity.Resets = 2 },
		func(r *result.Result) { r.Integrity.MissingConns = 3 },
	} {
		r := charttest.Result(charttest.Point{Backend: "epoll", Conns: 10, MsgSize: 64, Repeat: i})
		broke(r)
		if err := result.WriteFile(filepath.Join(dir, fmt.Sprintf("r%d.json", i)), r); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{{dir}, {"--html", "-o", filepath.Join(t.TempDir(), "index.html"), dir}} {
		var stdout, stderr bytes.Buffer
		code := ReportCommand(args, &stdout, &stderr)
		if msg := stderr.String(); code != 1 || strings.Count(msg, "\n") != 1 || !strings.Contains(msg, "every one of the 2 runs failed") {
			t.Errorf("%v: exit %d, stderr %q", args, code, msg)
		}
		if args[0] == dir && !strings.Contains(stdout.String(), "### Failed runs (2,") {
			t.Errorf("the failed runs are not listed:\n%s", stdout.String())
		}
	}
	var stdout, stderr bytes.Buffer
	if code := chart.PlotCommand([]string{"-o", t.TempDir(), dir}, &stdout, &stderr); code != 1 {
		t.Errorf("plot: exit %d, want report's", code)
	}
}

// A file that passes the schema but cannot be true is refused with one
// line naming the file and the field, exit 2, by every command that reads
// results.
func TestImpossibleResultsRefused(t *testing.T) {
	for field, edit := range map[string]func(*result.Result){
		"params.conns: -10":                  func(r *result.Result) { r.Params.Conns = -10 },
		"window_sec: 0":                      func(r *result.Result) { r.WindowSec = 0 },
		"round_trips_per_sec: 1e+308":        func(r *result.Result) { r.Throughput = 1e308 },
		"round_trips_per_sec: 0":             func(r *result.Result) { r.Throughput = 0 },
		"server.rss_per_conn_bytes: -1e+308": func(r *result.Result) { r.Server.RSSPerConn = -1e308 },
		"server.rss_per_conn_bytes: 1e+12":   func(r *result.Result) { r.Server.RSSPerConn = 1e12 },
		"latency.p99_ns: -5":                 func(r *result.Result) { r.Latency.P99 = -5 },
		"series[1].round_trips_per_sec": func(r *result.Result) {
			r.Series = []result.Second{{End: 1, RoundTrips: 5, Throughput: 5}, {Start: 1, End: 2, RoundTrips: 5, Throughput: 5e9}}
		},
		"series[0].end_sec: 0": func(r *result.Result) { r.Series = []result.Second{{Start: 1, End: 0}} },
	} {
		dir := t.TempDir()
		r := charttest.Result(charttest.Point{Backend: "epoll", Conns: 10, MsgSize: 64})
		edit(r)
		p := filepath.Join(dir, "lie.json")
		if err := result.WriteFile(p, r); err != nil {
			t.Fatal(err)
		}
		good, _ := charttest.Write(dir, "active", charttest.Point{Backend: "epoll", Conns: 10, MsgSize: 64, Repeat: 1})
		other := filepath.Join(t.TempDir(), "m.json")
		for cmd, run := range map[string]func(io.Writer, io.Writer) int{
			"report": func(o, e io.Writer) int { return ReportCommand([]string{dir}, o, e) },
			"merge":  func(o, e io.Writer) int { return MergeCommand([]string{"-o", other, good, p}, o, e) },
			"diff":   func(o, e io.Writer) int { return DiffCommand([]string{good, p}, o, e) },
			"plot":   func(o, e io.Writer) int { return chart.PlotCommand([]string{"-o", t.TempDir(), dir}, o, e) },
		} {
			var stdout, stderr bytes.Buffer
			code := run(&stdout, &stderr)
			if msg := stderr.String(); code != 2 || strings.Count(msg, "\n") != 1 || !strings.Contains(msg, p+": cannot be true: "+field) {
				t.Errorf("%s with %s: exit %d, stderr %q", cmd, field, code, msg)
			}
		}
	}
}
