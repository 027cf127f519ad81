package chart

import (
	"fmt"
	"hash/fnv"
	"image/color"
	"sort"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// style is how one backend looks in every chart, so that a reader who has
// learnt "epoll is the blue circle" once can read the next chart at a glance.
type style struct {
	Color color.Color
	Glyph draw.GlyphDrawer
}

// Okabe-Ito colours: distinguishable with the common colour-vision
// deficiencies and in grey print.
var known = []struct {
	name string
	style
}{
	{"epoll", style{rgb(0x0072B2), draw.CircleGlyph{}}},
	{"kqueue", style{rgb(0x009E73), draw.SquareGlyph{}}},
	{"poll", style{rgb(0xE69F00), draw.TriangleGlyph{}}},
	{"select", style{rgb(0xD55E00), draw.PyramidGlyph{}}},
	{"busywait", style{rgb(0xCC79A7), draw.CrossGlyph{}}},
	{"busywait-sleep", style{rgb(0x882255), draw.PlusGlyph{}}},
	{"iouring", style{rgb(0x56B4E9), draw.BoxGlyph{}}},
	{"uring", style{rgb(0x332288), draw.TriangleGlyph{}}},
	{"stdlib", style{rgb(0x000000), draw.RingGlyph{}}},
	{"external", style{rgb(0x7F7F7F), draw.BoxGlyph{}}},
	{"c-floor", style{rgb(0x44AA99), draw.RingGlyph{}}}, // the C epoll floor, a reference
}

// Colours and glyphs for backends this table does not know yet, picked by
// a hash of the name so that they stay the same from chart to chart.
var (
	spareColors = []color.Color{rgb(0x8C564B), rgb(0xBCBD22), rgb(0x17BECF), rgb(0x1F3A93), rgb(0x6B8E23)}
	spareGlyphs = []draw.GlyphDrawer{draw.RingGlyph{}, draw.BoxGlyph{}, draw.PlusGlyph{}, draw.SquareGlyph{}}
)

func rgb(v uint32) color.Color {
	return color.RGBA{R: uint8(v >> 16), G: uint8(v >> 8), B: uint8(v), A: 0xff}
}

func styleOf(backend string) style {
	for _, k := range known {
		if k.name == backend {
			return k.style
		}
	}
	h := fnv.New32a()
	h.Write([]byte(backend))
	s := h.Sum32()
	return style{spareColors[s%uint32(len(spareColors))], spareGlyphs[(s/7)%uint32(len(spareGlyphs))]}
}

// sortBackends orders names as the style table does (the real multiplexers
// first, baselines last), then unknown names alphabetically.
func sortBackends(names []string) {
	rank := func(n string) int {
		for i, k := range known {
			if k.name == n {
				return i
			}
		}
		return len(known)
	}
	sort.SliceStable(names, func(a, b int) bool {
		ra, rb := rank(names[a]), rank(names[b])
		if ra != rb {
			return ra < rb
		}
		return names[a] < names[b]
	})
}

func (s style) line() draw.LineStyle {
	return draw.LineStyle{Color: s.Color, Width: vg.Points(1.5)}
}

func (s style) glyph() draw.GlyphStyle {
	return draw.GlyphStyle{Color: s.Color, Radius: vg.Points(3.5), Shape: s.Glyph}
}

// thumb draws a backend's legend entry: its line with its marker.
type thumb struct {
	s   style
	bar bool
}

func (t thumb) Thumbnail(c *draw.Canvas) {
	if t.bar {
		pts := []vg.Point{
			{X: c.Min.X, Y: c.Min.Y}, {X: c.Min.X, Y: c.Max.Y},
			{X: c.Max.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Min.Y},
		}
		c.FillPolygon(t.s.Color, c.ClipPolygonY(pts))
		return
	}
	y := c.Center().Y
	c.StrokeLine2(t.s.line(), c.Min.X, y, c.Max.X, y)
	c.DrawGlyph(t.s.glyph(), c.Center())
}

// CSSColor is backend's colour in every chart, as "#rrggbb", for pages
// that draw their own.
func CSSColor(backend string) string {
	r, g, b, _ := styleOf(backend).Color.RGBA()
	return fmt.Sprintf("#%02x%02x%02x", r>>8, g>>8, b>>8)
}
