package chart

import (
	"fmt"

	"github.com/muxbench/muxbench/result"
)

func activeFigure(files []File, s sweeps) (*figure, error) {
	files = filter(files, s.active)
	if len(files) == 0 {
		return nil, nil
	}
	return sweepFigure(Active, "Throughput and server CPU vs active connections",
		"active connections (log scale)", files,
		func(r *result.Result) float64 { return float64(r.Params.Conns) }, true)
}

func idleFigure(files []File, s sweeps) (*figure, error) {
	files = filter(files, s.idle)
	if len(files) == 0 {
		return nil, nil
	}
	f, err := sweepFigure(Idle, fmt.Sprintf("Throughput and server CPU vs idle connections (%d active)", s.idleConns),
		fmt.Sprintf("idle connections (besides %d active)", s.idleConns), files,
		func(r *result.Result) float64 { return float64(r.Params.Idle) }, false)
	if f != nil {
		f.notes = []string{"A flat line: the backend's cost does not depend on idle descriptors. select and poll pass every descriptor to the kernel on each wait; epoll and kqueue only report ready ones (Banga, Mogul, Druschel 1999; Gammo, Brecht et al. 2004)."}
	}
	return f, err
}

// exclusive is server.AcceptExclusive, which this package does not import.
const exclusive = "exclusive"

// loopsFigure draws throughput and server CPU against the server's event
// loops at the connection count of the multi-loop runs; one loop is the
// active sweep's point there. Nil without multi-loop runs. Loops that
// share one listener (exclusive) get a line of their own, "BACKEND
// (exclusive)", from the same one-loop point.
func loopsFigure(files []File, s sweeps) (*figure, error) {
	multi := func(r *result.Result) bool { return closedLoop(r) && ServerLoops(r) > 1 }
	conns, ok := mostCommon(files, multi, func(r *result.Result) int { return r.Params.Conns })
	if !ok {
		return nil, nil
	}
	files = filter(files, func(r *result.Result) bool {
		return (multi(r) || s.active(r)) && r.Params.Conns == conns && r.Params.Idle == 0 && r.Params.MsgSize == s.baseMsg
	})
	shared := func(r *result.Result) bool { return multi(r) && r.Server.Options.Accept == exclusive }
	withShared := map[string]bool{} // backends run with one shared listener
	for _, f := range files {
		withShared[f.Params.Backend] = withShared[f.Params.Backend] || shared(f.Result)
	}
	var lines []File
	for _, f := range files {
		switch {
		case shared(f.Result):
			lines = append(lines, relabel(f, f.Params.Backend+" (exclusive)"))
		case !multi(f.Result) && withShared[f.Params.Backend]:
			// The one-loop point starts both of the backend's lines.
			lines = append(lines, f, relabel(f, f.Params.Backend+" (exclusive)"))
		default:
			lines = append(lines, f)
		}
	}
	return sweepFigure(Loops, fmt.Sprintf("Throughput and server CPU vs server event loops (%d connections)", conns),
		"server event loops (a CPU each, and as many generator loops)", lines,
		func(r *result.Result) float64 { return float64(ServerLoops(r)) }, true)
}

// relabel is f drawn as the line name: a copy, the file itself untouched.
func relabel(f File, name string) File {
	r := *f.Result
	r.Params.Backend = name
	f.Result = &r
	return f
}
