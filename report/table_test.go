package report

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/muxbench/muxbench/result"
)

func TestTableFitsAndMarks(t *testing.T) {
	full := &result.Result{
		Params:     result.Params{Backend: "busywait-sleep"},
		Throughput: 123456, Latency: result.Latency{Count: 617280, P50: 612_000, P99: 4_180_000, P999: 12_000_000, Max: 19_000_000_000},
		Server: &result.Server{
			Process: result.CPU{PerRTus: 16.9}, LoopThread: &result.CPU{PerRTus: 16.6},
			IO: result.IO{Writes: 10, Waits: 5, Syscalls: 25}, Rates: result.Rates{ShortWritesPerWrite: 0.125, WaitsPerRT: 0.02, EventsPerWait: 56.9, SyscallsPerRT: 2.5},
			RSS: 20 << 20, RSSBase: 10 << 20, RSSPerConn: 107.5 * 1024,
			Accepts: &result.Accepts{Accepted: 70, EMFILE: 40, Pauses: 2},
		},
		Noise:     &result.Noise{ForeignCPU: 0.31, StealCPU: 0.02, LoadAvg: 1.5, Noisy: true},
		Generator: result.Generator{CPU: result.CPU{PerRTus: 16.1}, Saturated: true},
		Integrity: result.Integrity{Mismatches: 12305, MissingConns: 40},
		Partial:   true,
	}
	ext := &result.Result{Params: result.Params{Backend: "external"}, Latency: result.Latency{Count: 29, P50: 7_000, P90: 9_100, Max: 70e9, Overflow: 1},
		TargetRate: 100000, Throughput: 99900, LatencyUncorrected: &result.Latency{P50: 612_000, P99: 4_180_000},
		SendLateness: &result.Latency{P50: 1_200, P99: 3_400}, Generator: result.Generator{SendLate: true, Spin: true}}
	var b strings.Builder
	if err := Table(&b, []*result.Result{full, ext}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, line := range strings.Split(out, "\n") {
		if n := utf8.RuneCountInString(line); n > 100 {
			t.Errorf("over 100 columns (%d): %q", n, line)
		}
	}
	for _, want := range []string{"busywait-sleep*", " 123k~ ", "busywait-sleep 0.31 CPUs (steal 0.02", "40 of 0 connections missing",
		"70 taken, 40 EMFILE, 0 ENFILE, 2 pauses", "16.9/16.6", "16.1!", "0.125", "2.50", "108KiB", "µs/rt", "12345", "n/a", ">70s", "stopped early", "saturated", "99.9k of the 100.0k",
		"0.0?", "external 29", "617.3k", "too few samples", "late by p50 1.2µs, p99 3.4µs", "sent open-loop messages late", "external: generator busy-polled"} {
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

// --percentiles reaches the table, a column per point in the order
// asked, with summary.md's units.
func TestTablePercentiles(t *testing.T) {
	r := &result.Result{Params: result.Params{Backend: "epoll"}, Throughput: 1000,
		Latency: result.Latency{P50: 50_000, P99: 99_000, P999: 120_000, Max: 130_000,
			Percentiles: []result.Percentile{{Percent: 75, Value: 61_000}, {Percent: 99.999, Value: 125_000}}}}
	var b strings.Builder
	if err := Table(&b, []*result.Result{r}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	head, row := strings.Fields(lines[0]), strings.Fields(lines[2])
	want := []string{"backend", "rt/s", "p50", "p99", "p99.9", "p75", "p99.999", "max"}
	for i, w := range want {
		if i >= len(head) || head[i] != w {
			t.Fatalf("header %q, want it to start %q", head, want)
		}
	}
	if row[5] != "61µs" || row[6] != "125µs" || row[1] != "1000" {
		t.Errorf("row %q: want p75 61µs and p99.999 125µs", row)
	}
}

// Figures the platform could not give read n/a, never 0.0, and a note
// names them and the platform, within 100 columns.
func TestTableUnavailable(t *testing.T) {
	r := &result.Result{
		Params: result.Params{Backend: "kqueue"}, Env: result.Env{OS: "darwin"}, Throughput: 5000,
		Latency: result.Latency{P50: 100_000, P99: 200_000, P999: 300_000, Max: 400_000},
		Server:  &result.Server{Process: result.CPU{PerRTus: 12.5}},
		Unavailable: []string{result.UnavailablePinning, result.UnavailableServerThreadCPU,
			result.UnavailableServerRSS, result.UnavailableGenThreadCPU},
	}
	var b strings.Builder
	if err := Table(&b, []*result.Result{r}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, line := range strings.Split(out, "\n") {
		if len(line) > 100 {
			t.Errorf("over 100 columns (%d): %q", len(line), line)
		}
	}
	lines := strings.Split(out, "\n")
	head, row := strings.Fields(lines[0]), strings.Fields(lines[2])
	at := func(h string) string {
		if i := slices.Index(head, h); i >= 0 && i < len(row) {
			return row[i]
		}
		return ""
	}
	if len(row) != len(head) || at("server") != "12.5" || at("gen") != "n/a" || at("rss") != "n/a" {
		t.Errorf("row should read server 12.5, gen n/a, rss n/a: %q", row)
	}
	note := strings.Join(strings.Fields(out[strings.Index(out, "not available"):]), " ")
	for _, want := range []string{"not available on darwin:", "ran unpinned", "loop-thread CPU", "RSS", "generator CPU per loop"} {
		if !strings.Contains(note, want) {
			t.Errorf("note lacks %q:\n%s", want, out)
		}
	}
	// A run that lacks nothing gets no such note.
	r.Unavailable = nil
	b.Reset()
	Table(&b, []*result.Result{r})
	if strings.Contains(b.String(), "not available") {
		t.Errorf("note without anything missing:\n%s", b.String())
	}
}

// A multi-loop server's row gets a note with the connections each loop
// took, in loop order, and the accept mode; one loop gets none, and a
// long list wraps within the table's width.
func TestTableLoopSpread(t *testing.T) {
	two := &result.Result{Params: result.Params{Backend: "epoll", Extra: map[string]string{"edge": "true"}}, Throughput: 1000,
		Server: &result.Server{Options: result.ServerOptions{Loops: 2, Accept: "exclusive", LoopAccepts: []uint64{503, 497}}}}
	one := &result.Result{Params: result.Params{Backend: "poll"}, Throughput: 1000, Server: &result.Server{}}
	many := &result.Result{Params: result.Params{Backend: "select"}, Throughput: 1000,
		Server: &result.Server{Options: result.ServerOptions{Loops: 40, Accept: "reuseport", LoopAccepts: make([]uint64, 40)}}}
	for i := range many.Server.Options.LoopAccepts {
		many.Server.Options.LoopAccepts[i] = 1000 + uint64(i)
	}
	var b strings.Builder
	if err := Table(&b, []*result.Result{two, one, many}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, "epoll-et: loops 2 (exclusive), connections per loop 503/497\n") {
		t.Errorf("no spread note for two loops:\n%s", out)
	}
	if strings.Contains(out, "poll: loops") {
		t.Errorf("a spread note for one loop:\n%s", out)
	}
	if !strings.Contains(out, "select: loops 40 (reuseport), connections per loop 1000 1001") || !strings.Contains(out, " 1039\n") {
		t.Errorf("forty loops' counts not all listed:\n%s", out)
	}
	for _, line := range strings.Split(out, "\n") {
		if n := utf8.RuneCountInString(line); n > 100 {
			t.Errorf("over 100 columns (%d): %q", n, line)
		}
	}
}

// A server that stopped reading at its output budget gets a note; one
// that never did gets none.
func TestTableBudgetPauses(t *testing.T) {
	r := &result.Result{Params: result.Params{Backend: "epoll", Conns: 10}, Throughput: 5000,
		Server: &result.Server{BudgetPauses: 3}}
	var b strings.Builder
	if err := Table(&b, []*result.Result{r}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "stopped reading 3 times") {
		t.Errorf("no budget note:\n%s", b.String())
	}
	r.Server.BudgetPauses = 0
	b.Reset()
	Table(&b, []*result.Result{r})
	if strings.Contains(b.String(), "stopped reading") {
		t.Errorf("budget note without a pause:\n%s", b.String())
	}
}

// A run whose backend ran on an emulation says so under the table.
func TestTableEmulation(t *testing.T) {
	r := &result.Result{Params: result.Params{Backend: "kqueue", Conns: 10,
		Extra: map[string]string{result.ExtraEmulation: "libkqueue"}}, Throughput: 5000}
	var b strings.Builder
	if err := Table(&b, []*result.Result{r}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "kqueue: ran on libkqueue, over another mechanism: not a kqueue figure") {
		t.Errorf("no emulation note:\n%s", b.String())
	}
}
