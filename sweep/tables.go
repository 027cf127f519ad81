package sweep

import (
	"sort"

	"github.com/muxbench/muxbench/result"
)

// Table is the runs one table shows: those of its sweep, of the sweeps
// that join it, and the points it takes from other sweeps (Varies).
type Table struct {
	Sweep Sweep
	// Runs index the runs given to Tables, in the order of the table's
	// points. Taken are those of other sweeps' runs that are points of
	// this table too, whether it lists them (in Runs) or only draws them
	// (Sweep.OwnRows).
	Runs, Taken []int
}

// Tables splits runs into the tables of All, in order, then Other's for
// the runs no table took. A table without a run of its own is left out.
// A run recorded under no sweep is given one from its parameters (Of).
func Tables(runs []*result.Result) []Table {
	names := Of(runs)
	used := make([]bool, len(runs))
	var out []Table
	for _, s := range All {
		if s.Table != "" {
			continue
		}
		own, taken := s.split(runs, names)
		if len(own) == 0 {
			continue
		}
		t := Table{Sweep: s, Runs: own, Taken: taken}
		if !s.OwnRows {
			t.Runs = append(t.Runs, taken...)
		}
		for _, i := range t.Runs {
			used[i] = true
		}
		s.sort(runs, t.Runs)
		s.sort(runs, t.Taken)
		out = append(out, t)
	}
	other := Table{Sweep: Other}
	for i := range runs {
		if !used[i] {
			other.Runs = append(other.Runs, i)
		}
	}
	if len(other.Runs) > 0 {
		Other.sort(runs, other.Runs)
		out = append(out, other)
	}
	return out
}

// split finds s's own runs among runs (names says each one's sweep) and
// those it takes from other sweeps.
func (s Sweep) split(runs []*result.Result, names []string) (own, taken []int) {
	varied := map[result.PointKey]bool{}
	for i, r := range runs {
		if names[i] == s.Name || joins(names[i], s.Name) {
			own = append(own, i)
			varied[clear(s, r)] = true
		}
	}
	if s.Varies == nil {
		return own, nil
	}
	for i, r := range runs {
		if names[i] != s.Name && !joins(names[i], s.Name) && varied[clear(s, r)] {
			taken = append(taken, i)
		}
	}
	return own, taken
}

// joins reports whether runs of sweep name are tabled with table's.
func joins(name, table string) bool {
	s, ok := Lookup(name)
	return ok && s.Table == table
}

// clear is r's point with what s varies cleared.
func clear(s Sweep, r *result.Result) result.PointKey {
	k := r.PointKey()
	if s.Varies != nil {
		s.Varies(&k)
	}
	return k
}

// sort orders idx, indexes into runs, by s's points, keeping the given
// order within a point.
func (s Sweep) sort(runs []*result.Result, idx []int) {
	sort.SliceStable(idx, func(a, b int) bool {
		x, y := s.Order(runs[idx[a]]), s.Order(runs[idx[b]])
		for k := range x {
			if x[k] != y[k] {
				return x[k] < y[k]
			}
		}
		return false
	})
}

// Of names the sweep each run is a point of: the one it recorded, or for
// a run that recorded none (a hand-made run, or one of a version that
// recorded no sweep) the one its parameters fit, so that charts and
// tables work for both; "" where none fits, or the recorded sweep is
// unknown here.
func Of(runs []*result.Result) []string {
	names := make([]string, len(runs))
	var unrecorded []*result.Result
	for i, r := range runs {
		if r.Params.Sweep == "" {
			unrecorded = append(unrecorded, r)
		} else if _, ok := Lookup(r.Params.Sweep); ok {
			names[i] = r.Params.Sweep
		}
	}
	if len(unrecorded) == 0 {
		return names
	}
	oneLoop := func(r *result.Result) bool { return r.OfferedRate() == 0 && r.ServerLoops() == 1 }
	base, _ := MostCommon(unrecorded, func(r *result.Result) bool {
		return oneLoop(r) && r.Params.Idle == 0 && r.Params.SndBuf == 0
	}, msgSize)
	idleConns, _ := MostCommon(unrecorded, func(r *result.Result) bool {
		return oneLoop(r) && r.Params.Idle > 0 && r.Params.SndBuf == 0 && r.Params.MsgSize == base
	}, connCount)
	msgConns, _ := MostCommon(unrecorded, func(r *result.Result) bool {
		return oneLoop(r) && r.Params.Idle == 0 && (r.Params.MsgSize != base || r.Params.SndBuf != 0)
	}, connCount)
	for i, r := range runs {
		if r.Params.Sweep != "" {
			continue
		}
		p := r.Params
		switch {
		case r.OfferedRate() > 0:
			names[i] = Latency
		case r.ServerLoops() > 1:
			names[i] = Loops
		case p.SndBuf == 0 && p.MsgSize == base && p.Idle == 0:
			names[i] = Active
		case p.SndBuf == 0 && p.MsgSize == base && p.Conns == idleConns:
			names[i] = Idle
		case p.Idle == 0 && p.Conns == msgConns:
			names[i] = MsgSize
		}
	}
	return names
}
