package htmlreport

import (
	"fmt"
	"html"
	"math"
	"net/url"
	"strconv"
	"strings"
)

// Panel geometry in SVG user units; the page scales it to the screen.
const (
	panelW  = 520
	panelH  = 340
	marginL = 64
	marginR = 16
	marginT = 28
	marginB = 68
)

// axis maps data values to one screen dimension, on a log scale or not.
type axis struct {
	lo, hi   float64 // data range (positive when log)
	log      bool
	from, to float64 // screen range
}

func (a axis) f(v float64) float64 {
	if a.log {
		v, lo, hi := math.Log10(v), math.Log10(a.lo), math.Log10(a.hi)
		return a.from + (v-lo)/(hi-lo)*(a.to-a.from)
	}
	return a.from + (v-a.lo)/(a.hi-a.lo)*(a.to-a.from)
}

// extent returns the range of vals, widened so that a single value or a
// flat line still has an axis, and kept positive on a log axis.
func extent(vals []float64, log bool, zero bool) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range vals {
		if math.IsNaN(v) || math.IsInf(v, 0) || (log && v <= 0) {
			continue
		}
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	if lo > hi {
		return 1, 10
	}
	if log {
		if lo == hi {
			return lo / 2, hi * 2
		}
		return lo / 1.25, hi * 1.25
	}
	if zero && lo > 0 {
		lo = 0
	}
	if lo == hi {
		if lo == 0 {
			return 0, 1
		}
		return lo - math.Abs(lo)/2, hi + math.Abs(hi)/2
	}
	pad := (hi - lo) * 0.05
	if lo != 0 || !zero {
		lo -= pad
	}
	return lo, hi + pad
}

// niceTicks returns about n round values between lo and hi.
func niceTicks(lo, hi float64, n int) []float64 {
	span := hi - lo
	if span <= 0 || n < 1 {
		return []float64{lo}
	}
	step := math.Pow(10, math.Floor(math.Log10(span/float64(n))))
	for _, m := range []float64{1, 2, 5, 10} {
		if span/(step*m) <= float64(n) {
			step *= m
			break
		}
	}
	var out []float64
	for v := math.Ceil(lo/step) * step; v <= hi+step*1e-9; v += step {
		if math.Abs(v) < step*1e-9 {
			v = 0
		}
		out = append(out, v)
	}
	return out
}

// logTicks returns the powers of ten in [lo, hi], with 2 and 5 between them
// when fewer than three decades are shown.
func logTicks(lo, hi float64) []float64 {
	var out []float64
	decades := math.Log10(hi / lo)
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		base := math.Pow(10, e)
		ms := []float64{1}
		if decades < 3 {
			ms = []float64{1, 2, 5}
		}
		for _, m := range ms {
			if v := base * m; v >= lo && v <= hi {
				out = append(out, v)
			}
		}
	}
	return out
}

// short prints an axis value compactly (1.5k, 20M, 0.25).
func short(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1e9:
		return trim(v/1e9) + "G"
	case a >= 1e6:
		return trim(v/1e6) + "M"
	case a >= 1e3:
		return trim(v/1e3) + "k"
	}
	return trim(v)
}

func trim(v float64) string {
	s := strconv.FormatFloat(v, 'f', 2, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" {
		s = "0"
	}
	return s
}

func attr(s string) string { return html.EscapeString(s) }

// fileHref is the link to a file at path, relative to the page and
// written with forward slashes: each segment URL-escaped, behind "./" so
// that none reads as a scheme ("javascript:"). A path that is absolute
// or climbs out of the page's directory gets "", no link.
func fileHref(path string) string {
	if path == "" || strings.HasPrefix(path, "/") {
		return ""
	}
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if s == ".." {
			return ""
		}
		segs[i] = url.PathEscape(s)
	}
	return "./" + strings.Join(segs, "/")
}

