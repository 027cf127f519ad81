package chart

import (
	"errors"
	"fmt"
	"io"

	"github.com/muxbench/muxbench/internal/cli"
)

const plotUsage = `usage: muxbench plot [-o DIR] [--allow-mixed] RESULTS...

Redraws every chart the saved results have data for, nothing re-run.
RESULTS are result JSON files or directories holding them. What it wrote
is listed on stderr.`

// PlotCommand is `muxbench plot [-o DIR] RESULTS...`: it redraws every
// chart the saved results have data for. Exit status 2 means bad usage or
// bad input, 1 a failure to write.
func PlotCommand(args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("plot", plotUsage, stdout)
	out := fs.String("out", "charts", "`directory` to write the charts into (PNG and SVG)")
	cli.Alias(fs, "o", "out")
	allowMixed := fs.Bool("allow-mixed", false, "pool results from several machines or muxbench versions, or one point measured with different settings")
	if err := cli.Parse(fs, args); err != nil {
		return cli.Exit(fs.Name(), err, stderr)
	}
	if fs.NArg() == 0 {
		return cli.Exit(fs.Name(), cli.Usagef("no result files given (usage: muxbench plot [-o DIR] RESULTS...)"), stderr)
	}
	files, err := Load(fs.Args()...)
	files, again := Once(files)
	for _, a := range again {
		fmt.Fprintln(stderr, "muxbench plot:", a)
	}
	if err == nil && !*allowMixed {
		err = CheckMixed(files)
	}
	if err != nil {
		fmt.Fprintln(stderr, "muxbench plot:", err)
		return 2
	}
	if err := cli.CheckDir("out", *out); err != nil {
		return cli.Exit(fs.Name(), err, stderr)
	}
	files, failed := Split(files)
	for _, f := range failed {
		fmt.Fprintf(stderr, "muxbench plot: left out %s: failed run (%s)\n", Printable(f.Path), Failure(f.Result))
	}
	written, skipped, err := DrawAll(*out, files)
	for _, w := range written {
		fmt.Fprintln(stderr, "wrote", w)
	}
	for _, s := range skipped {
		fmt.Fprintln(stderr, "skipped", s)
	}
	if err != nil {
		fmt.Fprintln(stderr, "muxbench plot:", err)
		if errors.Is(err, ErrInput) {
			return 2
		}
		return 1
	}
	if len(written) == 0 {
		fmt.Fprintln(stderr, "muxbench plot: nothing to draw from", len(files), "results")
		return 1
	}
	return 0
}
