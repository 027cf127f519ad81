package soak

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/muxbench/muxbench/bench"
	"github.com/muxbench/muxbench/fault"
	"github.com/muxbench/muxbench/internal/cli"
	"github.com/muxbench/muxbench/internal/units"
	"github.com/muxbench/muxbench/poller"
	"github.com/muxbench/muxbench/protocol"
	"github.com/muxbench/muxbench/server"
	"github.com/muxbench/muxbench/sysstat"

	// Every backend of this platform.
	_ "github.com/muxbench/muxbench/poller/all"
)

// Command is `muxbench soak`. It returns the exit status: 0 when every
// backend passed, 1 when one failed, 2 for bad input, 130 when
// interrupted (the verdict so far is still printed).

func Command(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stdout)
	if err != nil {
		return cli.Exit("muxbench soak", err, stderr)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Fprintln(stderr, describe(cfg))
	out := Run(ctx, cfg, stderr)
	ok := Print(stdout, out)
	switch {
	case ctx.Err() != nil:
		return 130
	case !ok || len(out) < len(cfg.Backends):
		return 1
	}
	return 0
}

// maxSoak bounds --duration: a week, shared out between the backends.
const maxSoak = 7 * 24 * time.Hour

// maxChurn bounds --churn: far beyond what one machine can accept, and
// small enough for the churn driver's arithmetic.
const maxChurn = 1_000_000

const soakUsage = `usage: muxbench soak [--backend LIST] [--duration D] [-o DIR] [flags]

Soaks every backend in turn under a verified load with fault injection,
connection churn and hostile peers, and fails on any integrity error,
leaked descriptor, mishandled peer or unbounded memory. Progress goes to
stderr, the verdict to stdout.`

