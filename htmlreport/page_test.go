package htmlreport

import (
	"bytes"
	"html"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/muxbench/muxbench/internal/browser"
)

// sample is a page with two figures, two backends and a table, one point
// warned, the shapes compare writes.
func sample() Page {
	pt := func(x, y float64, v string, warn ...string) Point {
		return Point{X: x, Y: y, Lo: y * 0.9, Hi: y * 1.1, N: 3, Value: v, Spread: "min-max", XLabel: "x", Warnings: warn}
	}
	return Page{
		Title:   "muxbench comparison",
		Caption: []string{"Machine: test <b>bold</b>"},
		Backends: []Backend{{Name: "epoll", Color: "#0072b2", Group: "muxbench"}, {Name: "poll", Color: "#e69f00", Group: "muxbench"},
			{Name: "twisted-poll", Color: "#cc6677", Dash: "5 2.5", Group: "peers"}},
		Figures: []Figure{
			{ID: "active", Title: "Active", Panels: []Panel{
				{Title: "Throughput", XLabel: "conns", YLabel: "rt/s", LogX: true, Series: []Series{
					{Backend: "epoll", Points: []Point{pt(1, 100, "100 rt/s"), pt(10, 1000, "1k rt/s")}},
					{Backend: "poll", Points: []Point{pt(1, 90, "90 rt/s"), pt(10, 800, "800 rt/s", "noisy machine")}},
					{Backend: "twisted-poll", Points: []Point{pt(1, 20, "20 rt/s"), pt(10, 30, "30 rt/s")}},
				}},
				{Title: "CPU", XLabel: "conns", YLabel: "µs", LogX: true, Series: []Series{
					{Backend: "epoll", Points: []Point{pt(1, 5, "5 µs"), pt(10, 6, "6 µs")}},
					{Backend: "poll", Points: []Point{pt(1, 5.5, "5.5 µs"), pt(10, 7, "7 µs")}},
				}},
			}},
			{ID: "cost", Title: "Cost", Panels: []Panel{
				{Title: "CPU bars", YLabel: "µs", Bars: true, XTicks: []Tick{{0, "1 conn"}, {1, "10 conns"}}, Series: []Series{
					{Backend: "epoll", Points: []Point{pt(0, 3, "3 µs"), pt(1, 4, "4 µs")}},
					{Backend: "poll", Points: []Point{pt(0, 3.5, "3.5 µs"), pt(1, 9, "9 µs")}},
				}},
			}},
		},
		Tables: []Table{{Title: "Active", Columns: []Column{{Name: "point"}, {Name: "backend"}, {Name: "rt/s", Numeric: true}},
			Rows: []Row{
				{Backend: "epoll", Cells: []Cell{{Text: "1 conn"}, {Text: "epoll"}, {Text: "100", Sort: 100}}},
				{Backend: "poll", Cells: []Cell{{Text: "1 conn"}, {Text: "poll"}, {Text: "9k", Sort: 9000}}},
				{Backend: "epoll", Cells: []Cell{{Text: "10 conns"}, {Text: "epoll"}, {Text: "1k", Sort: 1000}}},
			}}},
		Failed: []Failed{{File: "json/failed/x.json", Href: "json/failed/x.json", Point: "10 conns epoll", Reason: "3 integrity errors"}},
	}
}

