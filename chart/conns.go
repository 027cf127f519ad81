package chart

import (
	"slices"

	"github.com/muxbench/muxbench/report"
	"github.com/muxbench/muxbench/result"
	"github.com/muxbench/muxbench/sweep"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
)

// linesPanel is one panel of a Lines figure: a metric of the runs of one
// of the figure's Panels, a line each.
type linesPanel struct {
	name   string // of sweep.Lines.Panels; "" without them
	metric *report.Metric
	data   map[string][]dot
}

// linesData is what a Lines figure draws, row by row of panels, the
// runs it draws as drawn, each relabelled to its line, and as they are.
type linesData struct {
	panels      []linesPanel
	xs          []float64
	drawn, runs []File
}

// defaultMetrics are drawn by a Lines figure that names none.
var defaultMetrics = []*report.Metric{report.Throughput, report.ServerCPU}

// linesOf is what spec draws from a table: the runs of the servers it
// picks, each of the table's own runs on its line, and each run it takes
// from another sweep at the start of every line of that run's backend
// (one loop starts both of epoll's loops lines, a listener each and one
// shared), or on its own line for a backend with no run of the table's
// own (a select peer at 0 idle, which cannot hold more). why says what
// is missing when there is nothing to draw.
func linesOf(spec *sweep.Lines, sec Section) (d linesData, why string) {
	files, taken := filter(sec.Files, spec.Servers.Keep), filter(sec.Taken, spec.Servers.Keep)
	if spec.Servers != sweep.Every && !slices.ContainsFunc(files, func(f File) bool { return !sweep.Reference(f.Result) }) {
		if spec.Servers == sweep.Peers {
			return d, "no peers (other projects' servers: compare --peers runs them)"
		}
		return d, "no muxbench backend"
	}
	pl := placeLines(spec, files, taken)
	d.drawn, d.runs = pl.drawn, pl.runs
	d.panels = linesPanels(spec, pl.panelOf)
	all := map[string][]dot{}
	for _, pn := range d.panels {
		for b, ds := range pn.data {
			all[b] = append(all[b], ds...)
		}
	}
	if d.xs = distinctX(all); len(d.xs) < 2 {
		return linesData{}, noPoints
	}
	return d, ""
}

// linePlacing is runs put on the lines and panels of a Lines figure.
type linePlacing struct {
	spec *sweep.Lines
	// panelOf holds each panel's runs, by the panel's name, relabelled
	// to their lines; drawn the same in the order placed, and runs each
	// run placed once, as it is.
	panelOf     map[string][]File
	drawn, runs []File
	placed      map[*result.Result]bool
}

// placeLines puts the table's own runs, files, on their lines and the
// runs taken from other sweeps at the start of their backend's lines
// (see linesOf).
func placeLines(spec *sweep.Lines, files, taken []File) *linePlacing {
	pl := &linePlacing{spec: spec, panelOf: map[string][]File{}, placed: map[*result.Result]bool{}}
	isTaken := map[File]bool{}
	for _, f := range taken {
		isTaken[f] = true
	}
	lines := map[string][]string{} // by backend, in order
	for _, f := range files {
		if isTaken[f] {
			continue
		}
		l := pl.lineOf(f)
		if b := f.Params.Backend; !slices.Contains(lines[b], l) {
			lines[b] = append(lines[b], l)
		}
		pl.place(f, l)
	}
	for _, f := range taken {
		ls := lines[f.Params.Backend]
		if len(ls) == 0 {
			ls = []string{pl.lineOf(f)}
		}
		for _, l := range ls {
			pl.place(f, l)
		}
	}
	return pl
}

// lineOf is the line f is on where it is the table's own.
func (pl *linePlacing) lineOf(f File) string {
	if pl.spec.Line != nil {
		return pl.spec.Line(f.Result)
	}
	return f.Params.Backend
}

// place puts f on line, in its panel; a run of a panel the figure does
// not draw nowhere.
func (pl *linePlacing) place(f File, line string) {
	name := ""
	if pl.spec.Panel != nil {
		if name = pl.spec.Panel(f.Result); !slices.Contains(pl.spec.Panels, name) {
			return
		}
	}
	r := relabel(f, line)
	pl.panelOf[name] = append(pl.panelOf[name], r)
	pl.drawn = append(pl.drawn, r)
	if !pl.placed[f.Result] {
		pl.placed[f.Result] = true
		pl.runs = append(pl.runs, f)
	}
}

