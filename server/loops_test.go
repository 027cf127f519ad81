package server

import (
	"bytes"
	"errors"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/muxbench/muxbench/control"
	"github.com/muxbench/muxbench/internal/testserver"
	"github.com/muxbench/muxbench/poller"
	"github.com/muxbench/muxbench/reactor"
	"github.com/muxbench/muxbench/sysstat"
)

// loopEngines are the engines that run one loop per thread here.
func loopEngines() []string {
	names := poller.Names()
	if uringAvailable() == nil {
		names = append(names, Uring)
	}
	return names
}

// TestLoopsSpreadAndEcho: two loops on one port, every byte echoed,
// connections accepted by both loops, counters summed over them.
func TestLoopsSpreadAndEcho(t *testing.T) {
	for _, b := range loopEngines() {
		t.Run(b, func(t *testing.T) {
			cfg := Config{Backend: b, Loops: 2, ReadBufSize: 4096}
			if runtime.NumCPU() >= 2 && sysstat.CanPin() {
				cfg.CPUs = []int{0, 1}
			}
			s := startServer(t, cfg)
			ctl := testserver.Control(t, s.ControlAddr(), "")
			// SO_REUSEPORT hashes the 4-tuple: with 64 source ports the
			// chance that one loop gets none is 2^-63.
			const nconn, rounds = 64, 20
			msg := bytes.Repeat([]byte("loops"), 300)
			conns := dialN(t, s.Addr(), nconn)
			echo(t, conns, msg, rounds)
			total := uint64(nconn * rounds * len(msg))
			st := waitStats(t, ctl, "all bytes counted", func(st control.Stats) bool { return st.IO.BytesOut == total })
			la := st.Options.LoopAccepts
			if st.Options.Loops != 2 || len(la) != 2 || la[0] == 0 || la[1] == 0 || la[0]+la[1] != nconn {
				t.Errorf("loops %d, accepts per loop %v; want 2 loops sharing %d", st.Options.Loops, la, nconn)
			}
			if st.Conns != nconn || st.Accept.Accepted != nconn || st.IO.BytesIn != total {
				t.Errorf("summed stats: conns %d, accepted %d, bytes in %d", st.Conns, st.Accept.Accepted, st.IO.BytesIn)
			}
			if _, err := sysstat.Thread(); err == nil && st.ThreadUserNs+st.ThreadSysNs <= 0 {
				t.Errorf("loop threads' CPU: %d user + %d sys", st.ThreadUserNs, st.ThreadSysNs)
			}
			for _, c := range conns {
				c.Close()
			}
			waitStats(t, ctl, "connections closed", func(st control.Stats) bool { return st.Conns == 0 })
			s.Stop()
			if err := s.Wait(); err != nil {
				t.Errorf("Wait after stop: %v", err)
			}
			if _, err := net.DialTimeout("tcp", s.Addr(), time.Second); err == nil {
				t.Error("a loop still accepts after stop")
			}
		})
	}
}

// TestLoopsFaults: injected faults on every loop, bytes still intact,
// and each loop's injections counted in the sum.
func TestLoopsFaults(t *testing.T) {
	for _, b := range loopEngines() {
		t.Run(b, func(t *testing.T) {
			f := Faults{ShortWriteFrac: 0.5, WriteEAGAINFrac: 0.2, ReadEAGAINFrac: 0.2, Seed: 7}
			if b == Uring {
				f = Faults{ShortWriteFrac: 0.5, Seed: 7}
			}
			s := startServer(t, Config{Backend: b, Loops: 2, Faults: f})
			ctl := testserver.Control(t, s.ControlAddr(), "")
			echo(t, dialN(t, s.Addr(), 32), bytes.Repeat([]byte("fault"), 1000), 10)
			st := testserver.Stats(t, ctl)
			if st.Injected["short_writes"] == 0 {
				t.Errorf("injected %v", st.Injected)
			}
			if la := st.Options.LoopAccepts; len(la) != 2 || la[0] == 0 || la[1] == 0 {
				t.Errorf("accepts per loop %v", la)
			}
		})
	}
}

// TestLoopsStdlib: the stdlib server's loops are its GOMAXPROCS.
func TestLoopsStdlib(t *testing.T) {
	prev := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(prev)
	s := startServer(t, Config{Backend: poller.Stdlib, Loops: 3})
	echo(t, dialN(t, s.Addr(), 4), []byte("std"), 5)
	st, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Options.Loops != 3 || st.Options.GOMAXPROCS != 3 || st.Options.LoopAccepts != nil {
		t.Errorf("options %+v", st.Options)
	}
}

// TestLoopsOne: one loop is the plain engine, recorded as before.
func TestLoopsOne(t *testing.T) {
	for _, n := range []int{0, 1} {
		s := startServer(t, Config{Backend: poller.Names()[0], Loops: n})
		if _, ok := s.eng.(*loopsEngine); ok {
			t.Errorf("Loops %d runs the loops engine", n)
		}
		st, err := s.Stats()
		if err != nil {
			t.Fatal(err)
		}
		if st.Options.Loops != 0 || st.Options.LoopAccepts != nil {
			t.Errorf("Loops %d recorded as %+v", n, st.Options)
		}
	}
}