func TestPageIsSelfContainedAndEscaped(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, sample()); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	// Nothing from the network: no src or href to another host.
	if m := regexp.MustCompile(`(?i)(src|href)="(https?:)?//`).FindString(s); m != "" {
		t.Errorf("page refers to the network: %s", m)
	}
	if strings.Contains(s, "<b>bold</b>") {
		t.Error("caption text reached the page unescaped")
	}
	// A peer's line is dashed, in its legend entry too.
	for _, want := range []string{"<svg", `data-backend="poll"`, `class="pt warn"`, "json/failed/x.json", "3 integrity errors",
		`<line x1="1" x2="17" y1="5" y2="5" stroke-dasharray="5 2.5"/>`} {
		if !strings.Contains(s, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if n := len(regexp.MustCompile(`<polyline class="line" points="[^"]*" stroke-dasharray="5 2.5"/>`).FindAllString(s, -1)); n != 1 {
		t.Errorf("%d dashed lines, want the peer's one", n)
	}
}

func TestPanelSVGEscapesStrings(t *testing.T) {
	p := Panel{Title: `<script>alert(1)</script>`, Series: []Series{{Backend: `a"b`, Points: []Point{{X: 1, Y: 1, Lo: 1, Hi: 1, N: 1, Value: "<v>"}}}}}
	s := panelSVG(p, nil, "x")
	if strings.Contains(s, "<script>") || strings.Contains(s, `a"b`) || strings.Contains(s, "<v>") {
		t.Errorf("unescaped text in %s", s)
	}
}

func writeSample(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "index.html")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := Write(f, sample()); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestInBrowser loads the page in headless Chromium and does what a reader
// does: looks at every chart, hides a backend, hovers a point, sorts.
func TestInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test in -short mode")
	}
	tab := browser.Open(t, "file://"+writeSample(t))

	// Every chart has a drawing of non-zero size with marks in it.
	sizes, err := browser.Eval[[]float64](tab, `Array.from(document.querySelectorAll("svg.panel")).map(function(s){var r=s.getBoundingClientRect();return s.querySelectorAll("circle.pt").length>0 && r.width>100 && r.height>50 ? 1 : 0;})`)
	if err != nil {
		t.Fatal(err)
	}
	if len(sizes) != 3 {
		t.Fatalf("%d charts drawn, want 3", len(sizes))
	}
	for i, ok := range sizes {
		if ok != 1 {
			t.Errorf("chart %d is empty or has no size", i)
		}
	}

	// Hiding poll hides it on every chart and in the table, and nothing else.
	visible := func(backend string) int {
		n, err := browser.Eval[int](tab, `Array.from(document.querySelectorAll('[data-backend="`+backend+`"]')).filter(function(e){return e.getClientRects().length>0;}).length`)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := visible("poll")
	if before == 0 {
		t.Fatal("poll is not drawn")
	}
	if err := tab.Click(`button[data-toggle="poll"]`); err != nil {
		t.Fatal(err)
	}
	if n := visible("poll"); n != 0 {
		t.Errorf("%d poll elements still visible after hiding it", n)
	}
	if visible("epoll") == 0 {
		t.Error("hiding poll hid epoll too")
	}
	if err := tab.Click(`button[data-toggle="poll"]`); err != nil {
		t.Fatal(err)
	}
	if n := visible("poll"); n != before {
		t.Errorf("%d poll elements visible after showing it again, want %d", n, before)
	}

	// A group's button hides every backend of the group, and only them,
	// then shows them again.
	peerBefore, pollBefore := visible("twisted-poll"), visible("poll")
	if peerBefore == 0 {
		t.Fatal("twisted-poll is not drawn")
	}
	if err := tab.Click(`button[data-group="peers"]`); err != nil {
		t.Fatal(err)
	}
	if n := visible("twisted-poll"); n != 0 || visible("poll") != pollBefore {
		t.Errorf("after hiding the peers: %d of twisted-poll's elements visible, poll's %d of %d", n, visible("poll"), pollBefore)
	}
	if err := tab.Click(`button[data-group="peers"]`); err != nil {
		t.Fatal(err)
	}
	if n := visible("twisted-poll"); n != peerBefore {
		t.Errorf("%d of twisted-poll's %d elements visible after showing the peers again", n, peerBefore)
	}

	// A hover shows the point's backend, value, n and warning.
	if err := tab.Hover(`circle.pt.warn`); err != nil {
		t.Fatal(err)
	}
	tip, err := browser.Eval[string](tab, `(function(){var t=document.getElementById("tip");return t.hidden?"":t.textContent;})()`)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"poll", "800 rt/s", "n 3", "noisy machine"} {
		if !strings.Contains(tip, want) {
			t.Errorf("hover shows %q, lacking %q", tip, want)
		}
	}

	// Sorting by the numeric column orders by value, not by text.
	if err := tab.Click(`th[data-col="2"]`); err != nil {
		t.Fatal(err)
	}
	order, err := browser.Eval[[]string](tab, `Array.from(document.querySelectorAll("table.sortable tbody tr")).map(function(r){return r.cells[2].textContent;})`)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(order, ",") != "100,1k,9k" {
		t.Errorf("sorted column reads %v, want 100,1k,9k", order)
	}
	// Printed, the charts keep their size and their marks.
	pdf, err := tab.Print()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF")) {
		t.Error("printing gave no PDF")
	}
	printed, err := browser.Eval[int](tab, `Array.from(document.querySelectorAll("svg.panel")).filter(function(s){var r=s.getBoundingClientRect();return r.width>100&&r.height>50&&s.querySelector("circle.pt").getClientRects().length>0;}).length`)
	if err != nil {
		t.Fatal(err)
	}
	if printed != 3 {
		t.Errorf("%d of 3 charts keep their drawing in print", printed)
	}
	if errs := tab.Errors(); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
}

// A point and a failed run link to their result files through relative,
// URL-escaped paths: nothing in a file name can close the attribute, add
// markup, or make the link a "javascript:" one.
func TestFileLinksAreRelativeAndEscaped(t *testing.T) {
	names := []string{
		`json/a"><script>alert(1)</script>.json`,
		`javascript:alert(1).json`,
		`json/with space&amp;#?.json`,
	}
	p := Page{Title: "links", Figures: []Figure{{ID: "f", Title: "f", Panels: []Panel{{Title: "p", Series: []Series{{Backend: "epoll"}}}}}}}
	pts := &p.Figures[0].Panels[0].Series[0].Points
	for i, n := range names {
		*pts = append(*pts, Point{X: float64(i + 1), Y: 1, Lo: 1, Hi: 1, N: 1, Files: []string{n}})
	}
	for _, n := range []string{"/etc/passwd", "../outside.json", "json/../../outside.json"} {
		*pts = append(*pts, Point{X: 9, Y: 1, Lo: 1, Hi: 1, N: 1, Files: []string{n}})
	}
	p.Failed = []Failed{{File: names[1], Href: names[1], Point: "x", Reason: "y"}, {File: "/abs.json", Href: "/abs.json"}}
	var b bytes.Buffer
	if err := Write(&b, p); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	if strings.Contains(s, "<script>alert") {
		t.Error("a file name added markup")
	}
	var got []string
	for _, m := range regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(s, -1) {
		href := html.UnescapeString(m[1])
		if !strings.HasPrefix(href, "./") || strings.ContainsAny(href, "<>\"' ") {
			t.Errorf("link %q is not a relative, escaped path", href)
			continue
		}
		name, err := url.PathUnescape(href[2:])
		if err != nil {
			t.Errorf("link %q: %v", href, err)
		}
		got = append(got, name)
	}
	want := append(append([]string(nil), names...), names[1])
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("links lead to\n%q\nwant\n%q", got, want)
	}
}
