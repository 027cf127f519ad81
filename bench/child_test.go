package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/muxbench/muxbench/internal/testserver"
	"github.com/muxbench/muxbench/poller"
	"github.com/muxbench/muxbench/report"
	"github.com/muxbench/muxbench/result"
	"github.com/muxbench/muxbench/server"
	"github.com/muxbench/muxbench/sysstat"
)

// serveEnv makes the test binary play `muxbench serve` for the tests that
// start a child server.
const serveEnv = "MUXBENCH_BENCH_TEST_SERVE"

func TestMain(m *testing.M) {
	testserver.Main(m, serveEnv, func(string) { lowerNoFile() }, server.Command)
}

func childConfig(backend string) Config {
	return Config{
		Server: server.Config{Backend: backend}, Conns: 16, Idle: 4,
		Duration: time.Second, Warmup: 200 * time.Millisecond,
		NoPin: true, Executable: os.Args[0], ServerEnv: []string{serveEnv + "=1"},
	}
}

// processGone waits a little for pid to disappear from /proc.
func processGone(pid int) bool {
	for range 50 {
		if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); errors.Is(err, os.ErrNotExist) {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// Every backend, and stdlib, through a child server: measured the same
// way, checked byte by byte, and the child gone afterwards.
func TestRunChildEveryBackend(t *testing.T) {
	for _, b := range append(poller.Names(), poller.Stdlib) {
		t.Run(b, func(t *testing.T) {
			res, err := Run(context.Background(), childConfig(b))
			if err != nil {
				t.Fatal(err)
			}
			if res.Integrity.Errors() != 0 {
				t.Fatalf("integrity %+v: %q", res.Integrity, res.Warnings)
			}
			if res.RoundTrips == 0 || res.Server == nil {
				t.Fatalf("%d round trips, server %v", res.RoundTrips, res.Server)
			}
			s := res.Server
			if s.Backend != b || s.Conns < 16 {
				t.Errorf("server says backend %q with %d conns", s.Backend, s.Conns)
			}
			if b != poller.Stdlib && s.IO.Waits == 0 {
				t.Errorf("reactor server without waits: %+v", s)
			}
			// What the connections added, not the whole process over them.
			if !res.Lacks(result.UnavailableServerRSS) && (s.RSSBase <= 0 || s.RSSPerConn != float64(max(s.RSS-s.RSSBase, 0))/20) {
				t.Errorf("RSS %d, %d before the first connection, %v per connection", s.RSS, s.RSSBase, s.RSSPerConn)
			}
			if s.Options.ReadBuf <= 0 || s.Options.SndBuf <= 0 || s.Options.RcvBuf <= 0 {
				t.Errorf("options %+v: want the sizes applied", s.Options)
			}
			if a := s.Accepts; a == nil || a.Accepted < 20 || a.Refused() != 0 {
				t.Errorf("accepts %+v", a)
			}
			if res.Integrity.MissingConns != 0 {
				t.Errorf("%d connections missing: %q", res.Integrity.MissingConns, res.Warnings)
			}
			// Figures the platform lacks must be named as lacking, never
			// left as silent zeros; Linux lacks none of them.
			if b != poller.Stdlib && s.LoopThread == nil && !res.Lacks(result.UnavailableServerThreadCPU) {
				t.Errorf("reactor server without loop thread CPU, and the result does not say why: %+v", s)
			}
			if runtime.GOOS == "linux" && os.Getenv(sysstat.HideEnv) == "" && len(res.Unavailable) > 0 {
				t.Errorf("linux run lacks %q", res.Unavailable)
			}
			pid, _ := strconv.Atoi(res.Params.Extra["server_pid"])
			if pid <= 0 {
				t.Fatalf("no server pid recorded")
			}
			if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil && !processGone(pid) {
				t.Errorf("server %d still running after Run", pid)
			}
		})
	}
}

// The server's whole configuration reaches the child, and the result
// names the edge-triggered run as the catalogue does.
func TestRunChildServerConfig(t *testing.T) {
	b := GenBackend()
	info, _ := poller.Lookup(b)
	cfg := childConfig(b)
	cfg.Duration, cfg.Warmup = 300*time.Millisecond, -1
	cfg.Server.SndBuf, cfg.Server.ReadBufSize = 8192, 4096
	cfg.Server.Poller.EdgeTriggered = info.Caps.EdgeTriggered
	cfg.Server.Faults = server.Faults{WriteEAGAINFrac: 0.01, Seed: 5}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	o := res.Server.Options
	// The kernel doubles the send buffer it is given.
	if o.SndBuf < 8192 || o.ReadBuf != 4096 || o.InjectWriteEAGAIN != 0.01 || o.FaultSeed != 5 ||
		o.EdgeTriggered != info.Caps.EdgeTriggered {
		t.Errorf("server options %+v", o)
	}
	want := b
	if info.Caps.EdgeTriggered {
		want += poller.EdgeSuffix
	}
	if report.Label(res.Params) != want || res.Params.ReadBufSize != 4096 {
		t.Errorf("label %q, read buffer %d", report.Label(res.Params), res.Params.ReadBufSize)
	}
}

// A listen address in use is the user's mistake, said by the server.
func TestRunChildPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := childConfig("epoll")
	if _, ok := poller.Lookup("epoll"); !ok {
		cfg.Server.Backend = poller.Stdlib
	}
	cfg.Server.Listen = ln.Addr().String()
	_, err = Run(context.Background(), cfg)
	if !errors.Is(err, ErrUsage) {
		t.Fatalf("err = %v, want a usage error", err)
	}
	t.Log(err)
}

// A platform without pinning, RSS or thread CPU, made here by hiding
// them: the default run goes unpinned instead of failing, the server
// (which inherits the setting) reports what it can, and the result and
// table name what is missing.
func TestRunChildUnavailable(t *testing.T) {
	t.Setenv(sysstat.HideEnv, "pin,rss,thread")
	cfg := childConfig("epoll")
	cfg.NoPin = false // the defaults, which pin where pinning exists
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Integrity.Errors() != 0 || res.RoundTrips == 0 || res.Server == nil {
		t.Fatalf("%d round trips, integrity %+v, server %v: %q", res.RoundTrips, res.Integrity, res.Server, res.Warnings)
	}
	if res.Params.ServerCPU != nil || res.Params.GenCPU != nil || res.Server.Options.CPUs != "" {
		t.Errorf("pinned although pinning is unavailable: server %v, generator %v, options %v", res.Params.ServerCPU, res.Params.GenCPU, res.Server.Options)
	}
	want := []string{result.UnavailableServerThreadCPU, result.UnavailableServerRSS, result.UnavailableGenThreadCPU}
	if runtime.NumCPU() >= 2 {
		want = append(want, result.UnavailablePinning)
	}
	for _, w := range want {
		if !res.Lacks(w) {
			t.Errorf("result does not name %q as unavailable: %q", w, res.Unavailable)
		}
	}
	if res.Server.LoopThread != nil || res.Server.RSSPerConn != 0 {
		t.Errorf("figures that were hidden appear: loop thread %v, RSS/conn %v", res.Server.LoopThread, res.Server.RSSPerConn)
	}
	if res.Server.Process.PerRTus <= 0 || res.Server.MaxRSS <= 0 {
		t.Errorf("process CPU %v µs/rt, max RSS %d: getrusage still works", res.Server.Process.PerRTus, res.Server.MaxRSS)
	}
	var b strings.Builder
	report.Table(&b, []*result.Result{res})
	if !strings.Contains(b.String(), "not available on "+runtime.GOOS) {
		t.Errorf("table does not say what is missing:\n%s", b.String())
	}

	// Asking for pinning where there is none is the user's mistake.
	cfg.Server.CPUs = []int{0}
	if _, err := Run(context.Background(), cfg); !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), "cannot be pinned") {
		t.Errorf("--server-cpus without pinning: %v, want a usage error", err)
	}
}
