package compare

import (
	"context"
	"fmt"

	"github.com/muxbench/muxbench/bench"
	"github.com/muxbench/muxbench/report"
	"github.com/muxbench/muxbench/result"
	"github.com/muxbench/muxbench/server"
	"github.com/muxbench/muxbench/sysstat"
)

// DefaultRunner runs a point with the load generator; tests replace it.
var DefaultRunner Runner = benchRun

// benchRun measures a point with the load generator, the server in a
// child process of its own (so each side has its own descriptor table).
func benchRun(ctx context.Context, s RunSpec, progress func(string)) (*result.Result, error) {
	return bench.Run(ctx, benchConfig(s, progress, sysstat.CanPin()))
}

// benchConfig is the load generator's configuration for s; pin says
// whether threads can be pinned here. A peer is started as the server,
// pinned as muxbench's own are.
func benchConfig(s RunSpec, progress func(string), pin bool) bench.Config {
	cfg := bench.Config{
		Server:   server.Config{Backend: s.Backend, SndBuf: s.SndBuf},
		Peer:     s.Peer,
		Conns:    s.Conns,
		Idle:     s.Idle,
		MsgSize:  s.MsgSize,
		Duration: s.Duration,
		Warmup:   s.Warmup,
		Rate:     s.Rate,
		Progress: func(p bench.Progress) {
			progress(fmt.Sprintf("%-7s %5.1fs %s rt/s", p.Phase, p.Elapsed.Seconds(), report.Human(p.Rate)))
		},
	}
	if s.Peer != nil {
		cfg.Server = server.Config{}
	}
	if s.Loops > 1 {
		// A CPU for each server loop, then one for each generator loop
		// (the plan has checked that there are enough); unpinned where
		// threads cannot be pinned.
		cfg.Server.Loops, cfg.Server.Accept = s.Loops, s.Accept
		if pin {
			for i := range s.Loops {
				cfg.Server.CPUs = append(cfg.Server.CPUs, i)
				cfg.GenCPUs = append(cfg.GenCPUs, s.Loops+i)
			}
		}
	}
	return cfg
}
