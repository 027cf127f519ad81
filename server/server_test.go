package server

import (
	"bytes"
	"errors"
	"io"
	"math"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/muxbench/muxbench/control"
	"github.com/muxbench/muxbench/internal/testserver"
	"github.com/muxbench/muxbench/poller"
	"github.com/muxbench/muxbench/sysstat"
)

// backends are every backend and engine a server can run here, from the
// catalogue.
func backends() []string { return poller.All(false) }

func startServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	s, err := Start(cfg)
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
	return s
}

// echo sends n rounds of msg over each conn and checks what comes back.
func echo(t *testing.T, conns []net.Conn, msg []byte, rounds int) {
	t.Helper()
	got := make([]byte, len(msg))
	for r := 0; r < rounds; r++ {
		for _, c := range conns {
			c.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := c.Write(msg); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range conns {
			if _, err := io.ReadFull(c, got); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, msg) {
				t.Fatalf("echo mismatch")
			}
		}
	}
}

func dialN(t *testing.T, addr string, n int) []net.Conn {
	t.Helper()
	var conns []net.Conn
	for range n {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		conns = append(conns, c)
	}
	return conns
}

// waitStats polls until cond holds, for counters that settle after the
// client side has seen its bytes (conns closing, the loop's last count).
func waitStats(t *testing.T, c *control.Client, what string, cond func(control.Stats) bool) control.Stats {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := testserver.Stats(t, c)
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: never true; last stats %+v", what, st)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestEchoAndStats(t *testing.T) {
	for _, b := range backends() {
		t.Run(b, func(t *testing.T) {
			s := startServer(t, Config{Backend: b, ReadBufSize: 4096, Token: testToken})
			rd := s.Ready()
			if rd.Backend != b || rd.PID <= 0 || !strings.HasPrefix(rd.Listen, "127.0.0.1:") || !strings.HasPrefix(rd.Control, "127.0.0.1:") {
				t.Fatalf("ready %+v", rd)
			}
			ctl := testserver.Control(t, rd.Control, testToken)
			before := testserver.Stats(t, ctl)
			const nconn, rounds = 8, 200
			msg := bytes.Repeat([]byte("0123456789abcdef"), 4)
			conns := dialN(t, rd.Listen, nconn)
			echo(t, conns, msg, rounds)
			total := uint64(nconn * rounds * len(msg))
			after := waitStats(t, ctl, "all bytes counted", func(st control.Stats) bool {
				return st.IO.BytesOut-before.IO.BytesOut == total
			})
			if after.Backend != b || after.Conns != nconn || after.IO.BytesIn-before.IO.BytesIn != total ||
				after.IO.Accepts-before.IO.Accepts != nconn || after.IO.Reads == 0 || after.IO.Writes == 0 {
				t.Errorf("after %d round trips: %+v", nconn*rounds, after)
			}
			if after.ProcUserNs+after.ProcSysNs <= 0 || after.MaxRSS <= 0 || (after.RSS <= 0 && !lacks(sysstat.RSS())) || after.PID != os.Getpid() {
				t.Errorf("process figures: %+v", after)
			}
			if after.Options.ReadBuf != 4096 {
				t.Errorf("options %v", after.Options)
			}
			if b == poller.Stdlib {
				if after.ThreadUserNs != -1 || after.ThreadSysNs != -1 {
					t.Errorf("stdlib has no loop thread, got %d/%d", after.ThreadUserNs, after.ThreadSysNs)
				}
			} else if after.ThreadUserNs == -1 && lacks(sysstat.Thread()) {
				// No per-thread CPU on this platform: reported as none.
			} else if after.ThreadUserNs+after.ThreadSysNs <= 0 {
				t.Errorf("loop thread CPU after load: %d user + %d sys", after.ThreadUserNs, after.ThreadSysNs)
			}
			for _, c := range conns {
				c.Close()
			}
			waitStats(t, ctl, "connections closed", func(st control.Stats) bool { return st.Conns == 0 })

			if err := ctl.Stop(); err != nil {
				t.Fatal(err)
			}
			select {
			case <-s.Done():
			case <-time.After(20 * time.Second):
				t.Fatal("a control stop did not stop the server")
			}
			if err := s.Wait(); err != nil {
				t.Errorf("Wait after stop: %v", err)
			}
			if _, err := net.DialTimeout("tcp", rd.Listen, time.Second); err == nil {
				t.Error("still accepting after stop")
			}
		})
	}
}

func TestStopClosesConns(t *testing.T) {
	for _, b := range backends() {
		t.Run(b, func(t *testing.T) {
			s := startServer(t, Config{Backend: b})
			conns := dialN(t, s.Addr(), 3)
			echo(t, conns, []byte("ping"), 1)
			s.Stop()
			if err := s.Wait(); err != nil {
				t.Fatal(err)
			}
			for _, c := range conns {
				c.SetReadDeadline(time.Now().Add(10 * time.Second))
				if _, err := c.Read(make([]byte, 1)); err == nil {
					t.Error("a connection outlived its server")
				}
			}
		})
	}
}

func TestStartErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	beyondInt32 := int64(math.MaxInt32) + 1
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"unknown backend", Config{Backend: "carrier-pigeon"}, "available: "},
		{"no backend", Config{}, "no backend"},
		{"negative buffer", Config{Backend: poller.Stdlib, SndBuf: -1}, "--sndbuf -1"},
		{"buffer beyond int32", Config{Backend: poller.Stdlib, RcvBuf: int(beyondInt32)}, "--rcvbuf 2g: want 0 (the default) to 2147483647"},
		{"water marks", Config{Backend: poller.Stdlib, HighWater: 10, LowWater: 20}, "--low-water 20 above"},
		{"missing CPU", Config{Backend: poller.Stdlib, CPUs: []int{4096}}, "CPU 4096 does not exist"},
		{"faults on stdlib", Config{Backend: poller.Stdlib, Faults: Faults{ShortWriteFrac: 0.5}}, "poller backend"},
		{"bad fraction", Config{Backend: poller.Stdlib, Faults: Faults{WriteEAGAINFrac: 2}}, "--inject-eagain 2: outside [0, 1)"},
		{"no token off loopback", Config{Backend: poller.Stdlib, Listen: "0.0.0.0:0"}, "--token"},
		{"short token", Config{Backend: poller.Stdlib, Token: "short"}, "--token: a token of 5 bytes"},
		{"port in use", Config{Backend: poller.Stdlib, Listen: busy.Addr().String()}, "address already in use"},
		{"control port in use", Config{Backend: poller.Stdlib, Control: busy.Addr().String()}, "control"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Start(tc.cfg)
			if err == nil {
				s.Stop()
				s.Wait()
				t.Fatal("started")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
			var le *ListenError
			if !errors.Is(err, ErrConfig) && !errors.As(err, &le) {
				t.Errorf("error %v is neither ErrConfig nor a ListenError", err)
			}
		})
	}
}

func TestInjectedFaults(t *testing.T) {
	for _, b := range poller.Names() {
		t.Run(b, func(t *testing.T) {
			s := startServer(t, Config{Backend: b, Faults: Faults{ShortWriteFrac: 0.5, WriteEAGAINFrac: 0.2, ReadEAGAINFrac: 0.2, Seed: 7}})
			ctl := testserver.Control(t, s.ControlAddr(), "")
			msg := bytes.Repeat([]byte("fault"), 1000)
			echo(t, dialN(t, s.Addr(), 4), msg, 20)
			st := testserver.Stats(t, ctl)
			in := st.Injected
			if in["short_writes"] == 0 || in["write_eagain"] == 0 || in["read_eagain"] == 0 {
				t.Errorf("injected %v", in)
			}
			if st.Options.InjectShortWrites != 0.5 || st.Options.FaultSeed != 7 {
				t.Errorf("options %v", st.Options)
			}
		})
	}
}

// TestUringShortSends: the uring engine injects short sends, and only
// them; every byte still comes back.
func TestUringShortSends(t *testing.T) {
	if err := uringAvailable(); err != nil {
		t.Skipf("the uring engine is unavailable, skipping: %v", err)
	}
	s := startServer(t, Config{Backend: Uring, Faults: Faults{ShortWriteFrac: 0.5, Seed: 7}})
	ctl := testserver.Control(t, s.ControlAddr(), "")
	echo(t, dialN(t, s.Addr(), 4), bytes.Repeat([]byte("fault"), 1000), 20)
	st := testserver.Stats(t, ctl)
	if st.Injected["short_writes"] == 0 {
		t.Errorf("injected %v", st.Injected)
	}
	if _, err := Start(Config{Backend: Uring, Faults: Faults{WriteEAGAINFrac: 0.1}}); err == nil || !strings.Contains(err.Error(), "short sends only") {
		t.Errorf("uring with injected EAGAIN: %v", err)
	}
	// The server-wide output budget applies to it as to the reactor.
	c := Config{Backend: Uring, OutputBudget: 1 << 20}
	if err := c.Check(); err != nil {
		t.Errorf("uring with an output budget: %v", err)
	}
}

// lacks reports whether a sysstat reading says the figure is unavailable
// here.
func lacks[T any](_ T, err error) bool { return errors.Is(err, sysstat.ErrUnavailable) }

// With RSS and thread CPU unavailable (hidden here, missing on darwin and
// some BSDs) the server still answers stats, reporting them as absent
// (RSS 0, thread CPU -1) rather than failing or inventing them.
func TestStatsUnavailable(t *testing.T) {
	t.Setenv(sysstat.HideEnv, "rss,thread")
	s := startServer(t, Config{Backend: defaultBackend()})
	ctl := testserver.Control(t, s.ControlAddr(), "")
	st := testserver.Stats(t, ctl)
	if st.RSS != 0 || st.ThreadUserNs != -1 || st.ThreadSysNs != -1 || st.MaxRSS <= 0 {
		t.Errorf("stats with RSS and thread CPU unavailable: RSS %d, thread %d/%d, max RSS %d", st.RSS, st.ThreadUserNs, st.ThreadSysNs, st.MaxRSS)
	}
}