func parseFlags(args []string, stdout io.Writer) (Config, error) {
	fs := cli.NewFlagSet("soak", soakUsage, stdout)
	maxRSS := units.Size(256 << 20)
	maxPeak := units.Size(DefaultMaxPeakRSSGrowth)
	var (
		duration = fs.Duration("duration", 5*time.Minute, "total `duration`, shared out evenly between the backends")
		backends = fs.String("backend", "all", "comma-separated `list` of backends, or all: "+strings.Join(poller.All(true), ", ")+" ("+poller.EdgeSuffix+": edge-triggered; "+poller.Stdlib+" runs without injection), each with +loopsN for N server loops, +"+server.AcceptExclusive+" for one listener they share and +"+KernelBufs+" for the kernel's socket buffer sizes; all adds "+strings.Join(append(loopsCases(poller.Default()), kernelBufsCases(poller.All(false))...), ", "))
		inject   = fs.Float64("inject", 0.05, "`fraction` of server writes cut short, of writes and of reads failed with EAGAIN (0 turns injection off)")
		churn    = fs.Int("churn", 200, "replace this `rate` of connections per second, half with an orderly close and half with a reset (0: none)")
		churnK   = fs.Int("churn-conns", fault.DefaultChurnConns, "keep this many churned `connections` open")
		hostile  = fs.Int("hostile", fault.DefaultHostilePeer, "run this many hostile `peers` at a time, cycling every kind (0: none)")
		conns    = fs.Int("conns", 32, "`connections` of verified ping-pong load")
		crowd    = fs.Int("never-readers", DefaultNeverReaders, "hold this many `peers` that push without reading, all through the load (0: none)")
		idle     = fs.Duration("idle-window", time.Second, "after the load, watch the idle server's CPU for this `duration` (0: no check)")
		idleN    = fs.Int("idle-conns", DefaultIdleConns, "hold this many idle `connections` through the idle check (fewer where the backend or the descriptor limit cannot take them)")
		idleCPU  = fs.Float64("max-idle-cpu", 0.05, "fail a backend whose idle event loops use more than this `fraction` of a CPU (the whole process for stdlib; spinning backends excepted)")
		msgSize  = units.Size(1024)
		outDir   = fs.String("out", "", "write one result file per backend into this `directory`")
	)
	cli.Alias(fs, "o", "out")
	fs.Var(&msgSize, "msg-size", "ping-pong message `size`")
	fs.Var(&maxRSS, "max-rss-growth", "fail a backend whose server memory grows by more than this `size`")
	fs.Var(&maxPeak, "max-peak-rss-growth", "fail a backend whose server memory peaks more than this `size` above its start")
	if err := cli.ParseFlagsOnly(fs, args); err != nil {
		return Config{}, err
	}
	cfg := Config{
		Duration: *duration, Inject: *inject, Churn: *churn, ChurnConns: *churnK,
		HostilePeers: *hostile, Conns: *conns, MsgSize: msgSize.Int(),
		MaxRSSGrowth: int64(maxRSS), OutDir: *outDir,
		NeverReaders: *crowd, MaxPeakRSSGrowth: int64(maxPeak),
		IdleWindow: *idle, IdleConns: *idleN, MaxIdleCPU: *idleCPU,
	}
	var err error
	if cfg.Backends, cfg.Skipped, err = backendList(*backends); err != nil {
		return cfg, fmt.Errorf("--backend %q: %w", *backends, err)
	}
	if err := cfg.check(); err != nil {
		return cfg, err
	}
	if err := cfg.checkDescriptors(); err != nil {
		return cfg, err
	}
	if cfg.OutDir != "" {
		if err := cli.CheckDir("out", cfg.OutDir); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

// backendList reads --backend as run reads its own (poller.WalkList),
// each name a soak case, and all with the edge-triggered variants, the
// multi-loop cases of the platform's own backend and the uring engine
// with the kernel's buffers. skipped says what all left out here and why.
func backendList(v string) (cases, skipped []string, err error) {
	skipped, all, err := poller.WalkList(v, true, false, func(n string) error {
		if _, err := parseCase(n); err != nil {
			return err
		}
		cases = append(cases, n)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if all {
		var more []string
		if d := poller.Default(); slices.Contains(cases, d) {
			more = loopsCases(d)
		}
		for _, c := range append(more, kernelBufsCases(cases)...) {
			if !slices.Contains(cases, c) {
				cases = append(cases, c)
			}
		}
	}
	return cases, skipped, nil
}

// check holds every bound on the soak's figures, naming the flag.
func (cfg Config) check() error {
	switch {
	case cfg.Duration <= 0 || cfg.Duration > maxSoak:
		return fmt.Errorf("--duration %v: want a positive duration up to %v, e.g. 5m", cfg.Duration, maxSoak)
	case cfg.Duration/time.Duration(len(cfg.Backends)) < minSlice:
		return fmt.Errorf("--duration %v is too short for %d backends: give each at least %v", cfg.Duration, len(cfg.Backends), minSlice)
	case !(cfg.Inject >= 0 && cfg.Inject < 1):
		return fmt.Errorf("--inject %v: want a fraction from 0 up to, not including, 1", cfg.Inject)
	case cfg.Churn < 0 || cfg.Churn > maxChurn:
		return fmt.Errorf("--churn %d: want 0 to %d connections per second", cfg.Churn, maxChurn)
	case cfg.HostilePeers < 0 || cfg.HostilePeers > bench.MaxConns:
		return fmt.Errorf("--hostile %d: want 0 to %d", cfg.HostilePeers, bench.MaxConns)
	case cfg.Churn > 0 && cfg.ChurnConns < 1 || cfg.ChurnConns > bench.MaxConns:
		return fmt.Errorf("--churn-conns %d: want 1 to %d", cfg.ChurnConns, bench.MaxConns)
	case cfg.Conns < 1 || cfg.Conns > bench.MaxConns:
		return fmt.Errorf("--conns %d: want 1 to %d", cfg.Conns, bench.MaxConns)
	case cfg.MsgSize < protocol.MinMsgSize || cfg.MsgSize > protocol.MaxMsgSize:
		return fmt.Errorf("--msg-size %d: want %d B to 16 MiB", cfg.MsgSize, protocol.MinMsgSize)
	case cfg.MaxRSSGrowth <= 0:
		return errors.New("--max-rss-growth: want a positive size")
	case cfg.MaxPeakRSSGrowth <= 0:
		return errors.New("--max-peak-rss-growth: want a positive size")
	case cfg.NeverReaders < 0 || cfg.NeverReaders > bench.MaxConns:
		return fmt.Errorf("--never-readers %d: want 0 to %d", cfg.NeverReaders, bench.MaxConns)
	case cfg.IdleWindow < 0 || cfg.IdleWindow > time.Hour:
		return fmt.Errorf("--idle-window %v: want 0 to 1h", cfg.IdleWindow)
	case cfg.IdleConns < 0 || cfg.IdleConns > bench.MaxConns:
		return fmt.Errorf("--idle-conns %d: want 0 to %d", cfg.IdleConns, bench.MaxConns)
	case !(cfg.MaxIdleCPU >= 0 && cfg.MaxIdleCPU <= 1):
		return fmt.Errorf("--max-idle-cpu %v: want a fraction from 0 to 1", cfg.MaxIdleCPU)
	}
	return nil
}

// descriptorSlack covers what the soak and its server open besides the
// connections: pollers, listeners, control channels, pipes, the runtime.
const descriptorSlack = 64

// checkDescriptors refuses a soak whose connections cannot all be open at
// once: the soak holds each one and its server holds the other end, each
// under the same limit.
func (cfg Config) checkDescriptors() error {
	need := cfg.Conns + cfg.HostilePeers + cfg.NeverReaders + descriptorSlack
	if cfg.Churn > 0 {
		need += cfg.ChurnConns
	}
	lim, err := sysstat.RaiseNoFile()
	if err != nil || uint64(need) <= lim.Soft {
		return nil // where the limit cannot be read, the soak says what ran out
	}
	return fmt.Errorf("--conns %d, --never-readers %d, --hostile %d and --churn-conns %d need %d descriptors in each process, the limit is %d: lower them or allow more with `ulimit -n %d`",
		cfg.Conns, cfg.NeverReaders, cfg.HostilePeers, cfg.ChurnConns, need, lim.Soft, need)
}

func describe(cfg Config) string {
	inj := "off"
	if cfg.Inject > 0 {
		inj = fmt.Sprintf("%g of writes short, of writes and of reads EAGAIN", cfg.Inject)
		if slices.ContainsFunc(cfg.Backends, func(b string) bool { return base(b) == poller.Stdlib }) {
			inj += " (stdlib: none, it writes through the Go runtime)"
		}
	}
	skipped := ""
	for _, s := range cfg.Skipped {
		skipped += "\n  skipped " + s
	}
	idle := "off"
	if cfg.IdleWindow > 0 {
		idle = fmt.Sprintf("%v holding %d idle connections, at most %g%% of a CPU", cfg.IdleWindow, cfg.IdleConns, 100*cfg.MaxIdleCPU)
	}
	return fmt.Sprintf("muxbench soak: %s, %v each%s\n  load: %d verified ping-pong connections of %d B\n  injection: %s\n  churn: %d connections/s among %d\n  hostile peers: %d at a time, kinds %s\n  never-reading peers held through the load: %d\n  idle check after the load: %s",
		strings.Join(cfg.Backends, ", "), (cfg.Duration / time.Duration(len(cfg.Backends))).Round(100*time.Millisecond), skipped,
		cfg.Conns, cfg.MsgSize, inj, cfg.Churn, cfg.ChurnConns, cfg.HostilePeers, strings.Join(fault.Kinds, ", "), cfg.NeverReaders, idle)
}

// Print writes the verdict: one line per backend, the hostile peers per
// kind, the reasons for each FAIL, and the overall verdict, which it
// returns (true for PASS).
func Print(w io.Writer, out []*Outcome) bool {
	fmt.Fprintln(w)
	printBackends(w, out)
	fmt.Fprintln(w)
	printHostile(w, out)
	pass, npass := len(out) > 0, 0
	for _, o := range out {
		if o.Pass() {
			npass++
			continue
		}
		pass = false
		fmt.Fprintf(w, "\n%s FAIL:\n", o.Backend)
		for _, f := range o.Failures {
			fmt.Fprintf(w, "  %s\n", f)
		}
	}
	verdict := "PASS"
	if !pass {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "\noverall: %s (%d of %d backends passed)\n", verdict, npass, len(out))
	return pass
}

// printBackends writes the table of a line per backend, then how each
// multi-loop server spread its connections over its loops.
func printBackends(w io.Writer, out []*Outcome) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "backend\tround trips\tinjected short/wEAGAIN/rEAGAIN\treal short/wEAGAIN/rEAGAIN\tchurned (reset)\tintegrity errors\tfd growth\tRSS growth\tpeak\tidle CPU loops/process\tverdict\t")
	for _, o := range out {
		fmt.Fprintln(tw, o.row())
	}
	tw.Flush()
	for _, o := range out {
		if la := o.After.Options.LoopAccepts; len(la) > 1 {
			counts := make([]string, len(la))
			for i, n := range la {
				counts[i] = fmt.Sprint(n)
			}
			fmt.Fprintf(w, "%s: connections per loop %s (%s)\n", o.Backend, strings.Join(counts, "/"), o.After.Options.Accept)
		}
	}
}

// row is the backend's line of the verdict's table, its cells ended by
// tabs.
func (o *Outcome) row() string {
	var rts, churned, resets, integ uint64
	if r := o.Result; r != nil {
		rts = r.RoundTrips
		integ = r.Integrity.Errors()
		if f := r.Faults; f != nil {
			churned, resets = f.Churned, f.ChurnResets
			integ += f.IntegrityErrors + f.ConnFailures
		}
	}
	inj := "off"
	if o.Injected {
		i := o.After.Injected
		inj = fmt.Sprintf("%d/%d/%d", i["short_writes"], i["write_eagain"], i["read_eagain"])
	}
	real := "n/a" // the stdlib server cannot see its short writes
	if base(o.Backend) != poller.Stdlib {
		io := o.After.IO
		real = fmt.Sprintf("%d/%d/%d", io.ShortWrites, io.WriteEAGAIN, io.ReadEAGAIN)
	}
	fd := "n/a"
	if o.FDKnown {
		fd = fmt.Sprintf("%+d", o.FDGrowth)
	}
	verdict := "PASS"
	if !o.Pass() {
		verdict = "FAIL"
	}
	idle := "-"
	switch {
	case o.IdleCPU >= 0 && o.Spins:
		idle = fmt.Sprintf("%.1f%%/%.1f%% (spins)", 100*o.IdleCPU, 100*o.IdleProcCPU)
	case o.IdleCPU >= 0:
		idle = fmt.Sprintf("%.1f%%/%.1f%%", 100*o.IdleCPU, 100*o.IdleProcCPU)
	}
	return fmt.Sprintf("%s\t%d\t%s\t%s\t%d (%d)\t%d\t%s\t%s\t%s\t%s\t%s\t", o.Backend, rts, inj,
		real, churned, resets, integ, fd, signedSize(o.RSSGrowth), signedSize(o.PeakRSSGrowth), idle, verdict)
}

// printHostile writes the hostile peers' table: for each backend and
// kind, the peers that met what they expected of the ones run, and what
// a never-reading peer got through.
func printHostile(w io.Writer, out []*Outcome) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	kinds := append(slices.Clone(fault.Kinds), fault.NeverReadCrowd)
	fmt.Fprintf(tw, "hostile peers (as expected/run)\t%s\ttaken from a never-read peer\t\n", strings.Join(kinds, "\t"))
	for _, o := range out {
		fmt.Fprintf(tw, "%s", o.Backend)
		var hs []string
		got := "-"
		if f := o.Result; f != nil && f.Faults != nil {
			byKind := map[string]string{}
			for _, h := range f.Faults.Hostile {
				byKind[h.Kind] = fmt.Sprintf("%d/%d", h.Expected, h.Attempted)
			}
			for _, k := range kinds {
				if v, ok := byKind[k]; ok {
					hs = append(hs, v)
				} else {
					hs = append(hs, "-")
				}
			}
			if n := f.Faults.NeverReadMaxBytes; n > 0 {
				// What backpressure let through, both ends' socket
				// buffers included.
				got = fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
			}
		}
		for range len(kinds) - len(hs) {
			hs = append(hs, "-")
		}
		hs = append(hs, got)
		fmt.Fprintf(tw, "\t%s\t\n", strings.Join(hs, "\t"))
	}
	tw.Flush()
}

func signedSize(n int64) string {
	return fmt.Sprintf("%+.1f MiB", float64(n)/(1<<20))
}
