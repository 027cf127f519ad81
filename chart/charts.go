// Package chart draws muxbench results (saved JSON) as PNG and SVG charts
// that can be read without the README: every figure names its units, its
// machine and its parameters, and every backend keeps one colour and one
// marker across all figures.
package chart

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"sort"

	"github.com/muxbench/muxbench/result"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Chart names, also the base names of the files written.
const (
	Active   = "active-conns"
	Idle     = "idle-conns"
	MsgSize  = "short-writes"
	Spectrum = "latency-spectrum"
	CPUBars  = "cpu-cost"
)

func closedLoop(r *result.Result) bool { return r.Params.Rate == 0 && r.TargetRate == 0 }

// sweeps finds, from parameters alone, which results make up each sweep,
// so charts work for compare's output and for hand-made runs alike. A
// point shared by two sweeps (100 active, no idle) serves both.
type sweeps struct {
	baseMsg   int
	idleConns int
	hasIdle   bool
	msgConns  int
	hasMsg    bool
}

func findSweeps(files []File) sweeps {
	var s sweeps
	s.baseMsg, _ = mostCommon(files, func(r *result.Result) bool {
		return closedLoop(r) && r.Params.Idle == 0 && r.Params.SndBuf == 0
	}, func(r *result.Result) int { return r.Params.MsgSize })
	s.idleConns, s.hasIdle = mostCommon(files, func(r *result.Result) bool {
		return closedLoop(r) && r.Params.Idle > 0 && r.Params.SndBuf == 0 && r.Params.MsgSize == s.baseMsg
	}, func(r *result.Result) int { return r.Params.Conns })
	s.msgConns, s.hasMsg = mostCommon(files, func(r *result.Result) bool {
		return closedLoop(r) && r.Params.Idle == 0 && (r.Params.MsgSize != s.baseMsg || r.Params.SndBuf != 0)
	}, func(r *result.Result) int { return r.Params.Conns })
	return s
}

func (s sweeps) active(r *result.Result) bool {
	return closedLoop(r) && r.Params.Idle == 0 && r.Params.SndBuf == 0 && r.Params.MsgSize == s.baseMsg
}

func (s sweeps) idle(r *result.Result) bool {
	return s.hasIdle && closedLoop(r) && r.Params.SndBuf == 0 && r.Params.MsgSize == s.baseMsg && r.Params.Conns == s.idleConns
}

func (s sweeps) msg(r *result.Result) bool {
	return s.hasMsg && closedLoop(r) && r.Params.Idle == 0 && r.Params.Conns == s.msgConns
}

func filter(files []File, keep func(*result.Result) bool) []File {
	var out []File
	for _, f := range files {
		if keep(f.Result) {
			out = append(out, f)
		}
	}
	return out
}

func distinctX(data map[string][]Stat) []float64 {
	seen := map[float64]bool{}
	var xs []float64
	for _, st := range data {
		for _, s := range st {
			if !seen[s.X] {
				seen[s.X] = true
				xs = append(xs, s.X)
			}
		}
	}
	sort.Float64s(xs)
	return xs
}

// errXY feeds medians and their min-max spread to gonum's error bars.
type errXY []Stat

func (e errXY) Len() int                    { return len(e) }
func (e errXY) XY(i int) (float64, float64) { return e[i].X, e[i].Med }
func (e errXY) YError(i int) (float64, float64) {
	return e[i].Med - e[i].Min, e[i].Max - e[i].Med
}

// addLines draws one line per backend through the medians, with min-max
// bars where a point was repeated, and scales y (log when the data spans
// more than 30x, else linear from zero). scale divides every value.
func addLines(p *plot.Plot, data map[string][]Stat, scale float64) error {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, b := range backendsOf(data) {
		st := make(errXY, len(data[b]))
		repeated := false
		for i, s := range data[b] {
			st[i] = Stat{X: s.X, Med: s.Med / scale, Min: s.Min / scale, Max: s.Max / scale, N: s.N}
			lo, hi = math.Min(lo, st[i].Min), math.Max(hi, st[i].Max)
			repeated = repeated || s.N > 1
		}
		sty := styleOf(b)
		l, pts, err := plotter.NewLinePoints(st)
		if err != nil {
			return err
		}
		l.LineStyle = sty.line()
		pts.GlyphStyle = sty.glyph()
		p.Add(l, pts)
		if repeated {
			eb, err := plotter.NewYErrorBars(st)
			if err != nil {
				return err
			}
			eb.LineStyle = sty.line()
			eb.LineStyle.Width = vg.Points(1)
			p.Add(eb)
		}
	}
	if lo > 0 && hi/lo > 30 {
		setLog(&p.Y, lo, hi, humanTick)
	} else if lo >= 0 {
		p.Y.Min = 0
		if hi <= 0 {
			p.Y.Max = 1
		}
	}
	return nil
}

