package compare

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sync"

	"github.com/muxbench/muxbench/bench"
	"github.com/muxbench/muxbench/cfloor"
	"github.com/muxbench/muxbench/result"
	"github.com/muxbench/muxbench/sysstat"
)

// CFloor is the minimal C epoll echo server (package cfloor), a
// reference line of the sweeps that say so (sweep.Sweep.Floor: the
// connection sweeps), the floor the reactor is compared with.
const CFloor = cfloor.Name

// floor is the C echo server, built once per process.
var floor struct {
	sync.Once
	dir, echo string
	err       error
}

// FloorAvailable says whether the C floor can be built here, and if not
// why, before anything is planned.
func FloorAvailable() error {
	_, err := cfloor.Compiler()
	return err
}

func buildFloor(ctx context.Context) (string, error) {
	floor.Do(func() {
		if floor.dir, floor.err = os.MkdirTemp("", "muxbench-cfloor"); floor.err == nil {
			floor.echo, _, floor.err = cfloor.Build(ctx, floor.dir)
		}
	})
	return floor.echo, floor.err
}

// removeFloor deletes the built floor, if any.
func removeFloor() {
	if floor.dir != "" {
		os.RemoveAll(floor.dir)
	}
}

// floorRun measures a point against the C echo server: the generator
// drives it through --target, its CPU read by pid, and it is pinned to
// CPU 0 as muxbench's own servers are by default.
func floorRun(ctx context.Context, s RunSpec, progress func(string)) (*result.Result, error) {
	echo, err := buildFloor(ctx)
	if err != nil {
		return nil, err
	}
	var args []string
	if sysstat.CanPin() && runtime.NumCPU() >= 2 {
		args = []string{"-c", "0"}
	}
	srv, err := cfloor.Start(echo, args...)
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	res, err := bench.Run(ctx, bench.Config{
		Target: srv.Addr, ServerPID: srv.PID,
		Conns: s.Conns, Idle: s.Idle, MsgSize: s.MsgSize,
		Duration: s.Duration, Warmup: s.Warmup, Rate: s.Rate,
		Extra: map[string]string{"server": "cfloor/c/echo.c"},
		Progress: func(p bench.Progress) {
			progress(fmt.Sprintf("%-7s %5.1fs", p.Phase, p.Elapsed.Seconds()))
		},
	})
	if res != nil {
		res.Params.Backend = CFloor
		if args != nil {
			res.Params.ServerCPU = []int{0}
		}
	}
	return res, err
}