// linesPanels are the panels of spec that have data, each metric over
// each of spec's panels, from the runs of each panel by its name.
func linesPanels(spec *sweep.Lines, panelOf map[string][]File) []linesPanel {
	names := []string{""}
	if spec.Panel != nil {
		names = spec.Panels
	}
	metrics := spec.Metrics
	if metrics == nil {
		metrics = defaultMetrics
	}
	var panels []linesPanel
	for _, m := range metrics {
		for _, n := range names {
			data := collect(panelOf[n], func(*result.Result) bool { return true }, spec.X, m.Get)
			if len(data) == 0 {
				continue
			}
			panels = append(panels, linesPanel{name: n, metric: m, data: data})
		}
	}
	return panels
}

// linesFigure draws spec from a table (see linesOf): the metrics side by
// side, each over its panels on one scale. Nil, with why, where there is
// nothing to draw.
func linesFigure(name string, spec *sweep.Lines, sec Section) (*figure, string, error) {
	d, why := linesOf(spec, sec)
	if len(d.panels) == 0 {
		return nil, why, nil
	}
	runs := results(sec.Files)
	xlabel := spec.XLabel(runs)
	pal := PaletteOf(d.drawn)
	// Each metric's panels share one y scale, so that a runtime's cost
	// reads the same in each.
	type span struct{ lo, hi float64 }
	spans := map[*report.Metric]*span{}
	plots := make([]*plot.Plot, len(d.panels))
	used := map[string][]dot{}
	for i, pn := range d.panels {
		title, ylabel, div := pn.metric.Name, pn.metric.Name, 1.0
		if pn.metric.Panel != nil {
			top := 0.0
			for _, ds := range pn.data {
				for _, s := range ds {
					top = max(top, s.Max)
				}
			}
			title = pn.metric.Panel.Title
			ylabel, div = pn.metric.Panel.Axis(pn.metric, top)
		}
		switch {
		case pn.name != "" && len(d.panels) > 1 && countMetrics(d.panels) > 1:
			title = pn.name + ": " + title
		case pn.name != "":
			title = pn.name
		}
		p := newPanel(title, xlabel, ylabel)
		lo, hi, err := drawLines(p, pn.data, div, pal)
		if err != nil {
			return nil, "", err
		}
		sp := spans[pn.metric]
		if sp == nil {
			sp = &span{lo, hi}
			spans[pn.metric] = sp
		}
		sp.lo, sp.hi = min(sp.lo, lo), max(sp.hi, hi)
		setXTicks(p, d.xs, spec.LogX, report.Human)
		plots[i] = p
		for b := range pn.data {
			used[b] = nil
		}
	}
	for i, pn := range d.panels {
		sp := spans[pn.metric]
		scaleY(plots[i], sp.lo, sp.hi)
		if plots[i].Y.Min == 0 && sp.hi > 0 {
			plots[i].Y.Max = sp.hi * 1.04 // as on a log axis, a margin
		}
	}
	fig := &figure{
		name:     name,
		title:    spec.Title(runs),
		panels:   [][]*plot.Plot{plots},
		backends: pal.linesOf(used),
		palette:  pal,
		caption:  []string{machineLine(d.runs), paramLine(d.runs)},
		w:        max(11*vg.Inch, vg.Length(len(plots))*3.7*vg.Inch+3*vg.Inch),
		h:        5.5 * vg.Inch,
	}
	if spec.Note != "" {
		fig.notes = []string{spec.Note}
	}
	return fig, "", nil
}

func countMetrics(ps []linesPanel) int {
	seen := map[*report.Metric]bool{}
	for _, p := range ps {
		seen[p.metric] = true
	}
	return len(seen)
}

// relabel is f drawn as the line name: a copy, the file itself untouched.
func relabel(f File, name string) File {
	if f.Params.Backend == name {
		return f
	}
	r := *f.Result
	r.Params.Backend = name
	f.Result = &r
	return f
}

// linesOf names the lines of data in p's order.
func (p Palette) linesOf(data map[string][]dot) []string {
	var names []string
	for b := range data {
		names = append(names, b)
	}
	p.Order(names)
	return names
}

// noPoints is linesOf's why when the sweep has fewer than two points.
const noPoints = "fewer than two points"
