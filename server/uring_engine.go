//go:build linux

package server

import (
	"fmt"

	"github.com/muxbench/muxbench/control"
	"github.com/muxbench/muxbench/proactor"
	"github.com/muxbench/muxbench/protocol"
	"github.com/muxbench/muxbench/result"
	"github.com/muxbench/muxbench/sysstat"
)

// uringAvailable says why the uring engine cannot run here, or nil.
func uringAvailable() error { return proactor.Available() }

// uringEngine runs protocol.Echo on the io_uring proactor. Like the
// reactor engine, the loop lives on one locked thread, which here also
// creates the ring (it is single-issuer); counters are read through Call.
type uringEngine struct {
	cfg Config
	l   *proactor.Loop
	ln  *proactor.Listener
	loopThread
}

func newUringEngine(cfg Config) (engine, error) {
	if err := proactor.Available(); err != nil {
		return nil, badConfig{err}
	}
	return &uringEngine{cfg: cfg, loopThread: newLoopThread()}, nil
}

func (e *uringEngine) listen(addr string) (string, error) {
	return e.start(func(bound func(string, error)) {
		if len(e.cfg.CPUs) > 0 {
			if err := sysstat.PinThread(e.cfg.CPUs[:1]); err != nil {
				bound("", fmt.Errorf("pinning the event loop: %w", err))
				return
			}
		}
		l, err := proactor.New(proactor.Config{
			ReadBufSize:   e.cfg.ReadBufSize,
			Buffers:       UringBuffers,
			HighWater:     e.cfg.HighWater,
			LowWater:      e.cfg.LowWater,
			OutputBudget:  e.cfg.OutputBudget,
			SndBuf:        e.cfg.SndBuf,
			RcvBuf:        e.cfg.RcvBuf,
			ShortSendFrac: e.cfg.Faults.ShortWriteFrac,
			Seed:          e.cfg.Faults.Seed,
			ReusePort:     e.cfg.Loops > 1,
		})
		if err != nil {
			bound("", err)
			return
		}
		e.l = l
		defer l.Close()
		ln, err := l.Listen("tcp", addr, protocol.NewEcho)
		if err != nil {
			bound("", err)
			return
		}
		e.ln = ln
		bound(ln.Addr().String(), nil)
		e.runErr = l.Run()
	})
}

func (e *uringEngine) stop() {
	if e.l != nil {
		e.l.Stop()
	}
}

func (e *uringEngine) fill(st *control.Stats) error {
	c, err := readLoop(e.l.Call, e.ended, e.l.Counters, e.l.Conns, e.ln, st)
	if err != nil {
		return err
	}
	st.IO = result.IO{
		BytesIn:     c.BytesIn,
		BytesOut:    c.BytesOut,
		Reads:       c.Reads,
		Writes:      c.Writes,
		ShortWrites: c.ShortWrites,
		Waits:       c.Waits,
		Events:      c.Completions,
		Dispatches:  c.Completions - c.Stale,
		Accepts:     c.Accepts,
		AcceptErrs:  c.AcceptErrors,
		Syscalls:    c.Syscalls,
		ENOBUFS:     c.ENOBUFS,
		Retries:     c.Retries,
	}
	st.Accept = result.Accepts{
		Accepted: c.Accepts,
		EMFILE:   c.AcceptEMFILE,
		Errors:   c.AcceptErrors,
	}
	st.BudgetPauses = c.BudgetPauses
	if faultsActive(e.cfg.Faults) {
		st.Injected = map[string]uint64{"short_writes": c.InjectedShortWrites}
	}
	return nil
}
