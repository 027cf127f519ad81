package compare

import (
	"bytes"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/muxbench/muxbench/chart"
	"github.com/muxbench/muxbench/chart/charttest"
	"github.com/muxbench/muxbench/internal/browser"
	"github.com/muxbench/muxbench/report"
	"github.com/muxbench/muxbench/result"
)

// The page draws the summary's own figures: every point on a chart reads
// as the table cell of its point, backend and column.
func TestHTMLPageShowsTheSummaryFigures(t *testing.T) {
	files := loadSuite(t)
	page := HTMLPage(files, "", t.TempDir())
	cells := map[string]string{}
	for _, tb := range Tables(files) {
		for _, r := range tb.Rows {
			for i, c := range r.Cells {
				cells[tb.Title+"|"+r.Point+"|"+r.Backend+"|"+tb.Columns[i].Name] = c.Text
			}
		}
	}
	checked := 0
	for _, f := range page.Figures {
		for pi, p := range f.Panels {
			col := panelMetrics()[pi].Name
			for _, s := range p.Series {
				for _, pt := range s.Points {
					want, ok := cells[f.Title+"|"+pt.XLabel+"|"+s.Backend+"|"+col]
					if !ok || pt.Value != want {
						t.Errorf("%s / %s / %s / %s: chart says %q, summary %q", f.Title, col, pt.XLabel, s.Backend, pt.Value, want)
					}
					checked++
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no chart points")
	}
	if len(page.Tables) != len(Tables(files)) {
		t.Errorf("%d tables on the page, %d in the summary", len(page.Tables), len(Tables(files)))
	}
}

// TestHTMLInBrowser opens a comparison's page in Chromium and checks what a
// reader sees against the result files themselves.
func TestHTMLInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test in -short mode")
	}
	dir := t.TempDir()
	jsonDir := filepath.Join(dir, "json")
	if err := os.MkdirAll(filepath.Join(jsonDir, "failed"), 0o755); err != nil {
		t.Fatal(err)
	}
	var poll10 string
	for _, b := range []string{"epoll", "poll"} {
		for _, c := range []int{1, 10, 100} {
			p, err := charttest.Write(jsonDir, "active", charttest.Point{Backend: b, Conns: c, MsgSize: 64, Repeat: 1})
			if err != nil {
				t.Fatal(err)
			}
			if b == "poll" && c == 10 {
				poll10 = p
			}
		}
	}
	bad := charttest.Result(charttest.Point{Backend: "epoll", Conns: 1000, MsgSize: 64, Repeat: 1})
	bad.Integrity.Mismatches = 3
	if err := result.WriteFile(filepath.Join(jsonDir, "failed", "active-epoll-c1000.json"), bad); err != nil {
		t.Fatal(err)
	}
	files, err := chart.Load(jsonDir)
	if err != nil {
		t.Fatal(err)
	}
	index := filepath.Join(dir, "index.html")
	if err := WriteHTML(index, files, "muxbench compare"); err != nil {
		t.Fatal(err)
	}
	tab := browser.Open(t, "file://"+index)

	// Every chart has a drawing with marks in it.
	marks, err := browser.Eval[[]int](tab, `Array.from(document.querySelectorAll("svg.panel")).map(function(s){var r=s.getBoundingClientRect();return r.width>100&&r.height>50?s.querySelectorAll("circle.pt").length:0;})`)
	if err != nil {
		t.Fatal(err)
	}
	if len(marks) < 4 {
		t.Fatalf("%d charts on the page, want the 4 panels of the active sweep", len(marks))
	}
	for i, n := range marks {
		if n == 0 {
			t.Errorf("chart %d is empty", i)
		}
	}

	// Hovering poll's 10-connection throughput shows the figure in its file.
	want, err := result.ReadFile(poll10)
	if err != nil {
		t.Fatal(err)
	}
	sel := `svg.panel:first-of-type circle.pt[data-backend="poll"][data-x="10 conns"]`
	if err := tab.Hover(sel); err != nil {
		t.Fatal(err)
	}
	tip, err := browser.Eval[string](tab, `(function(){var t=document.getElementById("tip");return t.hidden?"":t.textContent;})()`)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(tip, " "+report.Human(want.Throughput)) || !strings.Contains(tip, "n 1") {
		t.Errorf("hover reads %q; the file says %s round trips/s over 1 run", tip, report.Human(want.Throughput))
	}
	// The point links to that file, which sits beside the page.
	href, err := browser.Eval[string](tab, `document.querySelector('`+sel+`').closest("a").getAttribute("href")`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(href))); err != nil || filepath.Base(href) != filepath.Base(poll10) {
		t.Errorf("point links to %q: %v", href, err)
	}

	// Hiding poll hides it on every chart and table, and only it.
	count := func(backend string) int {
		n, err := browser.Eval[int](tab, `Array.from(document.querySelectorAll('[data-backend="`+backend+`"]')).filter(function(e){return e.getClientRects().length>0;}).length`)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if err := tab.Click(`button[data-toggle="poll"]`); err != nil {
		t.Fatal(err)
	}
	if n := count("poll"); n != 0 {
		t.Errorf("%d poll elements visible after hiding poll", n)
	}
	if count("epoll") == 0 {
		t.Error("hiding poll hid epoll")
	}

	// The failed run is listed apart with its reason, and in no chart.
	failed, err := browser.Eval[string](tab, `(document.querySelector("section.failed")||{textContent:""}).textContent`)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(failed, "active-epoll-c1000.json") || !strings.Contains(failed, "mismatch") {
		t.Errorf("failed runs section reads %q", failed)
	}
	if n, _ := browser.Eval[int](tab, `document.querySelectorAll('circle.pt[data-x="1000 conns"]').length`); n != 0 {
		t.Errorf("the failed run is drawn at %d points", n)
	}
	if errs := tab.Errors(); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
}

// report --html links each point to its result file by a relative,
// URL-escaped path, whatever the file is called.
func TestReportHTMLLinksEscaped(t *testing.T) {
	dir := t.TempDir()
	jsonDir := filepath.Join(dir, "json")
	if err := os.Mkdir(jsonDir, 0o755); err != nil {
		t.Fatal(err)
	}
	names := []string{`a"><img src=x onerror=alert(1)>.json`, "javascript:alert(1).json"}
	for i, n := range names {
		r := charttest.Result(charttest.Point{Backend: "epoll", Conns: 1 + 99*i, MsgSize: 64})
		if err := result.WriteFile(filepath.Join(jsonDir, n), r); err != nil {
			t.Fatal(err)
		}
	}
	page := filepath.Join(dir, "index.html")
	var stdout, stderr bytes.Buffer
	if code := ReportCommand([]string{"--html", "-o", page, jsonDir}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if strings.Contains(s, "<img") {
		t.Error("a file name added markup")
	}
	links := map[string]bool{}
	for _, m := range regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(s, -1) {
		links[html.UnescapeString(m[1])] = true
	}
	for _, want := range []string{"./json/a%22%3E%3Cimg%20src=x%20onerror=alert%281%29%3E.json", "./json/javascript:alert%281%29.json"} {
		if !links[want] {
			t.Errorf("no link %q among %v", want, links)
		}
	}
}
