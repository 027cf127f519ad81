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
platform, with its capabilities, and stdlib (Go's net package).`, stdout)
	if err := cli.ParseFlagsOnly(fs, args); err != nil {
		return cli.Exit(fs.Name(), err, stderr)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "backend\tcapabilities\tdescription")
	for _, b := range poller.Backends() {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", b.Name, caps(b.Caps), b.Doc)
	}
	fmt.Fprintf(tw, "%s\t%s\t%s\n", bench.Stdlib, "-", "Go's net package: goroutine per connection on the runtime netpoller (baseline)")
	tw.Flush()
	fmt.Fprintf(stdout, "\nThe load generator uses %s.\n", bench.GenBackend())
	return 0
}

func caps(c poller.Capabilities) string {
	var s []string
	s = append(s, "level")
	if c.EdgeTriggered {
		s = append(s, "edge")
	}
	if c.MaxFD > 0 {
		s = append(s, fmt.Sprintf("fd<%d", c.MaxFD))
	}
	if c.Spins {
		s = append(s, "spins")
	}
	return strings.Join(s, ",")
}
