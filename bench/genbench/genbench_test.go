// Package genbench benchmarks the load generator itself (its integrity
// check, its open-loop timing), apart from bench's backend benchmarks, so
// that `benchstat -col /backend` over those compares backends and nothing
// else.
package genbench

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/muxbench/muxbench/bench"
	"github.com/muxbench/muxbench/internal/testserver"
	_ "github.com/muxbench/muxbench/poller/all"
	"github.com/muxbench/muxbench/protocol"
	"github.com/muxbench/muxbench/report"
	"github.com/muxbench/muxbench/server"
)

// serveEnv makes the test binary play `muxbench serve` for the benchmarks
// that start a child server.
const serveEnv = "MUXBENCH_GENBENCH_SERVE"

func TestMain(m *testing.M) {
	testserver.Main(m, serveEnv, nil, server.Command)
}

func BenchmarkCheckPattern64(b *testing.B) {
	msg := make([]byte, 64)
	protocol.FillPattern(msg, 1, 1, 0)
	scratch := make([]byte, 64<<10)
	b.SetBytes(64)
	for b.Loop() {
		protocol.CheckPattern(msg, 1, 1, 0, scratch)
	}
}

// BenchmarkOpenLoop checks the generator's open-loop timing: b.N round
// trips at each rate (so about a second each), against the C echo server
// named by $MUXBENCH_C_ECHO (built from c-echo.c; the server is then
// pinned to CPU 0, the generator to CPU 1) or else the in-process epoll
// reactor. It reports send lateness, latency from the intended and the
// actual send times, the timing floors (spinning, paced, and the one that
// matches how the loop sent) and lateness over the matching floor, and
// logs whether the goals hold: lateness p99 at most 1.25x the matching
// floor's below saturation, and at 1,000 rt/s over 10 connections a
// corrected p50 within 1.5x the uncorrected p50 plus 20 us.
//
//	MUXBENCH_C_ECHO=/tmp/c-echo go test -run '^$' -bench OpenLoop -count 10 ./bench/genbench/
func BenchmarkOpenLoop(b *testing.B) {
	addr := openLoopTarget(b)
	for _, p := range []struct {
		rate  float64
		conns int
	}{{1000, 10}, {1000, 100}, {10_000, 10}, {10_000, 100}, {50_000, 10}, {50_000, 100}} {
		for _, spin := range []bool{false, true} {
			b.Run(fmt.Sprintf("rate=%g/conns=%d/spin=%v", p.rate, p.conns, spin), func(b *testing.B) {
				cfg := bench.Config{Target: addr, Conns: p.conns, Rate: p.rate, GenSpin: spin,
					Warmup: 300 * time.Millisecond, Duration: max(time.Duration(float64(b.N)/p.rate*1e9), bench.MinDuration)}
				res, err := bench.Run(context.Background(), cfg)
				if err != nil {
					b.Fatal(err)
				}
				if res.Integrity.Errors() != 0 {
					b.Fatalf("integrity %+v: %q", res.Integrity, res.Warnings)
				}
				l, u := res.SendLateness, res.LatencyUncorrected
				if l == nil || u == nil || l.P99 == 0 || u.P50 == 0 {
					return // too few samples for the figures (b.N of 1)
				}
				b.ReportMetric(float64(l.P50), "late-p50-ns")
				b.ReportMetric(float64(l.P99), "late-p99-ns")
				b.ReportMetric(float64(res.Latency.P50), "p50-ns")
				b.ReportMetric(float64(u.P50), "uncorrected-p50-ns")
				b.ReportMetric(res.Throughput/p.rate, "achieved/target")
				if f := res.SendLatenessFloor; f != nil {
					b.ReportMetric(float64(f.P99), "spin-floor-p99-ns")
				}
				if f := res.SendLatenessFloorPaced; f != nil {
					b.ReportMetric(float64(f.P99), "paced-floor-p99-ns")
				}
				f := res.Floor()
				if f == nil || f.P99 <= 0 {
					return
				}
				b.ReportMetric(float64(f.P99), "floor-p99-ns")
				b.ReportMetric(float64(l.P99)/float64(f.P99), "late/floor")
				if res.Throughput < 0.95*p.rate || res.Generator.Saturated || l.Count < 1000 {
					return // saturated, or too short to judge
				}
				if float64(l.P99) > 1.25*float64(f.P99) {
					b.Logf("goal missed: send lateness p99 %v > 1.25 x the matching floor's p99 %v", time.Duration(l.P99), time.Duration(f.P99))
				}
				if p.rate == 1000 && float64(res.Latency.P50) > 1.5*float64(u.P50)+20_000 {
					b.Logf("goal missed: corrected p50 %v > 1.5 x uncorrected %v + 20us", time.Duration(res.Latency.P50), time.Duration(u.P50))
				}
			})
		}
	}
}

