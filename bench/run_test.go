package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/muxbench/muxbench/internal/testserver"
	"github.com/muxbench/muxbench/poller"
	_ "github.com/muxbench/muxbench/poller/all"
	"github.com/muxbench/muxbench/protocol"
	"github.com/muxbench/muxbench/server"
	"github.com/muxbench/muxbench/sysstat"
)

// quick is a short run against target without pinning the test process.
func quick(target string) Config {
	return Config{Target: target, Conns: 8, Duration: 700 * time.Millisecond, Warmup: 100 * time.Millisecond, NoPin: true}
}

func TestRunAgainstEcho(t *testing.T) {
	addr := testserver.Listen(t, testserver.Echo)
	cfg := quick(addr)
	cfg.Idle = 5
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if n := res.Integrity.Errors(); n != 0 {
		t.Fatalf("integrity errors %+v, warnings %q", res.Integrity, res.Warnings)
	}
	if res.RoundTrips == 0 || res.Throughput <= 0 || res.Latency.Count == 0 {
		t.Fatalf("nothing measured: %d rts, %+v", res.RoundTrips, res.Latency)
	}
	if res.Server != nil {
		t.Errorf("server figures without a control channel: %+v", res.Server)
	}
	if res.Params.Backend != External || res.Partial {
		t.Errorf("backend %q partial %v", res.Params.Backend, res.Partial)
	}
	g := res.Generator
	if g.IO.Writes == 0 || g.IO.BytesIn != g.IO.BytesOut-uint64(0) && g.IO.BytesIn > g.IO.BytesOut {
		t.Errorf("generator I/O %+v", g.IO)
	}
	if p := g.Process; p == nil || p.UserSec+p.SysSec < g.CPU.UserSec+g.CPU.SysSec-0.05 {
		t.Errorf("generator process CPU %+v below its loops' %+v", p, g.CPU)
	}
	if res.WindowSec < 0.5 || res.WindowSec > 5 {
		t.Errorf("window %.2fs for a 0.7s run", res.WindowSec)
	}
}

// A server that corrupts one byte now and then is caught.
func TestRunDetectsCorruption(t *testing.T) {
	addr := testserver.Listen(t, testserver.Corrupt(func(off int) bool { return off%5000 == 4999 }))
	res, err := Run(context.Background(), quick(addr))
	if err != nil {
		t.Fatal(err)
	}
	if res.Integrity.Mismatches == 0 {
		t.Fatalf("corruption not detected: %+v", res.Integrity)
	}
	if len(res.Warnings) == 0 {
		t.Error("no warning names the bad byte")
	}
}

// Large messages arrive in pieces, and every piece is checked, not only
// the first: a server that damages one byte near the end of each 256 KiB
// message (four reads of the generator's buffer at least) is caught, at
// that byte.
func TestRunDetectsCorruptionInLaterPieces(t *testing.T) {
	const size, at = 256 << 10, 256<<10 - 100
	addr := testserver.Listen(t, testserver.Corrupt(func(off int) bool { return off%size == at }))
	cfg := quick(addr)
	cfg.Conns, cfg.MsgSize = 2, size
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Integrity.Mismatches == 0 {
		t.Fatalf("corruption at byte %d of %d not detected: %+v", at, size, res.Integrity)
	}
	if want := fmt.Sprintf("byte %d differs", at); !strings.Contains(strings.Join(res.Warnings, "\n"), want) {
		t.Errorf("no warning says %q: %q", want, res.Warnings)
	}
}

// A server that drops connections is counted in resets.
func TestRunDetectsResets(t *testing.T) {
	addr := testserver.Listen(t, func(c net.Conn) {
		buf := make([]byte, 64)
		io.ReadFull(c, buf)
		c.Write(buf[:10])
		c.Close()
	})
	res, err := Run(context.Background(), quick(addr))
	if err != nil {
		t.Fatal(err)
	}
	if res.Integrity.Resets == 0 {
		t.Fatalf("dropped connections not counted: %+v", res.Integrity)
	}
}

// Large messages arrive in pieces and are checked as they come. 256 KiB is
// four reads of the generator's buffer; at 1 MiB the test's stdlib echo
// (io.Copy, which splices) took from 20 s to over 500 s under the race
// detector, against about a second without it.
func TestRunLargeMessages(t *testing.T) {
	addr := testserver.Listen(t, testserver.Echo)
	cfg := quick(addr)
	cfg.Conns, cfg.MsgSize = 2, 256<<10
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Integrity.Errors() != 0 || res.RoundTrips == 0 {
		t.Fatalf("%d round trips, integrity %+v, warnings %q", res.RoundTrips, res.Integrity, res.Warnings)
	}
	if res.Generator.IO.Reads < 2*res.RoundTrips {
		t.Errorf("%d reads for %d round trips of 1 MiB: not in pieces?", res.Generator.IO.Reads, res.RoundTrips)
	}
}

// Ctrl-C during the window: a partial result, promptly.
func TestRunCancelledIsPartial(t *testing.T) {
	addr := testserver.Listen(t, testserver.Echo)
	cfg := quick(addr)
	cfg.Duration = time.Minute
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(600*time.Millisecond, cancel)
	start := time.Now()
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Partial || res.WindowSec > 10 || res.RoundTrips == 0 {
		t.Errorf("partial %v window %.1fs rts %d", res.Partial, res.WindowSec, res.RoundTrips)
	}
	if time.Since(start) > 20*time.Second {
		t.Errorf("took %v to stop", time.Since(start))
	}
}

