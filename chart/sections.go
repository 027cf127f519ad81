package chart

import (
	"fmt"
	"sort"

	"github.com/muxbench/muxbench/report"
	"github.com/muxbench/muxbench/result"
)

// Section is one sweep found in a set of results, for tables that follow
// the charts' grouping. A point shared by two sweeps is in both.
type Section struct {
	Name  string // Active, Idle, MsgSize, Spectrum, Loops, or "other"
	Title string
	// Label names a result's point within the section (its swept value).
	Label func(*result.Result) string
	Files []File
}

// Sections splits results into the sweeps the charts draw, in chart order,
// with everything else under "other".
func Sections(files []File) []Section {
	s := findSweeps(files)
	used := map[*result.Result]bool{}
	var out []Section
	add := func(sec Section, keep func(*result.Result) bool, order func(p result.Params) []int) {
		for _, f := range files {
			if keep(f.Result) {
				sec.Files = append(sec.Files, f)
				used[f.Result] = true
			}
		}
		if len(sec.Files) == 0 {
			return
		}
		sort.SliceStable(sec.Files, func(i, j int) bool {
			a, b := order(sec.Files[i].Params), order(sec.Files[j].Params)
			for k := range a {
				if a[k] != b[k] {
					return a[k] < b[k]
				}
			}
			return false
		})
		out = append(out, sec)
	}
	conns := func(r *result.Result) string { return fmt.Sprintf("%d conns", r.Params.Conns) }
	add(Section{Name: Active, Title: "Active connections (closed loop, " + report.Bytes(float64(s.baseMsg)) + " messages)", Label: conns},
		s.active, func(p result.Params) []int { return []int{p.Conns} })
	add(Section{Name: Idle, Title: fmt.Sprintf("Idle connections at %d active", s.idleConns),
		Label: func(r *result.Result) string { return fmt.Sprintf("%d idle", r.Params.Idle) }},
		s.idle, func(p result.Params) []int { return []int{p.Idle} })
	add(Section{Name: MsgSize, Title: fmt.Sprintf("Message size at %d connections", s.msgConns),
		Label: func(r *result.Result) string {
			buf := "default buf"
			if r.Params.SndBuf > 0 {
				buf = report.Bytes(float64(r.Params.SndBuf)) + " buf"
			}
			return report.Bytes(float64(r.Params.MsgSize)) + ", " + buf
		}},
		s.msg, func(p result.Params) []int { return []int{-p.SndBuf, p.MsgSize} })
	add(Section{Name: Spectrum, Title: "Open loop (latency at a fixed rate)",
		Label: func(r *result.Result) string {
			rate := r.Params.Rate
			if rate == 0 {
				rate = r.TargetRate
			}
			return fmt.Sprintf("%d conns @ %s rt/s", r.Params.Conns, report.Human(rate))
		}},
		func(r *result.Result) bool { return !closedLoop(r) },
		func(p result.Params) []int { return []int{p.Conns, p.Idle, p.MsgSize, int(p.Rate)} })
	add(Section{Name: Loops, Title: "Server event loops (closed loop, a CPU per server and per generator loop)",
		Label: func(r *result.Result) string {
			if r.Server.Options.Accept == exclusive {
				return fmt.Sprintf("%d loops, one listener (exclusive), %d conns", ServerLoops(r), r.Params.Conns)
			}
			return fmt.Sprintf("%d loops, %d conns", ServerLoops(r), r.Params.Conns)
		}},
		func(r *result.Result) bool { return closedLoop(r) && ServerLoops(r) > 1 },
		func(p result.Params) []int { return []int{p.Conns, len(p.ServerCPU)} })
	add(Section{Name: "other", Title: "Other runs",
		Label: func(r *result.Result) string {
			return fmt.Sprintf("%d conns + %d idle, %s", r.Params.Conns, r.Params.Idle, report.Bytes(float64(r.Params.MsgSize)))
		}},
		func(r *result.Result) bool { return !used[r] },
		func(p result.Params) []int { return []int{p.Conns, p.Idle, p.MsgSize, p.SndBuf} })
	return out
}

// BackendOrder sorts backend names the way every chart's legend does.
func BackendOrder(names []string) { sortBackends(names) }