func setXTicks(p *plot.Plot, xs []float64, log bool, label func(float64) string) {
	if log && len(xs) > 0 && xs[0] > 0 {
		setLog(&p.X, xs[0], xs[len(xs)-1], label)
	}
	shown := xs
	if len(xs) > 6 {
		shown = nil
		for i, x := range xs {
			if i%2 == 0 || i == len(xs)-1 {
				shown = append(shown, x)
			}
		}
	}
	p.X.Tick.Marker = constTicks(shown, label)
}

func throughput(r *result.Result) (float64, bool) { return r.Throughput, true }

func serverPerRT(r *result.Result) (float64, bool) {
	if r.Server == nil {
		return 0, false
	}
	return r.Server.Process.PerRTus, true
}

func serverUtil(r *result.Result) (float64, bool) {
	if r.Server == nil {
		return 0, false
	}
	return r.Server.Process.Utilization, true
}

// sweepFigure draws throughput and server CPU per round trip against one
// swept parameter, side by side.
func sweepFigure(name, title, xlabel string, files []File, x func(*result.Result) float64, logX bool) (*figure, error) {
	tp := collect(files, func(*result.Result) bool { return true }, x, throughput)
	cpu := collect(files, func(*result.Result) bool { return true }, x, serverPerRT)
	xs := distinctX(tp)
	if len(xs) < 2 {
		return nil, nil
	}
	p1 := newPanel("Throughput (higher is better)", xlabel, "thousand round trips per second")
	if err := addLines(p1, tp, 1000); err != nil {
		return nil, err
	}
	setXTicks(p1, xs, logX, humanTick)
	panels := []*plot.Plot{p1}
	if len(cpu) > 0 {
		p2 := newPanel("Server CPU per round trip (lower is better)", xlabel, "CPU microseconds per round trip")
		if err := addLines(p2, cpu, 1); err != nil {
			return nil, err
		}
		setXTicks(p2, xs, logX, humanTick)
		panels = append(panels, p2)
	}
	return &figure{
		name:     name,
		title:    title,
		panels:   [][]*plot.Plot{panels},
		backends: backendsOf(tp),
		caption:  []string{machineLine(files), paramLine(files)},
		w:        11 * vg.Inch, h: 5.5 * vg.Inch,
	}, nil
}

func activeFigure(files []File, s sweeps) (*figure, error) {
	files = filter(files, s.active)
	if len(files) == 0 {
		return nil, nil
	}
	return sweepFigure(Active, "Throughput and server CPU vs active connections",
		"active connections (log scale)", files,
		func(r *result.Result) float64 { return float64(r.Params.Conns) }, true)
}

func idleFigure(files []File, s sweeps) (*figure, error) {
	files = filter(files, s.idle)
	if len(files) == 0 {
		return nil, nil
	}
	f, err := sweepFigure(Idle, fmt.Sprintf("Throughput and server CPU vs idle connections (%d active)", s.idleConns),
		fmt.Sprintf("idle connections (besides %d active)", s.idleConns), files,
		func(r *result.Result) float64 { return float64(r.Params.Idle) }, false)
	if f != nil {
		f.notes = []string{"A flat line: the backend's cost does not depend on idle descriptors. select and poll pass every descriptor to the kernel on each wait; epoll and kqueue only report ready ones (Banga, Mogul, Druschel 1999; Gammo, Brecht et al. 2004)."}
	}
	return f, err
}

