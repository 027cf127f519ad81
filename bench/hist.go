package bench

import (
	"math"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/muxbench/muxbench/result"
)

// Histogram range: 1 ns .. 60 s, 3 significant digits. A lowest
// discernible value of 1 us made every latency below about 1 ms a multiple
// of 512 ns; at 1 ns a 20 us round trip resolves to 16 ns.
const (
	histMin    = 1
	histMax    = 60_000_000_000
	histDigits = 3
)

// latencyHist is one loop's histogram. HdrHistogram refuses values above
// its range; they are recorded as the highest trackable value and counted,
// so that no sample is silently lost, and the true maximum is kept apart.
type latencyHist struct {
	h        *hdrhistogram.Histogram
	overflow int64
	max      int64
}

func newLatencyHist() *latencyHist {
	return &latencyHist{h: hdrhistogram.New(histMin, histMax, histDigits)}
}

// newSeriesHist is one interval's histogram in the time series: two
// significant digits (a 1% step) keep a few hundred of them small.
func newSeriesHist() *latencyHist {
	return &latencyHist{h: hdrhistogram.New(histMin, histMax, 2)}
}

func (l *latencyHist) record(ns int64) {
	if ns < 0 {
		ns = 0
	}
	if ns > l.max {
		l.max = ns
	}
	if err := l.h.RecordValue(ns); err != nil {
		l.overflow++
		_ = l.h.RecordValue(l.h.HighestTrackableValue())
	}
}

func (l *latencyHist) reset() {
	l.h.Reset()
	l.overflow, l.max = 0, 0
}

func (l *latencyHist) merge(o *latencyHist) {
	l.h.Merge(o.h) // same geometry: nothing is dropped
	l.overflow += o.overflow
	l.max = max(l.max, o.max)
}

// summarize turns a histogram into the result's figures; percents are the
// user's extra list (0-100).
func (l *latencyHist) summarize(percents []float64) result.Latency {
	h := l.h
	out := result.Latency{Count: h.TotalCount(), Overflow: l.overflow}
	if out.Count == 0 {
		return out
	}
	out.Min = h.Min()
	out.Mean = h.Mean()
	out.StdDev = h.StdDev()
	out.P50 = h.ValueAtPercentile(50)
	out.P90 = h.ValueAtPercentile(90)
	out.P99 = h.ValueAtPercentile(99)
	out.P999 = h.ValueAtPercentile(99.9)
	out.P9999 = h.ValueAtPercentile(99.99)
	out.Max = max(h.Max(), l.max)
	if l.overflow == 0 {
		// HdrHistogram reports the top of the max's bucket; the exact
		// value is known.
		out.Max = l.max
	}
	for _, p := range percents {
		out.Percentiles = append(out.Percentiles, result.Percentile{Percent: p, Value: h.ValueAtPercentile(p)})
	}
	if enc, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase); err == nil {
		out.Histogram = string(enc) // already base64
	}
	if math.IsNaN(out.StdDev) {
		out.StdDev = 0
	}
	out.Gate()
	return out
}
