package report

import (
	"fmt"
	"math"
	"sort"

	"golang.org/x/perf/benchmath"
)

// Stat summarises the repeats of one point: the median is what tables
// print and charts draw; Lo and Hi are the spread shown as ranges and
// error bars, the median's confidence interval where the repeats give one
// (CI), else min and max.
type Stat struct {
	Med, Min, Max float64
	Lo, Hi        float64
	CI            bool
	N             int
}

// Confidence is the level of the intervals Summarize gives.
const Confidence = 0.95

// Summarize returns the median, min and max of vals (N == 0 if empty),
// and the median's distribution-free confidence interval (benchstat's:
// order statistics, no assumption of normality), which needs six or more
// values at 95%; fewer give min-max as the range.
func Summarize(vals []float64) Stat {
	if len(vals) == 0 {
		return Stat{}
	}
	v := append([]float64(nil), vals...)
	sort.Float64s(v)
	n := len(v)
	st := Stat{Min: v[0], Max: v[n-1], Lo: v[0], Hi: v[n-1], N: n}
	sum := benchmath.AssumeNothing.Summary(benchmath.NewSample(v, &benchmath.DefaultThresholds), Confidence)
	st.Med = sum.Center
	if !math.IsInf(sum.Lo, 0) && !math.IsInf(sum.Hi, 0) && n > 1 {
		st.Lo, st.Hi, st.CI = sum.Lo, sum.Hi, true
	}
	return st
}

// Range says what Lo-Hi is: "95% CI" or "min-max".
func (s Stat) Range() string {
	if s.CI {
		return fmt.Sprintf("%.0f%% CI", 100*Confidence)
	}
	return "min-max"
}