func msgFigure(files []File, s sweeps) (*figure, error) {
	files = filter(files, s.msg)
	bufs := map[int]bool{}
	for _, f := range files {
		bufs[f.Params.SndBuf] = true
	}
	var order []int
	for b := range bufs {
		order = append(order, b)
	}
	sort.Slice(order, func(i, j int) bool { // small buffers first, default last
		a, b := order[i], order[j]
		if (a == 0) != (b == 0) {
			return b == 0
		}
		return a < b
	})
	perWrite := func(get func(result.Rates) float64) func(*result.Result) (float64, bool) {
		return func(r *result.Result) (float64, bool) {
			if r.Server == nil {
				return 0, false
			}
			return get(r.Server.Rates), true
		}
	}
	size := func(r *result.Result) float64 { return float64(r.Params.MsgSize) }
	var rows [][]*plot.Plot
	backends := map[string][]Stat{}
	var used []File
	for _, buf := range order {
		keep := func(r *result.Result) bool { return r.Params.SndBuf == buf }
		sw := collect(files, keep, size, perWrite(func(r result.Rates) float64 { return r.ShortWritesPerWrite }))
		ea := collect(files, keep, size, perWrite(func(r result.Rates) float64 { return r.WriteEAGAINPerWrite }))
		xs := distinctX(sw)
		if len(xs) < 2 {
			continue
		}
		used = append(used, filter(files, keep)...)
		bufName := "default SO_SNDBUF"
		if buf > 0 {
			bufName = "SO_SNDBUF " + bytesTick(float64(buf))
		}
		p1 := newPanel("Short writes per write, "+bufName, "message size (log scale)", "short writes / server write")
		p2 := newPanel("EAGAIN per write, "+bufName, "message size (log scale)", "EAGAIN / server write")
		for _, pp := range []struct {
			p *plot.Plot
			d map[string][]Stat
		}{{p1, sw}, {p2, ea}} {
			if err := addLines(pp.p, pp.d, 1); err != nil {
				return nil, err
			}
			setXTicks(pp.p, xs, true, bytesTick)
		}
		for b := range sw {
			backends[b] = nil
		}
		rows = append(rows, []*plot.Plot{p1, p2})
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return &figure{
		name:     MsgSize,
		title:    fmt.Sprintf("Short writes and EAGAIN vs message size (%d connections)", s.msgConns),
		panels:   rows,
		backends: backendsOf(backends),
		notes: []string{"A short write is a write(2) that took fewer bytes than offered; EAGAIN is one that took none. Counted on the server's echo writes.",
			"stdlib counts calls to Go's conn.Write, which finishes partial writes itself, so it shows none."},
		caption: []string{machineLine(used), paramLine(used)},
		w:       11 * vg.Inch, h: 4*vg.Inch + 3.2*vg.Inch*vg.Length(len(rows)),
	}, nil
}

// latencyGroups are the points whose latency is worth a spectrum: every
// open-loop point, or failing those the closed-loop point with most data.
func latencyGroups(files []File, s sweeps) [][]File {
	groups := map[string][]File{}
	var keys []string
	for _, f := range files {
		if closedLoop(f.Result) {
			continue
		}
		p := f.Params
		k := fmt.Sprintf("c%06d-i%06d-m%08d-s%08d", p.Conns, p.Idle, p.MsgSize, p.SndBuf)
		if groups[k] == nil {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], f)
	}
	if len(keys) == 0 {
		act := filter(files, s.active)
		conns, ok := mostCommon(act, func(r *result.Result) bool { return r.Params.Conns == 100 },
			func(r *result.Result) int { return r.Params.Conns })
		if !ok {
			conns, ok = mostCommon(act, func(*result.Result) bool { return true },
				func(r *result.Result) int { return r.Params.Conns })
		}
		if !ok {
			return nil
		}
		return [][]File{filter(act, func(r *result.Result) bool { return r.Params.Conns == conns })}
	}
	sort.Strings(keys)
	var out [][]File
	for _, k := range keys {
		out = append(out, groups[k])
	}
	return out
}

func groupTitle(g []File) string {
	p := g[0].Params
	load := "closed loop"
	if !closedLoop(g[0].Result) {
		load = "open loop"
	}
	s := fmt.Sprintf("%s, %d connections", load, p.Conns)
	if p.Idle > 0 {
		s += fmt.Sprintf(" + %d idle", p.Idle)
	}
	return s + ", " + bytesTick(float64(p.MsgSize)) + " messages"
}

