//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package reactor

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/poller"
	_ "github.com/muxbench/muxbench/poller/all"
)

// mode is one way to run the loop: a backend, level- or edge-triggered,
// its listeners watched exclusively or not.
type mode struct {
	name      string
	backend   string
	opts      poller.Options
	exclusive bool
}

// modes lists every registered backend, plus the edge-triggered variant
// of those that offer it and the exclusive-accept variant (the
// multi-loop server's shared listener) of those that can.
func modes() []mode {
	var out []mode
	for _, info := range poller.Backends() {
		out = append(out, mode{name: info.Name, backend: info.Name})
		if info.Caps.EdgeTriggered {
			out = append(out, mode{name: info.Name + "-et", backend: info.Name, opts: poller.Options{EdgeTriggered: true}})
		}
		if info.Caps.Exclusive {
			out = append(out, mode{name: info.Name + "-exclusive", backend: info.Name, exclusive: true})
		}
	}
	return out
}

func forEachMode(t *testing.T, fn func(t *testing.T, m mode)) {
	t.Helper()
	ms := modes()
	if len(ms) == 0 {
		t.Fatal("no poller backend registered")
	}
	for _, m := range ms {
		t.Run(m.name, func(t *testing.T) {
			if err := poller.Check(m.backend, m.opts); errors.Is(err, poller.ErrUnavailable) {
				t.Skipf("skipping: %v", err)
			}
			fn(t, m)
		})
	}
}

func newReactor(t testing.TB, m mode, cfg Config) *Reactor {
	t.Helper()
	cfg.Backend = m.backend
	cfg.Poller = m.opts
	cfg.ExclusiveAccept = m.exclusive
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// start runs r on its own goroutine; the cleanup stops it and closes it.
func start(t testing.TB, r *Reactor) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- r.Run() }()
	t.Cleanup(func() {
		r.Stop()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return after Stop")
		}
		r.Close()
	})
}

// onLoop runs fn on the loop thread and waits for it.
func onLoop(t testing.TB, r *Reactor, fn func()) {
	t.Helper()
	done := make(chan struct{})
	r.Call(func() { fn(); close(done) })
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the loop did not run a Call within 10 s")
	}
}

func counters(t testing.TB, r *Reactor) Counters {
	var c Counters
	onLoop(t, r, func() { c = r.Counters() })
	return c
}

// waitFor polls cond on the loop until it holds or the time runs out.
func waitFor(t testing.TB, r *Reactor, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		var ok bool
		onLoop(t, r, func() { ok = cond() })
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// echoRec echoes like protocol.Echo and records what the tests check.
type echoRec struct {
	t      *Transport
	in     int
	maxBuf int
	lostN  int
	lost   chan error // gets the ConnectionLost reason
}

func newEchoRec() *echoRec { return &echoRec{lost: make(chan error, 4)} }

func (e *echoRec) ConnectionMade(c Conn) { e.t = c.(*Transport) }

func (e *echoRec) DataReceived(data []byte) {
	e.in += len(data)
	e.t.Write(data)
	if b := e.t.Buffered(); b > e.maxBuf {
		e.maxBuf = b
	}
}

func (e *echoRec) ConnectionLost(err error) {
	e.lostN++
	e.lost <- err
}

// echoServer listens on loopback with echoRec protocols sent to made.
func echoServer(t testing.TB, r *Reactor) (addr string, made chan *echoRec) {
	t.Helper()
	made = make(chan *echoRec, 64)
	l, err := r.Listen("tcp", "127.0.0.1:0", func() Protocol {
		e := newEchoRec()
		made <- e
		return e
	})
	if err != nil {
		t.Fatal(err)
	}
	return l.Addr().String(), made
}

func dial(t testing.TB, addr string) *net.TCPConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*net.TCPConn)
}

func recv[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(15 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// pattern is data whose every byte depends on its offset, so a lost,
// repeated or reordered byte shows.
func pattern(n int, seed uint64) []byte {
	b := make([]byte, n)
	x := seed | 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x)
	}
	return b
}

// roundTrip writes msg in chunks from a goroutine while reading the echo
// back, and checks that every byte came back once and in order.
func roundTrip(t testing.TB, c *net.TCPConn, msg []byte, chunk int) {
	t.Helper()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	var wg sync.WaitGroup
	var werr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		for off := 0; off < len(msg); off += chunk {
			end := min(off+chunk, len(msg))
			if _, err := c.Write(msg[off:end]); err != nil {
				werr = err
				return
			}
		}
	}()
	got := make([]byte, len(msg))
	_, err := io.ReadFull(c, got)
	wg.Wait()
	if werr != nil {
		t.Fatalf("write: %v", werr)
	}
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	if i := firstDiff(got, msg); i >= 0 {
		t.Fatalf("echo differs at byte %d of %d", i, len(msg))
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

// rawSocket is a blocking client socket that allocates nothing on the Go
// heap (SOCK_CLOEXEC is Linux-only, hence the second call).
func rawSocket(domain int) (int, error) {
	fd, err := unix.Socket(domain, unix.SOCK_STREAM, 0)
	if err == nil {
		unix.CloseOnExec(fd)
	}
	return fd, err
}
