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
	genProcs := cfg.loops() + 1
	prevProcs := runtime.GOMAXPROCS(genProcs)
	defer runtime.GOMAXPROCS(prevProcs)
	res.Env.GOMAXPROCS = genProcs
	if cfg.GenSpin {
		res.Params.Extra["gen_spin"] = "true"
	}
	if cfg.Target != "" {
		res.Params.Backend = External
	} else {
		if cfg.Server.Poller.EdgeTriggered {
			res.Params.Extra["edge"] = "true"
		}
		if cfg.Server.Poller.SpinSleep > 0 {
			res.Params.Extra["spin_sleep"] = cfg.Server.Poller.SpinSleep.String()
		}
		res.Params.Extra["server_args"] = strings.Join(cfg.Server.Args(), " ")
	}

	// The server.
	var probe serverProbe
	var child *server.Child
	target := cfg.Target
	if cfg.Target == "" {
		res.Params.Extra["server_gomaxprocs"] = fmt.Sprint(cfg.Server.GOMAXPROCS)
		ch, err := startChild(ctx, &cfg)
		if err != nil {
			return nil, err
		}
		defer ch.Stop()
		child = ch
		target = ch.Ready.Listen
		res.Params.Target = target
		res.Params.Extra["server_pid"] = fmt.Sprint(ch.Ready.PID)
		probe = &controlProbe{c: ch.Control, pid: ch.Ready.PID, child: ch}
	} else {
		switch {
		case cfg.Control != "":
			ctl, err := control.Dial(cfg.Control, cfg.Token, 10*time.Second)
			if err != nil {
				return nil, cli.Usagef("--control %s: %v", cfg.Control, err)
			}
			defer ctl.Close()
			probe = &controlProbe{c: ctl, pid: cfg.ServerPID}
			// Ask once now: a wrong token is the user's to fix before
			// any load, and the server names its own backend.
			st, err := probe.sample()
			switch {
			case errors.Is(err, control.ErrRefused):
				return nil, cli.Usagef("--control %s: %v (check --token)", cfg.Control, err)
			case err != nil:
				return nil, cli.Usagef("--control %s: %v", cfg.Control, err)
			case st.backend != "":
				res.Params.Backend = st.backend
			}
		case cfg.ServerPID > 0:
			_, err := pidCPU(cfg.ServerPID)
			switch {
			case errors.Is(err, sysstat.ErrUnavailable):
				// The load still measures; only the server's side is missing.
				res.SetUnavailable(result.UnavailableServerCPU)
			case err != nil:
				return nil, cli.Usagef("--server-pid %d: %v", cfg.ServerPID, err)
			default:
				probe = &pidProbe{pid: cfg.ServerPID}
			}
		}
	}

	var serverPID int
	switch p := probe.(type) {
	case *controlProbe:
		serverPID = p.pid
	case *pidProbe:
		serverPID = p.pid
	}
	if cfg.Target == "" {
		res.Warnings = append(res.Warnings, bufWarnings(&cfg)...)
	}
	// The server's memory before the first connection, so that RSS per
	// connection is what connections add.
	var rssBase int64
	if probe != nil {
		if s, err := probe.sample(); err == nil {
			rssBase = s.rss
			// A server reached over loopback runs here: its CPU can be
			// read between stats calls, for the noise series.
			if serverPID == 0 && s.pid > 0 && s.pid != os.Getpid() && control.IsLoopback(cfg.Control) {
				serverPID = s.pid
				res.Params.Extra["server_pid"] = fmt.Sprint(s.pid)
			}
		}
	}

	// Connections: active ones first, so that idle ones cannot starve
	// them of ports or backlog.
	progress := newProgressor(&cfg)
	progress.phase("connect")
	fds, failed, err := dialAll(ctx, target, cfg.Conns, cfg.ConnectTimeout)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if len(fds) == 0 && cfg.Target != "" {
			return nil, cli.Usagef("--target: %v", err)
		}
		return nil, err
	}
	res.Integrity.ConnFailures += uint64(failed)
	var idle []int
	if cfg.Idle > 0 {
		var ifailed int
		idle, ifailed, err = dialAll(ctx, target, cfg.Idle, cfg.ConnectTimeout)
		if err != nil {
			closeAll(fds)
			return nil, err
		}
		res.Integrity.ConnFailures += uint64(ifailed)
	}
	defer closeAll(idle)

	// The loops.
	if len(cfg.GenCPUs) > 0 {
		// Put the process back as it was: the next run's child starts
		// from one of these threads and inherits their mask.
		if orig, err := sysstat.Affinity(); err == nil {
			defer sysstat.PinProcess(orig)
		}
		if err := sysstat.PinProcess(cfg.GenCPUs); err != nil {
			res.Warnings = append(res.Warnings, fmt.Sprintf("generator not pinned: %v", err))
		}
	}
	var sched schedule
	if cfg.Rate > 0 {
		res.TargetRate = cfg.Rate
		sched = schedule{start: nanotime() + int64(10*time.Millisecond), conns: len(fds), rate: cfg.Rate}
	}
	loops := make([]*genLoop, cfg.loops())
	for i := range loops {
		if loops[i], err = newGenLoop(i, genBackend, cfg.MsgSize, cfg.Rate > 0, sched); err != nil {
			closeAll(fds)
			for _, l := range loops[:i] {
				l.closeAll()
			}
			return nil, err
		}
		loops[i].spin, loops[i].slot = cfg.GenSpin, seriesSlot(cfg.Duration)
	}
	for i, fd := range fds {
		// Contiguous shares keep each loop's schedule slots spread out.
		l := loops[i*len(loops)/len(fds)]
		if err := l.add(fd, uint64(i)); err != nil {
			unix.Close(fd)
			res.Integrity.ConnFailures++
		}
	}
	var wg sync.WaitGroup
	for i, l := range loops {
		cpu := -1
		if len(cfg.GenCPUs) > 0 {
			cpu = cfg.GenCPUs[i]
		}
		wg.Add(1)
		go func() { defer wg.Done(); l.run(cpu) }()
	}
	progress.start(loops)
	defer progress.stop()
	loopErr := func() error {
		for _, l := range loops {
			select {
			case <-l.exited:
				return l.exitErr()
			default:
			}
		}
		if probe != nil {
			return probe.alive()
		}
		return nil
	}
	released := false
	release := func() {
		if !released {
			released = true
			for _, l := range loops {
				close(l.release)
			}
		}
	}
	defer release()
	abort := func(err error) (*result.Result, error) {
		for _, l := range loops {
			l.setPhase(phaseAbort)
		}
		release()
		wg.Wait()
		if ce := crashOf(child, true); ce != nil {
			return nil, ce
		}
		return nil, err
	}

	// Warm-up, then the window.
	progress.phase("warmup")
	if err := sleep(ctx, cfg.Warmup, loopErr); err != nil {
		return abort(err)
	}
	// Every connection the result will claim, open at the window's start.
	want := max(cfg.Conns+cfg.Idle-int(res.Integrity.ConnFailures), 0)
	var held *serverSample
	if probe != nil {
		if held, err = settle(probe, want); err != nil {
			return abort(err)
		}
	}
	missing, missingWhy := shortfall("start", idle, held, want)
	res.WindowStart = time.Now().UTC()
	winStart := nanotime()
	for _, l := range loops {
		l.setPhase(phaseMeasure)
	}
	noise := startNoise()
	var foreign *foreignSeries
	if serverPID > 0 {
		foreign = startForeignSeries(time.Duration(seriesSlot(cfg.Duration)), serverPID)
	} else {
		foreign = startForeignSeries(time.Duration(seriesSlot(cfg.Duration)))
	}
	proc0 := fromUsage(sysstat.Process())
	var srv0 serverSample
	if probe != nil {
		if srv0, err = probe.sample(); err != nil {
			return abort(err)
		}
	}
	starts := make([]snapshot, len(loops))
	for i, l := range loops {
		if starts[i], err = l.ack(); err != nil {
			return abort(err)
		}
	}
	progress.phase("measure")
	runErr := sleep(ctx, cfg.Duration, loopErr)
	if runErr != nil {
		res.Partial = true
		if ctx.Err() == nil {
			res.Warnings = append(res.Warnings, "run stopped early: "+runErr.Error())
		}
	}
	end := phaseDrain
	if ctx.Err() != nil {
		end = phaseAbort
	}
	for _, l := range loops {
		l.setPhase(end)
	}
	var srv1 serverSample
	var srvErr error
	if probe != nil {
		srv1, srvErr = probe.sample()
	}
	winEnd := nanotime()
	proc1 := fromUsage(sysstat.Process())
	noise.end()
	foreignVals := foreign.finish()
	var srvEnd *serverSample
	if probe != nil && srvErr == nil {
		srvEnd = &srv1
	}
	if n, why := shortfall("end", idle, srvEnd, want); n > missing {
		missing, missingWhy = n, why
	}
	ends := make([]snapshot, len(loops))
	for i, l := range loops {
		// A loop that failed inside the window counts up to where it
		// stopped; its error becomes a warning below.
		ends[i], _ = l.ack()
	}
	progress.phase("drain")
	release()
	wg.Wait()
	progress.stop()

	res.WindowSec = float64(winEnd-winStart) / 1e9
	collect(res, loops, starts, ends, cfg.Percentiles)
	fillForeign(res.Series, foreignVals)
	if missing > 0 {
		res.Integrity.MissingConns = uint64(missing)
		res.Warnings = append(res.Warnings, "connections missing: "+missingWhy)
	}
	if proc0.ok && proc1.ok {
		p := cpuDiff(proc0, proc1)
		fillCPU(&p, res.RoundTrips, res.WindowSec)
		res.Generator.Process = &p
	}
	if probe != nil {
		if srvErr != nil {
			res.Warnings = append(res.Warnings, "server figures at window end: "+srvErr.Error())
		} else {
			res.Server = serverFigures(srv0, srv1, rssBase, res, cfg.Conns+cfg.Idle)
		}
	}
	// The run's own CPU, taken out of the machine's.
	var own time.Duration
	if proc0.ok && proc1.ok {
		own += time.Duration(proc1.userNs + proc1.sysNs - proc0.userNs - proc0.sysNs)
	}
	if probe != nil && srvErr == nil && srv0.proc.ok && srv1.proc.ok {
		own += time.Duration(srv1.proc.userNs + srv1.proc.sysNs - srv0.proc.userNs - srv0.proc.sysNs)
	} else if serverPID == 0 {
		res.Warnings = append(res.Warnings, "noise: the server's CPU is not measured (no --control or --server-pid): if it runs on this machine, foreign_cpu includes it")
	}
	if n, err := noise.figures(own, cfg.NoiseThreshold); err != nil {
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
	if ctx.Err() != nil {
		res.Partial = true
	}
	if ce := crashOf(child, runErr != nil || srvErr != nil); ce != nil {
		res.Partial = true
		return res, ce
	}
	return res, nil
}

// crashOf is the child server's crash, if it has one. After a failure,
// which the control channel often sees before the child's exit is
// reaped, it waits a moment for the exit.
func crashOf(child *server.Child, failed bool) *server.CrashError {
	if child == nil {
		return nil
	}
	if failed {
		select {
		case <-child.Done():
		case <-time.After(time.Second):
		}
	}
	return child.Crash()
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
