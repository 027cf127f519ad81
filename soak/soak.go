// Package soak is `muxbench soak`: every backend in turn under a verified
// ping-pong load, with fault injection in the server (short writes, write
// and read EAGAIN), connections churned and hostile peers beside the load,
// ending in a verdict per backend that fails on any integrity error, any
// leaked descriptor, a hostile peer the server mishandled, memory that
// grew past a bound at its peak or at the end, or CPU spent once the
// load has stopped.
package soak

import (
	"context"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/muxbench/muxbench/bench"
	"github.com/muxbench/muxbench/control"
	"github.com/muxbench/muxbench/fault"
	"github.com/muxbench/muxbench/poller"
	"github.com/muxbench/muxbench/reactor"
	"github.com/muxbench/muxbench/result"
	"github.com/muxbench/muxbench/server"
	"github.com/muxbench/muxbench/sysstat"
)

// Config is one soak. Command fills it from flags.
type Config struct {
	// Duration is shared out evenly between Backends.
	Duration time.Duration
	// Backends are catalogue names (poller.Resolve): "epoll-et" runs
	// epoll edge-triggered, its own soak since the reactor takes other
	// paths there (reads and writes until EAGAIN, replays after an
	// injected EAGAIN); an engine such as poller.Stdlib runs without
	// injection, as it writes through the Go runtime, out of our reach.
	Backends []string
	// Skipped are the names "all" left out on this machine, with why.
	Skipped []string
	// Inject is the fraction of writes cut short, of writes failed with
	// EAGAIN and of reads failed with EAGAIN; 0 turns injection off.
	Inject float64
	// Churn connections per second are replaced among ChurnConns.
	Churn, ChurnConns int
	// HostilePeers run at a time, cycling the kinds; 0 turns them off.
	HostilePeers int
	// Conns and MsgSize are the verified ping-pong load.
	Conns, MsgSize int
	// MaxRSSGrowth is how much the server's resident memory may grow
	// over a backend's soak, measured once every connection has closed.
	MaxRSSGrowth int64
	// NeverReaders peers push without reading and hold their connections
	// for the whole load (fault.Config.NeverReaders).
	NeverReaders int
	// MaxPeakRSSGrowth bounds the server's peak resident memory above
	// what it used at the start: the never-readers and the hostile peers
	// must not push it further while they are connected.
	MaxPeakRSSGrowth int64
	// IdleWindow is how long the server is watched once the load has
	// stopped and every connection closed, holding IdleConns new ones
	// that send nothing; it may use MaxIdleCPU of one CPU then (backends
	// that spin by design are not judged). Zero skips the check.
	IdleWindow time.Duration
	IdleConns  int
	MaxIdleCPU float64
	// OutDir, if set, receives one result file per backend.
	OutDir string
}

// Defaults of the never-reading crowd and the bound on peak memory: 500
// peers that each could hold a transport's whole high-water mark (1 MiB)
// would take 500 MiB; the reactor's output budget (64 MiB) plus one read
// buffer per connection (64 KiB) keeps them near 100 MiB.
const (
	DefaultNeverReaders     = 500
	DefaultMaxPeakRSSGrowth = 192 << 20
)

// DefaultIdleConns are held through the idle check: an idle loop must
// sleep however many descriptors it watches, and poll and select pay for
// every one of them each time they wake.
const DefaultIdleConns = 5000

// serverSndBuf is the soak server's SO_SNDBUF.
const serverSndBuf = 64 << 10

// minSlice is the shortest soak per backend: start-up, a warm-up, a
// window of a few seconds and the wait for connections to close.
const minSlice = 3 * time.Second

// settleTimeout bounds the wait for the server to close every connection
// once the load and the drivers have closed theirs.
const settleTimeout = 15 * time.Second

// Outcome is one backend's soak.
type Outcome struct {
	Backend string
	// Injected tells whether fault injection was on in the server.
	Injected bool
	// Result is the load's result, its Faults section filled in; nil if
	// the load could not run.
	Result *result.Result
	// Before is the idle server at the start, After once every
	// connection has closed at the end.
	Before, After control.Stats
	// FDGrowth is open descriptors after minus before; FDKnown is false
	// where the server cannot count them.
	FDGrowth  int
	FDKnown   bool
	RSSGrowth int64
	// PeakRSSGrowth is the server's peak RSS minus its RSS at the start.
	PeakRSSGrowth int64
	// IdleCPU is the CPU the server's event loops used (its whole
	// process where it has no loop thread: stdlib), as a fraction of one
	// CPU, over IdleWindow after the load; IdleProcCPU the whole
	// process's. -1 when not measured. IdleConns is how many idle
	// connections the server held then, of the IdleWant asked. Spins is
	// set for a backend that burns CPU while idle by design.
	IdleCPU, IdleProcCPU float64
	IdleConns, IdleWant  int
	Spins                bool
	// Failures are the reasons for a FAIL, in words.
	Failures []string
}

