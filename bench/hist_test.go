package bench

import (
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