// spectrumFigure draws latency against percentile on HdrHistogram's
// 1/(1-p) axis, so that the tail (99.9%, 99.99%) gets as much room as the
// median; repeats give the median line and min-max bars at the labelled
// percentiles.
func spectrumFigure(name string, g []File) (*figure, error) {
	type hist struct {
		vals func(q float64) float64
		n    int64
	}
	byBackend := map[string][]hist{}
	for _, f := range g {
		if f.Latency.Histogram == "" {
			continue
		}
		h, err := decodeHist(f.Latency.Histogram)
		if err != nil {
			return nil, BadInput(fmt.Errorf("%s: latency.histogram: %v", f.Path, err))
		}
		if h.TotalCount() == 0 {
			continue
		}
		byBackend[f.Params.Backend] = append(byBackend[f.Params.Backend],
			hist{func(q float64) float64 { return float64(h.ValueAtQuantile(q)) }, h.TotalCount()})
	}
	if len(byBackend) == 0 {
		return nil, nil
	}
	// Percentile grid: 20 points per decade of 1/(1-p), up to what the
	// smallest histogram can resolve.
	type curve struct{ x, med, lo, hi []float64 }
	curves := map[string]*curve{}
	ymin, ymax, xmax := math.Inf(1), 0.0, 1.0
	for b, hs := range byBackend {
		n := hs[0].n
		for _, h := range hs {
			n = min(n, h.n)
		}
		c := &curve{}
		for k := 0; ; k++ {
			x := math.Pow(10, float64(k)/20)
			if x > float64(n) || x > 1e7 {
				break
			}
			q := 100 * (1 - 1/x)
			var vs []float64
			for _, h := range hs {
				vs = append(vs, h.vals(q))
			}
			s := Summarize(vs)
			c.x = append(c.x, x)
			c.med, c.lo, c.hi = append(c.med, s.Med), append(c.lo, s.Min), append(c.hi, s.Max)
			ymin, ymax, xmax = math.Min(ymin, s.Min), math.Max(ymax, s.Max), math.Max(xmax, x)
		}
		curves[b] = c
	}
	unit, div := "µs", 1e3
	if ymax >= 20e6 {
		unit, div = "ms", 1e6
	}
	p := newPanel("Latency by percentile, "+groupTitle(g), "percentile", "round-trip latency ("+unit+")")
	var names []string
	for b := range curves {
		names = append(names, b)
	}
	sortBackends(names)
	for bi, b := range names {
		c, sty := curves[b], styleOf(b)
		med := make(plotter.XYs, len(c.x))
		for i := range c.x {
			med[i] = plotter.XY{X: c.x[i], Y: c.med[i] / div}
		}
		l, err := plotter.NewLine(med)
		if err != nil {
			return nil, err
		}
		l.LineStyle = sty.line()
		p.Add(l)
		// Markers at the labelled percentiles, nudged sideways per backend
		// so that their min-max bars do not hide each other.
		hs := byBackend[b]
		n := hs[0].n
		for _, h := range hs {
			n = min(n, h.n)
		}
		nudge := 1 + 0.06*(float64(bi)-float64(len(names)-1)/2)
		var marks errXY
		for _, x := range []float64{2, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7} {
			if x > float64(n) {
				break
			}
			var vs []float64
			for _, h := range hs {
				vs = append(vs, h.vals(100*(1-1/x))/div)
			}
			st := Summarize(vs)
			st.X = x * nudge
			marks = append(marks, st)
		}
		if len(marks) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(marks)
		if err != nil {
			return nil, err
		}
		sc.GlyphStyle = sty.glyph()
		p.Add(sc)
		if len(hs) > 1 {
			eb, err := plotter.NewYErrorBars(marks)
			if err != nil {
				return nil, err
			}
			eb.LineStyle = sty.line()
			eb.LineStyle.Width = vg.Points(1)
			p.Add(eb)
		}
	}
	if xmax < 10 {
		xmax = 10
	}
	p.X.Scale = plot.LogScale{}
	p.X.Min, p.X.Max = 1, xmax
	var ticks plot.ConstantTicks
	for _, t := range []struct {
		x float64
		l string
	}{{1, "0%"}, {2, "50%"}, {10, "90%"}, {100, "99%"}, {1e3, "99.9%"}, {1e4, "99.99%"}, {1e5, "99.999%"}, {1e6, "99.9999%"}, {1e7, "99.99999%"}} {
		if t.x <= xmax*1.0001 {
			ticks = append(ticks, plot.Tick{Value: t.x, Label: t.l})
		}
	}
	p.X.Tick.Marker = ticks
	if ymin > 0 && ymax/ymin > 8 {
		setLog(&p.Y, ymin/div, ymax/div, humanTick)
	} else {
		p.Y.Min = 0
	}
	notes := []string{"Each line is the latency below which that share of round trips completed; the tail is to the right."}
	if !closedLoop(g[0].Result) {
		notes = append(notes, "Open loop: timed from the intended send time, so stalls are not hidden (coordinated omission corrected).")
	}
	reps := false
	for _, hs := range byBackend {
		reps = reps || len(hs) > 1
	}
	if reps {
		notes = append(notes, "Markers at 50%, 90%, 99%...: the median over the repeats, bars from min to max.")
	}
	return &figure{
		name:     name,
		title:    "Latency percentile spectrum",
		panels:   [][]*plot.Plot{{p}},
		backends: names,
		notes:    notes,
		caption:  []string{machineLine(g), paramLine(g)},
		w:        10 * vg.Inch, h: 6 * vg.Inch,
	}, nil
}

