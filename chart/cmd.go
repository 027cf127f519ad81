package chart

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/muxbench/muxbench/internal/cli"
)

// PlotCommand is `muxbench plot [-o DIR] RESULTS...`: it redraws every
// chart the saved results have data for. Exit status 2 means bad usage or
// bad input, 1 a failure to write.
func PlotCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("muxbench plot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "charts", "directory to write the charts into (PNG and SVG)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: muxbench plot [-o DIR] RESULTS...")
		fmt.Fprintln(fs.Output(), "RESULTS are result JSON files or directories holding them.")
		fs.PrintDefaults()
	}
	if err := cli.Parse(fs, args); err != nil {
		return cli.Exit(fs.Name(), err, stderr)
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "muxbench plot: no result files given (usage: muxbench plot [-o DIR] RESULTS...)")
		return 2
	}
	files, err := Load(fs.Args()...)
	if err != nil {
		fmt.Fprintln(stderr, "muxbench plot:", err)
		return 2
	}
	written, skipped, err := DrawAll(*out, files)
	for _, w := range written {
		fmt.Fprintln(stdout, "wrote", w)
	}
	for _, s := range skipped {
		fmt.Fprintln(stdout, "skipped", s)
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
