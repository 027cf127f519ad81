package fault_test

import (
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/muxbench/muxbench/control"
	"github.com/muxbench/muxbench/fault"
	"github.com/muxbench/muxbench/internal/testserver"
	"github.com/muxbench/muxbench/poller"
	"github.com/muxbench/muxbench/protocol"
	"github.com/muxbench/muxbench/server"

	_ "github.com/muxbench/muxbench/poller/all"
)

// injected is the fault injection every poller backend runs under here:
// frequent enough that every message meets some.
var injected = server.Faults{ShortWriteFrac: 0.3, WriteEAGAINFrac: 0.2, ReadEAGAINFrac: 0.2, Seed: 7}

// backends are every server this platform has; "-et" runs an
// edge-triggered backend in edge mode, where the reactor reads and writes
// until EAGAIN and replays what an injected EAGAIN cut short.
func backends() []string { return poller.All(true) }

type fixture struct {
	srv    *server.Server
	ctl    *control.Client
	before control.Stats
}

// start serves backend in-process, with injection where it applies, and
// reads the figures to come back to.
func start(t *testing.T, backend string, cfg server.Config) *fixture {
	t.Helper()
	choice, err := poller.Resolve(backend)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Backend, cfg.Poller = choice.Backend, choice.Options()
	if !choice.Engine {
		cfg.Faults = injected
	}
	s, err := server.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Stop()
		select {
		case <-s.Done():
		case <-time.After(20 * time.Second):
			t.Error("server did not stop")
		}
	})
	f := &fixture{srv: s, ctl: testserver.Control(t, s.ControlAddr(), "")}
	f.before = f.wait(t, "no connection yet", func(st control.Stats) bool { return st.Conns == 0 })
	return f
}

// wait polls the server's stats until cond holds: connections close on
// the server's side a little after ours.
func (f *fixture) wait(t *testing.T, what string, cond func(control.Stats) bool) control.Stats {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		st := testserver.Stats(t, f.ctl)
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: never true; last stats: conns %d, open fds %d (%d at the start)", what, st.Conns, st.OpenFDs, f.before.OpenFDs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// settled waits until every connection is gone and, where descriptors
// can be counted, as many are open as at the start: nothing leaked.
func (f *fixture) settled(t *testing.T) control.Stats {
	t.Helper()
	return f.wait(t, "connections closed and descriptors back to the start", func(st control.Stats) bool {
		return st.Conns == 0 && st.OpenFDs == f.before.OpenFDs
	})
}

func run(t *testing.T, d time.Duration, cfg fault.Config) *fault.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	rep, err := fault.Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range rep.Errors {
		t.Log(e)
	}
	return rep
}

// TestChurn replaces connections fast, half of them with a reset and an
// echo left unread, so that the server reuses descriptor numbers while
// work for the old connection may still be pending. Every echo names its
// connection: a byte delivered to the wrong one is a mismatch.
func TestChurn(t *testing.T) {
	for _, b := range backends() {
		t.Run(b, func(t *testing.T) {
			f := start(t, b, server.Config{})
			rep := run(t, 1500*time.Millisecond, fault.Config{
				Target: f.srv.Addr(), Churn: 400, ChurnConns: 8, ChurnMsgs: 2, MsgSize: 700,
			})
			if rep.IntegrityErrors != 0 || rep.ConnFailures != 0 {
				t.Errorf("integrity errors %d, connection failures %d", rep.IntegrityErrors, rep.ConnFailures)
			}
			if rep.Churned < 20 || rep.ChurnResets == 0 || rep.ChurnResets == rep.Churned || rep.ChurnRoundTrips < 2*rep.Churned {
				t.Errorf("churned %d (%d reset) with %d round trips: too few, or not both ways", rep.Churned, rep.ChurnResets, rep.ChurnRoundTrips)
			}
			if len(rep.Hostile) != 0 {
				t.Errorf("hostile peers reported without being asked: %+v", rep.Hostile)
			}
			st := f.settled(t)
			if accepts := st.IO.Accepts - f.before.IO.Accepts; accepts < rep.Churned {
				t.Errorf("server accepted %d connections, %d were churned", accepts, rep.Churned)
			}
			if c, _ := poller.Resolve(b); c.Engine {
				return // no injection: see start
			}
			// Injected faults are counted, and apart from the real ones:
			// a 700-byte message never fills a socket buffer, so every
			// short write here is an injected one.
			inj := st.Injected
			if inj["short_writes"] == 0 || inj["write_eagain"] == 0 || inj["read_eagain"] == 0 {
				t.Errorf("injected faults not all seen: %v", inj)
			}
			if st.IO.ShortWrites != 0 {
				t.Errorf("%d real short writes counted with %d injected: injected ones counted as real?", st.IO.ShortWrites, inj["short_writes"])
			}
		})
	}
}

