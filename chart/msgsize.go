package chart

import (
	"fmt"
	"sort"

	"github.com/muxbench/muxbench/report"
	"github.com/muxbench/muxbench/result"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
)

func msgFigure(files []File) (*figure, error) {
	bufs := map[int]bool{}
	for _, f := range files {
		bufs[f.Params.SndBuf] = true
	}
	var order []int
	for b := range bufs {
		order = append(order, b)
	}
	sort.Slice(order, func(i, j int) bool { // small buffers first, default last
		a, b := order[i], order[j]
		if (a == 0) != (b == 0) {
			return b == 0
		}
		return a < b
	})
	size := func(r *result.Result) float64 { return float64(r.Params.MsgSize) }
	var rows [][]*plot.Plot
	backends := map[string][]dot{}
	var used []File
	for _, buf := range order {
		keep := func(r *result.Result) bool { return r.Params.SndBuf == buf }
		sw := collect(files, keep, size, report.ShortWrites.Get)
		ea := collect(files, keep, size, report.EAGAIN.Get)
		xs := distinctX(sw)
		if len(xs) < 2 {
			continue
		}
		used = append(used, filter(files, keep)...)
		bufName := "default SO_SNDBUF"
		if buf > 0 {
			bufName = "SO_SNDBUF " + report.Bytes(float64(buf))
		}
		p1 := newPanel("Short writes per write, "+bufName, "message size (log scale)", "short writes / server write")
		p2 := newPanel("EAGAIN per write, "+bufName, "message size (log scale)", "EAGAIN / server write")
		for _, pp := range []struct {
			p *plot.Plot
			d map[string][]dot
		}{{p1, sw}, {p2, ea}} {
			if err := addLines(pp.p, pp.d, 1); err != nil {
				return nil, err
			}
			setXTicks(pp.p, xs, true, report.Bytes)
		}
		for b := range sw {
			backends[b] = nil
		}
		rows = append(rows, []*plot.Plot{p1, p2})
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return &figure{
		name:     MsgSize,
		title:    fmt.Sprintf("Short writes and EAGAIN vs message size (%d connections)", common(files, conns)),
		panels:   rows,
		backends: backendsOf(backends),
		notes: []string{"A short write is a write(2) that took fewer bytes than offered; EAGAIN is one that took none. Counted on the server's echo writes.",
			"stdlib counts calls to Go's conn.Write, which finishes partial writes itself, so it shows none."},
		caption: []string{machineLine(used), paramLine(used)},
		w:       11 * vg.Inch, h: 4*vg.Inch + 3.2*vg.Inch*vg.Length(len(rows)),
	}, nil
}
