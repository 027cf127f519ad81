package chart

import (
	"math"
	"sort"

	"github.com/muxbench/muxbench/report"
	"github.com/muxbench/muxbench/result"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

func distinctX(data map[string][]dot) []float64 {
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

// errXY feeds medians and their ranges (Stat.Lo, Stat.Hi) to gonum's
// error bars.
type errXY []dot

func (e errXY) Len() int { return len(e) }

func (e errXY) XY(i int) (float64, float64) { return e[i].X, e[i].Med }

func (e errXY) YError(i int) (float64, float64) {
	return e[i].Med - e[i].Lo, e[i].Hi - e[i].Med
}

// addLines draws one line per backend through the medians, with range
// bars where a point was repeated, and scales y (see scaleY). scale
// divides every value.
func addLines(p *plot.Plot, data map[string][]dot, scale float64) error {
	lo, hi, err := drawLines(p, data, scale, nil)
	if err == nil {
		scaleY(p, lo, hi)
	}
	return err
}

// drawLines draws addLines' lines, each as pal says, and returns the
// range of what it drew.
func drawLines(p *plot.Plot, data map[string][]dot, scale float64, pal Palette) (lo, hi float64, err error) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, b := range pal.linesOf(data) {
		st := make(errXY, len(data[b]))
		repeated := false
		for i, s := range data[b] {
			st[i] = dot{X: s.X, Stat: report.Stat{Med: s.Med / scale, Min: s.Min / scale, Max: s.Max / scale,
				Lo: s.Lo / scale, Hi: s.Hi / scale, CI: s.CI, N: s.N}, Noisy: s.Noisy}
			lo, hi = math.Min(lo, st[i].Min), math.Max(hi, st[i].Max)
			repeated = repeated || s.N > 1
		}
		sty := pal.style(b)
		l, pts, err := plotter.NewLinePoints(st)
		if err != nil {
			return lo, hi, err
		}
		l.LineStyle = sty.line()
		pts.GlyphStyle = sty.glyph()
		p.Add(l, pts)
		if err := ringNoisy(p, st); err != nil {
			return lo, hi, err
		}
		if repeated {
			eb, err := plotter.NewYErrorBars(st)
			if err != nil {
				return lo, hi, err
			}
			eb.LineStyle = sty.line()
			eb.LineStyle.Width = vg.Points(1)
			eb.LineStyle.Dashes = nil
			p.Add(eb)
		}
	}
	return lo, hi, nil
}

// scaleY scales y for values from lo to hi: log when they span more
// than 30x, else linear from zero.
func scaleY(p *plot.Plot, lo, hi float64) {
	if lo > 0 && hi/lo > 30 {
		setLog(&p.Y, lo, hi, report.Human)
	} else if lo >= 0 {
		p.Y.Min = 0
		if hi <= 0 {
			p.Y.Max = 1
		}
	}
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

func serverUtil(r *result.Result) (float64, bool) {
	if r.Server == nil {
		return 0, false
	}
	return r.Server.Process.Utilization, true
}

// noisyColor rings the points that include runs on a busy machine.
var noisyColor = rgb(0xC00000)

// ringNoisy draws a ring around each point of st with noisy runs.
func ringNoisy(p *plot.Plot, st []dot) error {
	var xy plotter.XYs
	for _, s := range st {
		if s.Noisy > 0 {
			xy = append(xy, plotter.XY{X: s.X, Y: s.Med})
		}
	}
	if len(xy) == 0 {
		return nil
	}
	sc, err := plotter.NewScatter(xy)
	if err != nil {
		return err
	}
	sc.GlyphStyle = draw.GlyphStyle{Color: noisyColor, Radius: vg.Points(7), Shape: draw.RingGlyph{}}
	p.Add(sc)
	return nil
}