// Pass reports whether the backend survived everything.
func (o *Outcome) Pass() bool { return len(o.Failures) == 0 }

func (o *Outcome) failf(format string, a ...any) {
	o.Failures = append(o.Failures, fmt.Sprintf(format, a...))
}

// Run soaks each backend in turn and returns their outcomes; progress,
// if not nil, gets a line as each one starts. It stops early when ctx
// ends, with the outcomes so far (the last one failed as interrupted).
func Run(ctx context.Context, cfg Config, progress io.Writer) []*Outcome {
	slice := cfg.Duration / time.Duration(len(cfg.Backends))
	var out []*Outcome
	for i, b := range cfg.Backends {
		if ctx.Err() != nil {
			break
		}
		if progress != nil {
			fmt.Fprintf(progress, "soak %s (%d/%d) for %v...\n", b, i+1, len(cfg.Backends), slice.Round(100*time.Millisecond))
		}
		out = append(out, soakOne(ctx, cfg, b, slice))
	}
	return out
}

// soakOne soaks the case called backend for slice.
func soakOne(ctx context.Context, cfg Config, backend string, slice time.Duration) *Outcome {
	o := &Outcome{Backend: backend, IdleCPU: -1, IdleProcCPU: -1}
	sc, err := parseCase(backend)
	if err != nil {
		o.failf("server: %v", err)
		return o
	}
	choice := sc.choice
	// The uring engine injects short sends, the one fault it can fake.
	o.Injected = cfg.Inject > 0 && (!choice.Engine || choice.Backend == server.Uring)
	if info, ok := poller.Lookup(choice.Backend); ok {
		o.Spins = info.Caps.Spins
	}
	scfg := sc.soakServer(cfg.Inject, o.Injected)
	ch, err := server.Spawn(ctx, server.SpawnConfig{Args: scfg.Args()})
	if err != nil {
		o.failf("server: %v", err)
		return o
	}
	defer ch.Stop()
	if o.Before, err = ch.Control.Stats(); err != nil {
		o.failf("server stats at the start: %v", err)
		return o
	}
	if !o.load(ctx, cfg, ch, choice, slice) {
		return o
	}
	o.settle(ch.Control)
	if cfg.IdleWindow > 0 && o.After.Conns == 0 && ch.Alive() == nil {
		o.IdleWant = idleConnsFor(cfg.IdleConns, choice.Backend)
		if err := o.idleCPU(ctx, ch.Control, ch.Ready.Listen, cfg.IdleWindow); err != nil {
			o.failf("idle check: %v", err)
		}
	}
	if err := ch.Alive(); err != nil {
		o.failf("%v", err)
	}
	o.judge(cfg)
	if cfg.OutDir != "" && o.Result != nil {
		path := filepath.Join(cfg.OutDir, "soak-"+backend+".json")
		if err := result.WriteFile(path, o.Result); err != nil {
			o.failf("saving the result: %v", err)
		}
	}
	return o
}

// load runs the verified load against ch, the faults beside it for the
// whole of it, warm-up included, and keeps what they found in o. It
// reports false when ctx ended, o failed as interrupted.
func (o *Outcome) load(ctx context.Context, cfg Config, ch *server.Child, choice poller.Choice, slice time.Duration) bool {
	warmup := min(time.Second, slice/8)
	window := slice - warmup - minSlice/3
	fctx, stopFaults := context.WithCancel(ctx)
	defer stopFaults()
	faults := startFaults(fctx, fault.Config{
		Target: ch.Ready.Listen, Churn: cfg.Churn, ChurnConns: cfg.ChurnConns,
		Hostile: cfg.HostilePeers > 0, HostilePeers: cfg.HostilePeers,
		NeverReaders: cfg.NeverReaders,
	})
	res, err := bench.Run(ctx, bench.Config{
		Target: ch.Ready.Listen, Control: ch.Ready.Control, Token: ch.Token, ServerPID: ch.Ready.PID,
		Conns: cfg.Conns, MsgSize: cfg.MsgSize, Duration: window, Warmup: warmup, NoPin: true,
		Extra: map[string]string{"soak": "true"},
	})
	stopFaults()
	fr := <-faults
	if err == nil {
		o.Result = res
		res.Params.Backend = choice.Backend
		if choice.Edge {
			res.Params.Extra["edge"] = "true"
		}
		res.Faults = fr.rep
	}
	switch {
	case ctx.Err() != nil:
		// What the server counted so far; no settling, no leak check.
		if st, err := ch.Control.Stats(); err == nil {
			o.After = st
		}
		o.failf("interrupted")
		return false
	case err != nil:
		o.failf("load: %v", err)
	case res.Partial:
		o.failf("load cut short: %s", strings.Join(res.Warnings, "; "))
	}
	if fr.err != nil {
		o.failf("faults: %v", fr.err)
	}
	return true
}

