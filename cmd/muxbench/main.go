// Command muxbench measures I/O multiplexers (select, poll, epoll, kqueue,
// busy-waiting) behind one reactor, under thousands of ping-pong
// connections, and reports latency, CPU per round trip, short writes and
// poller behaviour.
//
//	muxbench [run] --backend=epoll,poll     measure backends
//	muxbench load --target HOST:PORT        drive any echo server
//	muxbench backends                       what this platform has
//	muxbench serve                          one echo server (run starts it)
//	muxbench compare | merge | plot | report
//
// Exit status: 0 success, 1 a failed run or integrity error, 2 bad input,
// 130 interrupted (what was measured is still printed and saved).
//
// --json FILE saves each result (schema result, also published as the
// JSON Schema result/schema.json; --json - writes it to stdout, a line
// per result: NDJSON). With several
// backends, FILE gets the backend before its extension (out.json:
// out-epoll.json, out-poll.json...); a FILE that is a directory, or ends
// in a slash, holds one BACKEND.json per backend.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/muxbench/muxbench/chart"
	"github.com/muxbench/muxbench/compare"
	"github.com/muxbench/muxbench/internal/cli"
	"github.com/muxbench/muxbench/server"
	"github.com/muxbench/muxbench/soak"

	// Every backend of this platform, for run, serve and backends.
	_ "github.com/muxbench/muxbench/poller/all"
)

// command is one sub-command: adding one is one line in commands.
type command struct {
	name string
	doc  string
	run  func(args []string, stdout, stderr io.Writer) int
}

var commands []command

func init() {
	// Filled here, not in the declaration: help refers to commands.
	commands = []command{
		{"run", "measure backends under ping-pong load (the default)", runCommand},
		{"load", "drive a running echo server (--target HOST:PORT)", loadCommand},
		{"backends", "list this platform's backends and their capabilities", backendsCommand},
		{"serve", "run one echo server and print its ports (run starts it for you)", server.Command},
		{"compare", "sweep backends over connections, idle connections, sizes", compare.Command},
		{"merge", "merge result files from several load hosts", compare.MergeCommand},
		{"plot", "draw charts from result files", chart.PlotCommand},
		{"report", "print a comparison of result files as Markdown", compare.ReportCommand},
		{"diff", "compare two sets of results, with significance (benchstat's test)", compare.DiffCommand},
		{"soak", "every backend under faults, churn and hostile peers: PASS or FAIL", soak.Command},
		{"help", "show this help", helpCommand},
	}
}

func main() {
	os.Exit(dispatch(os.Args[1:], os.Stdout, os.Stderr))
}

func dispatch(args []string, stdout, stderr io.Writer) int {
	if len(args) == 1 {
		switch args[0] {
		case "-h", "-help", "--help":
			return helpCommand(nil, stdout, stderr)
		case "-version", "--version":
			fmt.Fprintln(stdout, "muxbench", cli.Version())
			return 0
		}
	}
	name := "run"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	for _, c := range commands {
		if c.name == name {
			return c.run(args, stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "muxbench: unknown command %q (commands: %s)\n", name, commandNames())
	return 2
}

func commandNames() string {
	var n []string
	for _, c := range commands {
		n = append(n, c.name)
	}
	return strings.Join(n, ", ")
}

func helpCommand(_ []string, stdout, _ io.Writer) int {
	fmt.Fprintln(stdout, "usage: muxbench [command] [flags]   (command defaults to run; muxbench COMMAND --help for its flags)")
	fmt.Fprintln(stdout, "\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(stdout, "  %-9s %s\n", c.name, c.doc)
	}
	fmt.Fprintln(stdout, "\nFlags:\n  --help\n    \tthis list\n  --version\n    \tthe build's version, as results record it")
	return 0
}
