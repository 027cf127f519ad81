package report

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/muxbench/muxbench/result"
)

// Every descriptor can be read by every view: a name and a CSV column of
// its own, a getter, both formats, and no aggregation it cannot do.
func TestMetricsComplete(t *testing.T) {
	names, cols := map[string]bool{}, map[string]bool{}
	snake := regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	for _, m := range Metrics {
		if m.Name == "" || names[m.Name] || cols[m.Column()] || !snake.MatchString(m.Column()) {
			t.Errorf("%q: name or CSV column %q missing, repeated or not snake_case", m.Name, m.Column())
		}
		names[m.Name], cols[m.Column()] = true, true
		if m.Get == nil || m.Format.Full == nil || m.Format.Compact == nil || m.Format.None == "" {
			t.Errorf("%s: no getter or format", m.Name)
		}
		if int(m.Hosts) >= len(hostsWords) {
			t.Errorf("%s: hosts aggregation %d unknown", m.Name, m.Hosts)
		}
		if m.Head[0] == "" && m.Head[1] != "" {
			t.Errorf("%s: a second head line without a first", m.Name)
		}
	}
}

// A table wider than Width continues in a block of its own below, the
// rows named again, every line within Width.
func TestTableContinuesBeyondWidth(t *testing.T) {
	r := &result.Result{Params: result.Params{Backend: "busywait-sleep"}, Throughput: 1000,
		Latency: result.Latency{P50: 50_000, P99: 99_000, Max: 130_000}}
	for _, p := range []float64{10, 20, 30, 40, 60, 70, 75, 80, 95, 99.99, 99.999} {
		r.Latency.Percentiles = append(r.Latency.Percentiles, result.Percentile{Percent: p, Value: int64(p * 1000)})
	}
	var b strings.Builder
	if err := Table(&b, []*result.Result{r}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, line := range strings.Split(out, "\n") {
		if n := utf8.RuneCountInString(line); n > Width {
			t.Errorf("over %d columns (%d): %q", Width, n, line)
		}
	}
	if strings.Count("\n"+out, "\nbackend ") != 2 || strings.Count("\n"+out, "\nbusywait-sleep ") != 2 || !strings.Contains(out, "p99.999") {
		t.Errorf("want a second block with the row named again and every percentile:\n%s", out)
	}
}

// Latency axes read in µs up to 10,000 µs and in ms beyond.
func TestLatencyAxis(t *testing.T) {
	for _, c := range []struct {
		top  float64
		unit string
		div  float64
	}{{9_000_000, "µs", 1e3}, {10_000_000, "µs", 1e3}, {10_000_001, "ms", 1e6}, {250e6, "ms", 1e6}} {
		if unit, div := LatencyAxis(c.top); unit != c.unit || div != c.div {
			t.Errorf("%g ns: %s /%g, want %s /%g", c.top, unit, div, c.unit, c.div)
		}
	}
	if label, div := P99.Panel.Axis(P99, 248e6); label != "ms (log scale)" || div != 1e6 {
		t.Errorf("p99 panel up to 248 ms: %q /%g", label, div)
	}
}