// faultsDone is what the fault drivers found, once they stopped.
type faultsDone struct {
	rep *fault.Report
	err error
}

// startFaults runs the drivers fcfg asks for until ctx ends; the channel
// gets what they found then, at once if fcfg asks for none.
func startFaults(ctx context.Context, fcfg fault.Config) <-chan faultsDone {
	fch := make(chan faultsDone, 1)
	if fcfg.Churn > 0 || fcfg.Hostile || fcfg.NeverReaders > 0 {
		go func() {
			rep, err := fault.Run(ctx, fcfg)
			fch <- faultsDone{rep, err}
		}()
	} else {
		fch <- faultsDone{}
	}
	return fch
}

// settle waits, up to settleTimeout, for the server to be back where it
// started once everything of ours is closed, and keeps in o.After where
// it got to.
func (o *Outcome) settle(c *control.Client) {
	deadline := time.Now().Add(settleTimeout)
	for {
		st, err := c.Stats()
		if err != nil {
			o.failf("server stats at the end: %v", err)
			return
		}
		o.After = st
		if st.Conns == 0 && (st.OpenFDs == o.Before.OpenFDs || st.OpenFDs < 0) || time.Now().After(deadline) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// idleQuiet is left to the server after the load, before the idle window
// opens: the last closes and a garbage collection are not idling.
const idleQuiet = time.Second

// idleAccept bounds the wait for the server to accept the idle
// connections.
const idleAccept = 15 * time.Second

// idleConnsFor is how many idle connections the check holds for
// backend: want, within the backend's descriptor range and this
// process's descriptor limit (the server's is the same).
func idleConnsFor(want int, backend string) int {
	if info, ok := poller.Lookup(backend); ok && info.Caps.MaxFD > 0 {
		want = min(want, info.Caps.MaxFD-fdSpare)
	}
	if lim, err := sysstat.NoFile(); err == nil && lim.Soft < uint64(want+fdSpare) {
		want = int(lim.Soft) - fdSpare
	}
	return max(want, 0)
}

// fdSpare are descriptors left for everything but the idle connections.
const fdSpare = 128

// idleCPU measures the CPU the server's event loops, and its whole
// process, used over d while holding o.IdleWant connections that send
// nothing, as fractions of one CPU. A loop that spins or wakes for
// nothing shows in the first, apart from the runtime's own after-load
// work (the scavenger returning freed memory, a collection), which has
// taken up to 7% of a CPU over a second on a loaded machine; a server
// with no loop thread of its own (stdlib) has its process's figure in
// both.
func (o *Outcome) idleCPU(ctx context.Context, c *control.Client, target string, d time.Duration) error {
	conns := make([]net.Conn, 0, o.IdleWant)
	defer func() {
		for _, ic := range conns {
			ic.Close()
		}
	}()
	dialer := net.Dialer{Timeout: idleAccept}
	for len(conns) < o.IdleWant {
		ic, err := dialer.DialContext(ctx, "tcp", target)
		if err != nil {
			return fmt.Errorf("idle connection %d of %d: %w", len(conns)+1, o.IdleWant, err)
		}
		conns = append(conns, ic)
	}
	deadline := time.Now().Add(idleAccept)
	for {
		st, err := c.Stats()
		if err != nil {
			return err
		}
		if st.Conns >= o.IdleWant || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(idleQuiet)
	a, err := c.Stats()
	if err != nil {
		return err
	}
	time.Sleep(d)
	b, err := c.Stats()
	if err != nil {
		return err
	}
	o.IdleConns = min(a.Conns, b.Conns)
	o.IdleCPU, o.IdleProcCPU, err = b.CPUSince(a)
	return err
}

// maxIdleProcCPU bounds the idle server's whole process: above the
// runtime's after-load work, well below a goroutine that spins.
const maxIdleProcCPU = 0.25

// judge adds the failures the figures show.
func (o *Outcome) judge(cfg Config) {
	if o.After.Time.IsZero() {
		return // no end figures: already failed
	}
	o.judgeLeaks(cfg)
	switch {
	case cfg.IdleWindow <= 0 || o.IdleCPU < 0:
	case o.IdleConns < o.IdleWant:
		o.failf("the server held %d of the %d idle connections of the idle check", o.IdleConns, o.IdleWant)
	case o.Spins:
	case o.IdleCPU > cfg.MaxIdleCPU:
		o.failf("the idle server's event loops used %.1f%% of a CPU over %v after the load stopped, with %d idle connections, above the %.1f%% allowed: something spins",
			100*o.IdleCPU, cfg.IdleWindow, o.IdleConns, 100*cfg.MaxIdleCPU)
	case o.IdleProcCPU > max(maxIdleProcCPU, cfg.MaxIdleCPU):
		o.failf("the idle server used %.1f%% of a CPU over %v after the load stopped, with %d idle connections, above the %.0f%% allowed: something spins",
			100*o.IdleProcCPU, cfg.IdleWindow, o.IdleConns, 100*max(maxIdleProcCPU, cfg.MaxIdleCPU))
	}
	// Hashed over SO_REUSEPORT listeners, thousands of connections leave
	// no loop without one unless a loop stopped accepting. A shared
	// listener wakes whichever loop waits: no spread is owed there.
	if so := o.After.Options; so.Accept == server.AcceptReusePort {
		for i, n := range so.LoopAccepts {
			if n == 0 {
				o.failf("loop %d of %d accepted no connection (per loop: %v)", i, len(so.LoopAccepts), so.LoopAccepts)
			}
		}
	}
	if o.Injected {
		inj := o.After.Injected
		eagain := base(o.Backend) != server.Uring // the uring engine fakes no EAGAIN
		if inj["short_writes"] == 0 || eagain && (inj["write_eagain"] == 0 || inj["read_eagain"] == 0) {
			o.failf("injection asked but not all kinds happened: %v", inj)
		}
	}
	if o.Result != nil {
		o.judgeLoad(cfg)
	}
}

// judgeLeaks fails descriptors, connections and memory the server did
// not give back, and memory that peaked too high.
func (o *Outcome) judgeLeaks(cfg Config) {
	o.FDKnown = o.Before.OpenFDs >= 0 && o.After.OpenFDs >= 0
	if o.FDKnown {
		o.FDGrowth = o.After.OpenFDs - o.Before.OpenFDs
		if o.FDGrowth != 0 {
			o.failf("descriptors: %d open at the start, %d once every connection closed", o.Before.OpenFDs, o.After.OpenFDs)
		}
	}
	if o.After.Conns != 0 {
		o.failf("%d connections still open on the server after %v", o.After.Conns, settleTimeout)
	}
	o.RSSGrowth = o.After.RSS - o.Before.RSS
	if o.RSSGrowth > cfg.MaxRSSGrowth {
		o.failf("server RSS grew by %d MiB, above the %d MiB allowed", o.RSSGrowth>>20, cfg.MaxRSSGrowth>>20)
	}
	o.PeakRSSGrowth = o.After.MaxRSS - o.Before.RSS
	peak := cfg.MaxPeakRSSGrowth
	if peak > 0 && base(o.Backend) == server.Uring {
		// The kernel fills the engine's provided receive buffers as
		// data arrives: memory a reactor, reading into one buffer, has
		// not.
		peak += server.UringBuffers * reactor.DefaultReadBufSize
	}
	if peak > 0 && o.PeakRSSGrowth > peak {
		o.failf("server RSS peaked %d MiB above its start, above the %d MiB allowed", o.PeakRSSGrowth>>20, peak>>20)
	}
}

// judgeLoad fails what the load and the fault drivers saw go wrong; when
// anything failed, their errors follow the reasons.
func (o *Outcome) judgeLoad(cfg Config) {
	res := o.Result
	if res.RoundTrips == 0 {
		o.failf("no round trip in the window")
	}
	if n := res.Integrity; n.Errors() > 0 {
		o.failf("load integrity: %d mismatches, %d resets, %d failed connections, %d timeouts", n.Mismatches, n.Resets, n.ConnFailures, n.Timeouts)
	}
	f := res.Faults
	if f == nil {
		return
	}
	if f.IntegrityErrors > 0 || f.ConnFailures > 0 {
		o.failf("churn: %d integrity errors, %d failed connections", f.IntegrityErrors, f.ConnFailures)
	}
	if cfg.Churn > 0 && f.Churned == 0 {
		o.failf("churn asked but no connection was replaced")
	}
	for _, h := range f.Hostile {
		switch {
		case h.Unexpected > 0:
			o.failf("%s: %d of %d peers met a server that misbehaved", h.Kind, h.Unexpected, h.Attempted)
		case h.Attempted == 0:
			o.failf("%s: no peer ran to its end", h.Kind)
		}
	}
	if len(o.Failures) > 0 {
		for _, e := range f.Errors {
			o.failf("  %s", e)
		}
	}
}
