package chart

import (
	"fmt"
	"hash/fnv"
	"image/color"
	"slices"
	"sort"
	"strings"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// style is how one backend looks in every chart, so that a reader who has
// learnt "epoll is the blue circle" once can read the next chart at a glance.
type style struct {
	Color color.Color
	Glyph draw.GlyphDrawer
	// Dash draws a peer's line by its language; Thin, a peer's, is
	// drawn thinner than muxbench's own.
	Dash dash
	Thin bool
}

// Okabe-Ito colours: distinguishable with the common colour-vision
// deficiencies and in grey print.
var known = []struct {
	name string
	style
}{
	{"epoll", style{Color: rgb(0x0072B2), Glyph: draw.CircleGlyph{}}},
	{"kqueue", style{Color: rgb(0x009E73), Glyph: draw.SquareGlyph{}}},
	{"poll", style{Color: rgb(0xE69F00), Glyph: draw.TriangleGlyph{}}},
	{"select", style{Color: rgb(0xD55E00), Glyph: draw.PyramidGlyph{}}},
	{"busywait", style{Color: rgb(0xCC79A7), Glyph: draw.CrossGlyph{}}},
	{"busywait-sleep", style{Color: rgb(0x882255), Glyph: draw.PlusGlyph{}}},
	{"iouring", style{Color: rgb(0x56B4E9), Glyph: draw.BoxGlyph{}}},
	{"uring", style{Color: rgb(0x332288), Glyph: draw.TriangleGlyph{}}},
	{"stdlib", style{Color: rgb(0x000000), Glyph: draw.RingGlyph{}}},
	{"external", style{Color: rgb(0x7F7F7F), Glyph: draw.BoxGlyph{}}},
	{"c-floor", style{Color: rgb(0x44AA99), Glyph: draw.RingGlyph{}}}, // the C epoll floor, a reference
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
	return style{Color: spareColors[s%uint32(len(spareColors))], Glyph: spareGlyphs[(s/7)%uint32(len(spareGlyphs))]}
}

// sortBackends orders names as the style table does (the real multiplexers
// first, baselines last), then unknown names alphabetically.
func sortBackends(names []string) { Palette(nil).Order(names) }

func (s style) line() draw.LineStyle {
	w := vg.Points(1.5)
	if s.Thin {
		w = vg.Points(1.1)
	}
	return draw.LineStyle{Color: s.Color, Width: w, Dashes: s.Dash.lengths()}
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

// A peer (another project's echo server) is drawn in its family's
// colour, with its multiplexer's marker (muxbench's backend's: select
// the pyramid, epoll the circle) and its language's dashes; a line of
// one family over several multiplexers (twisted-select, -poll and
// -epoll as one) with the family's own marker.
var families = []familyStyle{
	{"muxbench", rgb(0x222222), draw.CircleGlyph{}}, // muxbench's backends as one line
	{"c-floor", rgb(0x44AA99), draw.RingGlyph{}},
	{"libevent", rgb(0x117733), draw.SquareGlyph{}},
	{"libev", rgb(0x661100), draw.BoxGlyph{}},
	{"Twisted", rgb(0xCC6677), draw.TriangleGlyph{}},
	{"asyncio", rgb(0x997700), draw.PyramidGlyph{}},
	{"uvloop", rgb(0xAA4499), draw.CrossGlyph{}},
	{"Node.js", rgb(0x6699CC), draw.PlusGlyph{}},
}

// dash is a line's pattern.
type dash int

const (
	solid dash = iota
	dashed
	dashDot
)

// points are d's on and off lengths in points.
func (d dash) points() []float64 {
	switch d {
	case dashed:
		return []float64{5, 2.5}
	case dashDot:
		return []float64{6, 2, 1.5, 2}
	}
	return nil
}

func (d dash) lengths() []vg.Length {
	var out []vg.Length
	for _, p := range d.points() {
		out = append(out, vg.Points(p))
	}
	return out
}

// languages order the peers and dash their lines: C solid as muxbench's
// own, Python dashed, JavaScript dash-dotted.
var languages = []struct {
	name string
	dash dash
}{{"Go", solid}, {"C", solid}, {"Python", dashed}, {"JavaScript", dashDot}}

// muxOrder orders one family's peers: select, poll, epoll, as their
// cost per descriptor goes.
var muxOrder = []string{"select", "poll", "epoll", "kqueue", "iouring"}

// ownFamily is the family of muxbench's own backends, as lines that
// join them (sweep.Implementation's "muxbench (Go)").
const ownFamily = "muxbench"

// lineInfo is what the runs drawn on one line say of its server.
type lineInfo struct {
	family, language, mux string
	peer                  string // the one peer drawn, or ""
	reference             bool   // the C floor's
	muxes                 map[string]bool
	backends              map[string]bool
	peers, own            int
}

// Palette knows how each line of a set of results is drawn and in which
// order, from what its runs say of their servers: a backend by its
// name, a peer by its family, language and multiplexer (result.Peer),
// a line that joins several (a family over its multiplexers) by what
// they share.
type Palette map[string]*lineInfo

// PaletteOf is the palette of files, each drawn on the line its
// Params.Backend names.
func PaletteOf(files []File) Palette {
	p := Palette{}
	for _, f := range files {
		name := f.Params.Backend
		li := p[name]
		if li == nil {
			li = &lineInfo{muxes: map[string]bool{}, backends: map[string]bool{}}
			p[name] = li
		}
		r := f.Result
		if r.Peer == nil {
			// Its own name: Params.Backend may name the line instead.
			b := r.Params.Backend
			if r.Server != nil && r.Server.Backend != "" {
				b = r.Server.Backend
			}
			li.own++
			li.family, li.language = ownFamily, "Go"
			li.muxes[b] = true
			li.backends[b] = true
			continue
		}
		li.peers++
		li.peer, li.reference = r.Peer.Name, r.Peer.Reference
		li.family, li.language = r.Peer.Family, r.Peer.Language
		li.muxes[r.Peer.Multiplexer] = true
		li.backends[r.Peer.Name] = true
	}
	for _, li := range p {
		if li.peers > 0 && len(li.backends) > 1 {
			li.peer = ""
		}
		if len(li.muxes) == 1 {
			for m := range li.muxes {
				li.mux = m
			}
		}
	}
	return p
}

// style is how the line name is drawn: a known backend as styleOf says,
// a peer in its family's colour with its multiplexer's marker and its
// language's dashes, muxbench's backends joined in one line as
// muxbench's family, anything else as styleOf's spare.
func (p Palette) style(name string) style {
	li := p[name]
	if li == nil || isKnown(name) {
		return styleOf(name)
	}
	if li.peers > 0 && li.own == 0 {
		if li.peer != "" && isKnown(li.peer) {
			return styleOf(li.peer)
		}
		fam, ok := family(li.family)
		if !ok {
			return styleOf(name)
		}
		s := style{Color: fam.color, Glyph: fam.glyph, Dash: languageDash(li.language), Thin: true}
		if li.peer != "" && isKnown(li.mux) {
			s.Glyph = styleOf(li.mux).Glyph
		}
		return s
	}
	if li.own > 0 && li.peers == 0 && len(li.backends) > 1 {
		fam, _ := family(ownFamily)
		return style{Color: fam.color, Glyph: fam.glyph}
	}
	return styleOf(name)
}

func isKnown(name string) bool {
	for _, k := range known {
		if k.name == name {
			return true
		}
	}
	return false
}

type familyStyle struct {
	name  string
	color color.Color
	glyph draw.GlyphDrawer
}

func family(name string) (familyStyle, bool) {
	for _, f := range families {
		if f.name == name {
			return f, true
		}
	}
	return familyStyle{}, false
}

func languageDash(name string) dash {
	for _, l := range languages {
		if l.name == name {
			return l.dash
		}
	}
	return solid
}

// Order sorts line names as every legend and table does: muxbench's
// backends and the C floor in the style table's order, then the peers
// by language, family and multiplexer, then any other by name.
func (p Palette) Order(names []string) {
	rank := func(n string) []int {
		for i, k := range known {
			if k.name == n {
				return []int{0, i}
			}
		}
		li := p[n]
		if li == nil || li.peers == 0 && !(li.own > 0 && len(li.backends) > 1) {
			return []int{3}
		}
		r := []int{1, len(languages), len(families), len(muxOrder)}
		for i, l := range languages {
			if l.name == li.language {
				r[1] = i
			}
		}
		for i, f := range families {
			if f.name == li.family {
				r[2] = i
			}
		}
		if i := slices.Index(muxOrder, li.mux); i >= 0 {
			r[3] = i
		}
		return r
	}
	sort.SliceStable(names, func(a, b int) bool {
		ra, rb := rank(names[a]), rank(names[b])
		if c := slices.Compare(ra, rb); c != 0 {
			return c < 0
		}
		return names[a] < names[b]
	})
}

// Group says whose server the line name draws: "peers" for other
// projects' (result.Peer), "muxbench" for muxbench's own and the C floor.
func (p Palette) Group(name string) string {
	if li := p[name]; li != nil && li.peers > 0 && li.own == 0 && !li.reference {
		return "peers"
	}
	return "muxbench"
}

// CSS is name's colour and dashes on a page that draws its own charts:
// "#rrggbb", and an SVG stroke-dasharray ("" for a solid line).
func (p Palette) CSS(name string) (color, dashes string) {
	s := p.style(name)
	r, g, b, _ := s.Color.RGBA()
	var d []string
	for _, l := range s.Dash.points() {
		d = append(d, fmt.Sprint(l))
	}
	return fmt.Sprintf("#%02x%02x%02x", r>>8, g>>8, b>>8), strings.Join(d, " ")
}
