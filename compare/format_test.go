package compare

import (
	"bytes"
	"encoding/csv"
	"path/filepath"
	"strings"
	"testing"

	"github.com/muxbench/muxbench/chart/charttest"
	"github.com/muxbench/muxbench/report"
)

// report --format csv gives a row per run, failed ones included, and a
// column per metric; text gives the terminal table; another format is
// refused by name.
func TestReportFormats(t *testing.T) {
	dir := t.TempDir()
	paths, err := charttest.Suite(dir, []string{"epoll", "poll"}, 2)
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := ReportCommand([]string{"--format", "csv", dir}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	rows, err := csv.NewReader(&stdout).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(paths)+1 || len(rows[0]) < len(report.Metrics) || !strings.Contains(strings.Join(rows[0], ","), "server_cpu_us_per_rt") {
		t.Errorf("%d rows for %d runs, header %v", len(rows), len(paths), rows[0])
	}
	stdout.Reset()
	if code := ReportCommand([]string{"--format", "text", filepath.Join(dir, filepath.Base(paths[0]))}, &stdout, &stderr); code != 0 ||
		!strings.HasPrefix(stdout.String(), "backend ") || !strings.Contains(stdout.String(), "µs/rt") {
		t.Errorf("exit %d, text:\n%s", code, stdout.String())
	}
	stderr.Reset()
	if code := ReportCommand([]string{"--format", "xml", dir}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), `--format "xml"`) {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}
