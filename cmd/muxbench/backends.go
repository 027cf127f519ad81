package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/muxbench/muxbench/bench"
	"github.com/muxbench/muxbench/internal/cli"
	"github.com/muxbench/muxbench/poller"
)

func backendsCommand(args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("backends", `usage: muxbench backends

Lists the servers run can measure: every poller backend built for this
platform, with its capabilities (edge-triggered under its -et name), and
the engines: stdlib (Go's net package).`, stdout)
	if err := cli.ParseFlagsOnly(fs, args); err != nil {
		return cli.Exit(fs.Name(), err, stderr)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "backend\tcapabilities\tdescription")
	for _, e := range poller.Catalog() {
		c, doc := "-", e.Doc
		if !e.Engine {
			c = caps(e.Caps, e.Edge)
		}
		if e.Err != nil {
			doc = e.Err.Error()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", e.Name, c, doc)
	}
	tw.Flush()
	fmt.Fprintf(stdout, "\nThe load generator uses %s.\n", bench.GenBackend())
	return 0
}

func caps(c poller.Capabilities, edge bool) string {
	s := []string{"level"}
	if edge {
		s[0] = "edge"
	}
	if c.MaxFD > 0 {
		s = append(s, fmt.Sprintf("fd<%d", c.MaxFD))
	}
	if c.Spins {
		s = append(s, "spins")
	}
	return strings.Join(s, ",")
}
