package chart

import (
	"math"
	"sort"

	"github.com/muxbench/muxbench/report"
	"github.com/muxbench/muxbench/result"
	"github.com/muxbench/muxbench/sweep"
)

// dot is one drawn point: the repeats' Stat at X, Noisy of them measured
// on a busy machine (collect sets it).
type dot struct {
	X float64
	report.Stat
	Noisy int
}

// collect groups the kept results by backend and x, collapsing repeats of a
// point into a Stat; y reports false for a result that lacks the figure.
func collect(files []File, keep func(*result.Result) bool, x func(*result.Result) float64,
	y func(*result.Result) (float64, bool)) map[string][]dot {
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
		if report.Noisy(f.Result) {
			if noisy[b] == nil {
				noisy[b] = map[float64]int{}
			}
			noisy[b][xv]++
		}
	}
	out := map[string][]dot{}
	for b, byX := range vals {
		for xv, vs := range byX {
			out[b] = append(out[b], dot{X: xv, Stat: report.Summarize(vs), Noisy: noisy[b][xv]})
		}
		sort.Slice(out[b], func(i, j int) bool { return out[b][i].X < out[b][j].X })
	}
	return out
}

func backendsOf(m map[string][]dot) []string { return Palette(nil).linesOf(m) }

func all(*result.Result) bool { return true }

func none(*result.Result) float64 { return 0 }

// common is the value of key most of files have.
func common(files []File, key func(*result.Result) int) int {
	v, _ := sweep.MostCommon(results(files), all, key)
	return v
}

func conns(r *result.Result) int { return r.Params.Conns }

// Lateness sums up how punctually open-loop runs sent: the send
// lateness p99 over the runs, beside it the timing floor that matches
// how each generator sent (result.Result.Floor: paced, or spinning), and how many of how many runs were flagged as sent late.
type Lateness struct {
	P99, Floor report.Stat
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
		if f := r.Floor(); f != nil {
			floor = append(floor, float64(f.P99))
		}
	}
	l.P99, l.Floor = report.Summarize(late), report.Summarize(floor)
	return l
}
