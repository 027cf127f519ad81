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
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/muxbench/muxbench/chart"
	"github.com/muxbench/muxbench/compare"
	"github.com/muxbench/muxbench/internal/cli"
	"github.com/muxbench/muxbench/internal/suggest"
	"github.com/muxbench/muxbench/poller"
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
		{"report", "the tables of result files as Markdown, CSV or text, or the page", compare.ReportCommand},
		{"diff", "compare two sets of results, with significance (benchstat's test)", compare.DiffCommand},
		{"soak", "every backend under faults, churn and hostile peers: PASS or FAIL", soak.Command},
		{"help", "show this list, or a command's help (help COMMAND)", helpCommand},
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
	c, err := lookup(name)
	if err != nil {
		fmt.Fprintln(stderr, "muxbench:", err)
		return 2
	}
	return c.run(args, stdout, stderr)
}

// lookup finds the command called name; its error says what was likely
// meant: a command a letter or two away, or run for a backend's or a
// peer's name.
func lookup(name string) (command, error) {
	var names []string
	for _, c := range commands {
		if c.name == name {
			return c, nil
		}
		names = append(names, c.name)
	}
	list := strings.Join(names, ", ")
	if near := suggest.Nearest(name, names); near != "" {
		return command{}, fmt.Errorf("unknown command %q: did you mean %s? (commands: %s)", name, near, list)
	}
	if _, err := poller.Resolve(name); !errors.Is(err, poller.ErrUnknown) {
		return command{}, fmt.Errorf("unknown command %q: to measure it, muxbench --backend %s (commands: %s)", name, name, list)
	}
	return command{}, fmt.Errorf("unknown command %q (commands: %s)", name, list)
}

// helpCommand is `muxbench help [COMMAND]`: the commands, or one
// command's help.
func helpCommand(args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) > 1:
		fmt.Fprintf(stderr, "muxbench help: want one command, got %d arguments (usage: muxbench help [COMMAND])\n", len(args))
		return 2
	case len(args) == 1 && args[0] != "help" && !strings.HasPrefix(args[0], "-"):
		c, err := lookup(args[0])
		if err != nil {
			fmt.Fprintln(stderr, "muxbench help:", err)
			return 2
		}
		return c.run([]string{"--help"}, stdout, stderr)
	}
	fmt.Fprintln(stdout, "usage: muxbench [command] [flags] [arguments]\n\nThe command defaults to run; muxbench help COMMAND shows its flags.")
	fmt.Fprintln(stdout, "\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(stdout, "  %-9s %s\n", c.name, c.doc)
	}
	fmt.Fprintln(stdout, "\nFlags:\n  --help\n    \tthis list\n  --version\n    \tthe build's version, as results record it")
	return 0
}
