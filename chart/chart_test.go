package chart

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/muxbench/muxbench/chart/charttest"
	"github.com/muxbench/muxbench/report"
	"github.com/muxbench/muxbench/result"
	"gonum.org/v1/plot"
)

var backends = []string{"epoll", "poll", "select", "busywait", "stdlib"}

func suite(t *testing.T, repeats int) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := charttest.Suite(dir, backends, repeats); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestDrawAllWritesEveryChart(t *testing.T) {
	in := suite(t, 2)
	if _, err := charttest.PeerSuite(in, charttest.Peers, 1); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "charts")
	if d := os.Getenv("MUXBENCH_CHART_DIR"); d != "" {
		out = d // keep the charts to look at them
	}
	files, err := Load(in)
	if err != nil {
		t.Fatal(err)
	}
	written, skipped, err := DrawAll(out, files)
	if err != nil {
		t.Fatal(err)
	}
	if len(skipped) != 0 {
		t.Errorf("skipped %v", skipped)
	}
	// Each chart's legend: whole text elements, so that "poll" is poll's
	// own entry and not a piece of "epoll".
	own := []string{"epoll", "poll", "c-floor"}
	peers := []string{"c-floor", "libevent-select", "twisted-epoll", "node"}
	runtimes := []string{"muxbench (Go)", "c-floor (C)", "libevent (C)", "libev (C)", "Twisted (Python)", "asyncio (Python)", "Node.js (JavaScript)"}
	for name, legend := range map[string][]string{Active: own, Active + "-peers": peers, Idle: own, Idle + "-peers": peers,
		"idle-runtimes": runtimes, MsgSize: own[:2], Spectrum: own[:2], CPUBars: own[:2]} {
		checkPNG(t, filepath.Join(out, name+".png"))
		checkSVG(t, filepath.Join(out, name+".svg"), legend...)
	}
	if len(written) != 16 {
		t.Errorf("wrote %d files, want 16: %v", len(written), written)
	}
	leftovers, _ := filepath.Glob(filepath.Join(out, ".*.tmp"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

func checkPNG(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if b := img.Bounds(); b.Dx() < 600 || b.Dy() < 300 || len(data) < 20_000 {
		t.Errorf("%s: %dx%d, %d bytes: too small to be a real chart", path, b.Dx(), b.Dy(), len(data))
	}
}

// checkSVG checks that path is a whole chart whose legend names each of
// legend (epoll and poll where none is given).
func checkSVG(t *testing.T, path string, legend ...string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	if !strings.Contains(s, "<svg") || !strings.HasSuffix(strings.TrimSpace(s), "</svg>") || len(data) < 10_000 {
		t.Errorf("%s: not a complete SVG (%d bytes)", path, len(data))
	}
	if legend == nil {
		legend = []string{"epoll", "poll"}
	}
	for _, b := range legend {
		if !strings.Contains(s, ">"+b+"</text>") {
			t.Errorf("%s: no legend entry %q in the SVG", path, b)
		}
	}
	if !strings.Contains(s, ">Machine: testhost (Test CPU") {
		t.Errorf("%s: no caption naming the machine", path)
	}
}

func TestSingleRunsAndSinglePoint(t *testing.T) {
	// One repeat, no error bars; and a lone result draws what it can.
	in := t.TempDir()
	if _, err := charttest.Suite(in, []string{"epoll", "select"}, 1); err != nil {
		t.Fatal(err)
	}
	files, err := Load(in)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := DrawAll(t.TempDir(), files); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p, err := charttest.Write(dir, "load", charttest.Point{Backend: "epoll", Conns: 50, MsgSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	one, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	written, skipped, err := DrawAll(out, one)
	if err != nil {
		t.Fatal(err)
	}
	if len(written) != 4 || len(skipped) != 4 {
		t.Errorf("written %v, skipped %v; want the spectrum and CPU charts only", written, skipped)
	}
}

func TestPlotCommandBadInput(t *testing.T) {
	dir := t.TempDir()
	good, err := charttest.Write(dir, "active", charttest.Point{Backend: "epoll", Conns: 1, MsgSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(good)
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	emptyDir := filepath.Join(dir, "empty")
	os.Mkdir(emptyDir, 0o755)
	fifoDir := filepath.Join(dir, "fifo")
	os.Mkdir(fifoDir, 0o755)
	if err := syscall.Mkfifo(filepath.Join(fifoDir, "x.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, path, want string
	}{
		{"FIFO in a directory", fifoDir, "not a regular file (a FIFO)"},
		{"device", "/dev/zero", "not a regular file"},
		{"missing", filepath.Join(dir, "nope.json"), "no such file"},
		{"empty", write("empty.json", ""), "empty file"},
		{"truncated", write("trunc.json", string(data[:len(data)/2])), "truncated"},
		{"foreign", write("foreign.json", `{"hello": "world"}`), "no \"schema\" field"},
		{"other version", write("v0.json", strings.Replace(string(data), "muxbench/result/v1", "muxbench/result/v0", 1)), "another muxbench version"},
		{"empty dir", emptyDir, "no .json result files"},
		{"bad histogram", write("hist.json", strings.Replace(string(data), `"histogram": "`, `"histogram": "!!`, 1)), "latency.histogram"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			var stdout, stderr bytes.Buffer
			code := PlotCommand([]string{"-o", out, good, c.path}, &stdout, &stderr)
			if code != 2 {
				t.Errorf("exit %d, want 2; stderr %q", code, stderr.String())
			}
			msg := stderr.String()
			if strings.Count(msg, "\n") != 1 || !strings.Contains(msg, c.path) || !strings.Contains(msg, c.want) {
				t.Errorf("stderr %q: want one line naming %s and saying %q", msg, c.path, c.want)
			}
			if strings.Contains(msg, "goroutine") || strings.Contains(msg, "panic") {
				t.Errorf("stack trace in %q", msg)
			}
			pngs, _ := filepath.Glob(filepath.Join(out, "*.png"))
			tmps, _ := filepath.Glob(filepath.Join(out, ".*"))
			if len(pngs) != 0 || len(tmps) != 0 {
				t.Errorf("left behind %v %v", pngs, tmps)
			}
		})
	}
	var stdout, stderr bytes.Buffer
	if code := PlotCommand(nil, &stdout, &stderr); code != 2 {
		t.Errorf("no arguments: exit %d, want 2", code)
	}
}

type brokenChart struct{}

func (brokenChart) WriteTo(w io.Writer) (int64, error) {
	w.Write([]byte("\x89PNG half a chart"))
	return 0, errors.New("disk full")
}

func TestWriteAtomicLeavesNothingOnError(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.png")
	if err := writeAtomic(path, brokenChart{}); err == nil || !strings.Contains(err.Error(), "x.png") {
		t.Fatalf("err = %v, want one naming x.png", err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 0 {
		t.Errorf("left behind: %v", ents)
	}
}

func TestRenderPanicBecomesError(t *testing.T) {
	p := newPanel("t", "x", "y")
	setLog(&p.Y, 1, 10, report.Human)
	p.Y.Min = 0 // gonum panics on a log axis reaching zero
	f := &figure{name: "bad", title: "bad", panels: [][]*plot.Plot{{p}}, w: 400, h: 300}
	dir := t.TempDir()
	if _, err := f.save(dir); err == nil || !strings.Contains(err.Error(), "drawing bad") {
		t.Fatalf("err = %v", err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 0 {
		t.Errorf("left behind: %v", ents)
	}
}

func TestStylesAreDistinct(t *testing.T) {
	seen := map[any]string{}
	for _, k := range known {
		if other, dup := seen[k.Color]; dup {
			t.Errorf("%s and %s share a colour", k.name, other)
		}
		seen[k.Color] = k.name
		if got := styleOf(k.name); got != k.style {
			t.Errorf("%s drawn as %v, its table entry is %v", k.name, got, k.style)
		}
	}
	// A backend the table does not know gets a spare colour, never one
	// that a known backend is recognised by.
	for _, name := range []string{"someday", "io_uring", "epoll-et", "x"} {
		if other, dup := seen[styleOf(name).Color]; dup {
			t.Errorf("unknown %s looks like %s", name, other)
		}
	}
	names := []string{"stdlib", "zzz", "select", "epoll"}
	sortBackends(names)
	if strings.Join(names, ",") != "epoll,select,stdlib,zzz" {
		t.Errorf("order %v", names)
	}
}

// plot refuses results of two machines unless asked, and never draws a
// failed run.
func TestPlotMixedAndFailed(t *testing.T) {
	in := t.TempDir()
	for _, c := range []int{1, 10} {
		if _, err := charttest.Write(in, "active", charttest.Point{Backend: "epoll", Conns: c, MsgSize: 64}); err != nil {
			t.Fatal(err)
		}
	}
	r := charttest.Result(charttest.Point{Backend: "kqueue", Conns: 10, MsgSize: 64})
	r.Env.Hostname = "elsewhere"
	other := filepath.Join(t.TempDir(), "other.json")
	if err := result.WriteFile(other, r); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := PlotCommand([]string{"-o", t.TempDir(), in, other}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "elsewhere") {
		t.Errorf("mixed: exit %d, %q", code, stderr.String())
	}
	out := t.TempDir()
	stderr.Reset()
	if code := PlotCommand([]string{"-o", out, "--allow-mixed", in, other}, &stdout, &stderr); code != 0 {
		t.Fatalf("--allow-mixed: exit %d, %q", code, stderr.String())
	}
	svg, _ := os.ReadFile(filepath.Join(out, Active+".svg"))
	if !strings.Contains(string(svg), "2 machines: ") || !strings.Contains(string(svg), ">kqueue</text>") {
		t.Error("the pooled chart does not name both machines or lacks kqueue")
	}

	// A failed run is left out, said on stderr.
	r.Env.Hostname = "testhost"
	r.Integrity.Resets = 4
	if err := result.WriteFile(other, r); err != nil {
		t.Fatal(err)
	}
	out = t.TempDir()
	stderr.Reset()
	if code := PlotCommand([]string{"-o", out, in, other}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d, %q", code, stderr.String())
	}
	svg, _ = os.ReadFile(filepath.Join(out, Active+".svg"))
	if strings.Contains(string(svg), ">kqueue</text>") || !strings.Contains(stderr.String(), "left out "+other+": failed run (4 connection resets)") {
		t.Errorf("failed run drawn, or not said: %q", stderr.String())
	}
}

// The cost chart compares backends at the lightest open-loop load and
// says which load that is, against epoll's closed-loop capacity.
func TestCostChartAtALightLoad(t *testing.T) {
	in := t.TempDir()
	for _, b := range []string{"epoll", "busywait"} {
		if _, err := charttest.Write(in, "active", charttest.Point{Backend: b, Conns: 100, MsgSize: 64}); err != nil {
			t.Fatal(err)
		}
		for _, rate := range []float64{2000, 500} {
			if _, err := charttest.Write(in, fmt.Sprintf("rate%g", rate), charttest.Point{Backend: b, Conns: 100, MsgSize: 64, Rate: rate}); err != nil {
				t.Fatal(err)
			}
		}
	}
	files, err := Load(in)
	if err != nil {
		t.Fatal(err)
	}
	var epollCap float64
	for _, f := range files {
		if f.Params.Backend == "epoll" && f.Params.Rate == 0 {
			epollCap = f.Throughput
		}
	}
	out := t.TempDir()
	if _, _, err := DrawAll(out, files); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(out, CPUBars+".svg"))
	if err != nil {
		t.Fatal(err)
	}
	svg := html.UnescapeString(string(data))
	want := fmt.Sprintf("at 500 rt/s offered, %.0f%% of epoll's capacity", 100*500/epollCap)
	if !strings.Contains(svg, want) {
		t.Errorf("cost chart does not say %q", want)
	}
	if !strings.Contains(svg, "Load: open loop at 500 rt/s over 100 connections") {
		t.Error("no note of the load")
	}
}

// Runs on a busy machine are marked on the charts: ringed on line charts,
// named under the cost chart's bars, counted in the caption.
func TestNoisyRunsMarked(t *testing.T) {
	in := t.TempDir()
	for _, c := range []int{1, 10} {
		for _, b := range []string{"epoll", "poll"} {
			r := charttest.Result(charttest.Point{Backend: b, Conns: c, MsgSize: 64})
			r.Noise = &result.Noise{ForeignCPU: 0.01}
			if b == "poll" {
				r.Noise = &result.Noise{ForeignCPU: 0.4, Noisy: true}
			}
			if err := result.WriteFile(filepath.Join(in, fmt.Sprintf("%s-%d.json", b, c)), r); err != nil {
				t.Fatal(err)
			}
		}
	}
	files, err := Load(in)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if _, _, err := DrawAll(out, files); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(out, Active+".svg"))
	svg := html.UnescapeString(string(data))
	if !strings.Contains(svg, "NOISY: 2 of 4 runs were measured on a busy machine (poll 1 conns, poll 10 conns)") {
		t.Error("active chart's caption does not count the noisy run")
	}
	if !strings.Contains(svg, "stroke:#C00000") {
		t.Error("no red ring on the active chart")
	}
	data, _ = os.ReadFile(filepath.Join(out, CPUBars+".svg"))
	if !strings.Contains(string(data), ">poll (NOISY)</text>") {
		t.Error("cost chart does not mark poll as noisy")
	}
}

// Repeats of a point whose server muxbench started are one point, though
// each run's server listened on its own port with its own pid: the
// caption counts them, and CheckMixed pools them but still refuses a
// repeat measured another way.
func TestRepeatsOfStartedServersPool(t *testing.T) {
	files, err := Load(suite(t, 3))
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckMixed(files); err != nil {
		t.Fatalf("CheckMixed: %v", err)
	}
	if s := paramLine(files); !strings.Contains(s, "Runs per point (n): 3;") {
		t.Errorf("caption does not count 3 runs per point: %q", s)
	}
	var other *result.Result
	for _, f := range files {
		if f.Params.Repeat == 2 {
			other = f.Result
			break
		}
	}
	other.Params.WarmupSec = 3
	if err := CheckMixed(files); !errors.Is(err, ErrMixed) || !strings.Contains(err.Error(), "measured differently") {
		t.Errorf("a repeat with another warm-up: %v", err)
	}
}

// Open-loop runs whose generator sent late are said so in the caption,
// with the machine's own floor beside the lateness.
func TestCaptionSaysSentLate(t *testing.T) {
	files, err := Load(suite(t, 2))
	if err != nil {
		t.Fatal(err)
	}
	var open []File
	for _, f := range files {
		if f.Params.Rate > 0 {
			f.SendLateness = &result.Latency{P99: 50_000}
			open = append(open, f)
		}
	}
	if len(open) < 2 {
		t.Fatalf("%d open-loop runs in the suite", len(open))
	}
	if s := paramLine(open); strings.Contains(s, "SENT LATE") {
		t.Errorf("no run sent late, yet: %q", s)
	}
	open[0].Generator.SendLate = true
	open[0].SendLatenessFloor = &result.TimingFloor{P99: 31_000}
	want := fmt.Sprintf("SENT LATE: in 1 of %d open-loop runs the generator's send lateness p99 (median 50.0 µs)", len(open))
	if s := paramLine(open); !strings.Contains(s, want) || !strings.Contains(s, "p99 31.0 µs (median)") {
		t.Errorf("caption %q, want %q and the floor", s, want)
	}
	// The floor quoted is the one that matches how the generator sent:
	// paced where it slept, spinning where it spun.
	open[0].SendLatenessFloorPaced = &result.TimingFloor{P99: 47_000, Sends: 100}
	if s := paramLine(open); !strings.Contains(s, "p99 47.0 µs (median)") {
		t.Errorf("a generator that slept, caption %q: want the paced floor, 47.0 µs", s)
	}
	open[0].Generator.Spin = true
	if s := paramLine(open); !strings.Contains(s, "p99 31.0 µs (median)") {
		t.Errorf("a generator that spun, caption %q: want the spinning floor, 31.0 µs", s)
	}
}

// Every integrity counter, alone, makes a run no data point, so that
// plot, report, diff and compare leave it out; missing connections too.
func TestFailureCountsEveryIntegrityCounter(t *testing.T) {
	v := reflect.ValueOf(&result.Integrity{}).Elem()
	for i := range v.NumField() {
		r := charttest.Result(charttest.Point{Backend: "epoll", Conns: 10, MsgSize: 64})
		reflect.ValueOf(&r.Integrity).Elem().Field(i).SetUint(2)
		if Failure(r) == "" {
			t.Errorf("a run with %s 2 counts as data", v.Type().Field(i).Name)
		}
	}
	r := charttest.Result(charttest.Point{Backend: "epoll", Conns: 10, MsgSize: 64})
	r.Integrity.MissingConns = 3
	if got := Failure(r); got != "3 missing connections" {
		t.Errorf("Failure = %q", got)
	}

	in := t.TempDir()
	if _, err := charttest.Write(in, "active", charttest.Point{Backend: "epoll", Conns: 1, MsgSize: 64}); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(in, "missing.json")
	if err := result.WriteFile(missing, r); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := PlotCommand([]string{"-o", t.TempDir(), in}, &stdout, &stderr); code != 0 ||
		!strings.Contains(stderr.String(), "left out "+missing+": failed run (3 missing connections)") {
		t.Errorf("plot: exit %d, stderr %q", code, stderr.String())
	}
}

// plot draws each run once however often it is given, and says so.
func TestPlotCountsEachRunOnce(t *testing.T) {
	dir := t.TempDir()
	if _, err := charttest.Write(dir, "active", charttest.Point{Backend: "epoll", Conns: 1, MsgSize: 64}); err != nil {
		t.Fatal(err)
	}
	p, err := charttest.Write(dir, "active", charttest.Point{Backend: "epoll", Conns: 10, MsgSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := PlotCommand([]string{"-o", out, p, p, dir}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if n := strings.Count(stderr.String(), p+" is "+p+" again: counted once\n"); n != 2 {
		t.Errorf("said %d times, want 2:\n%s", n, stderr.String())
	}
	svg, err := os.ReadFile(filepath.Join(out, Active+".svg"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(svg), "Runs per point") {
		t.Error("the chart counts one run as several")
	}
}

// A run on an emulated backend (kqueue on libkqueue) is no data point.
func TestFailureEmulation(t *testing.T) {
	r := &result.Result{Params: result.Params{Backend: "kqueue", Extra: map[string]string{result.ExtraEmulation: "libkqueue"}}}
	if why := Failure(r); !strings.Contains(why, "libkqueue") {
		t.Errorf("Failure = %q, want it to name libkqueue", why)
	}
}
