package server

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/muxbench/muxbench/internal/cli"
	"github.com/muxbench/muxbench/internal/units"
	"github.com/muxbench/muxbench/poller"
	"github.com/muxbench/muxbench/sysstat"

	// The serve sub-command offers every backend this platform has.
	_ "github.com/muxbench/muxbench/poller/all"
)

// TokenEnv is read when --token is not given, so that the token need not
// appear in the process list.
const TokenEnv = "MUXBENCH_CONTROL_TOKEN"

// Command is `muxbench serve`: it starts a server, prints its Ready line
// on stdout (or a JSON line with "error" when it cannot), and serves until SIGINT, SIGTERM, a control "stop" or (with
// --exit-on-stdin-eof) the end of stdin. It returns the exit status: 0
// after a clean stop, 2 for bad input (one line on stderr), 1 when the
// server fails.
func Command(args []string, stdout, stderr io.Writer) int {
	cfg, exitOnEOF, err := parseFlags(args, stdout)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			refusal(stdout, err, true)
		}
		return cli.Exit("muxbench serve", err, stderr)
	}
	srv, err := Start(cfg)
	if err != nil {
		var le *ListenError
		usage := errors.As(err, &le) || errors.Is(err, ErrConfig)
		err = startError(err)
		refusal(stdout, err, usage)
		fmt.Fprintf(stderr, "muxbench serve: %v\n", err)
		if usage {
			return 2
		}
		return 1
	}
	// Catch signals before anyone learns our ports: a parent may signal
	// as soon as it has read the ready line.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	line, _ := json.Marshal(srv.Ready())
	if _, err := fmt.Fprintf(stdout, "%s\n", line); err != nil {
		// Nobody learns our ports: there is no point in serving.
		srv.Stop()
		srv.Wait()
		fmt.Fprintf(stderr, "muxbench serve: writing the ready line: %v\n", err)
		return 1
	}

	eof := make(chan struct{})
	if exitOnEOF {
		// The parent holds our stdin open; if it dies, without having
		// been able to stop us, the pipe closes and so do we.
		go func() {
			io.Copy(io.Discard, os.Stdin)
			close(eof)
		}()
	}
	select {
	case <-sig:
	case <-eof:
	case <-srv.Done():
	}
	srv.Stop()
	if err := srv.Wait(); err != nil {
		fmt.Fprintf(stderr, "muxbench serve: %v\n", err)
		return 1
	}
	return 0
}

// refusal is the line printed on stdout instead of the ready line when the
// server will not start: a parent learns why from it, and that the flags
// were at fault (usage), without reading stderr or the exit status, which
// a crashing Go program shares with a refusal (2).
func refusal(stdout io.Writer, err error, usage bool) {
	line, _ := json.Marshal(struct {
		Error string `json:"error"`
		Usage bool   `json:"usage"`
	}{err.Error(), usage})
	fmt.Fprintf(stdout, "%s\n", line)
}

// startError names the flag behind a Start error.
func startError(err error) error {
	var le *ListenError
	if errors.As(err, &le) {
		return fmt.Errorf("--%s %s: %v", le.Flag, le.Addr, le.Err)
	}
	return err
}

func defaultBackend() string {
	for _, n := range []string{"epoll", "kqueue"} {
		if _, ok := poller.Lookup(n); ok {
			return n
		}
	}
	return Stdlib
}

