package compare

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/muxbench/muxbench/chart"
	"github.com/muxbench/muxbench/chart/charttest"
	"github.com/muxbench/muxbench/report"
	"github.com/muxbench/muxbench/result"
	"github.com/muxbench/muxbench/server"
	"github.com/muxbench/muxbench/sweep"
)

var five = []string{"epoll", "poll", "select", "busywait", "stdlib"}

var suiteRepeats = 3

func TestPlanCounts(t *testing.T) {
	pl := NewPlan(sweep.Full, five, 1, FullBudget, Limits{})
	// Per backend: 5 active, 3 idle (0 idle is the active sweep's 100),
	// 7 sizes x 2 buffers less the active sweep's 64 B at 10 conns, 1 open
	// loop, 1 light open loop for the cost chart.
	if want := 5 * (5 + 3 + 13 + 1 + 1); len(pl.Points) != want {
		t.Errorf("%d points, want %d", len(pl.Points), want)
	}
	files := map[string]bool{}
	for _, p := range pl.Points {
		if files[p.File()] {
			t.Errorf("two runs write %s", p.File())
		}
		files[p.File()] = true
	}
	// Latency comes after the active point it is scaled from.
	seenCap := false
	for _, p := range pl.Points {
		if p.Sweep == sweep.Active && p.Conns == sweep.Full.LatencyConns {
			seenCap = true
		}
		if p.Sweep == sweep.Latency && !seenCap {
			t.Fatal("open-loop run planned before the capacity run")
		}
	}
}

func TestPlanFitsBudgets(t *testing.T) {
	quick := NewPlan(sweep.Quick, five, 1, QuickBudget, Limits{})
	if est := quick.Estimate(); est > QuickBudget || est < QuickBudget/4 {
		t.Errorf("--quick planned time %s, want about %s", est, QuickBudget)
	}
	full := NewPlan(sweep.Full, five, 0, FullBudget, Limits{})
	if full.Repeat < sweep.Full.MinRepeat || full.Repeat < 3 || full.Estimate() > FullBudget {
		t.Errorf("full: %d repeats, %s planned, budget %s", full.Repeat, full.Estimate(), FullBudget)
	}
	one := NewPlan(sweep.Full, []string{"epoll"}, 0, FullBudget, Limits{})
	if one.Repeat != maxRepeat {
		t.Errorf("one backend: %d repeats, want %d", one.Repeat, maxRepeat)
	}
	if two := NewPlan(sweep.Full, five, 2, FullBudget, Limits{}); len(two.Points) != 2*len(NewPlan(sweep.Full, five, 1, FullBudget, Limits{}).Points) {
		t.Error("--repeat 2 does not double the runs")
	}
}

func TestPlanSkipsWhatCannotFit(t *testing.T) {
	lim := Limits{FDs: 10500, MaxFD: func(b string) int {
		if b == "select" {
			return 1024
		}
		return 0
	}}
	pl := NewPlan(sweep.Full, []string{"epoll", "select"}, 1, FullBudget, lim)
	for _, p := range pl.Points {
		if p.Conns+p.Idle+fdSpare > 10500 || (p.Backend == "select" && p.Conns+p.Idle+fdSpare > 1024) {
			t.Errorf("planned %s, which does not fit", p)
		}
	}
	var said bool
	for _, s := range pl.Skipped {
		said = said || strings.Contains(s, "select") && strings.Contains(s, "below 1024")
	}
	if !said || len(pl.Skipped) == 0 {
		t.Errorf("skipped %v", pl.Skipped)
	}
	same := NewPlan(sweep.Full, []string{"epoll"}, 1, FullBudget, Limits{FDs: 20000, SameProcess: true, CPUs: 64})
	if len(same.Skipped) != 2 { // 10000 active, 100+10000 idle
		t.Errorf("one process for both sides: skipped %v", same.Skipped)
	}
}

