package chart

import (
	"slices"
	"testing"

	"github.com/muxbench/muxbench/chart/charttest"
	"github.com/muxbench/muxbench/result"
	"github.com/muxbench/muxbench/sweep"
	"gonum.org/v1/plot/vg/draw"
)

// runtimesSuite is an idle sweep of muxbench's select, poll and epoll
// (and stdlib, which is no multiplexer's), the peers of charttest.Peers,
// a peer named like nothing it runs (its multiplexer is what it
// recorded), and a select peer that cannot hold the larger points: its
// run at 0 idle, the active sweep's, is all it has.
func runtimesSuite(t *testing.T) []File {
	t.Helper()
	dir := t.TempDir()
	for _, b := range []string{"select", "poll", "epoll", "stdlib"} {
		for _, idle := range []int{0, 1000, 5000} {
			sw := "idle"
			if idle == 0 {
				sw = "active"
			}
			if _, err := charttest.Write(dir, sw, charttest.Point{Backend: b, Conns: 100, Idle: idle, MsgSize: 64, Repeat: 1}); err != nil {
				t.Fatal(err)
			}
		}
	}
	peers := append(slices.Clone(charttest.Peers), result.Peer{Name: "mystery", Family: "libev", Language: "C", Multiplexer: "poll"})
	if _, err := charttest.PeerSuite(dir, peers, 1); err != nil {
		t.Fatal(err)
	}
	tw := &result.Peer{Family: "Twisted", Language: "Python", Multiplexer: "select", Loop: "SelectReactor"}
	for _, c := range []int{1, 100} {
		if _, err := charttest.Write(dir, "active", charttest.Point{Backend: "twisted-select", Conns: c, MsgSize: 64, Repeat: 1, Peer: tw}); err != nil {
			t.Fatal(err)
		}
	}
	files, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func idleSection(t *testing.T, files []File) Section {
	t.Helper()
	for _, sec := range Sections(files) {
		if sec.Sweep.Name == sweep.Idle {
			return sec
		}
	}
	t.Fatal("no idle section")
	return Section{}
}

func runtimesSpec(t *testing.T) *sweep.Lines {
	t.Helper()
	s, _ := sweep.Lookup(sweep.Idle)
	for _, f := range s.Figures {
		if f.Name == "idle-runtimes" {
			return f.Lines
		}
	}
	t.Fatal("the idle sweep has no idle-runtimes figure")
	return nil
}

// One multiplexer, every implementation: a panel each for select, poll
// and epoll, in that order, of server CPU per round trip against idle
// connections; in each, a line per implementation (a library in its
// language, muxbench's backends as one), placed by the multiplexer the
// run recorded, not by its name; a select peer that stopped at
// FD_SETSIZE is its point at 0 idle; and one y scale for all three.
func TestRuntimesFigure(t *testing.T) {
	files := runtimesSuite(t)
	sec := idleSection(t, files)
	spec := runtimesSpec(t)
	d, why := linesOf(spec, sec)
	if why != "" {
		t.Fatal(why)
	}
	var names []string
	lines := map[string]map[string][]float64{} // panel, line: x
	for _, p := range d.panels {
		names = append(names, p.name)
		lines[p.name] = map[string][]float64{}
		for l, ds := range p.data {
			for _, s := range ds {
				lines[p.name][l] = append(lines[p.name][l], s.X)
			}
		}
		if p.metric.Name != "server CPU µs/rt" {
			t.Errorf("panel %s draws %s", p.name, p.metric.Name)
		}
	}
	if !slices.Equal(names, []string{"select", "poll", "epoll"}) {
		t.Fatalf("panels %v", names)
	}
	want := map[string]map[string][]float64{
		"select": {"muxbench (Go)": {0, 1000, 5000}, "libevent (C)": {0, 1000, 5000}, "asyncio (Python)": {0, 1000, 5000}, "Twisted (Python)": {0}},
		"poll":   {"muxbench (Go)": {0, 1000, 5000}, "libev (C)": {0, 1000, 5000}},
		"epoll": {"muxbench (Go)": {0, 1000, 5000}, "c-floor (C)": {0, 1000, 5000}, "Twisted (Python)": {0, 1000, 5000},
			"Node.js (JavaScript)": {0, 1000, 5000}},
	}
	for panel, ls := range want {
		if len(lines[panel]) != len(ls) {
			t.Errorf("%s: lines %v, want %v", panel, lines[panel], ls)
		}
		for l, xs := range ls {
			if !slices.Equal(lines[panel][l], xs) {
				t.Errorf("%s: %s at %v, want %v", panel, l, lines[panel][l], xs)
			}
		}
	}
	// libev's poll line holds both its peers, libev-poll and the one
	// named like nothing: two runs a point.
	for _, p := range d.panels {
		if p.name == "poll" {
			for _, s := range p.data["libev (C)"] {
				if s.N != 2 {
					t.Errorf("libev (C) at %g: %d runs, want libev-poll's and mystery's", s.X, s.N)
				}
			}
		}
	}

	fig, _, err := linesFigure("idle-runtimes", spec, sec)
	if err != nil || fig == nil {
		t.Fatalf("figure %v, %v", fig, err)
	}
	row := fig.panels[0]
	for _, p := range row[1:] {
		if p.Y.Min != row[0].Y.Min || p.Y.Max != row[0].Y.Max {
			t.Errorf("y axes %g-%g and %g-%g: want one scale", row[0].Y.Min, row[0].Y.Max, p.Y.Min, p.Y.Max)
		}
	}
	if want := []string{"muxbench (Go)", "c-floor (C)", "libevent (C)", "libev (C)", "Twisted (Python)", "asyncio (Python)", "Node.js (JavaScript)"}; !slices.Equal(fig.backends, want) {
		t.Errorf("legend %v, want %v", fig.backends, want)
	}
	if _, err := fig.render("svg"); err != nil {
		t.Fatal(err)
	}
}

// A peer is drawn in its family's colour, with its multiplexer's marker
// and its language's dashes, thinner than muxbench's own; a family over
// several multiplexers with the family's marker; muxbench's backends as
// one line in muxbench's; the C floor as itself. Legends and tables list
// muxbench's backends, the C floor, then the peers by language, family
// and multiplexer.
func TestPeerStyles(t *testing.T) {
	files := runtimesSuite(t)
	pal := PaletteOf(files)
	twisted, _ := family("Twisted")
	if s := pal.style("twisted-epoll"); s.Color != twisted.color || s.Glyph != styleOf("epoll").Glyph || s.Dash != dashed || !s.Thin {
		t.Errorf("twisted-epoll drawn as %+v", s)
	}
	if s := pal.style("node"); s.Dash != dashDot {
		t.Errorf("node drawn as %+v: want JavaScript's dash-dot", s)
	}
	if s := pal.style("libevent-select"); s.Dash != solid || s.Glyph != styleOf("select").Glyph {
		t.Errorf("libevent-select drawn as %+v: want C's solid line, select's marker", s)
	}
	if s := pal.style("c-floor"); s != styleOf("c-floor") {
		t.Errorf("the C floor drawn as %+v, not as itself", s)
	}
	if s := pal.style("epoll"); s != styleOf("epoll") {
		t.Errorf("epoll drawn as %+v", s)
	}
	d, _ := linesOf(runtimesSpec(t), idleSection(t, files))
	joined := PaletteOf(d.drawn)
	own, _ := family(ownFamily)
	if s := joined.style("muxbench (Go)"); s.Color != own.color || s.Dash != solid || s.Thin {
		t.Errorf("muxbench (Go) drawn as %+v", s)
	}
	if s := joined.style("Twisted (Python)"); s.Color != twisted.color || s.Glyph != draw.GlyphDrawer(twisted.glyph) || s.Dash != dashed {
		t.Errorf("Twisted (Python), over three multiplexers, drawn as %+v", s)
	}
	names := []string{"node", "twisted-epoll", "epoll", "c-floor", "libevent-select", "asyncio-select", "mystery", "stdlib", "select", "twisted-select"}
	pal.Order(names)
	want := []string{"epoll", "select", "stdlib", "c-floor", "libevent-select", "mystery", "twisted-select", "twisted-epoll", "asyncio-select", "node"}
	if !slices.Equal(names, want) {
		t.Errorf("order %v, want %v", names, want)
	}
	if pal.Group("twisted-epoll") != "peers" || pal.Group("c-floor") != "muxbench" || pal.Group("epoll") != "muxbench" {
		t.Errorf("groups: twisted-epoll %s, c-floor %s, epoll %s", pal.Group("twisted-epoll"), pal.Group("c-floor"), pal.Group("epoll"))
	}
}