func parseFlags(args []string, stdout io.Writer) (Config, bool, error) {
	fs := cli.NewFlagSet("serve", "usage: muxbench serve [flags]\n\nRuns one echo server and prints a JSON ready line with its ports.", stdout)
	var (
		backend   = fs.String("backend", defaultBackend(), "`name` of a poller backend, or stdlib: "+Available())
		listen    = fs.String("listen", "127.0.0.1:0", "echo listen `address`; a bare :port binds to loopback")
		ctl       = fs.String("control", "127.0.0.1:0", "control channel `address`; a bare :port binds to loopback")
		token     = fs.String("token", "", "control channel `token`, required off loopback (default $"+TokenEnv+")")
		cpus      = fs.String("cpus", "", "pin to these `CPUs` (0 or 0,1 or 0-3); the event loop takes the first")
		procs     = fs.Int("gomaxprocs", 0, "set GOMAXPROCS to `procs` (0: leave it)")
		edge      = fs.Bool("edge", false, "edge-triggered notification, where the backend has it")
		spin      = fs.Duration("spin-sleep", 0, "busy-waiting backend: sleep this `duration` after an empty round")
		short     = fs.Float64("inject-short-writes", 0, "cut this `fraction` of writes short (0 to 1, 1 excluded)")
		eagain    = fs.Float64("inject-eagain", 0, "fail this `fraction` of writes with EAGAIN (0 to 1, 1 excluded)")
		readAgain = fs.Float64("inject-read-eagain", 0, "fail this `fraction` of reads with EAGAIN (0 to 1, 1 excluded)")
		seed      = fs.Int64("seed", 1, "random `seed` for fault injection")
		exitOnEOF = fs.Bool("exit-on-stdin-eof", false, "exit when stdin reaches end of file (the parent died)")
		readBuf   = units.Size(DefaultReadBuf)
		sndBuf    units.Size
		rcvBuf    units.Size
		highWater units.Size
		lowWater  units.Size
		budget    units.Size
	)
	fs.Var(&readBuf, "read-buf", "read buffer `size` (64, 4k, 1MiB), the same for every backend")
	fs.Var(&sndBuf, "sndbuf", "SO_SNDBUF `size` per connection (0: the kernel's)")
	fs.Var(&rcvBuf, "rcvbuf", "SO_RCVBUF `size` per connection (0: the kernel's)")
	fs.Var(&highWater, "high-water", "pause reading while a connection's write buffer is above this `size` (0: default)")
	fs.Var(&lowWater, "low-water", "resume reading below this `size` (0: default)")
	fs.Var(&budget, "output-budget", "pause reading, on every connection with output waiting, while all write buffers together hold more than this `size` (0: 64MiB)")

	if err := cli.ParseFlagsOnly(fs, args); err != nil {
		return Config{}, false, err
	}
	cfg := Config{
		Backend:      *backend,
		Poller:       poller.Options{EdgeTriggered: *edge, SpinSleep: *spin},
		Token:        *token,
		GOMAXPROCS:   *procs,
		ReadBufSize:  readBuf.Int(),
		SndBuf:       sndBuf.Int(),
		RcvBuf:       rcvBuf.Int(),
		HighWater:    highWater.Int(),
		LowWater:     lowWater.Int(),
		OutputBudget: budget.Int(),
		Faults:       Faults{ShortWriteFrac: *short, WriteEAGAINFrac: *eagain, ReadEAGAINFrac: *readAgain, Seed: *seed},
	}
	if cfg.Token == "" {
		cfg.Token = os.Getenv(TokenEnv)
	}
	var err error
	if cfg.Listen, err = loopbackDefault("listen", *listen); err != nil {
		return cfg, false, err
	}
	if cfg.Control, err = loopbackDefault("control", *ctl); err != nil {
		return cfg, false, err
	}
	if cfg.Backend != Stdlib {
		info, ok := poller.Lookup(cfg.Backend)
		if !ok {
			return cfg, false, cli.Usagef("--backend %q: unknown; available: %s", cfg.Backend, Available())
		}
		if *edge && !info.Caps.EdgeTriggered {
			return cfg, false, cli.Usagef("--edge: %s is level-triggered only", cfg.Backend)
		}
	} else if *edge || *spin != 0 || budget != 0 {
		return cfg, false, cli.Usagef("--edge, --spin-sleep and --output-budget apply to poller backends, not stdlib")
	}
	if *spin < 0 {
		return cfg, false, cli.Usagef("--spin-sleep %v: want a duration >= 0, e.g. 100us", *spin)
	}
	if *procs < 0 {
		return cfg, false, cli.Usagef("--gomaxprocs %d: want 0 (leave it) or more", *procs)
	}
	if cfg.ReadBufSize < 1 {
		return cfg, false, cli.Usagef("--read-buf 0: want at least 1 byte")
	}
	if cfg.HighWater > 0 && cfg.LowWater > cfg.HighWater {
		return cfg, false, cli.Usagef("--low-water %d above --high-water %d", cfg.LowWater, cfg.HighWater)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"inject-short-writes", *short}, {"inject-eagain", *eagain}, {"inject-read-eagain", *readAgain}} {
		if !(f.v >= 0 && f.v <= 1) {
			return cfg, false, cli.Usagef("--%s %v: want a fraction between 0 and 1", f.name, f.v)
		}
		if f.v == 1 {
			return cfg, false, cli.Usagef("--%s 1: want a fraction below 1, or no call would ever get through", f.name)
		}
		if f.v > 0 && cfg.Backend == Stdlib {
			return cfg, false, cli.Usagef("--%s: fault injection needs a poller backend, not stdlib", f.name)
		}
	}
	if *cpus != "" {
		list, err := sysstat.ParseCPUList(*cpus)
		if err != nil {
			return cfg, false, cli.Usagef("--cpus %q: want CPU numbers like 0 or 0,1 or 0-3", *cpus)
		}
		if err := sysstat.CheckCPUs(list); err != nil {
			return cfg, false, cli.Usagef("--cpus %s: %v", *cpus, strings.TrimPrefix(err.Error(), "sysstat: "))
		}
		cfg.CPUs = list
	}
	return cfg, *exitOnEOF, nil
}

// loopbackDefault fills in 127.0.0.1 for an address without a host, so
// that nothing listens beyond this machine unless asked by name.
func loopbackDefault(flagName, addr string) (string, error) {
	if !strings.Contains(addr, ":") {
		addr = ":" + addr
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return "", cli.Usagef("--%s %q: want host:port or :port, e.g. 127.0.0.1:0", flagName, addr)
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return "", cli.Usagef("--%s %q: bad port %q", flagName, addr, port)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}
