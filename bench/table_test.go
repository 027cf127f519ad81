package bench

import (
	"strings"
	"testing"

	"github.com/muxbench/muxbench/result"
)

func TestTableFitsAndMarks(t *testing.T) {
	full := &result.Result{
		Params:     result.Params{Backend: "busywait-sleep"},
		Throughput: 123456, Latency: result.Latency{Count: 617280, P50: 612_000, P99: 4_180_000, P999: 12_000_000, Max: 19_000_000_000},
		Server: &result.Server{
			Process: result.CPU{PerRTus: 16.9}, LoopThread: &result.CPU{PerRTus: 16.6},
			IO: result.IO{Writes: 10, Waits: 5}, Rates: result.Rates{ShortWritesPerWrite: 0.125, WaitsPerRT: 0.02, EventsPerWait: 56.9},
			RSSPerConn: 107.5 * 1024,
		},
		Generator: result.Generator{CPU: result.CPU{PerRTus: 16.1}, Saturated: true},
		Integrity: result.Integrity{Mismatches: 12345},
		Partial:   true,
	}
	ext := &result.Result{Params: result.Params{Backend: "external"}, Latency: result.Latency{Count: 29, P50: 7_000, P90: 9_100, Max: 70e9, Overflow: 1},
		TargetRate: 100000, Throughput: 99900, LatencyUncorrected: &result.Latency{P50: 612_000, P99: 4_180_000},
		SendLateness: &result.Latency{P50: 1_200, P99: 3_400}, Generator: result.Generator{SendLate: true}}
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
	for _, want := range []string{"busywait-sleep*", "16.9/16.6", "16.1!", "0.125", "108K", "12345", "n/a", ">70s", "stopped early", "saturated", "99.9k of the 100.0k",
		"0.0?", "external 29", "617.3k", "too few samples", "late by p50 1.2us, p99 3.4us", "sent open-loop messages late"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	// The 29-sample row shows no p99 or p99.9.
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "external ") {
			if f := strings.Fields(line); len(f) < 6 || f[3] != "-" || f[4] != "-" {
				t.Errorf("29-sample row %q: want - for p99 and p99.9", line)
			}
		}
	}
}
