package main

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"text/tabwriter"

	"github.com/muxbench/muxbench/bench"
	"github.com/muxbench/muxbench/internal/cli"
	"github.com/muxbench/muxbench/peer"
	"github.com/muxbench/muxbench/poller"
)

func backendsCommand(args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("backends", `usage: muxbench backends

Lists the servers run can measure: every poller backend built for this
platform, with its capabilities (edge-triggered under its -et name), the
engines (stdlib: Go's net package), the backends built for other
systems only, and the peers: echo servers over other projects' event
loops, each with the multiplexer it forces, or why it cannot run here.`, stdout)
	if err := cli.ParseFlagsOnly(fs, args); err != nil {
		return cli.Exit(fs.Name(), err, stderr)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "backend\tcapabilities\tdescription")
	var peers []poller.Entry
	for _, e := range poller.Catalog() {
		if e.Peer {
			peers = append(peers, e)
			continue
		}
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
	if other := poller.Elsewhere(); len(other) > 0 {
		var s []string
		for _, e := range other {
			s = append(s, fmt.Sprintf("%s (%s)", e.Name, strings.Join(poller.Platforms(e.Name), ", ")))
		}
		fmt.Fprintf(stdout, "\nNot built for %s: %s.\n", runtime.GOOS, strings.Join(s, "; "))
	}
	if len(peers) > 0 {
		fmt.Fprintf(stdout, "\nPeers: other projects' event loops (run --backend NAME, or %s for every one available):\n\n", poller.PeersKeyword)
		fmt.Fprintln(tw, "peer\tforces\tneeds\tdescription")
		missing := 0
		for _, e := range peers {
			doc := e.Doc
			if e.Err != nil {
				doc = e.Err.Error()
				missing++
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Name, e.Multiplexer, e.Needs, doc)
		}
		tw.Flush()
		if missing > 0 {
			fmt.Fprintf(stdout, "\n%d of %d peers cannot run here. On Debian or Ubuntu, every peer's packages:\n  %s\n", missing, len(peers), peer.InstallCommand)
		}
	}
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