// panelSVG draws one panel. Every series is a <g> tagged with its backend
// so that the legend can hide it; every point carries what a hover shows.
func panelSVG(p Panel, styles map[string]Backend, id string) string {
	d := newPanelDrawing(p)
	b := &d.b
	fmt.Fprintf(b, `<svg class="panel" id="%s" viewBox="0 0 %d %d" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`,
		attr(id), panelW, panelH, attr(p.Title))
	fmt.Fprintf(b, `<text class="ptitle" x="%d" y="18" text-anchor="middle">%s</text>`, (marginL+panelW-marginR)/2, attr(p.Title))
	d.yGrid()
	d.xGrid()
	fmt.Fprintf(b, `<rect class="frame" x="%d" y="%d" width="%d" height="%d"/>`, marginL, marginT, panelW-marginL-marginR, panelH-marginT-marginB)
	fmt.Fprintf(b, `<text class="alabel" x="%d" y="%d" text-anchor="middle">%s</text>`, (marginL+panelW-marginR)/2, panelH-10, attr(p.XLabel))
	fmt.Fprintf(b, `<text class="alabel" transform="translate(14 %d) rotate(-90)" text-anchor="middle">%s</text>`, (marginT+panelH-marginB)/2, attr(p.YLabel))
	for si, s := range p.Series {
		st := styles[s.Backend]
		fmt.Fprintf(b, `<g class="series" data-backend="%s" style="--c:%s">`, attr(s.Backend), attr(st.Color))
		if !p.Bars && !p.Points && len(s.Points) > 1 {
			d.line(s, st)
		}
		for _, pt := range s.Points {
			if drawable(pt, d.X, d.Y) {
				d.point(si, s, pt)
			}
		}
		b.WriteString(`</g>`)
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// panelDrawing is a panel being drawn: the panel, its axes, and the SVG
// so far.
type panelDrawing struct {
	p    Panel
	X, Y axis
	// barW is the width of a bar, in categories: bars sit side by side
	// within their category.
	barW float64
	b    strings.Builder
}

// newPanelDrawing fits p's axes to its points and ticks.
func newPanelDrawing(p Panel) *panelDrawing {
	var xs, ys []float64
	for _, s := range p.Series {
		for _, pt := range s.Points {
			xs = append(xs, pt.X)
			ys = append(ys, pt.Y, pt.Lo, pt.Hi)
		}
	}
	for _, t := range p.XTicks {
		xs = append(xs, t.At)
	}
	xlo, xhi := extent(xs, p.LogX, false)
	if p.Bars {
		xlo, xhi = -0.5, float64(len(p.XTicks))-0.5
		if len(p.XTicks) == 0 {
			xlo, xhi = -0.5, 0.5
		}
	}
	ylo, yhi := extent(ys, p.LogY, !p.LogY)
	return &panelDrawing{
		p:    p,
		X:    axis{lo: xlo, hi: xhi, log: p.LogX && !p.Bars, from: marginL, to: panelW - marginR},
		Y:    axis{lo: ylo, hi: yhi, log: p.LogY, from: panelH - marginB, to: marginT},
		barW: 0.8 / math.Max(1, float64(len(p.Series))),
	}
}

// yGrid draws the y ticks and their grid lines.
func (d *panelDrawing) yGrid() {
	var yt []float64
	if d.p.LogY {
		yt = logTicks(d.Y.lo, d.Y.hi)
	} else {
		yt = niceTicks(d.Y.lo, d.Y.hi, 5)
	}
	for _, v := range yt {
		y := d.Y.f(v)
		fmt.Fprintf(&d.b, `<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, marginL, panelW-marginR, y, y)
		fmt.Fprintf(&d.b, `<text class="tick" x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`, marginL-4, y, short(v))
	}
}

// xGrid draws the x ticks, the panel's own or else numeric ones, and
// their grid lines; labels that would run into each other are slanted.
func (d *panelDrawing) xGrid() {
	ticks := d.p.XTicks
	if len(ticks) == 0 {
		var vs []float64
		if d.X.log {
			vs = logTicks(d.X.lo, d.X.hi)
		} else {
			vs = niceTicks(d.X.lo, d.X.hi, 6)
		}
		for _, v := range vs {
			ticks = append(ticks, Tick{At: v, Label: short(v)})
		}
	}
	slant := false
	for _, t := range ticks {
		if len(t.Label)*6 > (panelW-marginL-marginR)/max(1, len(ticks)) {
			slant = true
		}
	}
	for _, t := range ticks {
		x := d.X.f(t.At)
		fmt.Fprintf(&d.b, `<line class="grid" x1="%.1f" x2="%.1f" y1="%d" y2="%d"/>`, x, x, marginT, panelH-marginB)
		if slant {
			fmt.Fprintf(&d.b, `<text class="tick" transform="translate(%.1f %d) rotate(-25)" text-anchor="end">%s</text>`, x+3, panelH-marginB+12, attr(t.Label))
		} else {
			fmt.Fprintf(&d.b, `<text class="tick" x="%.1f" y="%d" text-anchor="middle">%s</text>`, x, panelH-marginB+14, attr(t.Label))
		}
	}
}

// line joins s's drawable points, dashed as st says.
func (d *panelDrawing) line(s Series, st Backend) {
	var pts []string
	for _, pt := range s.Points {
		if drawable(pt, d.X, d.Y) {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", d.X.f(pt.X), d.Y.f(pt.Y)))
		}
	}
	dash := ""
	if st.Dash != "" {
		dash = fmt.Sprintf(` stroke-dasharray="%s"`, attr(st.Dash))
	}
	fmt.Fprintf(&d.b, `<polyline class="line" points="%s"%s/>`, strings.Join(pts, " "), dash)
}

// point draws pt of s, the panel's series si: its bar on a bar chart,
// its range where it has one, and its marker, which carries the hover
// and links the point's first file.
func (d *panelDrawing) point(si int, s Series, pt Point) {
	p, X, Y := d.p, d.X, d.Y
	x := X.f(pt.X)
	if p.Bars {
		x = X.f(pt.X - 0.4 + d.barW*(float64(si)+0.5))
		w := X.f(d.barW) - X.f(0)
		base := Y.f(math.Max(Y.lo, 0))
		if p.LogY {
			base = Y.f(Y.lo)
		}
		fmt.Fprintf(&d.b, `<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`,
			x-w/2, Y.f(pt.Y), w, math.Max(0, base-Y.f(pt.Y)))
	}
	if pt.N > 1 && (pt.Lo != pt.Y || pt.Hi != pt.Y) && (!p.LogY || pt.Lo > 0) {
		fmt.Fprintf(&d.b, `<path class="err" d="M%.1f %.1fV%.1fM%.1f %.1fh6M%.1f %.1fh6"/>`,
			x, Y.f(pt.Lo), Y.f(pt.Hi), x-3, Y.f(pt.Lo), x-3, Y.f(pt.Hi))
	}
	cls := "pt"
	if len(pt.Warnings) > 0 {
		cls += " warn"
	}
	circle := fmt.Sprintf(`<circle class="%s" cx="%.1f" cy="%.1f" r="4.5" tabindex="0" data-backend="%s" data-x="%s" data-value="%s" data-n="%d" data-spread="%s" data-warn="%s" data-panel="%s"/>`,
		cls, x, Y.f(pt.Y), attr(s.Backend), attr(pt.XLabel), attr(pt.Value), pt.N, attr(pt.Spread),
		attr(strings.Join(pt.Warnings, "; ")), attr(p.Title))
	href := ""
	if len(pt.Files) > 0 {
		href = fileHref(pt.Files[0])
	}
	if href != "" {
		fmt.Fprintf(&d.b, `<a href="%s">%s</a>`, attr(href), circle)
	} else {
		d.b.WriteString(circle)
	}
}

func drawable(pt Point, X, Y axis) bool {
	for _, v := range []float64{pt.X, pt.Y} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return (!X.log || pt.X > 0) && (!Y.log || pt.Y > 0)
}
