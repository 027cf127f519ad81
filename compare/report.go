package compare

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/muxbench/muxbench/chart"
	"github.com/muxbench/muxbench/htmlreport"
	"github.com/muxbench/muxbench/internal/cli"
	"github.com/muxbench/muxbench/internal/outfile"
	"github.com/muxbench/muxbench/report"
	"github.com/muxbench/muxbench/result"
)

// Report writes the comparison as Markdown: how many runs were noisy,
// one table per sweep (see Tables), then the failed runs that the tables
// leave out and the noisy runs they mark.
func Report(w io.Writer, files []chart.File) error {
	var b strings.Builder
	b.WriteString(mdCell(noiseLine(files)) + "\n\n")
	for _, t := range Tables(files) {
		fmt.Fprintf(&b, "### %s\n\n", mdCell(t.Title))
		var head, align []string
		for _, c := range t.Columns {
			head = append(head, mdCell(c.Name))
			if c.Numeric {
				align = append(align, "--:")
			} else {
				align = append(align, "---")
			}
		}
		b.WriteString("| " + strings.Join(head, " | ") + " |\n")
		b.WriteString("|" + strings.Join(align, "|") + "|\n")
		for _, r := range t.Rows {
			var cells []string
			for _, c := range r.Cells {
				cells = append(cells, mdCell(c.Text))
			}
			b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
		}
		b.WriteString("\n")
	}
	b.WriteString(rangeNote + "\n")
	if failed := Failed(files); len(failed) > 0 {
		fmt.Fprintf(&b, "\n### Failed runs (%d, left out of the tables and charts)\n\n", len(failed))
		for _, f := range failed {
			fmt.Fprintf(&b, "- %s: %s: %s\n", mdCell(f.File), mdCell(f.Point), mdCell(f.Reason))
		}
	}
	if noisy := NoisyRuns(files); len(noisy) > 0 {
		fmt.Fprintf(&b, "\n### Noisy runs (%d, kept and marked)\n\n", len(noisy))
		for _, n := range noisy {
			fmt.Fprintf(&b, "- %s: %s: %.2f CPUs used by others\n", mdCell(n.File), mdCell(n.Point), n.CPU)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// rangeNote says what the ranges in the tables are.
const rangeNote = "Figures are medians over the runs; in brackets the median's 95% confidence interval where a point has 6 or more runs, else min–max."

// mdCell makes a string from a result file safe in a Markdown table and
// on a terminal: control characters become visible escapes, and |, < and
// > are escaped, so that it can neither end a cell nor open an HTML tag.
func mdCell(s string) string {
	return mdEscaper.Replace(chart.Printable(s))
}

var mdEscaper = strings.NewReplacer("|", `\|`, "<", `\<`, ">", `\>`)

var nan = math.NaN()

const reportUsage = `usage: muxbench report [--allow-mixed] [--format md|csv|text|html] [--out FILE] RESULTS...

Prints saved results: as Markdown, the comparison's tables (the default);
as CSV, one row per run and a column per metric; as text, the terminal
table of run, a row per run; or as HTML (--html), the results page, one
self-contained file with every chart, the tables and the failed runs.
RESULTS are result JSON files or directories holding them.`

// reporters write files in each --format but html, which needs the
// page's path for its charts.
var reporters = map[string]func(w io.Writer, files []chart.File) error{
	"md": Report,
	"csv": func(w io.Writer, files []chart.File) error {
		runs := make([]report.Run, len(files))
		for i, f := range files {
			runs[i] = report.Run{File: f.Path, Failed: chart.Failure(f.Result), Result: f.Result}
		}
		return report.CSV(w, runs)
	},
	"text": func(w io.Writer, files []chart.File) error {
		rs := make([]*result.Result, len(files))
		for i, f := range files {
			rs[i] = f.Result
		}
		return report.Table(w, rs)
	},
}

// ReportCommand is `muxbench report RESULTS...`: the comparison table as
// Markdown on stdout. Exit status 2 means bad usage or input, 1 a failure
// to write or results that all failed.
func ReportCommand(args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("report", reportUsage, stdout)
	allowMixed := fs.Bool("allow-mixed", false, "pool results from several machines or muxbench versions, or one point measured with different settings")
	format := fs.String("format", "md", "`format`: md (the comparison's tables), csv (a row per run, a column per metric), text (the terminal table) or html (the results page)")
	asHTML := fs.Bool("html", false, "write the results page: --format html")
	out := fs.String("out", "-", "`file` to write (- for stdout)")
	cli.Alias(fs, "o", "out")
	if err := cli.Parse(fs, args); err != nil {
		return cli.Exit(fs.Name(), err, stderr)
	}
	if *asHTML {
		*format = "html"
	}
	write, ok := reporters[*format]
	if !ok && *format != "html" {
		return cli.Exit(fs.Name(), cli.Usagef("--format %q: want md, csv, text or html", *format), stderr)
	}
	if fs.NArg() == 0 {
		return cli.Exit(fs.Name(), cli.Usagef("no result files given (usage: muxbench report RESULTS...)"), stderr)
	}
	if *out != "-" {
		if err := cli.CheckFile("out", *out); err != nil {
			return cli.Exit(fs.Name(), err, stderr)
		}
	}
	files, err := chart.Load(fs.Args()...)
	files, again := chart.Once(files)
	for _, a := range again {
		fmt.Fprintln(stderr, "muxbench report:", a)
	}
	if err == nil && !*allowMixed {
		err = chart.CheckMixed(files)
	}
	if err != nil {
		fmt.Fprintln(stderr, "muxbench report:", err)
		if errors.Is(err, chart.ErrInput) {
			return 2
		}
		return 1
	}
	if *format == "html" {
		if *out == "-" {
			err = htmlreport.Write(stdout, HTMLPage(files, "", "."))
		} else {
			err = WriteHTML(*out, files, "")
		}
		if err != nil {
			fmt.Fprintln(stderr, "muxbench report:", err)
			return 1
		}
		return nothingToReport(files, stderr)
	}
	emit := func(w io.Writer) error {
		if *allowMixed && *format == "md" {
			fmt.Fprintln(w, chart.MachineLine(files)+".")
			fmt.Fprintln(w)
		}
		return write(w, files)
	}
	if *out == "-" {
		err = emit(stdout)
	} else {
		err = outfile.Write(*out, emit)
	}
	if err != nil {
		fmt.Fprintln(stderr, "muxbench report:", err)
		return 1
	}
	return nothingToReport(files, stderr)
}

// nothingToReport is report's exit status once the failed runs are
// listed: 1, as plot's, when every run failed and no figure remains.
func nothingToReport(files []chart.File, stderr io.Writer) int {
	if ok, _ := chart.Split(files); len(ok) == 0 {
		fmt.Fprintf(stderr, "muxbench report: every one of the %d runs failed: no figures to report\n", len(files))
		return 1
	}
	return 0
}
