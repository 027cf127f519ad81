package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/muxbench/muxbench/bench"
	"github.com/muxbench/muxbench/control"
	"github.com/muxbench/muxbench/internal/cli"
	"github.com/muxbench/muxbench/internal/units"
	"github.com/muxbench/muxbench/peer"
	"github.com/muxbench/muxbench/poller"
	"github.com/muxbench/muxbench/report"
	"github.com/muxbench/muxbench/result"
	"github.com/muxbench/muxbench/server"
)

// loadFlags are the flags run and load share: the load and its output.
type loadFlags struct {
	conns, idle      int
	msgSize          units.Size
	duration, warmup time.Duration
	rate             units.Rate
	json             string
	genCPUs          string
	percentiles      string
	connectTimeout   time.Duration
	noiseThreshold   float64
	blockingRead     bool
	cfg              bench.Config
}

func (f *loadFlags) register(fs *flag.FlagSet) {
	f.msgSize = 64
	fs.IntVar(&f.conns, "conns", 100, "active `connections`, one message in flight each")
	fs.IntVar(&f.idle, "idle", 0, "extra `connections` that stay silent for the whole run")
	fs.Var(&f.msgSize, "msg-size", "message `size`, 16 to 16MiB (64, 4k, 1MiB)")
	fs.DurationVar(&f.duration, "duration", 5*time.Second, "measured window, a `duration` of 100ms or more (5s, 1m)")
	fs.DurationVar(&f.warmup, "warmup", time.Second, "load before the window, not measured, a `duration` (0 for none)")
	fs.Var(&f.rate, "rate", fmt.Sprintf("open loop at this `rate` of round trips per second in total, %s to %s (10k, 1.5m; 0: closed loop)",
		units.FormatRate(bench.MinRate), units.FormatRate(bench.MaxRate)))
	fs.StringVar(&f.json, "json", "", "write the result to `file` (- for stdout, a JSON line per result, the table to stderr); several backends write FILE-BACKEND.json, or DIR/BACKEND.json for a directory")
	fs.StringVar(&f.genCPUs, "gen-cpus", "", "pin the generator, one event loop per `CPU` (0,1 or 1-3; default 1 on 2+ CPUs; none: no pinning)")
	fs.StringVar(&f.percentiles, "percentiles", "", "extra latency `percentiles` to report, e.g. 75,99.999")
	fs.DurationVar(&f.connectTimeout, "connect-timeout", 10*time.Second, "give up on a connection after this `duration`")
	fs.Float64Var(&f.noiseThreshold, "noise-threshold", bench.DefaultNoiseThreshold, "mark a run noisy when other processes and the hypervisor take more than this many `CPUs` during its window")
	fs.BoolVar(&f.cfg.GenSpin, "gen-spin", false, "generator busy-polls instead of blocking: lower latency for a whole CPU")
	fs.BoolVar(&f.blockingRead, "gen-blocking-read", true, "a closed-loop generator loop with one connection waits in a blocking read on it, as c-ping does (false: in its poller)")
}

// config reads the shared flags; errors name the flag. The bounds on
// their values are bench.Config's (Check), except where bench would read
// a zero as its default, which on the command line is a value.
func (f *loadFlags) config() (bench.Config, error) {
	c := f.cfg
	c.GenPollOnly = !f.blockingRead
	for _, z := range []struct {
		flag string
		zero bool
	}{
		{"conns", f.conns == 0}, {"msg-size", f.msgSize == 0}, {"duration", f.duration == 0},
		{"connect-timeout", f.connectTimeout == 0}, {"noise-threshold", f.noiseThreshold == 0},
	} {
		if z.zero {
			return c, fmt.Errorf("--%s 0: want more than zero (--help shows the default)", z.flag)
		}
	}
	if f.warmup < 0 {
		return c, fmt.Errorf("--warmup %v: want 0 or a positive duration, e.g. 1s", f.warmup)
	}
	c.NoiseThreshold = f.noiseThreshold
	c.Conns, c.Idle, c.MsgSize = f.conns, f.idle, f.msgSize.Int()
	c.Duration, c.Rate, c.ConnectTimeout = f.duration, float64(f.rate), f.connectTimeout
	c.Warmup = f.warmup
	if c.Warmup == 0 {
		c.Warmup = -1 // bench: zero means the default
	}
	var none bool
	var err error
	if c.GenCPUs, none, err = server.ParseCPUs("gen-cpus", f.genCPUs); err != nil {
		return c, err
	}
	c.NoPin = c.NoPin || none
	if f.percentiles != "" {
		for _, p := range strings.Split(f.percentiles, ",") {
			v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
			if err != nil {
				return c, fmt.Errorf("--percentiles %q: want numbers within (0, 100], e.g. 75,99.999", f.percentiles)
			}
			c.Percentiles = append(c.Percentiles, v)
		}
	}
	return c, nil
}

