package compare

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/muxbench/muxbench/chart"
	"github.com/muxbench/muxbench/htmlreport"
	"github.com/muxbench/muxbench/internal/outfile"
	"github.com/muxbench/muxbench/report"
	"github.com/muxbench/muxbench/sweep"
)

// panelMetrics are the metrics the page draws for each table, a panel
// each against the table's points, so that it shows exactly the figures
// summary.md prints.
func panelMetrics() []*report.Metric {
	var ms []*report.Metric
	for _, m := range tableMetrics() {
		if m.Panel != nil {
			ms = append(ms, m)
		}
	}
	return ms
}

// HTMLPage builds the results page of files (failed ones included, listed
// apart) from Tables and Failed, the code that writes summary.md. dir is
// where the page will be written: result files below it are linked.
func HTMLPage(files []chart.File, command, dir string) htmlreport.Page {
	p := htmlreport.Page{Title: "muxbench comparison"}
	if len(files) > 0 {
		p.Caption = append(p.Caption, chart.MachineLine(files)+".")
	}
	if command != "" {
		p.Caption = append(p.Caption, "Made with "+command+".")
	}
	if line := noiseLine(files); len(NoisyRuns(files)) > 0 {
		p.Alert = append(p.Alert, line)
	} else {
		p.Caption = append(p.Caption, line)
	}
	p.Caption = append(p.Caption, rangeNote)
	link := func(path string) string {
		abs, err := filepath.Abs(path)
		if err != nil {
			return ""
		}
		base, err := filepath.Abs(dir)
		if err != nil {
			return ""
		}
		rel, err := filepath.Rel(base, abs)
		if err != nil || strings.HasPrefix(rel, "..") {
			return ""
		}
		return filepath.ToSlash(rel)
	}
	seen := map[string]bool{}
	var backends []string
	for _, t := range Tables(files) {
		for _, r := range t.Rows {
			if !seen[r.Backend] {
				seen[r.Backend] = true
				backends = append(backends, r.Backend)
			}
		}
		if fig := tableFigure(t, link); len(fig.Panels) > 0 {
			p.Figures = append(p.Figures, fig)
		}
		p.Tables = append(p.Tables, htmlTable(t))
	}
	pal := chart.PaletteOf(files)
	pal.Order(backends)
	for _, b := range backends {
		color, dash := pal.CSS(b)
		p.Backends = append(p.Backends, htmlreport.Backend{Name: b, Color: color, Dash: dash, Group: pal.Group(b)})
	}
	for _, n := range NoisyRuns(files) {
		p.Noisy = append(p.Noisy, htmlreport.Noisy{File: n.File, Href: link(n.File), Point: n.Point, CPU: fmt.Sprintf("%.2f CPUs", n.CPU)})
	}
	for _, f := range Failed(files) {
		p.Failed = append(p.Failed, htmlreport.Failed{File: f.File, Href: link(f.File), Point: f.Point, Reason: f.Reason})
	}
	return p
}

// tableFigure draws a table's metrics with panels against its points,
// each point's hover its cell, its warnings the row's notes, its link
// the row's result files.
func tableFigure(t Table, link func(string) string) htmlreport.Figure {
	col := map[string]int{}
	for i, c := range t.Columns {
		col[c.Name] = i
	}
	var points []string
	at := map[string]int{}
	for _, r := range t.Rows {
		if _, ok := at[r.Point]; !ok {
			at[r.Point] = len(points)
			points = append(points, r.Point)
		}
	}
	var ticks []htmlreport.Tick
	for i, pt := range points {
		ticks = append(ticks, htmlreport.Tick{At: float64(i), Label: pt})
	}
	fig := htmlreport.Figure{ID: slug(t.Title), Title: t.Title}
	for _, m := range panelMetrics() {
		ci, ok := col[m.Name]
		if !ok {
			continue
		}
		top := 0.0
		for _, r := range t.Rows {
			if c := r.Cells[ci]; c.N > 0 {
				top = max(top, c.Hi)
			}
		}
		ylabel, div := m.Panel.Axis(m, top)
		pan := htmlreport.Panel{Title: m.Panel.Title, XLabel: "point", YLabel: ylabel, LogY: m.Panel.LogY,
			XTicks: ticks, Bars: len(points) == 1, Points: categorical(points)}
		series := map[string]int{}
		for _, r := range t.Rows {
			c := r.Cells[ci]
			if c.N == 0 {
				continue
			}
			si, ok := series[r.Backend]
			if !ok {
				si = len(pan.Series)
				series[r.Backend] = si
				pan.Series = append(pan.Series, htmlreport.Series{Backend: r.Backend})
			}
			pt := htmlreport.Point{
				X: float64(at[r.Point]), Y: c.Sort / div, Lo: c.Lo / div, Hi: c.Hi / div,
				N: c.N, Value: c.Text, XLabel: r.Point,
			}
			if c.Lo != c.Hi {
				pt.Spread = "range in brackets"
			}
			if notes := r.Cells[col["notes"]].Text; notes != "" {
				pt.Warnings = strings.Split(notes, "; ")
			}
			for _, f := range r.Files {
				if l := link(f); l != "" {
					pt.Files = append(pt.Files, l)
				}
			}
			pan.Series[si].Points = append(pan.Series[si].Points, pt)
		}
		if len(pan.Series) > 0 {
			fig.Panels = append(fig.Panels, pan)
		}
	}
	return fig
}

// htmlTable is a table as the page sorts it.
func htmlTable(t Table) htmlreport.Table {
	ht := htmlreport.Table{Title: t.Title}
	for _, c := range t.Columns {
		ht.Columns = append(ht.Columns, htmlreport.Column{Name: c.Name, Numeric: c.Numeric})
	}
	for _, r := range t.Rows {
		hr := htmlreport.Row{Backend: r.Backend}
		for _, c := range r.Cells {
			hr.Cells = append(hr.Cells, htmlreport.Cell{Text: c.Text, Sort: c.Sort})
		}
		ht.Rows = append(ht.Rows, hr)
	}
	return ht
}

// categorical tells points that are combinations of settings ("64 B,
// 4 KiB buf"): a line through them would suggest a trend that is not there.
func categorical(points []string) bool {
	for _, p := range points {
		if strings.Contains(p, ",") {
			return true
		}
	}
	return false
}

// WriteHTML writes the page of files to path, atomically, with the SVG
// charts found beside it (as compare and plot draw them) shown as drawn,
// but those whose panels the page draws itself.
func WriteHTML(path string, files []chart.File, command string) error {
	page := HTMLPage(files, command, filepath.Dir(path))
	svgs, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "*.svg"))
	for _, name := range svgs {
		st, err := os.Stat(name)
		if err != nil || !st.Mode().IsRegular() || st.Size() > 16<<20 {
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil || !strings.Contains(string(b), "<svg") || drawnByPage(strings.TrimSuffix(filepath.Base(name), ".svg")) {
			continue
		}
		page.Static = append(page.Static, htmlreport.StaticChart{Name: filepath.Base(name), SVG: string(b)})
	}
	if err := outfile.Write(path, func(w io.Writer) error { return htmlreport.Write(w, page) }); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// drawnByPage tells the charts whose panels the page draws itself, a
// figure per table: the sweeps' Lines, throughput and server CPU against
// the swept value, for every server or some, but not those that split
// the runs into panels of their own.
func drawnByPage(chart string) bool {
	for _, s := range sweep.All {
		for _, f := range s.Figures {
			if f.Lines != nil && f.Lines.Panel == nil && f.Name == chart {
				return true
			}
		}
	}
	return false
}

func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}
