package htmlreport

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"
)

//go:embed page.css
var pageCSS string

//go:embed page.js
var pageJS string

var pageTmpl = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>{{.CSS}}</style>
</head>
<body>
<header>
<h1>{{.Title}}</h1>
{{range .Alert}}<p class="alert">{{.}}</p>
{{end}}{{range .Caption}}<p class="caption">{{.}}</p>
{{end}}
<nav class="legend" aria-label="backends: click to hide or show on every chart and table">
{{range .Legend}}{{if .Starts}}<button type="button" class="toggle group" data-group="{{.Group}}" aria-pressed="true">{{.Group}}:</button>
{{end}}<button type="button" class="toggle" data-toggle="{{.Name}}" data-in="{{.Group}}" aria-pressed="true" style="--c:{{.Color}}"><svg class="swatch" viewBox="0 0 18 10" width="18" height="10" aria-hidden="true"><line x1="1" x2="17" y1="5" y2="5"{{if .Dash}} stroke-dasharray="{{.Dash}}"{{end}}/><circle cx="9" cy="5" r="3"/></svg>{{.Name}}</button>
{{end}}<span class="key"><svg viewBox="0 0 12 12" width="12" height="12" aria-hidden="true"><circle class="keymark" cx="6" cy="6" r="4"/></svg> a dashed point has a warning (noisy machine, saturated generator, rate not reached...)</span><span class="hint">click a backend to hide or show it everywhere; hover a point for its figures</span>
</nav>
</header>
<main>
{{range .Figures}}<section class="figure" id="fig-{{.ID}}">
<h2>{{.Title}}</h2>
<div class="panels">{{range .SVG}}{{.}}{{end}}</div>
{{range .Notes}}<p class="note">{{.}}</p>
{{end}}</section>
{{end}}
{{range .Tables}}<section class="table">
<h2>{{.Title}}</h2>
<div class="scroll"><table class="sortable">
<thead><tr>{{range $i, $c := .Columns}}<th scope="col" data-col="{{$i}}"{{if $c.Numeric}} data-numeric="1"{{end}} tabindex="0">{{$c.Name}}</th>{{end}}</tr></thead>
<tbody>
{{range .Rows}}<tr data-backend="{{.Backend}}">{{range .Cells}}<td data-sort="{{.SortKey}}">{{.Text}}</td>{{end}}</tr>
{{end}}</tbody>
</table></div>
</section>
{{end}}
{{if .Static}}<section class="static">
<h2>The charts as drawn for print</h2>
<p class="note">The same runs as the PNG and SVG files beside this page; the legend above does not apply to them.</p>
{{range .Static}}<figure><figcaption>{{.Name}}</figcaption>{{.SVG}}</figure>
{{end}}</section>
{{end}}
{{range .Runs}}{{if .Rows}}<section class="{{.Class}}">
<h2>{{.Title}}</h2>
<table>
<thead><tr><th>point</th><th>file</th><th>{{.What}}</th></tr></thead>
<tbody>
{{range .Rows}}<tr><td>{{.Point}}</td><td>{{if .Href}}<a href="{{.Href}}">{{.File}}</a>{{else}}{{.File}}{{end}}</td><td>{{.Text}}</td></tr>
{{end}}</tbody>
</table>
</section>
{{end}}{{end}}
</main>
<div id="tip" class="tip" role="tooltip" hidden></div>
<script>{{.JS}}</script>
</body>
</html>
`))

// runsView is a list of runs set apart: the failed runs, the noisy ones.
type runsView struct {
	Title, Class, What string
	Rows               []runRow
}

type runRow struct{ Point, File, Href, Text string }

type figureView struct {
	Figure
	SVG []template.HTML
}

type staticView struct {
	Name string
	SVG  template.HTML
}

// stripProlog drops an XML declaration and doctype, which have no place
// inside an HTML document.
func stripProlog(svg string) string {
	if i := strings.Index(svg, "<svg"); i > 0 {
		return svg[i:]
	}
	return svg
}

// legendEntry is a backend in the legend; Starts, the first of its group.
type legendEntry struct {
	Backend
	Starts bool
}

type cellView struct {
	Text    string
	SortKey string
}

type rowView struct {
	Backend string
	Cells   []cellView
}

type tableView struct {
	Title   string
	Columns []Column
	Rows    []rowView
}

// Write renders p as one self-contained page.
func Write(w io.Writer, p Page) error {
	styles := map[string]Backend{}
	for _, b := range p.Backends {
		styles[b.Name] = b
	}
	var figs []figureView
	for fi, f := range p.Figures {
		v := figureView{Figure: f}
		for pi, pan := range f.Panels {
			// The SVG is built by panelSVG, which escapes every string it
			// writes; it is trusted here for that reason alone.
			v.SVG = append(v.SVG, template.HTML(panelSVG(pan, styles, fmt.Sprintf("f%d-p%d", fi, pi)))) //nolint:gosec
		}
		figs = append(figs, v)
	}
	var tables []tableView
	for _, t := range p.Tables {
		tv := tableView{Title: t.Title, Columns: t.Columns}
		for _, r := range t.Rows {
			rv := rowView{Backend: r.Backend}
			for i, c := range r.Cells {
				key := c.Text
				if i < len(t.Columns) && t.Columns[i].Numeric {
					key = fmt.Sprintf("%g", c.Sort)
				}
				rv.Cells = append(rv.Cells, cellView{Text: c.Text, SortKey: key})
			}
			tv.Rows = append(tv.Rows, rv)
		}
		tables = append(tables, tv)
	}
	failed := runsView{Title: "Failed runs (left out of the charts and tables)", Class: "failed", What: "reason"}
	for _, f := range p.Failed {
		failed.Rows = append(failed.Rows, runRow{f.Point, f.File, fileHref(f.Href), f.Reason})
	}
	noisy := runsView{Title: "Noisy runs (measured on a busy machine; kept, and marked)", Class: "failed noisy", What: "CPU used by others"}
	for _, n := range p.Noisy {
		noisy.Rows = append(noisy.Rows, runRow{n.Point, n.File, fileHref(n.Href), n.CPU})
	}
	// A group's button stands before its first entry, where there are
	// several groups.
	var legend []legendEntry
	groups := map[string]bool{}
	for _, b := range p.Backends {
		groups[b.Group] = true
	}
	for i, b := range p.Backends {
		legend = append(legend, legendEntry{b, len(groups) > 1 && (i == 0 || p.Backends[i-1].Group != b.Group)})
	}
	var static []staticView
	for _, c := range p.Static {
		static = append(static, staticView{Name: c.Name, SVG: template.HTML(stripProlog(c.SVG))}) //nolint:gosec // our own chart files
	}
	return pageTmpl.Execute(w, struct {
		Page
		Legend  []legendEntry
		Figures []figureView
		Static  []staticView
		Tables  []tableView
		Runs    []runsView
		CSS     template.CSS
		JS      template.JS
	}{p, legend, figs, static, tables, []runsView{failed, noisy}, template.CSS(pageCSS), template.JS(strings.TrimSpace(pageJS))})
}
