package bench

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

func TestHistOverflowCounted(t *testing.T) {
	h := newLatencyHist()
	h.record(int64(50 * time.Microsecond))
	h.record(int64(2 * time.Minute)) // beyond the 60 s range
	h.record(int64(3 * time.Minute))
	s := h.summarize(nil)
	if s.Count != 3 {
		t.Errorf("count = %d, want 3: a sample was dropped", s.Count)
	}
	if s.Overflow != 2 {
		t.Errorf("overflow = %d, want 2", s.Overflow)
	}
	if s.Max != int64(3*time.Minute) {
		t.Errorf("max = %v, want the true maximum 3m", time.Duration(s.Max))
	}
}

func TestHistMergeAndSummary(t *testing.T) {
	a, b := newLatencyHist(), newLatencyHist()
	for i := 1; i <= 100; i++ {
		a.record(int64(i) * 1000)
		b.record(int64(i) * 1000)
	}
	b.record(int64(5 * time.Minute))
	a.merge(b)
	s := a.summarize([]float64{75})
	if s.Count != 201 || s.Overflow != 1 {
		t.Fatalf("count %d overflow %d, want 201 and 1", s.Count, s.Overflow)
	}
	if s.P50 < 49_000 || s.P50 > 52_000 {
		t.Errorf("p50 = %d ns, want about 50 us", s.P50)
	}
	if len(s.Percentiles) != 1 || s.Percentiles[0].Percent != 75 {
		t.Errorf("percentiles = %+v", s.Percentiles)
	}
	h, err := hdrhistogram.Decode([]byte(s.Histogram))
	if err != nil {
		t.Fatalf("encoded histogram does not decode: %v", err)
	}
	if h.TotalCount() != 201 {
		t.Errorf("decoded count = %d", h.TotalCount())
	}
	a.reset()
	if got := a.summarize(nil); got.Count != 0 || got.Max != 0 || got.Overflow != 0 {
		t.Errorf("after reset: %+v", got)
	}
}

// Round trips of tens of microseconds are resolved to tens of
// nanoseconds, not to the 512 ns steps of a 1 us lowest value.
func TestHistNanosecondResolution(t *testing.T) {
	h := newLatencyHist()
	for range 100 {
		h.record(20_100)
		h.record(31_000)
	}
	s := h.summarize(nil)
	if d := s.P50 - 20_100; d < -20 || d > 20 {
		t.Errorf("p50 = %d ns for samples of 20100 ns", s.P50)
	}
	if d := s.P99 - 31_000; d < -32 || d > 32 {
		t.Errorf("p99 = %d ns for samples of 31000 ns", s.P99)
	}
}

// A percentile is reported only where the sample count supports it; the
// count is always there.
func TestHistPercentilesGatedBySamples(t *testing.T) {
	h := newLatencyHist()
	for i := range 29 {
		h.record(int64(1000 + i))
	}
	s := h.summarize([]float64{75, 99.5})
	if s.Count != 29 || s.P50 == 0 || s.P90 == 0 || s.Max == 0 {
		t.Errorf("29 samples: %+v", s)
	}
	if s.P99 != 0 || s.P999 != 0 || s.P9999 != 0 {
		t.Errorf("29 samples gave p99 %d, p99.9 %d, p99.99 %d", s.P99, s.P999, s.P9999)
	}
	if s.Percentiles[0].Value == 0 || s.Percentiles[1].Value != 0 {
		t.Errorf("extra percentiles %+v: want p75 only", s.Percentiles)
	}
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "p99_9_ns") || !strings.Contains(string(data), `"count":29`) {
		t.Errorf("JSON %s: want no p99_9_ns and the count", data)
	}
	for range 1000 - 29 {
		h.record(2000)
	}
	if s := h.summarize(nil); s.P999 == 0 || s.P99 == 0 || s.P9999 != 0 {
		t.Errorf("1000 samples: p99 %d p99.9 %d p99.99 %d", s.P99, s.P999, s.P9999)
	}
}