const runUsage = `usage: muxbench [run] [--backend LIST] [--conns N] [--duration D] [--json FILE] [flags]

Starts each backend's echo server in a child process, pushes ping-pong
connections through it, and prints one row per backend; a peer (another
project's event loop) or your own server (--peer) is measured the same
way. Progress goes to stderr, the table to stdout. Exit status: 0
success, 1 a failed run or an integrity error, 2 bad input, 130
interrupted (the partial result is still printed and saved).`

func runCommand(args []string, stdout, stderr io.Writer) int {
	var lf loadFlags
	fs := cli.NewFlagSet("run", runUsage, stdout)
	lf.register(fs)
	var (
		backends  = fs.String("backend", bench.GenBackend(), "`backends` to measure: a name ("+strings.Join(poller.All(true), ", ")+", a peer), a list (epoll,poll), all (muxbench's own) or peers (every peer available here; muxbench backends lists them)")
		userPeers peer.Flags
		sf        = server.AddFlags(fs, server.RunScope)
	)
	fs.Var(&userPeers, "peer", peer.FlagUsage)
	if err := cli.ParseFlagsOnly(fs, args); err != nil {
		return cli.Exit(fs.Name(), err, stderr)
	}
	fail := func(err error) int { return cli.Exit(fs.Name(), err, stderr) }
	cfg, err := lf.config()
	if err != nil {
		return fail(err)
	}
	var choices []poller.Choice
	if len(userPeers) == 0 || flagSet(fs, "backend") {
		var skipped []string
		choices, skipped, err = poller.ParseListWithPeers(*backends, false)
		for _, s := range skipped {
			fmt.Fprintf(stderr, "%s: skipping %s\n", fs.Name(), s)
		}
		if err != nil {
			return fail(fmt.Errorf("--backend %q: %v", *backends, err))
		}
	}
	if cfg.Server, err = sf.Config(); err != nil {
		return fail(err)
	}
	cfg.NoPin = cfg.NoPin || sf.NoPin()
	var runs []bench.Config
	anyPeer := len(userPeers) > 0
	for _, ch := range choices {
		c := cfg
		if ch.Peer {
			c.Peer, _ = peer.Lookup(ch.Name)
			runs = append(runs, c)
			anyPeer = true
			continue
		}
		c.Server.Backend = ch.Backend
		c.Server.Poller.EdgeTriggered = cfg.Server.Poller.EdgeTriggered || ch.Edge
		// Every run is checked before the first starts.
		if err := c.Server.Check(); err != nil {
			return fail(fmt.Errorf("%s: %v", ch.Name, err))
		}
		runs = append(runs, c)
	}
	for _, p := range userPeers {
		c := cfg
		c.Peer = p
		runs = append(runs, c)
	}
	if anyPeer {
		if err := peerFlags(fs); err != nil {
			return fail(err)
		}
	}
	return execute(runs, &lf, "run", stdout, stderr)
}

// peerFlags refuses the server's flags a peer cannot take: it is
// another project's server, started with an address and pinned, whole,
// to --server-cpus; nothing else.
func peerFlags(fs *flag.FlagSet) error {
	own := flag.NewFlagSet("", flag.ContinueOnError)
	server.AddFlags(own, server.RunScope)
	var err error
	fs.Visit(func(f *flag.Flag) {
		if err == nil && own.Lookup(f.Name) != nil && f.Name != "listen" && f.Name != "server-cpus" {
			err = fmt.Errorf("--%s: applies to muxbench's own servers, not to peers", f.Name)
		}
	})
	return err
}

