// Package htmlreport writes a comparison as one self-contained HTML page:
// the charts as inline SVG that a reader can hover and filter, the summary
// tables sortable by column, and the failed runs listed apart. Nothing is
// fetched from the network; the page opens from a file and prints to PDF.
//
// The page draws no figure of its own: every value comes from the same
// code that writes summary.md (compare's rows) and the charts (chart's
// series), handed over in a Page.
package htmlreport

// Page is everything one page shows.
type Page struct {
	Title   string
	Caption []string // machine, parameters, command: one line each
	// Alert says first what makes the figures doubtful (a busy machine).
	Alert   []string
	Figures []Figure
	Tables  []Table
	Failed  []Failed
	Noisy   []Noisy
	// Backends in legend order; their colours are the charts' colours.
	Backends []Backend
	// Static holds charts drawn elsewhere (SVG documents), shown as they
	// are: the legend cannot hide their series.
	Static []StaticChart
}

// StaticChart is one SVG document and its name.
type StaticChart struct {
	Name string
	SVG  string
}

// Backend is one legend entry.
type Backend struct {
	Name  string
	Color string // CSS colour, "#0072b2"
	// Dash is its lines' SVG stroke-dasharray ("5 2.5"); "" for solid.
	Dash string
	// Group is the kind of server it is ("muxbench", "peers"): where
	// there are several, the legend shows each with a button that hides
	// or shows all of it.
	Group string
}

// Figure is one chart: panels side by side under one title.
type Figure struct {
	ID     string // file-name stem, "active-conns"
	Title  string
	Panels []Panel
	Notes  []string
}

// Panel is one set of axes.
type Panel struct {
	Title  string
	XLabel string
	YLabel string
	LogX   bool
	LogY   bool
	// XTicks label the swept values; empty means numeric ticks.
	XTicks []Tick
	// Bars draws each series as bars at categorical x positions 0..n-1
	// (XTicks name them) instead of lines.
	Bars bool
	// Points draws markers without joining lines, for x positions that are
	// categories rather than a sweep (message size by buffer size).
	Points bool
	Series []Series
}

// Tick is a labelled position on an axis.
type Tick struct {
	At    float64
	Label string
}

// Series is one backend's line on one panel.
type Series struct {
	Backend string
	Points  []Point
}

// Point is one drawn value and what a hover tells about it.
type Point struct {
	X, Y   float64
	Lo, Hi float64 // spread (min-max or a confidence interval); equal to Y when n is 1
	N      int
	// Value is Y as the summary table prints it, with its unit.
	Value  string
	Spread string // "min-max 1.2k-1.4k", or ""
	XLabel string
	// Warnings name what makes the point doubtful (noisy machine,
	// generator saturated, rate not reached, too few samples).
	Warnings []string
	// Files are the result files behind the point, relative to the page
	// (slash-separated); the point links to the first. The page escapes
	// them, and links none that is absolute or climbs out of its
	// directory.
	Files []string
}

// Table is one summary table; Rows hold cells in Columns' order.
type Table struct {
	Title   string
	Columns []Column
	Rows    []Row
}

// Column heads a table column.
type Column struct {
	Name    string
	Numeric bool // sorted by Cell.Sort rather than text
}

// Row is one table row; Backend lets the legend hide it too.
type Row struct {
	Backend string
	Cells   []Cell
}

// Cell is a table value as printed and, for numeric columns, as sorted.
type Cell struct {
	Text string
	Sort float64
}

// Noisy is a run measured on a busy machine, kept and marked.
type Noisy struct {
	File  string
	Href  string // the file relative to the page, as Failed's
	Point string
	CPU   string // what others took, "0.31 CPUs"
}

// Failed is a run kept out of the charts and tables, with its reason.
type Failed struct {
	File   string
	Href   string // the file relative to the page, as Point.Files; "" for no link
	Point  string
	Reason string
}