// openLoopTarget starts $MUXBENCH_C_ECHO on a free port, or an in-process
// epoll server, for the benchmark's duration.
func openLoopTarget(b *testing.B) string {
	bin := os.Getenv("MUXBENCH_C_ECHO")
	if bin == "" {
		srv, err := server.Start(server.Config{Backend: bench.GenBackend()})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { srv.Stop(); srv.Wait() })
		return srv.Addr()
	}
	addr := testserver.ClosedAddr(b)
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(bin, "-a", "127.0.0.1", "-p", port, "-c", "0")
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			b.Fatalf("%s does not listen on %s: %v", bin, addr, err)
		}
	}
}

// BenchmarkGeneratorShare measures the generator's own share of latency:
// at one connection against the C echo server ($MUXBENCH_C_ECHO, on CPU
// 0), b.N interleaved pairs of a c-ping run ($MUXBENCH_C_PING, the
// blocking C client, on CPU 1) and a generator run (on CPU 1), 2 s each.
// It reports both medians of p50 and their ratio, the figure to keep
// within 1.05, for each way the generator can wait: a blocking read (the
// default at one connection), its poller, or spinning.
//
//	MUXBENCH_C_ECHO=/tmp/c-echo MUXBENCH_C_PING=/tmp/c-ping \
//	  go test -run '^$' -bench GeneratorShare -benchtime 7x ./bench/genbench/
func BenchmarkGeneratorShare(b *testing.B) {
	ping := os.Getenv("MUXBENCH_C_PING")
	if ping == "" || os.Getenv("MUXBENCH_C_ECHO") == "" {
		b.Skip("needs $MUXBENCH_C_ECHO and $MUXBENCH_C_PING (c-echo.c and c-ping.c, built)")
	}
	addr := openLoopTarget(b)
	_, port, _ := net.SplitHostPort(addr)
	for _, wait := range []string{"read", "poller", "spin"} {
		b.Run("wait="+wait, func(b *testing.B) {
			var cp, gen []float64
			for range b.N {
				out, err := exec.Command(ping, "-p", port, "-c", "1", "-t", "2", "-w", "0.5").Output()
				if err != nil {
					b.Fatalf("c-ping: %v", err)
				}
				var pingP50 float64
				for _, f := range strings.Fields(string(out)) {
					if v, ok := strings.CutPrefix(f, "p50="); ok {
						pingP50, err = strconv.ParseFloat(v, 64)
					}
				}
				if pingP50 <= 0 || err != nil {
					b.Fatalf("c-ping said %q", out)
				}
				cp = append(cp, pingP50*1e3)
				gen = append(gen, p50(b, bench.Config{Target: addr,
					GenSpin: wait == "spin", GenPollOnly: wait == "poller"}))
			}
			mc, mg := median(cp), median(gen)
			b.ReportMetric(mc, "c-ping-p50-ns")
			b.ReportMetric(mg, "gen-p50-ns")
			b.ReportMetric(mg/mc, "gen/c-ping")
		})
	}
}

func median(v []float64) float64 { return report.Summarize(v).Med }

// p50 is the median latency of one 2 s run of cfg at one connection.
func p50(b *testing.B, cfg bench.Config) float64 {
	b.Helper()
	cfg.Conns, cfg.Warmup, cfg.Duration = 1, 500*time.Millisecond, 2*time.Second
	res, err := bench.Run(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	return float64(res.Latency.P50)
}

// BenchmarkServerShare measures the reactor's own share of latency: at one
// connection, b.N interleaved pairs of 2 s generator runs (on CPU 1)
// against the C echo server ($MUXBENCH_C_ECHO) and against a muxbench
// server of each backend named (both servers on CPU 0). It reports both
// medians of p50 and their ratio, the figure to keep within 1.05.
//
//	MUXBENCH_C_ECHO=/tmp/c-echo go test -run '^$' -bench ServerShare -benchtime 7x ./bench/genbench/
func BenchmarkServerShare(b *testing.B) {
	if os.Getenv("MUXBENCH_C_ECHO") == "" {
		b.Skip("needs $MUXBENCH_C_ECHO (c-echo.c, built)")
	}
	addr := openLoopTarget(b)
	for _, backend := range []string{"epoll", "uring"} {
		b.Run("backend="+backend, func(b *testing.B) {
			var ce, mx []float64
			for range b.N {
				ce = append(ce, p50(b, bench.Config{Target: addr}))
				mx = append(mx, p50(b, bench.Config{Server: server.Config{Backend: backend},
					Executable: os.Args[0], ServerEnv: []string{serveEnv + "=1"}}))
			}
			mc, mm := median(ce), median(mx)
			b.ReportMetric(mc, "c-echo-p50-ns")
			b.ReportMetric(mm, "server-p50-ns")
			b.ReportMetric(mm/mc, "server/c-echo")
		})
	}
}
