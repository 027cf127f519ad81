package bench

import (
	"strings"
	"testing"

	"github.com/muxbench/muxbench/result"
)

func TestTableFitsAndMarks(t *testing.T) {
	full := &result.Result{
		Params:     result.Params{Backend: "busywait-sleep"},
		Throughput: 123456, Latency: result.Latency{P50: 612_000, P99: 4_180_000, P999: 12_000_000, Max: 19_000_000_000},
		Server: &result.Server{
			Process: result.CPU{PerRTus: 16.9}, LoopThread: &result.CPU{PerRTus: 16.6},
			IO: result.IO{Writes: 10, Waits: 5}, Rates: result.Rates{ShortWritesPerWrite: 0.125, WaitsPerRT: 0.02, EventsPerWait: 56.9},
			RSSPerConn: 107.5 * 1024,
		},
		Generator: result.Generator{CPU: result.CPU{PerRTus: 16.1}, Saturated: true},
		Integrity: result.Integrity{Mismatches: 12345},
		Partial:   true,
	}
	ext := &result.Result{Params: result.Params{Backend: "external"}, Latency: result.Latency{Max: 70e9, Overflow: 1},
		TargetRate: 100000, Throughput: 99900, LatencyUncorrected: &result.Latency{P50: 612_000, P99: 4_180_000}}
	var b strings.Builder
	if err := Table(&b, []*result.Result{full, ext}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, line := range strings.Split(out, "\n") {
		if len(line) > 100 {
			t.Errorf("over 100 columns (%d): %q", len(line), line)
		}
	}
	for _, want := range []string{"busywait-sleep*", "16.9/16.6", "16.1!", "0.125", "108K", "12345", "n/a", ">70s", "stopped early", "saturated", "99.9k of the 100.0k"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}