// cpuFigure puts busy-waiting's CPU next to the others at one point: the
// server's CPU utilisation, CPU per round trip, and the latency it buys.
func cpuFigure(g []File) (*figure, error) {
	util := collect(g, func(*result.Result) bool { return true }, func(*result.Result) float64 { return 0 }, serverUtil)
	if len(util) == 0 {
		return nil, nil
	}
	perRT := collect(g, func(*result.Result) bool { return true }, func(*result.Result) float64 { return 0 }, serverPerRT)
	p50 := collect(g, func(*result.Result) bool { return true }, func(*result.Result) float64 { return 0 },
		func(r *result.Result) (float64, bool) { return float64(r.Latency.P50) / 1e3, r.Latency.P50 > 0 })
	p99 := collect(g, func(*result.Result) bool { return true }, func(*result.Result) float64 { return 0 },
		func(r *result.Result) (float64, bool) { return float64(r.Latency.P99) / 1e3, r.Latency.P99 > 0 })
	names := backendsOf(util)
	bars := func(p *plot.Plot, data map[string][]Stat, width vg.Length, offset vg.Length, alpha uint8) error {
		for i, b := range names {
			st, ok := data[b]
			if !ok || len(st) == 0 {
				continue
			}
			bc, err := plotter.NewBarChart(plotter.Values{st[0].Med}, width)
			if err != nil {
				return err
			}
			r, gg, bb, _ := styleOf(b).Color.RGBA()
			bc.Color = color.NRGBA{R: uint8(r >> 8), G: uint8(gg >> 8), B: uint8(bb >> 8), A: alpha}
			bc.LineStyle.Width = 0
			bc.XMin = float64(i)
			bc.Offset = offset
			p.Add(bc)
			if st[0].N > 1 {
				eb, err := plotter.NewYErrorBars(errXY{{X: float64(i), Med: st[0].Med, Min: st[0].Min, Max: st[0].Max}})
				if err != nil {
					return err
				}
				p.Add(offsetPlotter{eb, offset})
			}
		}
		p.NominalX(names...)
		p.Y.Min = 0
		p.Y.Max *= 1.12 // room above the tallest bar and its error bar
		p.X.Min, p.X.Max = -0.6, float64(len(names))-0.4
		return nil
	}
	p1 := newPanel("Server CPU utilisation", "", "CPUs busy (1 = one core)")
	p2 := newPanel("Server CPU per round trip", "", "CPU microseconds per round trip")
	p3 := newPanel("Latency it buys", "", "round-trip latency (µs)")
	if err := bars(p1, util, vg.Points(26), 0, 0xff); err != nil {
		return nil, err
	}
	if err := bars(p2, perRT, vg.Points(26), 0, 0xff); err != nil {
		return nil, err
	}
	if err := latencyRanges(p3, names, p50, p99); err != nil {
		return nil, err
	}
	if len(names) > 4 { // long names side by side would overlap
		for _, p := range []*plot.Plot{p1, p2, p3} {
			p.X.Tick.Label.Rotation = math.Pi / 6
			p.X.Tick.Label.XAlign = draw.XRight
			p.X.Tick.Label.YAlign = draw.YCenter
		}
	}
	return &figure{
		name:     CPUBars,
		title:    "What busy-waiting costs: server CPU at the same load, " + groupTitle(g),
		panels:   [][]*plot.Plot{{p1, p2, p3}},
		backends: names,
		bars:     true,
		notes:    []string{"Latency panel: the marker is the median (p50), the line reaches up to p99.", "A spinning backend keeps a core busy whatever the load."},
		caption:  []string{machineLine(g), paramLine(g)},
		w:        12 * vg.Inch, h: 5 * vg.Inch,
	}, nil
}

