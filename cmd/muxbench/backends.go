package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/muxbench/muxbench/bench"
	"github.com/muxbench/muxbench/poller"
)

func backendsCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		if args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
			fmt.Fprintln(stdout, "usage: muxbench backends\n\nLists the servers run can measure: every poller backend built for this\nplatform, with its capabilities, and stdlib (Go's net package).")
			return 0
		}
		fmt.Fprintf(stderr, "muxbench backends: takes no arguments, got %q\n", args[0])
		return 2
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