// flagSet reports whether the command line set the flag name.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

const loadUsage = `usage: muxbench load --target HOST:PORT [--control ADDR --token T] [--server-pid PID] [flags]

Drives any echo server with the same generator as run. With --control
(a muxbench server), server figures come from its control channel; with
--server-pid (same host), the server's CPU comes from /proc; otherwise
only latency, throughput and integrity are measured.`

func loadCommand(args []string, stdout, stderr io.Writer) int {
	var lf loadFlags
	fs := cli.NewFlagSet("load", loadUsage, stdout)
	lf.register(fs)
	target := fs.String("target", "", "echo server `address` (host:port)")
	ctl := fs.String("control", "", "the server's control channel `address`, if it is a muxbench server")
	token := fs.String("token", "", "control channel `token` (default $"+server.TokenEnv+")")
	pid := fs.Int("server-pid", 0, "the server's process `pid` on this host, to read its CPU from /proc")
	if err := cli.ParseFlagsOnly(fs, args); err != nil {
		return cli.Exit(fs.Name(), err, stderr)
	}
	fail := func(err error) int { return cli.Exit(fs.Name(), err, stderr) }
	cfg, err := lf.config()
	if err != nil {
		return fail(err)
	}
	if *target == "" {
		return fail(errors.New("--target HOST:PORT is required"))
	}
	if *pid < 0 {
		return fail(fmt.Errorf("--server-pid %d: want a process id", *pid))
	}
	cfg.Target, cfg.Control, cfg.Token, cfg.ServerPID = *target, *ctl, *token, *pid
	if cfg.Token == "" {
		cfg.Token = os.Getenv(server.TokenEnv)
	}
	if err := control.CheckToken(cfg.Token); err != nil {
		return fail(fmt.Errorf("--token: %v", err))
	}
	return execute([]bench.Config{cfg}, &lf, "load", stdout, stderr)
}

// execute runs each configuration in turn, prints progress and the table,
// and saves the results.
func execute(runs []bench.Config, lf *loadFlags, name string, stdout, stderr io.Writer) int {
	if err := checkRuns(runs, lf.json); err != nil {
		return cli.Exit("muxbench "+name, err, stderr)
	}
	table := stdout
	if lf.json == cli.Stdout {
		table = stderr // stdout carries the data
	}
	ctx, hurry := interrupts()
	prog := newProgressLine(stderr)
	var results []*result.Result
	status := 0
	for _, cfg := range runs {
		cfg.Progress, cfg.Hurry = prog.update, hurry
		res, err := bench.Run(ctx, cfg)
		prog.done()
		label := cfg.Name() // what the messages name this run by
		if cfg.Target != "" {
			label = cfg.Target
		}
		var crash *server.CrashError
		if errors.As(err, &crash) {
			// Its stderr, and what was measured before, beside the
			// result it would have had.
			path := ""
			if lf.json != "" && lf.json != cli.Stdout {
				path = jsonPath(lf.json, fileKey(cfg), len(runs) > 1)
			}
			crash.Report(stderr, fmt.Sprintf("muxbench %s: %s: ", name, label), path)
			if res != nil {
				if err := saveJSON(lf.json, fileKey(cfg), len(runs) > 1, res, stdout); err != nil {
					fmt.Fprintf(stderr, "muxbench %s: %v\n", name, err)
				}
			}
			status = 1
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				fmt.Fprintf(stderr, "muxbench %s: interrupted before anything was measured\n", name)
				status = 130
				break
			}
			fmt.Fprintf(stderr, "muxbench %s: %s: %v\n", name, label, err)
			if errors.Is(err, bench.ErrUsage) {
				return 2
			}
			status = 1
			continue
		}
		results = append(results, res)
		if cfg.Target != "" {
			label = res.Params.Backend + " at " + cfg.Target
		}
		if !checkResult(stderr, name, label, res, ctx.Err() != nil) {
			status = 1
		}
		if err := saveJSON(lf.json, fileKey(cfg), len(runs) > 1, res, stdout); err != nil {
			fmt.Fprintf(stderr, "muxbench %s: %v\n", name, err)
			status = 1
		}
		if ctx.Err() != nil {
			status = 130
			break
		}
	}
	if len(results) > 0 {
		if err := report.Table(table, results); err != nil {
			fmt.Fprintf(stderr, "muxbench %s: %v\n", name, err)
			return 1
		}
	}
	return status
}

