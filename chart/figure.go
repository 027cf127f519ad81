package chart

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"strings"

	"github.com/muxbench/muxbench/internal/outfile"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// figure is one chart file: a title, a grid of panels, one legend for all
// of them in a column to the right (outside the data, so it hides nothing)
// and a caption naming the machine and the parameters.
type figure struct {
	name     string
	title    string
	panels   [][]*plot.Plot
	backends []string
	palette  Palette // how backends are drawn; nil: by name
	bars     bool
	notes    []string // extra lines under the legend
	caption  []string
	w, h     vg.Length
}

func textStyle(size vg.Length, xa text.XAlignment, ya text.YAlignment) text.Style {
	return text.Style{
		Color:   color.Black,
		Font:    font.From(plot.DefaultFont, size),
		XAlign:  xa,
		YAlign:  ya,
		Handler: plot.DefaultTextHandler,
	}
}

func newPanel(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = 11
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	p.X.Label.TextStyle.Font.Size = 10
	p.Y.Label.TextStyle.Font.Size = 10
	p.Add(plotter.NewGrid())
	return p
}

// wrap breaks s into lines no wider than w in sty.
func wrap(sty text.Style, s string, w vg.Length) []string {
	var lines []string
	cur := ""
	for _, word := range strings.Fields(s) {
		try := word
		if cur != "" {
			try = cur + " " + word
		}
		if cur != "" && sty.Width(try) > w {
			lines = append(lines, cur)
			cur = word
			continue
		}
		cur = try
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return lines
}

func (f *figure) draw(c draw.Canvas) {
	pad := vg.Points(8)
	c.SetColor(color.White)
	c.Fill(c.Rectangle.Path())

	// Title across the top.
	ts := textStyle(14, draw.XCenter, draw.YTop)
	c.FillText(ts, vg.Point{X: (c.Min.X + c.Max.X) / 2, Y: c.Max.Y - pad}, f.title)
	top := c.Max.Y - pad - ts.Height(f.title) - pad/2

	// Caption along the bottom, wrapped to the page.
	cs := textStyle(8.5, draw.XLeft, draw.YBottom)
	var caption []string
	for _, l := range f.caption {
		caption = append(caption, wrap(cs, l, c.Max.X-c.Min.X-2*pad)...)
	}
	lineH := cs.Height("Xg") * 1.25
	y := c.Min.Y + pad
	for i := len(caption) - 1; i >= 0; i-- {
		c.FillText(cs, vg.Point{X: c.Min.X + pad, Y: y}, caption[i])
		y += lineH
	}
	bottom := y + pad/2

	// Legend in a column of its own on the right.
	leg := plot.NewLegend()
	leg.TextStyle.Font.Size = 10
	leg.Top, leg.Left = true, true
	leg.ThumbnailWidth = vg.Points(24)
	leg.Padding = vg.Points(3)
	for _, b := range f.backends {
		leg.Add(b, thumb{f.palette.style(b), f.bars})
	}
	ns := textStyle(8.5, draw.XLeft, draw.YTop)
	legW := leg.Rectangle(c).Size().X
	for _, n := range f.notes {
		if w := ns.Width(n); w > legW {
			legW = w
		}
	}
	if legW > (c.Max.X-c.Min.X)/4 {
		legW = (c.Max.X - c.Min.X) / 4
	}
	legC := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
		Min: vg.Point{X: c.Max.X - pad - legW, Y: bottom},
		Max: vg.Point{X: c.Max.X - pad, Y: top - vg.Points(20)},
	}}
	leg.Draw(legC)
	ny := legC.Max.Y - leg.Rectangle(legC).Size().Y - pad
	for _, n := range f.notes {
		for _, l := range wrap(ns, n, legW) {
			c.FillText(ns, vg.Point{X: legC.Min.X, Y: ny}, l)
			ny -= ns.Height(l) * 1.2
		}
		ny -= pad / 2
	}

	area := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
		Min: vg.Point{X: c.Min.X + pad, Y: bottom},
		Max: vg.Point{X: legC.Min.X - 2*pad, Y: top},
	}}
	rows := len(f.panels)
	cols := len(f.panels[0])
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Points(18), PadY: vg.Points(14)}
	// Tiles rather than plot.Align: Align lines the data areas up but moves
	// the panel titles out of line with each other.
	for i, row := range f.panels {
		for j, p := range row {
			if p != nil {
				p.Draw(tiles.At(area, j, i))
			}
		}
	}
}

// render draws the figure in one format; gonum panics on data it cannot
// place (a zero on a log axis), which becomes an error naming the chart.
func (f *figure) render(format string) (wt vg.CanvasWriterTo, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("drawing %s: %v", f.name, r)
		}
	}()
	c, err := draw.NewFormattedCanvas(f.w, f.h, format)
	if err != nil {
		return nil, err
	}
	f.draw(draw.New(c))
	return c, nil
}

// save writes dir/name.png and dir/name.svg, each under a temporary name
// renamed on success, so a failed or interrupted run leaves no chart that
// looks complete and is not.
func (f *figure) save(dir string) ([]string, error) {
	var out []string
	for _, format := range []string{"png", "svg"} {
		wt, err := f.render(format)
		if err != nil {
			return out, err
		}
		path := filepath.Join(dir, f.name+"."+format)
		if err := writeAtomic(path, wt); err != nil {
			return out, err
		}
		out = append(out, path)
	}
	return out, nil
}

func writeAtomic(path string, wt interface {
	WriteTo(w io.Writer) (int64, error)
}) error {
	err := outfile.Write(path, func(w io.Writer) error {
		_, err := wt.WriteTo(w)
		return err
	})
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// Axes.

// logTicker labels the decades, and 2x and 5x too when the axis spans
// less than two decades (otherwise a narrow range gets one label or none).
func logTicker(label func(float64) string) plot.Ticker {
	return plot.TickerFunc(func(min, max float64) []plot.Tick {
		if !(min > 0) || !(max >= min) || math.IsInf(max, 0) {
			return nil // not a log range: let the scale report it
		}
		dense := max/min < 100
		var ticks []plot.Tick
		for e := math.Floor(math.Log10(min)); math.Pow(10, e) <= max*1.0001; e++ {
			d := math.Pow(10, e)
			for m := 1; m < 10; m++ {
				v := d * float64(m)
				if v < min*0.9999 || v > max*1.0001 {
					continue
				}
				t := plot.Tick{Value: v}
				if m == 1 || (dense && (m == 2 || m == 5)) {
					t.Label = label(v)
				}
				ticks = append(ticks, t)
			}
		}
		return ticks
	})
}

// setLog puts an axis on a log scale over [lo, hi] with a little margin;
// the caller has checked that lo > 0.
func setLog(a *plot.Axis, lo, hi float64, label func(float64) string) {
	if hi <= lo {
		lo, hi = lo/2, hi*2
	}
	a.Scale = plot.LogScale{}
	a.Tick.Marker = logTicker(label)
	a.Min, a.Max = lo/1.15, hi*1.15
}

// powerOf2Ticks labels a byte axis at the sizes that were swept.
func constTicks(vals []float64, label func(float64) string) plot.Ticker {
	var ts plot.ConstantTicks
	for _, v := range vals {
		ts = append(ts, plot.Tick{Value: v, Label: label(v)})
	}
	return ts
}
