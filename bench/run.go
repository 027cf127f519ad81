package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/control"
	"github.com/muxbench/muxbench/internal/cli"
	"github.com/muxbench/muxbench/poller"
	"github.com/muxbench/muxbench/result"
	"github.com/muxbench/muxbench/server"
	"github.com/muxbench/muxbench/sysstat"
)

// GenBackend is the poller the generator itself uses: the platform's
// own (which gen_*.go registers), the same whatever server is measured.
func GenBackend() string { return poller.Default() }

// Run measures one server under one load. On ctx's end during the window
// it stops the load and returns what was measured, marked Partial; the
// error is non-nil only when nothing could be measured, or when the child
// server crashed: then it is a *server.CrashError, returned with what was
// measured (marked Partial) if the window had begun. A child server is
// always stopped, or killed, before Run returns.
func Run(ctx context.Context, cfg Config) (*result.Result, error) {
	r, err := newRun(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer r.close()
	prevProcs := runtime.GOMAXPROCS(r.res.Env.GOMAXPROCS)
	r.onClose(func() { runtime.GOMAXPROCS(prevProcs) })
	switch {
	case r.cfg.Peer != nil:
		err = r.startPeer()
	case r.cfg.Target == "":
		err = r.startServer()
	default:
		err = r.attachServer()
	}
	if err != nil {
		return nil, err
	}
	r.baseline()
	r.timingFloor()
	if err := r.connect(); err != nil {
		return nil, err
	}
	if err := r.startLoops(); err != nil {
		return nil, err
	}
	if err := r.warmup(); err != nil {
		return nil, r.abort(err)
	}
	w, err := r.window()
	if err != nil {
		return nil, r.abort(err)
	}
	return r.collect(w)
}

// run is one Run in progress: each stage leaves what the next needs.
type run struct {
	ctx        context.Context
	cfg        Config
	genBackend string
	res        *result.Result

	// The server: a child (muxbench's or a peer), or one reached by
	// --target.
	child     exited      // nil for a target
	probe     serverProbe // nil when nothing reads the server's figures
	serverPID int         // 0 if unknown
	target    string
	rssBase   int64

	fds, idle []int // active connections until the loops own them; idle ones
	loops     []*genLoop
	wg        sync.WaitGroup
	progress  *progressor
	released  bool
	undo      []func() // run by close, last first
}

// newRun checks cfg and builds the result's skeleton; nothing is started.
func newRun(ctx context.Context, cfg Config) (*run, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	genBackend := GenBackend()
	if genBackend == "" {
		return nil, fmt.Errorf("no poller backend registered for the generator")
	}
	need := cfg.Conns + cfg.Idle + descriptorSlack
	if lim, err := sysstat.RaiseNoFile(); err == nil && uint64(need) > lim.Soft {
		return nil, cli.Usagef("--conns %d + --idle %d need %d descriptors in each process, the limit is %d: lower them or allow more with `ulimit -n %d`",
			cfg.Conns, cfg.Idle, need, lim.Soft, need)
	}
	r := &run{ctx: ctx, cfg: cfg, genBackend: genBackend, target: cfg.Target}
	r.res = newResult(&r.cfg, genBackend)
	return r, nil
}

// newResult is the result's parameters and environment as cfg (after
// defaults) asks for them, before anything is measured.
func newResult(cfg *Config, genBackend string) *result.Result {
	res := &result.Result{Schema: result.Schema, Env: environment()}
	res.Env.Start = time.Now().UTC()
	res.Params = result.Params{
		Backend: cfg.Server.Backend, Target: cfg.Target, Conns: cfg.Conns, Idle: cfg.Idle,
		MsgSize: cfg.MsgSize, SndBuf: cfg.Server.SndBuf, RcvBuf: cfg.Server.RcvBuf, ReadBufSize: cfg.Server.ReadBufSize,
		DurationSec: cfg.Duration.Seconds(), WarmupSec: cfg.Warmup.Seconds(), Rate: cfg.Rate,
		GenLoops: cfg.loops(), ServerCPU: cfg.Server.CPUs, GenCPU: cfg.GenCPUs,
		Extra: map[string]string{},
	}
	for k, v := range cfg.Extra {
		res.Params.Extra[k] = v
	}
	res.Params.Extra["generator_poller"] = genBackend
	if cfg.unpinned {
		res.SetUnavailable(result.UnavailablePinning)
	}
	// A P per loop and one for the rest, as for the server.
	res.Env.GOMAXPROCS = cfg.loops() + 1
	if cfg.GenSpin {
		res.Params.Extra["gen_spin"] = "true"
	}
	if cfg.GenPollOnly {
		res.Params.Extra["gen_blocking_read"] = "false"
	}
	if cfg.Target != "" {
		res.Params.Backend = External
		return res
	}
	if cfg.Peer != nil {
		res.Params.Backend = cfg.Peer.Name
		return res
	}
	if cfg.Server.Poller.EdgeTriggered {
		res.Params.Extra["edge"] = "true"
	}
	if cfg.Server.Poller.SpinSleep > 0 {
		res.Params.Extra["spin_sleep"] = cfg.Server.Poller.SpinSleep.String()
	}
	// The server is this binary, built as this one is.
	if info, ok := poller.Lookup(cfg.Server.Backend); ok && info.Emulation != "" {
		res.Params.Extra[result.ExtraEmulation] = info.Emulation
	}
	res.Params.Extra["server_args"] = strings.Join(cfg.Server.Args(), " ")
	res.Params.Extra["server_gomaxprocs"] = fmt.Sprint(cfg.Server.GOMAXPROCS)
	return res
}

// onClose has close undo a stage's effect.
func (r *run) onClose(f func()) { r.undo = append(r.undo, f) }

// close undoes every stage, the last first: the child server is stopped
// last of all.
func (r *run) close() {
	for i := len(r.undo) - 1; i >= 0; i-- {
		r.undo[i]()
	}
	r.undo = nil
}

// startServer starts the child server and reads it over its control
// channel.
func (r *run) startServer() error {
	ch, err := startChild(r.ctx, &r.cfg)
	if err != nil {
		return err
	}
	r.onClose(func() { stopChild(ch, r.cfg.Hurry) })
	r.child = ch
	r.target = ch.Ready.Listen
	r.res.Params.Target = r.target
	r.res.Params.Extra["server_pid"] = fmt.Sprint(ch.Ready.PID)
	r.probe = &controlProbe{c: ch.Control, pid: ch.Ready.PID, child: ch}
	r.serverPID = ch.Ready.PID
	r.res.Warnings = append(r.res.Warnings, bufWarnings(&r.cfg)...)
	r.res.Warnings = append(r.res.Warnings, pinWarnings(&r.cfg)...)
	return nil
}

// startPeer starts the peer and reads it from /proc.
func (r *run) startPeer() error {
	p, err := r.cfg.Peer.Start(r.ctx, r.cfg.Server.Listen, r.cfg.Server.CPUs)
	if err != nil {
		return err
	}
	r.onClose(func() { stopChild(p, r.cfg.Hurry) })
	r.child = p
	r.target = p.Addr
	r.res.Params.Target = p.Addr
	r.res.Params.Extra["server_pid"] = fmt.Sprint(p.PID)
	cp := r.cfg.Peer
	r.res.Peer = &result.Peer{Name: cp.Name, Multiplexer: cp.Multiplexer, Family: cp.Family, Language: cp.Language,
		Reference: cp.Reference, Library: p.Library, Loop: p.Loop, Command: strings.Join(p.Command, " ")}
	if len(r.cfg.Server.CPUs) > 0 {
		// Inherited from the thread that started it: checked, not assumed.
		if got, err := sysstat.ThreadAffinity(p.PID); err == nil && sysstat.FormatCPUList(got) != sysstat.FormatCPUList(r.cfg.Server.CPUs) {
			r.res.Warnings = append(r.res.Warnings, fmt.Sprintf("peer not pinned: it runs on CPUs %s, not %s",
				sysstat.FormatCPUList(got), sysstat.FormatCPUList(r.cfg.Server.CPUs)))
		}
	}
	r.probe = &peerProbe{pidProbe: pidProbe{pid: p.PID}, p: p}
	r.serverPID = p.PID
	return nil
}

// attachServer finds how to read --target's figures: its control channel
// (--control), its process (--server-pid), or nothing. A value that
// cannot work is a usage error, found before any load; a server that
// refuses the run (a wrong token, no place for it) fails it.
func (r *run) attachServer() error {
	cfg := &r.cfg
	switch {
	case cfg.Control != "":
		ctl, err := control.Dial(cfg.Control, cfg.Token, 10*time.Second)
		switch {
		case errors.Is(err, control.ErrRefused):
			return fmt.Errorf("--control %s: %v (check --token)", cfg.Control, err)
		case err != nil:
			return cli.Usagef("--control %s: %v", cfg.Control, err)
		}
		r.onClose(func() { ctl.Close() })
		r.probe = &controlProbe{c: ctl, pid: cfg.ServerPID}
		r.serverPID = cfg.ServerPID
		// Ask once now: a wrong token is the user's to fix before any
		// load, and the server names its own backend.
		st, err := r.probe.sample()
		switch {
		case errors.Is(err, control.ErrRefused):
			return fmt.Errorf("--control %s: %v", cfg.Control, err)
		case err != nil:
			return cli.Usagef("--control %s: %v", cfg.Control, err)
		case st.backend != "":
			r.res.Params.Backend = st.backend
		}
	case cfg.ServerPID > 0:
		_, err := pidCPU(cfg.ServerPID)
		switch {
		case errors.Is(err, sysstat.ErrUnavailable):
			// The load still measures; only the server's side is missing.
			r.res.SetUnavailable(result.UnavailableServerCPU)
		case err != nil:
			return cli.Usagef("--server-pid %d: %v", cfg.ServerPID, err)
		default:
			r.probe = &pidProbe{pid: cfg.ServerPID}
			r.serverPID = cfg.ServerPID
		}
	}
	return nil
}

// baseline reads the server's memory before the first connection, so
// that RSS per connection is what connections add.
func (r *run) baseline() {
	if r.probe == nil {
		return
	}
	s, err := r.probe.sample()
	if err != nil {
		return
	}
	r.rssBase = s.rss
	// A server reached over loopback runs here: its CPU can be read
	// between stats calls, for the noise series.
	if r.serverPID == 0 && s.pid > 0 && s.pid != os.Getpid() && control.IsLoopback(r.cfg.Control) {
		r.serverPID = s.pid
		r.res.Params.Extra["server_pid"] = fmt.Sprint(s.pid)
	}
}

// timingFloor measures, for an open loop, how punctual any sender could
// be on the generator's (first) CPU, before the load begins: spinning,
// and pacing itself at the run's rate as a generator loop will.
func (r *run) timingFloor() {
	if r.cfg.Rate <= 0 {
		return
	}
	cpu := -1
	if len(r.cfg.GenCPUs) > 0 {
		cpu = r.cfg.GenCPUs[0]
	}
	f := measureFloor(cpu, floorProbe)
	r.res.SendLatenessFloor = &f
	// A loop's sends are loops/rate apart, on average.
	interval := max(int64(float64(r.cfg.loops())*1e9/r.cfg.Rate), 1)
	if p, err := measurePacedFloor(r.genBackend, cpu, interval, pacedProbe(interval)); err == nil {
		r.res.SendLatenessFloorPaced = &p
	} else {
		r.res.Warnings = append(r.res.Warnings, fmt.Sprintf("no paced timing floor: %v", err))
	}
}

// connect opens the connections, active ones first so that idle ones
// cannot starve them of ports or backlog; the ones that fail are counted
// in the result. Nothing connecting to --target is a usage error.
func (r *run) connect() error {
	r.progress = newProgressor(&r.cfg) // in phase "connect"
	fds, failed, err := dialAll(r.ctx, r.target, r.cfg.Conns, r.cfg.ConnectTimeout)
	if err != nil {
		if r.ctx.Err() != nil {
			return r.ctx.Err()
		}
		if len(fds) == 0 && r.cfg.Target != "" {
			return cli.Usagef("--target: %v", err)
		}
		return err
	}
	r.res.Integrity.ConnFailures += uint64(failed)
	if r.cfg.Idle > 0 {
		idle, ifailed, err := dialAll(r.ctx, r.target, r.cfg.Idle, r.cfg.ConnectTimeout)
		if err != nil {
			closeAll(fds)
			return err
		}
		r.res.Integrity.ConnFailures += uint64(ifailed)
		r.idle = idle
		r.onClose(func() { closeAll(idle) })
	}
	r.fds = fds
	return nil
}

// startLoops pins the generator, hands the active connections to its
// loops and starts them, in warm-up.
func (r *run) startLoops() error {
	cfg, res := &r.cfg, r.res
	if len(cfg.GenCPUs) > 0 {
		// Put the process back as it was: the next run's child starts
		// from one of these threads and inherits their mask.
		if orig, err := sysstat.Affinity(); err == nil {
			r.onClose(func() { sysstat.PinProcess(orig) })
		}
		if err := sysstat.PinProcess(cfg.GenCPUs); err != nil {
			res.Warnings = append(res.Warnings, fmt.Sprintf("generator not pinned: %v", err))
		}
	}
	var sched schedule
	if cfg.Rate > 0 {
		res.TargetRate = cfg.Rate
		sched = schedule{start: nanotime() + int64(10*time.Millisecond), conns: len(r.fds), rate: cfg.Rate}
	}
	loops := make([]*genLoop, cfg.loops())
	for i := range loops {
		var err error
		if loops[i], err = newGenLoop(i, r.genBackend, cfg.MsgSize, cfg.Rate > 0, sched); err != nil {
			closeAll(r.fds)
			for _, l := range loops[:i] {
				l.closeAll()
			}
			return err
		}
		loops[i].spin, loops[i].slot = cfg.GenSpin, seriesSlot(cfg.Duration)
	}
	for i, fd := range r.fds {
		// Contiguous shares keep each loop's schedule slots spread out.
		l := loops[i*len(loops)/len(r.fds)]
		if err := l.add(fd, uint64(i)); err != nil {
			unix.Close(fd)
			res.Integrity.ConnFailures++
		}
	}
	r.fds = nil // the loops' now
	if !cfg.GenPollOnly {
		for _, l := range loops {
			l.useDirect()
		}
	}
	r.loops = loops
	for i, l := range loops {
		cpu := -1
		if len(cfg.GenCPUs) > 0 {
			cpu = cfg.GenCPUs[i]
		}
		r.wg.Add(1)
		go func() { defer r.wg.Done(); l.run(cpu) }()
	}
	r.progress.start(loops)
	r.onClose(r.progress.stop)
	r.onClose(r.release)
	return nil
}

// loopErr is why the run cannot go on: a loop or the server stopped.
func (r *run) loopErr() error {
	for _, l := range r.loops {
		select {
		case <-l.exited:
			return l.exitErr()
		default:
		}
	}
	if r.probe != nil {
		return r.probe.alive()
	}
	return nil
}

// release lets the loops close their connections and return.
func (r *run) release() {
	if !r.released {
		r.released = true
		for _, l := range r.loops {
			close(l.release)
		}
	}
}

// abort stops the loops at once; err is what Run returns, unless the
// child server crashed.
func (r *run) abort(err error) error {
	for _, l := range r.loops {
		l.setPhase(phaseAbort)
	}
	r.release()
	r.wg.Wait()
	if ce := crashOf(r.child, true, r.cfg.Hurry); ce != nil {
		return ce
	}
	return err
}

func (r *run) warmup() error {
	r.progress.phase("warmup")
	return sleep(r.ctx, r.cfg.Warmup, r.loopErr)
}

// edges is what was read at the window's start and end.
type edges struct {
	winStart, winEnd int64 // nanotime
	proc0, proc1     cpuTimes
	srv0, srv1       serverSample // with a probe
	srvErr           error        // reading srv1
	runErr           error        // why the window ended early, if it did
	starts, ends     []snapshot   // the loops'
	noise            *noiseMeter
	foreign          []float64
	// missing of the connections the result claims, at the worse edge.
	missing    int
	missingWhy string
}

// want is every connection the result will claim.
func (r *run) want() int {
	return max(r.cfg.Conns+r.cfg.Idle-int(r.res.Integrity.ConnFailures), 0)
}

// window waits for the server to hold every connection, measures the
// window and drains the loops. An error means nothing could be measured;
// a window cut short by ctx or a fault is not an error (runErr).
func (r *run) window() (*edges, error) {
	res, want := r.res, r.want()
	var held *serverSample
	var settled string
	if r.probe != nil {
		var err error
		if held, settled, err = settle(r.probe, want); err != nil {
			return nil, err
		}
	}
	w := &edges{}
	w.missing, w.missingWhy = shortfall("start", r.idle, held, want, settled)
	res.WindowStart = time.Now().UTC()
	w.winStart = nanotime()
	for _, l := range r.loops {
		l.setPhase(phaseMeasure)
	}
	w.noise = startNoise()
	slot := time.Duration(seriesSlot(r.cfg.Duration))
	var foreign *foreignSeries
	if r.serverPID > 0 {
		foreign = startForeignSeries(slot, r.serverPID)
	} else {
		foreign = startForeignSeries(slot)
	}
	w.proc0 = fromUsage(sysstat.Process())
	if r.probe != nil {
		var err error
		if w.srv0, err = r.probe.sample(); err != nil {
			foreign.finish()
			return nil, err
		}
	}
	w.starts = make([]snapshot, len(r.loops))
	for i, l := range r.loops {
		var err error
		if w.starts[i], err = l.ack(); err != nil {
			foreign.finish()
			return nil, err
		}
	}
	r.progress.phase("measure")
	w.runErr = sleep(r.ctx, r.cfg.Duration, r.loopErr)
	end := phaseDrain
	if r.ctx.Err() != nil {
		end = phaseAbort
	}
	for _, l := range r.loops {
		l.setPhase(end)
	}
	if r.probe != nil {
		w.srv1, w.srvErr = r.probe.sample()
	}
	w.winEnd = nanotime()
	w.proc1 = fromUsage(sysstat.Process())
	w.noise.end()
	w.foreign = foreign.finish()
	var srvEnd *serverSample
	if r.probe != nil && w.srvErr == nil {
		srvEnd = &w.srv1
	}
	if n, why := shortfall("end", r.idle, srvEnd, want, ""); n > w.missing {
		w.missing, w.missingWhy = n, why
	}
	w.ends = make([]snapshot, len(r.loops))
	for i, l := range r.loops {
		// A loop that failed inside the window counts up to where it
		// stopped; its error becomes a warning in collect.
		w.ends[i], _ = l.ack()
	}
	r.progress.phase("drain")
	r.release()
	r.wg.Wait()
	r.progress.stop()
	return w, nil
}

// collect turns the window's edges into the result's figures. Its error
// is the child server's crash, returned with the result.
func (r *run) collect(w *edges) (*result.Result, error) {
	cfg, res := &r.cfg, r.res
	if w.runErr != nil {
		res.Partial = true
		if r.ctx.Err() == nil {
			res.Warnings = append(res.Warnings, "run stopped early: "+w.runErr.Error())
		}
	}
	res.WindowSec = float64(w.winEnd-w.winStart) / 1e9
	collectLoops(res, r.loops, w.starts, w.ends, cfg.Percentiles)
	fillForeign(res.Series, w.foreign)
	if w.missing > 0 {
		res.Integrity.MissingConns = uint64(w.missing)
		res.Warnings = append(res.Warnings, "connections missing: "+w.missingWhy)
	}
	if w.proc0.ok && w.proc1.ok {
		p := cpuDiff(w.proc0, w.proc1)
		fillCPU(&p, res.RoundTrips, res.WindowSec)
		res.Generator.Process = &p
	}
	if r.probe != nil {
		if w.srvErr != nil {
			res.Warnings = append(res.Warnings, "server figures at window end: "+w.srvErr.Error())
		} else {
			res.Server = serverFigures(w.srv0, w.srv1, r.rssBase, res, cfg.Conns+cfg.Idle)
		}
	}
	// The run's own CPU, taken out of the machine's.
	var own time.Duration
	if w.proc0.ok && w.proc1.ok {
		own += time.Duration(w.proc1.userNs + w.proc1.sysNs - w.proc0.userNs - w.proc0.sysNs)
	}
	if r.probe != nil && w.srvErr == nil && w.srv0.proc.ok && w.srv1.proc.ok {
		own += time.Duration(w.srv1.proc.userNs + w.srv1.proc.sysNs - w.srv0.proc.userNs - w.srv0.proc.sysNs)
	} else if r.serverPID == 0 {
		res.Warnings = append(res.Warnings, "noise: the server's CPU is not measured (no --control or --server-pid): if it runs on this machine, foreign_cpu includes it")
	}
	if n, err := w.noise.figures(own, cfg.NoiseThreshold); err != nil {
		res.Warnings = append(res.Warnings, "noise unavailable: "+err.Error())
	} else {
		res.Noise = n
		if n.Noisy {
			res.Warnings = append(res.Warnings, fmt.Sprintf("noisy machine: other processes used %.2f CPUs and the hypervisor stole %.2f during the window (threshold %.2f)",
				n.ForeignCPU, n.StealCPU, cfg.NoiseThreshold))
		}
	}
	if res.Generator.Saturated {
		res.Warnings = append(res.Warnings, fmt.Sprintf("generator saturated: its loop threads used over %.0f%% of their CPU, so it may have limited the run", saturation*100))
	}
	if r.ctx.Err() != nil {
		res.Partial = true
	}
	if ce := crashOf(r.child, w.runErr != nil || w.srvErr != nil, r.cfg.Hurry); ce != nil {
		res.Partial = true
		return res, ce
	}
	return res, nil
}

// exited is a server child, muxbench's own or a peer: how it ended.
type exited interface {
	Done() <-chan struct{}
	Crash() *server.CrashError
}

// crashOf is the child server's crash, if it has one. After a failure,
// which the control channel often sees before the child's exit is
// reaped, it waits a moment for the exit, unless told to hurry.
func crashOf(child exited, failed bool, hurry <-chan struct{}) *server.CrashError {
	if child == nil {
		return nil
	}
	if failed {
		select {
		case <-child.Done():
		case <-time.After(time.Second):
		case <-hurry:
		}
	}
	return child.Crash()
}

// stopChild stops the server child, or kills it once hurry is closed if
// it can be killed (a peer has its own short grace instead).
func stopChild(ch interface{ Stop() }, hurry <-chan struct{}) {
	stopped := make(chan struct{})
	go func() { ch.Stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-hurry:
		if k, ok := ch.(interface{ Kill() }); ok {
			k.Kill()
		}
		<-stopped
	}
}

// saturation is the loop-thread utilisation above which the generator is
// flagged: a loop that never sleeps cannot keep up.
const saturation = 0.9

func sleep(ctx context.Context, d time.Duration, check func() error) error {
	deadline := time.Now().Add(d)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(left):
			return nil
		case <-tick.C:
			if err := check(); err != nil {
				return err
			}
		}
	}
}

func closeAll(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}