// fakeRunner returns synthetic results, counting calls.
func fakeRunner(calls *atomic.Int32, cancelAfter int32, cancel func()) Runner {
	return func(ctx context.Context, s RunSpec, progress func(string)) (*result.Result, error) {
		n := calls.Add(1)
		if cancelAfter > 0 && n > cancelAfter {
			cancel()
			return nil, ctx.Err()
		}
		progress("running")
		if s.Point.Sweep == sweep.Latency && s.Rate <= 0 {
			return nil, errors.New("no rate")
		}
		return charttest.Result(charttest.Point{Backend: s.Backend, Conns: s.Conns, Idle: s.Idle,
			MsgSize: s.MsgSize, SndBuf: s.SndBuf, Rate: s.Rate, Repeat: s.Repeat}), nil
	}
}

var tiny = sweep.Settings{
	Active: []int{1, 100}, IdleActive: 100, Idle: []int{0, 1000}, MsgConns: 1,
	MsgSizes: []int{64, 65536}, SmallSndBuf: 4096, BaseMsg: 64, LatencyConns: 100,
	RateFraction: 0.5, Duration: time.Millisecond, Warmup: time.Millisecond,
}

func TestRunSavesResumesAndReports(t *testing.T) {
	out := t.TempDir()
	var calls atomic.Int32
	o := Options{Backends: []string{"epoll", "select"}, Sweeps: tiny, Repeat: 2, Out: out,
		Runner: fakeRunner(&calls, 0, nil), Command: "muxbench compare --test"}
	var stdout, stderr bytes.Buffer
	if err := Run(context.Background(), o, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	// Progress on stderr, the table alone on stdout.
	if !strings.HasPrefix(stdout.String(), "\n# muxbench comparison") || strings.Contains(stdout.String(), "[1/") || strings.Contains(stdout.String(), "wrote") {
		t.Errorf("stdout is not the table alone:\n%s", stdout.String())
	}
	stdout.WriteString(stderr.String())
	pl := NewPlan(tiny, o.Backends, 2, 0, Limits{})
	rate := 0.0
	if int(calls.Load()) != len(pl.Points) {
		t.Errorf("%d runs, plan has %d", calls.Load(), len(pl.Points))
	}
	for _, p := range pl.Points {
		r, err := result.ReadFile(filepath.Join(out, p.File()))
		if err != nil {
			t.Fatal(err)
		}
		if r.Params.Sweep != p.Sweep || r.Params.Repeat != p.Repeat {
			t.Errorf("%s: sweep %q, repeat %d", p.File(), r.Params.Sweep, r.Params.Repeat)
		}
		if r.PointKey() != p.Key() {
			t.Errorf("%s: the plan's point %+v, its result's %+v", p.File(), p.Key(), r.PointKey())
		}
		if p.Sweep == sweep.Latency {
			if r.Params.Rate <= 0 {
				t.Errorf("%s: open loop without a rate", p.File())
			}
			if rate == 0 {
				rate = r.Params.Rate
			}
			if r.Params.Rate != rate {
				t.Errorf("%s: rate %g, another run had %g: repeats must offer the same load", p.File(), r.Params.Rate, rate)
			}
		}
	}
	for _, f := range []string{"summary.md", "active-conns.png", "idle-conns.svg", "short-writes.png", "latency-spectrum.png", "cpu-cost.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	log := stdout.String()
	for _, want := range []string{"planned time", "[1/", "about", "left", "| epoll |", "muxbench compare --test"} {
		if !strings.Contains(log, want) {
			t.Errorf("output lacks %q", want)
		}
	}

	// Resume: nothing left to run.
	calls.Store(0)
	o.Resume = true
	o.noCharts = true
	stdout.Reset()
	if err := Run(context.Background(), o, &stdout, &stdout); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 0 {
		t.Errorf("--resume ran %d points again", calls.Load())
	}
	// A file the plan does not know is pointed out.
	charttest.Write(filepath.Join(out, "json"), "other", charttest.Point{Backend: "epoll", Conns: 3, MsgSize: 64})
	stdout.Reset()
	Run(context.Background(), o, &stdout, &stdout)
	if !strings.Contains(stdout.String(), "1 result files") {
		t.Errorf("foreign file not pointed out:\n%s", stdout.String())
	}
	// Resume after losing two files runs exactly those two.
	os.Remove(filepath.Join(out, pl.Points[0].File()))
	os.WriteFile(filepath.Join(out, pl.Points[3].File()), []byte("{trunc"), 0o644)
	if err := Run(context.Background(), o, &stdout, &stdout); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 2 {
		t.Errorf("--resume after losing 2 files ran %d", calls.Load())
	}
}

func TestRunInterruptedKeepsWhatItMeasured(t *testing.T) {
	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var calls atomic.Int32
	o := Options{Backends: []string{"epoll"}, Sweeps: tiny, Repeat: 1, Out: out, Runner: fakeRunner(&calls, 3, cancel)}
	var stdout bytes.Buffer
	err := Run(ctx, o, &stdout, &stdout)
	if !errors.Is(err, ErrInterrupted) || !strings.Contains(err.Error(), "--resume") {
		t.Fatalf("err = %v", err)
	}
	saved, _ := filepath.Glob(filepath.Join(out, "json", "*.json"))
	if len(saved) != 3 {
		t.Errorf("saved %d results, want the 3 completed", len(saved))
	}
	if _, err := os.Stat(filepath.Join(out, "summary.md")); err != nil {
		t.Error("no summary of what was measured:", err)
	}
}

func TestCommandUsage(t *testing.T) {
	for _, args := range [][]string{{"--backend", "nosuch"}, {"--repeat", "-1"}, {"extra"}, {"--backend", ","}} {
		var stdout, stderr bytes.Buffer
		if code := Command(args, &stdout, &stderr); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
		if strings.Count(stderr.String(), "\n") != 1 {
			t.Errorf("%v: stderr %q, want one line", args, stderr.String())
		}
	}
	var stdout, stderr bytes.Buffer
	if code := Command([]string{"--plan", "--quick", "--backend", "epoll"}, &stdout, &stderr); code != 0 {
		t.Fatalf("--plan: exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "json/active-epoll-c1-r1.json") || !strings.Contains(stdout.String(), "planned time") {
		t.Errorf("--plan printed %q", stdout.String())
	}
}

func loadSuite(t *testing.T) []chart.File {
	t.Helper()
	dir := t.TempDir()
	if _, err := charttest.Suite(dir, five, suiteRepeats); err != nil {
		t.Fatal(err)
	}
	files, err := chart.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestReportTable(t *testing.T) {
	files := loadSuite(t)
	files[0].Integrity.Mismatches = 2
	files[1].Partial = true
	for _, f := range files {
		if f.Params.Rate > 0 && f.Params.Backend == "select" {
			f.Throughput = f.Params.Rate * 0.5 // fell behind its schedule
		}
		if f.Params.Rate > 0 && f.Params.Backend == "poll" {
			f.SendLateness = &result.Latency{P99: 40_000}
			f.SendLatenessFloor = &result.TimingFloor{P99: 31_000}
			f.Generator.SendLate = true
		}
	}
	var b bytes.Buffer
	if err := Report(&b, files); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	for _, want := range []string{
		"### Active connections", "### Idle connections at 100 active", "### Message size at 10 connections",
		"### Open loop", "| point | backend | runs |", fmt.Sprintf("| 1000 idle | epoll | %d |", suiteRepeats), fmt.Sprintf("| 64 KiB, 4 KiB buf | select | %d |", suiteRepeats),
		"1 partial", "µs", "achieved 50% of the target rate",
		"sends late by p99 40.0 µs, a loop that only kept its timing p99 31.0 µs", fmt.Sprintf("generator sent late in %d", suiteRepeats),
	} {
		if !strings.Contains(s, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	// Medians: the epoll 100-connection row's throughput is the median of
	// its three repeats.
	var tps []float64
	for _, f := range files {
		if f.Params.Backend == "epoll" && f.Params.Conns == 100 && f.Params.Idle == 0 && f.Params.Rate == 0 && f.Params.SndBuf == 0 && f.Params.MsgSize == 64 {
			tps = append(tps, f.Throughput)
		}
	}
	if len(tps) != suiteRepeats {
		t.Fatalf("%d repeats", len(tps))
	}
	want := fmt.Sprintf("| 100 conns | epoll | %d | ", suiteRepeats) + report.Human(report.Summarize(tps).Med)
	if !strings.Contains(s, want) {
		t.Errorf("report lacks %q:\n%s", want, s)
	}
	// Rows of a point are in legend order.
	if i, j := strings.Index(s, "| 1 conns | epoll"), strings.Index(s, "| 1 conns | stdlib"); i < 0 || j < i {
		t.Error("backends out of order")
	}
	// The failed run is no data point: listed at the end, its row has
	// one run fewer.
	if !strings.Contains(s, "### Failed runs (1, left out of the tables and charts)\n\n- "+files[0].Path+": ") ||
		!strings.Contains(s, ": 2 integrity mismatches\n") {
		t.Errorf("failed run not listed:\n%s", s[len(s)-600:])
	}
	label := fmt.Sprintf("| %d conns | %s | ", files[0].Params.Conns, files[0].Params.Backend)
	if suiteRepeats == 1 && strings.Contains(s, label) {
		t.Errorf("report has %q: the failed run counted", label)
	}
	if label += fmt.Sprint(suiteRepeats-1) + " | "; suiteRepeats > 1 && !strings.Contains(s, label) {
		t.Errorf("report lacks %q: the failed run counted", label)
	}
}

func TestReportCommandBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"schema": "muxbench/result/v9"}`), 0o644)
	var stdout, stderr bytes.Buffer
	if code := ReportCommand([]string{bad}, &stdout, &stderr); code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	if msg := stderr.String(); !strings.Contains(msg, bad) || !strings.Contains(msg, "another muxbench version") || strings.Count(msg, "\n") != 1 {
		t.Errorf("stderr %q", msg)
	}
	if stdout.Len() != 0 {
		t.Errorf("half a table printed: %q", stdout.String())
	}
	stderr.Reset()
	if code := ReportCommand(nil, &stdout, &stderr); code != 2 {
		t.Errorf("no args: exit %d", code)
	}
}

func hist(t *testing.T, vals ...int64) string {
	h := hdrhistogram.New(1, 60_000_000_000, 3)
	for _, v := range vals {
		h.RecordValue(v)
	}
	enc, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		t.Fatal(err)
	}
	return string(enc)
}

func TestMergeArithmetic(t *testing.T) {
	dir := t.TempDir()
	a := charttest.Result(charttest.Point{Backend: "epoll", Conns: 50, MsgSize: 64, Target: "127.0.0.1:9000", Latencies: []int64{10_000, 20_000, 30_000}})
	b := charttest.Result(charttest.Point{Backend: "epoll", Conns: 70, MsgSize: 64, Target: "127.0.0.1:9000", Latencies: []int64{40_000, 5_000_000}})
	a.Env.Hostname, b.Env.Hostname = "gen1", "gen2"
	a.Generator.CPU = result.CPU{UserSec: 1, SysSec: 1, Utilization: 0.5}
	b.Generator.CPU = result.CPU{UserSec: 2, SysSec: 1, Utilization: 0.75}
	la, lb := a.Latency, b.Latency
	a.SendLateness, b.SendLateness = &la, &lb
	b.Generator.SendLate = true
	a.SendLatenessFloor, b.SendLatenessFloor = &result.TimingFloor{P99: 30_000, CPU: 1}, &result.TimingFloor{P99: 40_000, CPU: 1}
	a.SendLatenessFloorPaced, b.SendLatenessFloorPaced = &result.TimingFloor{P99: 70_000, CPU: 1, Sends: 9}, &result.TimingFloor{P99: 60_000, CPU: 1, Sends: 9}
	a.Series = []result.Second{{Start: 0, End: 1, RoundTrips: 3, Throughput: 3}}
	pa, pb := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	result.WriteFile(pa, a)
	result.WriteFile(pb, b)
	out := filepath.Join(dir, "m.json")
	var stdout, stderr bytes.Buffer
	if code := MergeCommand([]string{"-o", out, pa, pb}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	m, err := result.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if m.Latency.Count != 5 {
		t.Errorf("count %d, want 3+2", m.Latency.Count)
	}
	if m.SendLateness == nil || m.SendLateness.Count != 5 || !m.Generator.SendLate || m.Series != nil {
		t.Errorf("send lateness %+v, flagged %v, series %v: want both hosts' lateness, the flag, no series",
			m.SendLateness, m.Generator.SendLate, m.Series)
	}
	if f := m.SendLatenessFloor; f == nil || f.P99 != 40_000 {
		t.Errorf("timing floor %+v, want the worse host's (p99 40us)", f)
	}
	if f := m.SendLatenessFloorPaced; f == nil || f.P99 != 70_000 {
		t.Errorf("paced timing floor %+v, want the worse host's (p99 70us)", f)
	}
	h, err := hdrhistogram.Decode([]byte(m.Latency.Histogram))
	if err != nil {
		t.Fatal(err)
	}
	if h.TotalCount() != 5 || !h.ValuesAreEquivalent(h.Max(), 5_000_000) {
		t.Errorf("merged histogram: count %d max %d", h.TotalCount(), h.Max())
	}
	if !h.ValuesAreEquivalent(m.Latency.Max, 5_000_000) || !h.ValuesAreEquivalent(m.Latency.Min, 10_000) {
		t.Errorf("max %d min %d", m.Latency.Max, m.Latency.Min)
	}
	if !h.ValuesAreEquivalent(m.Latency.P50, 30_000) {
		t.Errorf("p50 %d, want the 3rd of 5 values", m.Latency.P50)
	}
	if m.RoundTrips != a.RoundTrips+b.RoundTrips || m.Throughput != a.Throughput+b.Throughput || m.Params.Conns != 120 {
		t.Errorf("sums: rt %d tp %g conns %d", m.RoundTrips, m.Throughput, m.Params.Conns)
	}
	if m.Generator.CPU.Utilization != 1.25 || m.Generator.CPU.UserSec != 3 {
		t.Errorf("generator CPU %+v", m.Generator.CPU)
	}
	if want := 5e6 / float64(m.RoundTrips); m.Generator.CPU.PerRTus != want {
		t.Errorf("generator per rt %g, want %g", m.Generator.CPU.PerRTus, want)
	}
	if m.Integrity != (result.Integrity{}) || m.Env.Hostname != "gen1+gen2" || m.Params.Extra["host.2.gen2.gen_cpu_util"] != "0.7500" {
		t.Errorf("integrity %+v host %q extra %v", m.Integrity, m.Env.Hostname, m.Params.Extra)
	}
}

func TestMergeRefusesMismatch(t *testing.T) {
	dir := t.TempDir()
	pa, _ := charttest.Write(dir, "x", charttest.Point{Backend: "epoll", Conns: 1, MsgSize: 64, Target: "127.0.0.1:9000"})
	b := charttest.Result(charttest.Point{Backend: "select", Conns: 1, MsgSize: 64, Target: "127.0.0.1:9000"})
	b.Env.Hostname = "gen2"
	pb := filepath.Join(dir, "b.json")
	result.WriteFile(pb, b)
	var stdout, stderr bytes.Buffer
	out := filepath.Join(dir, "m.json")
	if code := MergeCommand([]string{"-o", out, pa, pb}, &stdout, &stderr); code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	if msg := stderr.String(); !strings.Contains(msg, pb) || !strings.Contains(msg, "backend") {
		t.Errorf("stderr %q", msg)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("wrote a merge of different points")
	}
	stderr.Reset()
	if code := MergeCommand([]string{pa, pb}, &stdout, &stderr); code != 2 {
		t.Errorf("no -o: exit %d", code)
	}
	if code := MergeCommand([]string{"-o", out, pa}, &stdout, &stderr); code != 2 {
		t.Errorf("one file: exit %d", code)
	}
}

func TestRunStopsAHungRun(t *testing.T) {
	defer func(g time.Duration) { hangGrace = g }(hangGrace)
	// Long enough for the ordinary fake runs on a busy machine under the
	// race detector, short enough for a test.
	hangGrace = 2 * time.Second
	var calls atomic.Int32
	normal := fakeRunner(&calls, 0, nil)
	hung := func(ctx context.Context, s RunSpec, progress func(string)) (*result.Result, error) {
		if s.Conns == 1 && s.Sweep == sweep.Active {
			<-ctx.Done() // a server that never answers
			return nil, ctx.Err()
		}
		return normal(ctx, s, progress)
	}
	out := t.TempDir()
	o := Options{Backends: []string{"epoll"}, Sweeps: tiny, Repeat: 1, Out: out, Runner: hung, noCharts: true}
	var stdout bytes.Buffer
	err := Run(context.Background(), o, &stdout, &stdout)
	if err == nil || !strings.Contains(err.Error(), "1 of") {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(stdout.String(), "stopped after") {
		t.Errorf("no word of the hung run:\n%s", stdout.String())
	}
	if int(calls.Load()) != len(NewPlan(tiny, o.Backends, 1, 0, Limits{}).Points)-1 {
		t.Errorf("the runs after the hung one did not all run: %d", calls.Load())
	}
}

func TestDuration(t *testing.T) {
	for ns, want := range map[float64]string{
		84_210: "84.2 µs", 7_361_000: "7.36 ms", 5_905_600_000: "5.91 s", 884_000: "884 µs", 900: "0.90 µs", 105_800_000: "106 ms",
	} {
		if got := report.Duration(ns); got != want {
			t.Errorf("report.Duration(%g) = %q, want %q", ns, got, want)
		}
	}
}

func TestHelpAndBadFlags(t *testing.T) {
	cmds := map[string]func([]string, io.Writer, io.Writer) int{
		"compare": Command, "report": ReportCommand, "merge": MergeCommand, "plot": chart.PlotCommand,
	}
	for name, cmd := range cmds {
		var stdout, stderr bytes.Buffer
		if code := cmd([]string{"--help"}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "usage: muxbench "+name) ||
			!strings.Contains(stdout.String(), "\nFlags:\n") || stderr.Len() != 0 {
			t.Errorf("%s --help: exit %d, stdout %q, stderr %q", name, code, stdout.String(), stderr.String())
		}
		stderr.Reset()
		code := cmd([]string{"--nosuch"}, &stdout, &stderr)
		if msg := stderr.String(); code != 2 || strings.Count(msg, "\n") != 1 || !strings.Contains(msg, "nosuch") {
			t.Errorf("%s --nosuch: exit %d, %q", name, code, msg)
		}
	}
}

// A server that crashed during a point fails that point; its stderr is
// saved in the results directory, beside where the point's result goes.
func TestCrashedServer(t *testing.T) {
	var calls atomic.Int32
	normal := fakeRunner(&calls, 0, nil)
	crashing := func(ctx context.Context, s RunSpec, progress func(string)) (*result.Result, error) {
		if s.Conns == 1 && s.Sweep == sweep.Active {
			return nil, &server.CrashError{Status: "exit status 2", Headline: "fatal error: out of memory",
				Stderr: []byte("fatal error: out of memory\n\ngoroutine 1 [running]:\nmain.main()\n")}
		}
		return normal(ctx, s, progress)
	}
	out := t.TempDir()
	o := Options{Backends: []string{"epoll"}, Sweeps: tiny, Repeat: 1, Out: out, Runner: crashing, noCharts: true}
	var stdout bytes.Buffer
	if err := Run(context.Background(), o, &stdout, &stdout); err == nil || !strings.Contains(err.Error(), "1 of") {
		t.Fatalf("err = %v", err)
	}
	var logs []string
	filepath.WalkDir(out, func(path string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(path, ".server-stderr.log") {
			logs = append(logs, path)
		}
		return nil
	})
	if len(logs) != 1 {
		t.Fatalf("saved stderr files: %v\n%s", logs, stdout.String())
	}
	if b, _ := os.ReadFile(logs[0]); !bytes.Contains(b, []byte("goroutine 1")) {
		t.Errorf("saved stderr: %q", b)
	}
	if msg := stdout.String(); !strings.Contains(msg, "server crashed (exit status 2): fatal error: out of memory") || !strings.Contains(msg, logs[0]) {
		t.Errorf("no word of the crash and where its stderr went:\n%s", msg)
	}
}
