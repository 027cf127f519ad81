package compare

import (
	"context"
	"fmt"

	"github.com/muxbench/muxbench/bench"
	"github.com/muxbench/muxbench/chart"
	"github.com/muxbench/muxbench/result"
	"github.com/muxbench/muxbench/server"
)

// DefaultRunner runs a point with the load generator; tests replace it.
var DefaultRunner Runner = benchRun

// benchRun measures a point with the load generator, the server in a
// child process of its own (so each side has its own descriptor table).
func benchRun(ctx context.Context, s RunSpec, progress func(string)) (*result.Result, error) {
	if s.Backend == CFloor {
		return floorRun(ctx, s, progress)
	}
	cfg := bench.Config{
		Server:   server.Config{Backend: s.Backend, SndBuf: s.SndBuf},
		Conns:    s.Conns,
		Idle:     s.Idle,
		MsgSize:  s.MsgSize,
		Duration: s.Duration,
		Warmup:   s.Warmup,
		Rate:     s.Rate,
		Extra:    map[string]string{"sweep": s.Sweep, "repeat": fmt.Sprint(s.Repeat)},
		Progress: func(p bench.Progress) {
			progress(fmt.Sprintf("%-7s %5.1fs %s rt/s", p.Phase, p.Elapsed.Seconds(), chart.Human(p.Rate)))
		},
	}
	return bench.Run(ctx, cfg)
}
