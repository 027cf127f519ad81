package chart

import (
	"fmt"
	"math"
	"sort"

	"github.com/muxbench/muxbench/result"
	"golang.org/x/perf/benchmath"
)

// Stat summarises the repeats of one point: the median is what is drawn
// and tabled; Lo and Hi are the spread shown as error bars and ranges,
// the median's 95% confidence interval where the repeats give one (CI),
// else min and max.
type Stat struct {
	X             float64
	Med, Min, Max float64
	Lo, Hi        float64
	CI            bool
	N             int
	// Noisy counts the runs measured on a busy machine (collect sets it).
	Noisy int
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

// collect groups the kept results by backend and x, collapsing repeats of a
// point into a Stat; y reports false for a result that lacks the figure.
func collect(files []File, keep func(*result.Result) bool, x func(*result.Result) float64,
	y func(*result.Result) (float64, bool)) map[string][]Stat {
	vals := map[string]map[float64][]float64{}
	noisy := map[string]map[float64]int{}
	for _, f := range files {
		if !keep(f.Result) {
			continue
		}
		v, ok := y(f.Result)
		if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		b := f.Params.Backend
		if vals[b] == nil {
			vals[b] = map[float64][]float64{}
		}
		xv := x(f.Result)
		vals[b][xv] = append(vals[b][xv], v)
		if Noisy(f.Result) {
			if noisy[b] == nil {
				noisy[b] = map[float64]int{}
			}
			noisy[b][xv]++
		}
	}
	out := map[string][]Stat{}
	for b, byX := range vals {
		for xv, vs := range byX {
			s := Summarize(vs)
			s.X, s.Noisy = xv, noisy[b][xv]
			out[b] = append(out[b], s)
		}
		sort.Slice(out[b], func(i, j int) bool { return out[b][i].X < out[b][j].X })
	}
	return out
}

func backendsOf(m map[string][]Stat) []string {
	var names []string
	for b := range m {
		names = append(names, b)
	}
	sortBackends(names)
	return names
}

// mostCommon returns the value of key seen most often among the kept
// results (the smallest on a tie) and whether any result was kept.
func mostCommon(files []File, keep func(*result.Result) bool, key func(*result.Result) int) (int, bool) {
	count := map[int]int{}
	for _, f := range files {
		if keep(f.Result) {
			count[key(f.Result)]++
		}
	}
	best, bestN := 0, 0
	for k, n := range count {
		if n > bestN || (n == bestN && k < best) {
			best, bestN = k, n
		}
	}
	return best, bestN > 0
}

// Noisy reports whether r was measured while other processes kept the
// machine busy.
func Noisy(r *result.Result) bool { return r.Noise != nil && r.Noise.Noisy }

// Lateness sums up how punctually open-loop runs sent: the send
// lateness p99 over the runs, the timing floor of their generators' CPUs
// beside it, and how many of how many runs were flagged as sent late.
type Lateness struct {
	P99, Floor Stat
	Late, Open int
}

// SendLateness is Lateness over rs; Open is 0 where none ran open loop.
func SendLateness(rs []*result.Result) Lateness {
	var l Lateness
	var late, floor []float64
	for _, r := range rs {
		if r.SendLateness == nil {
			continue
		}
		l.Open++
		if r.Generator.SendLate {
			l.Late++
		}
		if r.SendLateness.P99 > 0 {
			late = append(late, float64(r.SendLateness.P99))
		}
		if f := r.SendLatenessFloor; f != nil {
			floor = append(floor, float64(f.P99))
		}
	}
	l.P99, l.Floor = Summarize(late), Summarize(floor)
	return l
}
