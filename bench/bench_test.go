package bench

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/muxbench/muxbench/internal/testserver"
	"github.com/muxbench/muxbench/poller"
	"github.com/muxbench/muxbench/server"
)

// BenchmarkPingPong runs server and generator in this process, each loop
// on its own locked thread: b.N is round trips, timed after every
// connection is open and has made warmPerConn round trips, so that the
// figures are the steady state and not the start. Compare backends with
//
//	go test -run '^$' -bench PingPong -count 6 ./bench/ | benchstat -col /backend -
//
// (epoll, run first, is the baseline column). server-cpu-us/rt is the
// server loop thread's CPU per round trip; stdlib has no loop thread, so
// there it is the process's CPU less the generator loop's (the runtime's
// own threads included). CPU accounting is tick-based: trust it only for
// runs of a second or more (-benchtime 1s gives that at these rates).
func BenchmarkPingPong(b *testing.B) {
	type point struct{ conns, size int }
	points := []point{{100, 64}, {1000, 64}, {100, 16 << 10}}
	if testing.Short() {
		points = points[:1]
	}
	for _, backend := range benchBackends() {
		for _, p := range points {
			b.Run(fmt.Sprintf("backend=%s/conns=%d/size=%d", backend, p.conns, p.size), func(b *testing.B) {
				pingPong(b, backend, p.conns, p.size)
			})
		}
	}
}

// benchBackends lists epoll first: benchstat takes the first column it
// meets as the baseline the others are compared with.
func benchBackends() []string {
	out := []string{}
	for _, n := range poller.All(false) {
		if _, isPoller := poller.Lookup(n); !isPoller {
			continue
		}
		if n == "epoll" {
			out = append([]string{n}, out...)
		} else {
			out = append(out, n)
		}
	}
	for _, e := range poller.Catalog() {
		if e.Engine && e.Err == nil && e.Name != poller.Stdlib {
			out = append(out, e.Name)
		}
	}
	return append(out, poller.Stdlib)
}

// warmPerConn round trips per connection come before the timer: enough
// for every connection's buffers, the server's tables and the caches to
// settle.
const warmPerConn = 20

// dialedLoop is a closed generator loop of conns connections to addr,
// not yet running.
func dialedLoop(tb testing.TB, addr string, conns, size int) *genLoop {
	tb.Helper()
	fds, failed, err := dialAll(context.Background(), addr, conns, 10*time.Second)
	if err != nil || failed > 0 {
		closeAll(fds)
		tb.Fatalf("connect: %v (%d failed)", err, failed)
	}
	l, err := newGenLoop(0, GenBackend(), size, false, schedule{})
	if err != nil {
		closeAll(fds)
		tb.Fatal(err)
	}
	for i, fd := range fds {
		if err := l.add(fd, uint64(i)); err != nil {
			closeAll(fds)
			l.closeAll()
			tb.Fatal(err)
		}
	}
	return l
}

