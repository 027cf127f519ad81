package report

import (
	"encoding/csv"
	"slices"
	"strings"
	"testing"

	"github.com/muxbench/muxbench/result"
)

// A row per run, a column per metric named with its unit, figures as
// measured; a figure the run lacks is an empty cell, and a string from
// a result file never reads as a spreadsheet formula.
func TestCSV(t *testing.T) {
	ok := &result.Result{Params: result.Params{Backend: "epoll", Conns: 100, MsgSize: 64, Sweep: "active", Repeat: 2},
		Throughput: 123456.5, Latency: result.Latency{P50: 826_000, P99: 1_700_000},
		Server: &result.Server{Process: result.CPU{PerRTus: 8.84}}}
	failed := &result.Result{Params: result.Params{Backend: "=HYPERLINK(\"x\")", Conns: 1}, Integrity: result.Integrity{Mismatches: 3}}
	var b strings.Builder
	if err := CSV(&b, []Run{{File: "a.json", Result: ok}, {File: "b.json", Failed: "3 integrity mismatches", Result: failed}}); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(b.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("%d rows, want a header and 2 runs:\n%s", len(rows), b.String())
	}
	head := rows[0]
	col := func(name string) int {
		i := slices.Index(head, name)
		if i < 0 {
			t.Fatalf("no column %q in %v", name, head)
		}
		return i
	}
	for _, m := range Metrics {
		col(m.Column())
	}
	a, f := rows[1], rows[2]
	for name, want := range map[string]string{"round_trips_per_sec": "123456.5", "p50_ns": "826000", "p99_9_ns": "",
		"server_cpu_us_per_rt": "8.84", "sweep": "active", "repeat": "2", "failed": ""} {
		if got := a[col(name)]; got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if f[col("backend")] != `'=HYPERLINK("x")` || f[col("integrity_errors")] != "3" || f[col("failed")] != "3 integrity mismatches" {
		t.Errorf("failed run's row %v", f)
	}
}
