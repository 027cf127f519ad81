// Package chart draws muxbench results (saved JSON) as PNG and SVG charts
// that can be read without the README: every figure names its units, its
// machine and its parameters, and every backend keeps one colour and one
// marker across all figures.
package chart

import (
	"fmt"
	"os"

	"github.com/muxbench/muxbench/result"
	"github.com/muxbench/muxbench/sweep"
)

// Chart names, also the base names of the files written: the figures of
// sweep.All.
const (
	Active   = "active-conns"
	Idle     = "idle-conns"
	MsgSize  = "short-writes"
	Spectrum = "latency-spectrum"
	CPUBars  = "cpu-cost"
	// Loops is drawn only where there are runs with several server loops.
	Loops = "server-loops"
)

func closedLoop(r *result.Result) bool { return r.OfferedRate() == 0 }

// drawing draws one figure of a table that Lines do not describe, with
// what the table lacks when there is nothing to draw ("" says nothing).
type drawing struct {
	why  string
	draw func(sec Section, tables map[string]Section) ([]*figure, error)
}

// drawings are the figures of sweep.All drawn by code of their own.
var drawings = map[string]drawing{
	MsgSize: {"no message-size sweep (two or more sizes at one connection count)", func(sec Section, _ map[string]Section) ([]*figure, error) {
		return one(msgFigure(sec.Files))
	}},
	Spectrum:   {"no latency histograms", perGroup(Spectrum, spectrumFigure)},
	TimeSeries: {"", perGroup(TimeSeries, timeSeriesFigure)},
	CPUBars:    {"no server CPU figures", costFigure},
}

func filter(files []File, keep func(*result.Result) bool) []File {
	var out []File
	for _, f := range files {
		if keep(f.Result) {
			out = append(out, f)
		}
	}
	return out
}

func one(f *figure, err error) ([]*figure, error) {
	if f == nil || err != nil {
		return nil, err
	}
	return []*figure{f}, nil
}

// DrawAll writes every chart the results have data for into dir (PNG and
// SVG), the figures of each sweep's table in sweep.All's order, and
// returns the paths written and one line per chart skipped.
//
// Failed results (see Failure) are left out.
func DrawAll(dir string, files []File) (written, skipped []string, err error) {
	files, _ = Split(files)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	tables := map[string]Section{}
	for _, sec := range Sections(files) {
		tables[sec.Sweep.Name] = sec
	}
	for _, s := range sweep.All {
		sec := tables[s.Name]
		if s.Table != "" {
			sec = tables[s.Table]
		}
		if len(sec.Files) == 0 && s.Optional {
			continue
		}
		for _, f := range s.Figures {
			figs, why, err := drawFigure(f, s, sec, tables)
			if err != nil {
				return written, skipped, err
			}
			if len(figs) == 0 && why != "" && !f.Optional {
				skipped = append(skipped, f.Name+": "+why)
			}
			for _, fig := range figs {
				paths, err := fig.save(dir)
				written = append(written, paths...)
				if err != nil {
					return written, skipped, err
				}
			}
		}
	}
	return written, skipped, nil
}

// drawFigure makes figure f of sweep s from its table sec.
func drawFigure(f sweep.Figure, s sweep.Sweep, sec Section, tables map[string]Section) ([]*figure, string, error) {
	if f.Lines != nil {
		if len(sec.Files) == 0 {
			return nil, fmt.Sprintf("no %s sweep (two or more points of it)", s.Name), nil
		}
		fig, why, err := linesFigure(f.Name, f.Lines, sec)
		if why == noPoints {
			why = fmt.Sprintf("no %s sweep (two or more points of it)", s.Name)
		}
		figs, err := one(fig, err)
		return figs, why, err
	}
	d, ok := drawings[f.Name]
	if !ok {
		return nil, "", fmt.Errorf("chart: no drawing for figure %q of sweep %s", f.Name, s.Name)
	}
	figs, err := d.draw(sec, tables)
	return figs, d.why, err
}