// DrawAll writes every chart the results have data for into dir (PNG and
// SVG) and returns the paths written and one line per chart skipped.
func DrawAll(dir string, files []File) (written, skipped []string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	s := findSweeps(files)
	type maker struct {
		name string
		why  string
		fn   func() (*figure, error)
	}
	makers := []maker{
		{Active, "no active-connection sweep (two or more connection counts, no idle)", func() (*figure, error) { return activeFigure(files, s) }},
		{Idle, "no idle-connection sweep (runs with idle connections)", func() (*figure, error) { return idleFigure(files, s) }},
		{MsgSize, "no message-size sweep (two or more sizes at one connection count)", func() (*figure, error) { return msgFigure(files, s) }},
	}
	groups := latencyGroups(files, s)
	for i, g := range groups {
		name := Spectrum
		if i > 0 {
			name = fmt.Sprintf("%s-%d", Spectrum, i+1)
		}
		makers = append(makers, maker{name, "no latency histograms", func() (*figure, error) { return spectrumFigure(name, g) }})
	}
	if len(groups) == 0 {
		makers = append(makers, maker{Spectrum, "no latency histograms", func() (*figure, error) { return nil, nil }})
	}
	cpuGroup := []File(nil)
	if len(groups) > 0 {
		cpuGroup = groups[0]
	}
	makers = append(makers, maker{CPUBars, "no server CPU figures", func() (*figure, error) {
		if cpuGroup == nil {
			return nil, nil
		}
		return cpuFigure(cpuGroup)
	}})
	for _, m := range makers {
		f, err := m.fn()
		if err != nil {
			return written, skipped, err
		}
		if f == nil {
			skipped = append(skipped, m.name+": "+m.why)
			continue
		}
		paths, err := f.save(dir)
		written = append(written, paths...)
		if err != nil {
			return written, skipped, err
		}
	}
	return written, skipped, nil
}

// latencyRanges draws, per backend, its p50 as its marker and a line up to
// its p99, on a log axis when the backends differ by more than 30x (a
// spinning backend's tail can be 100x the others').
func latencyRanges(p *plot.Plot, names []string, p50, p99 map[string][]Stat) error {
	lo, hi := math.Inf(1), 0.0
	for i, b := range names {
		m, ok := p50[b]
		if !ok || len(m) == 0 {
			continue
		}
		sty := styleOf(b)
		top := m[0].Med
		if t, ok := p99[b]; ok && len(t) > 0 {
			top = t[0].Med
		}
		l, err := plotter.NewLine(plotter.XYs{{X: float64(i), Y: m[0].Med}, {X: float64(i), Y: top}})
		if err != nil {
			return err
		}
		l.LineStyle = sty.line()
		l.LineStyle.Width = vg.Points(3)
		sc, err := plotter.NewScatter(plotter.XYs{{X: float64(i), Y: m[0].Med}})
		if err != nil {
			return err
		}
		sc.GlyphStyle = sty.glyph()
		sc.GlyphStyle.Radius = vg.Points(5)
		cap, err := plotter.NewScatter(plotter.XYs{{X: float64(i), Y: top}})
		if err != nil {
			return err
		}
		cap.GlyphStyle = draw.GlyphStyle{Color: sty.Color, Radius: vg.Points(6), Shape: capGlyph{}}
		p.Add(l, sc, cap)
		lo, hi = math.Min(lo, m[0].Med), math.Max(hi, top)
	}
	p.NominalX(names...)
	p.X.Min, p.X.Max = -0.6, float64(len(names))-0.4
	if lo > 0 && hi/lo > 30 {
		setLog(&p.Y, lo, hi, humanTick)
	} else {
		p.Y.Min = 0
		p.Y.Max = hi * 1.12
	}
	return nil
}

// capGlyph is a short horizontal bar: the p99 end of a latency range.
type capGlyph struct{}

func (capGlyph) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	c.StrokeLine2(draw.LineStyle{Color: sty.Color, Width: vg.Points(2)}, pt.X-sty.Radius, pt.Y, pt.X+sty.Radius, pt.Y)
}