// TestHostile runs every kind of hostile peer beside well-behaved
// connections, against a server with a small high-water mark: each kind
// must meet a correct server, the others must keep being served, and the
// server's memory must stay bounded.
func TestHostile(t *testing.T) {
	for _, b := range backends() {
		t.Run(b, func(t *testing.T) {
			f := start(t, b, server.Config{HighWater: 128 << 10, LowWater: 32 << 10})
			ctx, cancel := context.WithCancel(context.Background())
			good := make(chan wellBehaved, 1)
			go func() { good <- serveWell(ctx, f.srv.Addr(), 4, 4096) }()
			rep := run(t, 2500*time.Millisecond, fault.Config{Target: f.srv.Addr(), Hostile: true, HostilePeers: 3})
			cancel()
			w := <-good
			if rep.NeverReadMaxBytes == 0 || rep.NeverReadMaxBytes > fault.DefaultNeverReadLimit {
				t.Errorf("never-read peers pushed at most %d bytes", rep.NeverReadMaxBytes)
			}
			if w.err != "" || w.roundTrips < 100 {
				t.Errorf("well-behaved connections: %d round trips beside the hostile peers, error %q", w.roundTrips, w.err)
			}
			if w.maxGap > 5*time.Second {
				t.Errorf("well-behaved connections waited %v for an echo", w.maxGap)
			}
			if len(rep.Hostile) != len(fault.Kinds) {
				t.Fatalf("hostile kinds reported: %+v", rep.Hostile)
			}
			for i, h := range rep.Hostile {
				if h.Kind != fault.Kinds[i] || h.Attempted == 0 || h.Unexpected != 0 || h.Expected != h.Attempted {
					t.Errorf("%s: %+v", fault.Kinds[i], h)
				}
			}
			if rep.ConnFailures != 0 || rep.IntegrityErrors != 0 || rep.Churned != 0 {
				t.Errorf("report %+v", rep)
			}
			st := f.settled(t)
			// In-process the RSS is ours too; the bound is loose, but an
			// unbounded server buffer takes every never-read peer's
			// hundreds of MiB.
			if grow := st.RSS - f.before.RSS; grow > 200<<20 {
				t.Errorf("RSS grew by %d MiB", grow>>20)
			}
		})
	}
}

type wellBehaved struct {
	roundTrips uint64
	maxGap     time.Duration
	err        string
}

