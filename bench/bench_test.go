package bench

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/muxbench/muxbench/poller"
	"github.com/muxbench/muxbench/server"
)

// BenchmarkPingPong runs server and generator in this process, each loop
// on its own locked thread: b.N is round trips. Compare backends with
//
//	go test -run '^$' -bench PingPong -count 6 ./bench/ | benchstat -col /backend -
//
// server-cpu-us/rt is the server loop thread's CPU per round trip; stdlib
// has no loop thread, so there it is the process's CPU less the
// generator loop's (the runtime's own threads included). CPU accounting is
// tick-based: trust it only for runs of a second or more (-benchtime 1s
// gives that at these rates).
func BenchmarkPingPong(b *testing.B) {
	type point struct{ conns, size int }
	points := []point{{100, 64}, {1000, 64}, {100, 16 << 10}}
	if testing.Short() {
		points = points[:1]
	}
	for _, backend := range append(poller.Names(), Stdlib) {
		for _, p := range points {
			b.Run(fmt.Sprintf("backend=%s/conns=%d/size=%d", backend, p.conns, p.size), func(b *testing.B) {
				pingPong(b, backend, p.conns, p.size)
			})
		}
	}
}

func pingPong(b *testing.B, backend string, conns, size int) {
	srv, err := server.Start(server.Config{Backend: backend})
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		srv.Stop()
		srv.Wait()
	}()
	fds, failed, err := dialAll(context.Background(), srv.Addr(), conns, 10*time.Second)
	if err != nil || failed > 0 {
		closeAll(fds)
		b.Fatalf("connect: %v (%d failed)", err, failed)
	}
	l, err := newGenLoop(0, GenBackend(), size, false, schedule{})
	if err != nil {
		closeAll(fds)
		b.Fatal(err)
	}
	for i, fd := range fds {
		if err := l.add(fd, uint64(i)); err != nil {
			b.Fatal(err)
		}
	}
	l.limit = uint64(b.N)
	// Wait for the server to have accepted everything before timing.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if st, err := srv.Stats(); err == nil && st.Conns >= conns {
			break
		}
	}
	st0, err := srv.Stats()
	if err != nil {
		b.Fatal(err)
	}
	l.setPhase(phaseMeasure)
	b.ResetTimer()
	go l.run(-1)
	start, err0 := l.ack()
	end, err1 := l.ack()
	b.StopTimer()
	st1, err := srv.Stats()
	close(l.release)
	<-l.exited
	if err := errors.Join(err0, err1, l.err); err != nil {
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
	b.ReportMetric(float64(lat.P50), "p50-ns")
	b.ReportMetric(float64(lat.P99), "p99-ns")
	var srvNs int64
	if st0.ThreadUserNs >= 0 {
		srvNs = st1.ThreadUserNs + st1.ThreadSysNs - st0.ThreadUserNs - st0.ThreadSysNs
	} else {
		genNs := end.cpu.userNs + end.cpu.sysNs - start.cpu.userNs - start.cpu.sysNs
		srvNs = st1.ProcUserNs + st1.ProcSysNs - st0.ProcUserNs - st0.ProcSysNs - genNs
	}
	b.ReportMetric(float64(srvNs)/1e3/rts, "server-cpu-us/rt")
	b.ReportMetric(float64(st1.IO.ShortWrites-st0.IO.ShortWrites)/rts, "short-writes/rt")
}
