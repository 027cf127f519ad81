package chart

import (
	"slices"

	"github.com/muxbench/muxbench/sweep"
)

// linesFigure draws spec from a table: each of its own runs on its line,
// and each run it takes from another sweep at the start of every line of
// that run's backend (one loop starts both of epoll's loops lines, a
// listener each and one shared). Nil without two points to draw.
func linesFigure(name string, spec *sweep.Lines, sec Section) (*figure, error) {
	if len(sec.Files) == 0 {
		return nil, nil
	}
	lineOf := func(f File) string {
		if spec.Line != nil {
			return spec.Line(f.Result)
		}
		return f.Params.Backend
	}
	taken := map[File]bool{}
	for _, f := range sec.Taken {
		taken[f] = true
	}
	lines := map[string][]string{} // by backend, in order
	var drawn []File
	for _, f := range sec.Files {
		if taken[f] {
			continue
		}
		l := lineOf(f)
		if b := f.Params.Backend; !slices.Contains(lines[b], l) {
			lines[b] = append(lines[b], l)
		}
		drawn = append(drawn, relabel(f, l))
	}
	for _, f := range sec.Taken {
		for _, l := range lines[f.Params.Backend] {
			drawn = append(drawn, relabel(f, l))
		}
	}
	runs := results(sec.Files)
	fig, err := sweepFigure(name, spec.Title(runs), spec.XLabel(runs), drawn, spec.X, spec.LogX)
	if fig != nil && spec.Note != "" {
		fig.notes = []string{spec.Note}
	}
	return fig, err
}

// relabel is f drawn as the line name: a copy, the file itself untouched.
func relabel(f File, name string) File {
	if f.Params.Backend == name {
		return f
	}
	r := *f.Result
	r.Params.Backend = name
	f.Result = &r
	return f
}