func pingPong(b *testing.B, backend string, conns, size int) {
	// The generator's loop keeps its P while it waits (a raw epoll_wait),
	// so give the server and the rest the Ps they had without it.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(runtime.GOMAXPROCS(0) + 1))
	srv, err := server.Start(server.Config{Backend: backend})
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		srv.Stop()
		srv.Wait()
	}()
	l := dialedLoop(b, srv.Addr(), conns, size)
	l.limit = uint64(b.N)
	// Wait for the server to have accepted everything before timing.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if st, err := srv.Stats(); err == nil && st.Conns >= conns {
			break
		}
	}
	go l.run(-1)
	defer func() {
		l.setPhase(phaseAbort)
		close(l.release)
		<-l.exited
	}()
	warm := uint64(warmPerConn * conns)
	for deadline := time.Now().Add(30 * time.Second); l.pub.Load() < warm; time.Sleep(100 * time.Microsecond) {
		if time.Now().After(deadline) {
			b.Fatalf("warm-up: %d of %d round trips in 30s", l.pub.Load(), warm)
		}
		select {
		case <-l.exited:
			b.Fatalf("warm-up: %v", l.exitErr())
		default:
		}
	}
	st0, err := srv.Stats()
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	l.setPhase(phaseMeasure)
	start, err0 := l.ack()
	end, err1 := l.ack()
	b.StopTimer()
	st1, err := srv.Stats()
	if err := errors.Join(err0, err1); err != nil {
		b.Fatal(err)
	}
	if e := l.integ; e.Mismatches+e.Resets+e.ConnFailures+e.Timeouts > 0 {
		b.Fatalf("integrity errors %+v: %q", e, l.errs)
	}
	if err != nil {
		b.Fatal(err)
	}
	rts := float64(end.rts - start.rts)
	lat := l.hist.summarize(nil)
	// Percentiles the sample count cannot support are not reported.
	if lat.P50 > 0 {
		b.ReportMetric(float64(lat.P50), "p50-ns")
	}
	if lat.P99 > 0 {
		b.ReportMetric(float64(lat.P99), "p99-ns")
	}
	var srvNs int64
	if st0.ThreadUserNs >= 0 {
		srvNs = st1.ThreadUserNs + st1.ThreadSysNs - st0.ThreadUserNs - st0.ThreadSysNs
	} else {
		genNs := end.cpu.userNs + end.cpu.sysNs - start.cpu.userNs - start.cpu.sysNs
		srvNs = st1.ProcUserNs + st1.ProcSysNs - st0.ProcUserNs - st0.ProcSysNs - genNs
	}
	b.ReportMetric(float64(srvNs)/1e3/rts, "server-cpu-us/rt")
	if st1.IO.Syscalls > 0 {
		b.ReportMetric(float64(st1.IO.Syscalls-st0.IO.Syscalls)/rts, "server-syscalls/rt")
	}
}

// benchstat's baseline is the first column it meets.
func TestBenchBackendsEpollFirst(t *testing.T) {
	names := benchBackends()
	if _, ok := poller.Lookup("epoll"); ok && names[0] != "epoll" {
		t.Errorf("backends %v: want epoll first", names)
	}
	if names[len(names)-1] != poller.Stdlib || len(names) < 2 {
		t.Errorf("backends %v: want every poller, the engines, stdlib last", names)
	}
}

// A benchmark's round-trip limit counts from the window's start: the
// warm-up before it, however long, does not use it up.
func TestLoopLimitCountsFromWindow(t *testing.T) {
	fds, failed, err := dialAll(context.Background(), testserver.Listen(t, testserver.Echo), 2, 5*time.Second)
	if err != nil || failed > 0 {
		t.Fatalf("connect: %v (%d failed)", err, failed)
	}
	l, err := newGenLoop(0, GenBackend(), 64, false, schedule{})
	if err != nil {
		closeAll(fds)
		t.Fatal(err)
	}
	for i, fd := range fds {
		if err := l.add(fd, uint64(i)); err != nil {
			t.Fatal(err)
		}
	}
	const limit = 50
	l.limit = limit
	go l.run(-1)
	defer func() {
		l.setPhase(phaseAbort)
		close(l.release)
		<-l.exited
	}()
	for deadline := time.Now().Add(10 * time.Second); l.pub.Load() < 3*limit; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("warm-up stopped at %d round trips: the limit ended it", l.pub.Load())
		}
	}
	l.setPhase(phaseMeasure)
	start, err0 := l.ack()
	end, err1 := l.ack()
	if err := errors.Join(err0, err1); err != nil {
		t.Fatal(err)
	}
	if n := end.rts - start.rts; n < limit || n > limit+2 {
		t.Errorf("%d round trips in the window, want the limit %d", n, limit)
	}
	if got := l.hist.summarize(nil).Count; got < limit {
		t.Errorf("%d latencies recorded in the window, want %d", got, limit)
	}
}