func TestLoopsBadConfig(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Backend: poller.Names()[0], Loops: -1}, "--loops -1"},
		{Config{Backend: poller.Names()[0], Loops: MaxLoops + 1}, "--loops 1025"},
		{Config{Backend: poller.Stdlib, Loops: 2, GOMAXPROCS: 3}, "contradicts"},
	} {
		_, err := Start(tc.cfg)
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want a config error naming %q", tc.cfg, err, tc.want)
		}
	}
}

// TestLoopsListenFails: a port taken without SO_REUSEPORT refuses the
// first loop, and no loop is left running.
func TestLoopsListenFails(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	_, err = Start(Config{Backend: poller.Names()[0], Loops: 2, Listen: busy.Addr().String()})
	var le *ListenError
	if !errors.As(err, &le) || le.Flag != "listen" {
		t.Fatalf("listen on a busy port: %v", err)
	}
}

// exclusiveBackends are the backends that can share one listener among
// loops (AcceptExclusive).
func exclusiveBackends(t *testing.T) []string {
	var out []string
	for _, info := range poller.Backends() {
		if info.Caps.Exclusive && poller.Check(info.Name, poller.Options{}) == nil {
			out = append(out, info.Name)
		}
	}
	if len(out) == 0 {
		t.Skip("no backend here can share a listener exclusively (epoll, Linux)")
	}
	return out
}

// TestLoopsExclusive: two loops serve one listening socket watched with
// EPOLLEXCLUSIVE, level- and edge-triggered. Every connection is
// accepted once and every byte echoed, and the spread is recorded. While
// one loop is held busy, the other takes every new connection: both
// listen, whatever spread the kernel's wake-ups gave.
func TestLoopsExclusive(t *testing.T) {
	for _, b := range exclusiveBackends(t) {
		for _, edge := range []bool{false, true} {
			name := b
			if edge {
				name += poller.EdgeSuffix
			}
			t.Run(name, func(t *testing.T) {
				cfg := Config{Backend: b, Poller: poller.Options{EdgeTriggered: edge}, Loops: 2, Accept: AcceptExclusive, ReadBufSize: 4096}
				if runtime.NumCPU() >= 2 && sysstat.CanPin() {
					cfg.CPUs = []int{0, 1}
				}
				s := startServer(t, cfg)
				ctl := testserver.Control(t, s.ControlAddr(), "")
				const nconn, rounds, held = 40, 10, 8
				msg := bytes.Repeat([]byte("excl"), 300)
				conns := dialN(t, s.Addr(), nconn)
				echo(t, conns, msg, rounds)
				st := waitStats(t, ctl, "all bytes counted", func(st control.Stats) bool {
					return st.IO.BytesOut == uint64(nconn*rounds*len(msg))
				})
				la := st.Options.LoopAccepts
				if st.Options.Accept != AcceptExclusive || len(la) != 2 || la[0]+la[1] != nconn || st.Accept.Errors != 0 {
					t.Errorf("accept %q, accepts per loop %v, %d errors; want exclusive, 2 loops sharing %d",
						st.Options.Accept, la, st.Accept.Errors, nconn)
				}
				t.Logf("spread of %d connections: %v", nconn, la)
				loops := s.eng.(*loopsEngine).loops
				for busy := range loops {
					before := la
					release := hold(t, loops[busy].(*reactorEngine))
					echo(t, dialN(t, s.Addr(), held), msg, 1)
					release()
					st := waitStats(t, ctl, "connections counted", func(st control.Stats) bool {
						return st.Accept.Accepted == uint64(nconn+(busy+1)*held)
					})
					la = st.Options.LoopAccepts
					if other := 1 - busy; la[other]-before[other] != held {
						t.Errorf("loop %d held: loop %d accepted %d of %d (per loop before %v, after %v)",
							busy, other, la[other]-before[other], held, before, la)
					}
				}
			})
		}
	}
}

// hold keeps e's loop busy in a call, waiting on nothing, until the
// returned release is called (at the latest when the test ends).
func hold(t *testing.T, e *reactorEngine) (release func()) {
	ch, started := make(chan struct{}), make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(ch) }) }
	t.Cleanup(release)
	e.r.Call(func() {
		close(started)
		<-ch
	})
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the loop did not take the call")
	}
	return release
}

// The output budget bounds the server: its loops share it out, so that
// more loops do not let more output pile up. The stdlib engine has no
// budget.
func TestLoopsShareOutputBudget(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want int
	}{
		{Config{Backend: "poll", Loops: 2}, reactor.DefaultOutputBudget / 2},
		{Config{Backend: "poll", Loops: 4, OutputBudget: 40 << 20}, 10 << 20},
		{Config{Backend: Uring, Loops: 2, OutputBudget: 8 << 20}, 4 << 20},
		{Config{Backend: poller.Stdlib, Loops: 2}, 0},
	} {
		e := newLoopsEngine(tc.cfg, nil)
		for i := range tc.cfg.Loops {
			if got := e.loopConfig(i).OutputBudget; got != tc.want {
				t.Errorf("%s, %d loops, budget %d: loop %d gets %d, want %d", tc.cfg.Backend, tc.cfg.Loops, tc.cfg.OutputBudget, i, got, tc.want)
			}
		}
	}
}