// serveWell keeps conns connections in verified ping-pong until ctx ends.
func serveWell(ctx context.Context, addr string, conns, size int) wellBehaved {
	var (
		wg     sync.WaitGroup
		rts    atomic.Uint64
		mu     sync.Mutex
		w      wellBehaved
		failed = func(s string) {
			mu.Lock()
			if w.err == "" {
				w.err = s
			}
			mu.Unlock()
		}
	)
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				failed(err.Error())
				return
			}
			defer c.Close()
			stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
			defer stop()
			msg, got, scratch := make([]byte, size), make([]byte, size), make([]byte, size)
			for seq := uint64(0); ; seq++ {
				t0 := time.Now()
				c.SetDeadline(t0.Add(10 * time.Second))
				if ctx.Err() != nil {
					return
				}
				protocol.FillPattern(msg, uint64(i), seq, 0)
				if _, err := c.Write(msg); err != nil {
					if ctx.Err() == nil {
						failed(err.Error())
					}
					return
				}
				if _, err := io.ReadFull(c, got); err != nil {
					if ctx.Err() == nil {
						failed(err.Error())
					}
					return
				}
				if protocol.CheckPattern(got, uint64(i), seq, 0, scratch) >= 0 {
					failed("echo mismatch")
					return
				}
				rts.Add(1)
				mu.Lock()
				w.maxGap = max(w.maxGap, time.Since(t0))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	w.roundTrips = rts.Load()
	return w
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []struct {
		cfg  fault.Config
		want string
	}{
		{fault.Config{Churn: 10}, "no target"},
		{fault.Config{Target: "localhost", Churn: 10}, "host:port"},
		{fault.Config{Target: "127.0.0.1:1"}, "nothing to do"},
		{fault.Config{Target: "127.0.0.1:1", Churn: -1}, "want 0 or more"},
		{fault.Config{Target: "127.0.0.1:1", Churn: 1, MsgSize: 3}, "message size"},
		{fault.Config{Target: "127.0.0.1:1", Hostile: true, LargeMsg: 1 << 20, NeverReadLimit: 1 << 10}, "never-read limit"},
	} {
		_, err := fault.Run(context.Background(), c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.cfg, err, c.want)
		}
	}
}

// TestUnreachable: a target nobody listens on is an error at once, not a
// report full of failed connections.
func TestUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := fault.Run(ctx, fault.Config{Target: testserver.ClosedAddr(t), Churn: 10, Timeout: time.Second}); err == nil {
		t.Error("no error for a closed port")
	}
}

// TestStaleDeliveryCaught proves the check is not vacuous: a server that
// hands every fifth new connection bytes kept from an earlier one, as a
// stale event or buffer on a reused descriptor would, is caught.
func TestStaleDeliveryCaught(t *testing.T) {
	var (
		mu    sync.Mutex
		kept  []byte
		conns atomic.Int64
	)
	addr := testserver.Listen(t, func(c net.Conn) {
		defer c.Close()
		n := conns.Add(1) - 1
		buf := make([]byte, 4096)
		for first := true; ; first = false {
			k, err := c.Read(buf)
			if err != nil {
				return
			}
			mu.Lock()
			if first && n%5 == 4 && len(kept) >= k {
				copy(buf, kept[:k])
			} else if first {
				kept = append(kept[:0], buf[:k]...)
			}
			mu.Unlock()
			if _, err := c.Write(buf[:k]); err != nil {
				return
			}
		}
	})
	rep := run(t, 700*time.Millisecond, fault.Config{Target: addr, Churn: 200, ChurnConns: 4, ChurnMsgs: 1, MsgSize: 64})
	if rep.IntegrityErrors == 0 {
		t.Fatalf("crossed echoes not seen: %+v", rep)
	}
	if len(rep.Errors) == 0 || !strings.Contains(rep.Errors[0], "it carries connection") {
		t.Errorf("errors do not name the connection the bytes came from: %q", rep.Errors)
	}
}

// The crowd of never-readers connects, pushes and holds on without a
// failure, and every connection is gone once the run ends.
func TestNeverReadCrowd(t *testing.T) {
	const n = 30
	f := start(t, "poll", server.Config{OutputBudget: 1 << 20, SndBuf: 64 << 10})
	rep := run(t, 2*time.Second, fault.Config{Target: f.srv.Addr(), NeverReaders: n, NeverReaderBytes: 1 << 20})
	if len(rep.Hostile) != 1 {
		t.Fatalf("hostile kinds reported: %+v", rep.Hostile)
	}
	if h := rep.Hostile[0]; h.Kind != fault.NeverReadCrowd || h.Attempted != n || h.Expected != n {
		t.Errorf("crowd: %+v, want %d peers as expected", h, n)
	}
	if rep.ConnFailures != 0 || len(rep.Errors) != 0 {
		t.Errorf("report %+v", rep)
	}
	// 30 MiB pushed at a 1 MiB budget: the server must have stopped
	// reading, and says so on its control channel.
	if st, err := f.ctl.Stats(); err != nil || st.BudgetPauses == 0 {
		t.Errorf("budget pauses %d (err %v) after %d MiB at a 1 MiB budget", st.BudgetPauses, err, n)
	}
	f.settled(t)
}