// checkRuns refuses what a run would refuse, and a --json output that
// cannot be written, before the first run starts rather than after it.
func checkRuns(runs []bench.Config, json string) error {
	for _, cfg := range runs {
		if err := cfg.Check(); err != nil {
			return err
		}
	}
	if json != "" {
		for _, cfg := range runs {
			if err := cli.CheckFile("json", jsonPath(json, fileKey(cfg), len(runs) > 1)); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkResult prints a run's warnings on stderr, and what fails it:
// connections missing, integrity errors, or a window that ended early
// (not interrupted). It reports whether the run passed.
func checkResult(stderr io.Writer, name, label string, res *result.Result, interrupted bool) bool {
	ok := true
	for _, w := range res.Warnings {
		fmt.Fprintf(stderr, "muxbench %s: %s: warning: %s\n", name, label, w)
	}
	if m := res.Integrity.MissingConns; m > 0 {
		fmt.Fprintf(stderr, "muxbench %s: %s: CONNECTIONS MISSING: %d of the %d connections were not held through the window\n",
			name, res.Params.Backend, m, res.Params.Conns+res.Params.Idle)
		ok = false
	}
	if n := res.Integrity.Errors() - res.Integrity.MissingConns; n > 0 {
		i := res.Integrity
		fmt.Fprintf(stderr, "muxbench %s: %s: INTEGRITY FAILURE: %d errors (%d mismatched, %d reset, %d connections failed, %d timed out)\n",
			name, label, n, i.Mismatches, i.Resets, i.ConnFailures, i.Timeouts)
		ok = false
	}
	if res.Partial && !interrupted {
		fmt.Fprintf(stderr, "muxbench %s: %s: the run stopped early; its figures cover a shortened window\n", name, label)
		ok = false
	}
	return ok
}

// interrupts catches SIGINT and SIGTERM for the rest of the process: the
// first ends ctx, so that the run stops and what it measured is printed
// and saved; the second closes hurry, so that the server child is killed
// rather than waited for. None ends the process, which would lose the
// table and the result.
func interrupts() (ctx context.Context, hurry <-chan struct{}) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithCancel(context.Background())
	h := make(chan struct{})
	go func() {
		<-sigs
		cancel()
		<-sigs
		close(h)
		for range sigs {
		}
	}()
	return ctx, h
}

// fileKey is what a run's result file is named after in a directory:
// its catalogue name ("epoll-et"), known before the run starts, so that
// the file can be checked then.
func fileKey(cfg bench.Config) string { return cfg.Name() }

// saveJSON writes res where --json asked: nowhere, stdout, or the
// backend's file.
func saveJSON(flag, backend string, several bool, res *result.Result, stdout io.Writer) error {
	switch flag {
	case "":
		return nil
	case cli.Stdout:
		return result.Write(stdout, res)
	}
	return result.WriteFile(jsonPath(flag, backend, several), res)
}

// jsonPath names a backend's result file: FILE itself for one run, a
// directory's BACKEND.json, or FILE with -BACKEND before its extension.
func jsonPath(file, backend string, several bool) string {
	if st, err := os.Stat(file); (err == nil && st.IsDir()) || strings.HasSuffix(file, string(os.PathSeparator)) {
		_ = os.MkdirAll(file, 0o755)
		return filepath.Join(file, backend+".json")
	}
	if !several {
		return file
	}
	ext := filepath.Ext(file)
	return strings.TrimSuffix(file, ext) + "-" + backend + ext
}
