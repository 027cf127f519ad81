package chart

import (
	"github.com/muxbench/muxbench/result"
	"github.com/muxbench/muxbench/sweep"
)

// Section is one table of a set of results (see sweep.Tables), for the
// tables that follow the charts' grouping. A point shared by two sweeps
// is in both.
type Section struct {
	// Name is the table's first chart (Active, Idle, MsgSize, Spectrum,
	// Loops), or "other".
	Name  string
	Sweep sweep.Sweep
	Title string
	// Label names a result's point within the section (its swept value).
	Label func(*result.Result) string
	Files []File
	// Taken are the files of other sweeps that are points of the table,
	// whether it lists them (in Files) or only draws them.
	Taken []File
}

// Sections splits results into the tables of the sweeps, in their order,
// with everything else under "other".
func Sections(files []File) []Section {
	var out []Section
	for _, t := range sweep.Tables(results(files)) {
		sec := Section{Name: t.Sweep.Name, Sweep: t.Sweep, Label: t.Sweep.Label, Files: pick(files, t.Runs), Taken: pick(files, t.Taken)}
		if len(t.Sweep.Figures) > 0 {
			sec.Name = t.Sweep.Figures[0].Name
		}
		sec.Title = t.Sweep.Title(results(sec.Files))
		out = append(out, sec)
	}
	return out
}

func results(files []File) []*result.Result {
	rs := make([]*result.Result, len(files))
	for i, f := range files {
		rs[i] = f.Result
	}
	return rs
}

func pick(files []File, idx []int) []File {
	out := make([]File, len(idx))
	for i, j := range idx {
		out[i] = files[j]
	}
	return out
}
