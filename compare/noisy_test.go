package compare

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/muxbench/muxbench/chart"
	"github.com/muxbench/muxbench/result"
)

// summary.md and the page say at their head how many runs were noisy,
// name them, and list each with the CPU others took; the page's legend
// says what a dashed point is. A quiet set says it was quiet.
func TestNoiseInSight(t *testing.T) {
	files := loadSuite(t)
	var b bytes.Buffer
	if err := Report(&b, files); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "Noise: none of the ") {
		t.Errorf("a quiet set does not say so:\n%s", b.String()[:200])
	}
	files[3].Noise = &result.Noise{ForeignCPU: 0.31, Noisy: true}
	files[7].Noise = &result.Noise{ForeignCPU: 0.12, Noisy: true}
	b.Reset()
	if err := Report(&b, files); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	head, _, _ := strings.Cut(s, "###")
	if !strings.Contains(head, "NOISY: 2 of ") || !strings.Contains(head, "up to 0.31 CPUs") || !strings.Contains(head, chart.PointName(files[3].PointKey())) {
		t.Errorf("the head does not say which runs were noisy:\n%s", head)
	}
	list := s[strings.Index(s, "### Noisy runs (2"):]
	for _, f := range []chart.File{files[3], files[7]} {
		if !strings.Contains(list, f.Path) {
			t.Errorf("noisy run %s not listed:\n%s", f.Path, list)
		}
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "index.html")
	if err := WriteHTML(page, files, ""); err != nil {
		t.Fatal(err)
	}
	html, _ := os.ReadFile(page)
	first := string(html)[:strings.Index(string(html), "<main>")]
	for _, want := range []string{`class="alert">NOISY: 2 of `, `class="keymark"`, "dashed point has a warning"} {
		if !strings.Contains(first, want) {
			t.Errorf("the page's head lacks %q", want)
		}
	}
	if !strings.Contains(string(html), "Noisy runs (measured on a busy machine") {
		t.Error("the page does not list the noisy runs")
	}
}

// The page shows a chart drawn beside it only where it does not draw the
// same panels itself: a sweep's Lines figure is its table's figure, its
// servers' or the peers', unless it splits the runs into panels of its
// own (one multiplexer per panel).
func TestPageDrawsNoChartTwice(t *testing.T) {
	dir := t.TempDir()
	shown := map[string]bool{"active-conns": false, "idle-conns": false, "active-conns-peers": false, "idle-conns-peers": false,
		"idle-runtimes": true, "latency-spectrum": true, "short-writes": true}
	for name := range shown {
		svg := `<svg xmlns="http://www.w3.org/2000/svg"><text>` + name + ` drawn</text></svg>`
		if err := os.WriteFile(filepath.Join(dir, name+".svg"), []byte(svg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	page := filepath.Join(dir, "index.html")
	if err := WriteHTML(page, loadSuite(t), ""); err != nil {
		t.Fatal(err)
	}
	html, _ := os.ReadFile(page)
	for name, want := range shown {
		if got := strings.Contains(string(html), name+" drawn"); got != want {
			t.Errorf("%s.svg on the page: %v, want %v", name, got, want)
		}
	}
}