func TestRunBadInput(t *testing.T) {
	closed := testserver.ClosedAddr(t)
	// The other cases aim at a server that listens (and never answers), so
	// that only the value under test can make the error a usage error: a
	// missing check would start a run, which fails otherwise.
	up := testserver.Listen(t, func(net.Conn) {})
	for name, cfg := range map[string]Config{
		"unreachable":    {Target: closed, NoPin: true, Duration: time.Second},
		"too many fds":   {Target: up, Conns: 15000, Idle: 15000, NoPin: true},
		"negative":       {Target: up, Conns: -1},
		"tiny message":   {Target: up, MsgSize: 8},
		"huge message":   {Target: up, MsgSize: 17 << 20},
		"no such CPU":    {Target: up, GenCPUs: []int{4096}},
		"bad backend":    {Server: server.Config{Backend: "nosuch"}},
		"bad sndbuf":     {Server: server.Config{SndBuf: -1}},
		"stdlib faults":  {Server: server.Config{Backend: poller.Stdlib, Faults: server.Faults{ShortWriteFrac: 0.1}}},
		"bad percentile": {Target: up, Percentiles: []float64{120}},
	} {
		if cfg.Target == up {
			cfg.NoPin, cfg.Duration, cfg.Warmup = true, 200*time.Millisecond, 50*time.Millisecond
		}
		_, err := Run(context.Background(), cfg)
		if !errors.Is(err, ErrUsage) {
			t.Errorf("%s: err = %v, want a usage error", name, err)
		}
	}
}

// Two generator loops share the connections and their figures add up.
func TestRunTwoLoops(t *testing.T) {
	if runtime.NumCPU() < 2 {
		t.Skip("needs two CPUs")
	}
	if !sysstat.CanPin() {
		t.Skip("a generator runs one loop per CPU it pins, and threads cannot be pinned here")
	}
	before, _ := sysstat.Affinity()
	addr := testserver.Listen(t, testserver.Echo)
	cfg := quick(addr)
	cfg.Conns, cfg.GenCPUs, cfg.Rate = 10, []int{0, 1}, 4000
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Params.GenLoops != 2 || res.Integrity.Errors() != 0 || res.RoundTrips == 0 {
		t.Fatalf("%d loops, %d round trips, integrity %+v", res.Params.GenLoops, res.RoundTrips, res.Integrity)
	}
	// Messages in flight at the window's start were written before it.
	if res.Generator.IO.Writes+uint64(cfg.Conns) < res.RoundTrips {
		t.Errorf("%d writes for %d round trips", res.Generator.IO.Writes, res.RoundTrips)
	}
	if after, _ := sysstat.Affinity(); len(after) != len(before) {
		t.Errorf("process affinity %v after the run, was %v", after, before)
	}
}

// Config.Check is where a run's bounds live, for every caller: it refuses,
// as a usage error naming the flag, what Run would refuse, before anything
// starts, and passes what Run takes.
func TestConfigCheck(t *testing.T) {
	base := Config{Target: "127.0.0.1:1", NoPin: true}
	for _, tc := range []struct {
		name string
		set  func(*Config)
		flag string // "" for a valid configuration
	}{
		{"defaults", func(c *Config) {}, ""},
		{"rate 1", func(c *Config) { c.Rate = MinRate }, ""},
		{"rate max", func(c *Config) { c.Rate = MaxRate }, ""},
		{"rate NaN", func(c *Config) { c.Rate = math.NaN() }, "--rate"},
		{"rate 0.5", func(c *Config) { c.Rate = 0.5 }, "--rate"},
		{"rate -1", func(c *Config) { c.Rate = -1 }, "--rate"},
		{"rate +Inf", func(c *Config) { c.Rate = math.Inf(1) }, "--rate"},
		{"rate 2e8", func(c *Config) { c.Rate = 2 * MaxRate }, "--rate"},
		{"conns", func(c *Config) { c.Conns = MaxConns + 1 }, "--conns"},
		{"idle", func(c *Config) { c.Idle = -1 }, "--idle"},
		{"msg size", func(c *Config) { c.MsgSize = protocol.MinMsgSize - 1 }, "--msg-size"},
		{"shortest window", func(c *Config) { c.Duration = MinDuration }, ""},
		{"window too short", func(c *Config) { c.Duration = MinDuration - 1 }, "--duration"},
		{"window too long", func(c *Config) { c.Duration = MaxDuration + 1 }, "--duration"},
		{"warm-up", func(c *Config) { c.Warmup = MaxDuration + 1 }, "--warmup"},
		{"connect timeout", func(c *Config) { c.ConnectTimeout = -time.Second }, "--connect-timeout"},
		{"noise NaN", func(c *Config) { c.NoiseThreshold = math.NaN() }, "--noise-threshold"},
		{"percentile", func(c *Config) { c.Percentiles = []float64{50, 101} }, "--percentiles"},
		{"percentile NaN", func(c *Config) { c.Percentiles = []float64{math.NaN()} }, "--percentiles"},
	} {
		cfg := base
		tc.set(&cfg)
		err := cfg.Check()
		switch {
		case tc.flag == "" && err != nil:
			t.Errorf("%s: refused: %v", tc.name, err)
		case tc.flag != "" && (!errors.Is(err, ErrUsage) || !strings.HasPrefix(err.Error(), tc.flag+" ")):
			t.Errorf("%s: err = %v, want a usage error naming %s", tc.name, err, tc.flag)
		}
	}
}

// A percentile asked twice is reported once, in the order first asked.
func TestPercentilesOnce(t *testing.T) {
	cfg, err := Config{Target: "127.0.0.1:1", NoPin: true, Percentiles: []float64{75, 50, 75, 50}}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.Percentiles, []float64{75, 50}) {
		t.Errorf("percentiles %v, want [75 50]", cfg.Percentiles)
	}
}
