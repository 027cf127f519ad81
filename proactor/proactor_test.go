//go:build linux

package proactor

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/internal/uring"
	"github.com/muxbench/muxbench/protocol"
	"github.com/muxbench/muxbench/reactor"
)

func need(t *testing.T) {
	t.Helper()
	if err := Available(); err != nil {
		t.Skipf("the uring engine is unavailable, skipping: %v", err)
	}
}

// harness runs a loop on its own locked goroutine; do runs fn there and
// waits for it.
type harness struct {
	l    *Loop
	done chan error
}

func start(t *testing.T, cfg Config, setup func(l *Loop) error) *harness {
	t.Helper()
	h := &harness{done: make(chan error, 1)}
	ready := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		l, err := New(cfg)
		if err != nil {
			ready <- err
			return
		}
		h.l = l
		if err := setup(l); err != nil {
			l.Close()
			ready <- err
			return
		}
		ready <- nil
		err = l.Run()
		l.Close()
		h.done <- err
	}()
	if err := <-ready; err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		h.l.Stop()
		select {
		case err := <-h.done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("the loop did not stop")
		}
	})
	return h
}

func (h *harness) do(fn func()) {
	c := make(chan struct{})
	h.l.Call(func() { fn(); close(c) })
	<-c
}

func (h *harness) counters() (c Counters, conns int) {
	h.do(func() { c, conns = h.l.Counters(), h.l.Conns() })
	return
}

func echoServer(t *testing.T, cfg Config) (*harness, string) {
	var addr string
	h := start(t, cfg, func(l *Loop) error {
		ln, err := l.Listen("tcp", "127.0.0.1:0", protocol.NewEcho)
		if err == nil {
			addr = ln.Addr().String()
		}
		return err
	})
	return h, addr
}

// pingPong drives conns clients through rounds of messages of random
// sizes up to max and checks every echoed byte.
func pingPong(t *testing.T, addr string, conns, rounds, max int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			rng := rand.New(rand.NewPCG(uint64(i), 1))
			got := make([]byte, max)
			for r := 0; r < rounds; r++ {
				msg := make([]byte, 1+rng.IntN(max))
				for j := range msg {
					msg[j] = byte(rng.Uint32())
				}
				if _, err := c.Write(msg); err != nil {
					errs <- err
					return
				}
				if _, err := io.ReadFull(c, got[:len(msg)]); err != nil {
					errs <- fmt.Errorf("conn %d round %d: %w", i, r, err)
					return
				}
				if !bytes.Equal(got[:len(msg)], msg) {
					errs <- fmt.Errorf("conn %d round %d: echo differs", i, r)
					return
				}
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func waitConns(t *testing.T, h *harness, want int) Counters {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, n := h.counters()
		if n == want {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d connections open, want %d", n, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestEcho(t *testing.T) {
	need(t)
	for _, single := range []bool{false, true} {
		t.Run(fmt.Sprintf("single-shot=%v", single), func(t *testing.T) {
			h, addr := echoServer(t, Config{SingleShotRecv: single})
			pingPong(t, addr, 20, 50, 100_000)
			c := waitConns(t, h, 0)
			if c.Accepts != 20 || c.Opened != 20 || c.Closed != 20 {
				t.Fatalf("accepts %d, opened %d, closed %d; want 20 each", c.Accepts, c.Opened, c.Closed)
			}
			if c.BytesIn != c.BytesOut || c.BytesIn == 0 {
				t.Fatalf("bytes in %d, out %d", c.BytesIn, c.BytesOut)
			}
			if c.Reads == 0 || c.Writes == 0 || c.Enters == 0 || c.Syscalls < c.Enters {
				t.Fatalf("counters not counting: %+v", c)
			}
			h.do(func() {
				if h.l.MultishotRecv() == single {
					t.Errorf("multishot recv = %v with SingleShotRecv %v", h.l.MultishotRecv(), single)
				}
			})
		})
	}
}

// TestInjectedShortSends: every byte still arrives, in order, when most
// sends offer the kernel only part of what is pending.
func TestInjectedShortSends(t *testing.T) {
	need(t)
	h, addr := echoServer(t, Config{ShortSendFrac: 0.7, Seed: 3})
	pingPong(t, addr, 8, 40, 20_000)
	c := waitConns(t, h, 0)
	if c.InjectedShortWrites == 0 {
		t.Fatal("no short send injected")
	}
	if c.BytesIn != c.BytesOut {
		t.Fatalf("bytes in %d, out %d", c.BytesIn, c.BytesOut)
	}
}

// TestENOBUFS: with two provided buffers and eight sockets holding data
// when their recvs are first submitted, recvs find the ring empty; they
// are counted, re-armed, and every byte still arrives.
func TestENOBUFS(t *testing.T) {
	need(t)
	const n = 8
	var peers []int
	h := start(t, Config{Buffers: 2, ReadBufSize: 4096}, func(l *Loop) error {
		for i := 0; i < n; i++ {
			fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				return err
			}
			unix.Write(fds[1], []byte(fmt.Sprintf("message %d", i)))
			peers = append(peers, fds[1])
			if _, err := l.Adopt(fds[0], protocol.NewEcho()); err != nil {
				return err
			}
		}
		return nil
	})
	for i, fd := range peers {
		unix.SetNonblock(fd, false)
		want := fmt.Sprintf("message %d", i)
		buf := make([]byte, len(want))
		if _, err := io.ReadFull(fdReader(fd), buf); err != nil || string(buf) != want {
			t.Fatalf("peer %d: %q, %v; want %q", i, buf, err, want)
		}
		unix.Close(fd)
	}
	c := waitConns(t, h, 0)
	if c.ENOBUFS == 0 {
		t.Fatal("ENOBUFS not counted")
	}
}

type fdReader int

func (f fdReader) Read(p []byte) (int, error) {
	n, err := unix.Read(int(f), p)
	if n == 0 && err == nil {
		return 0, io.EOF
	}
	if n < 0 {
		n = 0
	}
	return n, err
}

// aborter resets the connection on the first data.
type aborter struct {
	c    reactor.Conn
	lost chan error
}

func (a *aborter) ConnectionMade(c reactor.Conn) { a.c = c }
func (a *aborter) DataReceived([]byte)           { a.c.Write([]byte("dropped")); a.c.Abort() }
func (a *aborter) ConnectionLost(err error)      { a.lost <- err }

func TestAbortResets(t *testing.T) {
	need(t)
	lost := make(chan error, 1)
	var addr string
	start(t, Config{}, func(l *Loop) error {
		ln, err := l.Listen("tcp", "127.0.0.1:0", func() reactor.Protocol { return &aborter{lost: lost} })
		if err == nil {
			addr = ln.Addr().String()
		}
		return err
	})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("x"))
	if err := <-lost; !errors.Is(err, reactor.ErrAborted) {
		t.Fatalf("ConnectionLost(%v), want ErrAborted", err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = c.Read(make([]byte, 16))
	if !errors.Is(err, unix.ECONNRESET) {
		t.Fatalf("peer read after Abort: %v, want ECONNRESET", err)
	}
}

// TestPeerReset: a client that resets mid-stream ends its connection on
// our side without harm to the others.
func TestPeerReset(t *testing.T) {
	need(t)
	h, addr := echoServer(t, Config{})
	for i := 0; i < 20; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.Write(bytes.Repeat([]byte("y"), 10000))
		c.(*net.TCPConn).SetLinger(0)
		c.Close()
	}
	pingPong(t, addr, 4, 10, 1000)
	waitConns(t, h, 0)
}

// TestBackpressure: a peer that sends and never reads stops being read
// once HighWater is kept unsent, so memory stays bounded.
func TestBackpressure(t *testing.T) {
	need(t)
	const high = 256 << 10
	h, addr := echoServer(t, Config{HighWater: high, SndBuf: 16 << 10})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	chunk := make([]byte, 64<<10)
	sent := 0
	for sent < 64<<20 {
		c.SetWriteDeadline(time.Now().Add(300 * time.Millisecond))
		n, err := c.Write(chunk)
		sent += n
		if err != nil {
			break // our side's buffers are full: the server stopped reading
		}
	}
	var buffered, held int
	var paused bool
	h.do(func() {
		for tr := range h.l.transp {
			buffered, held, paused = tr.Buffered(), len(tr.held), tr.paused
		}
	})
	if !paused || buffered > high+reactor.DefaultReadBufSize {
		t.Fatalf("after %d bytes sent, never read: paused %v, %d buffered (high water %d)", sent, paused, buffered, high)
	}
	t.Logf("%d bytes sent, %d buffered, %d received after the pause and held", sent, buffered, held)
	// Reading resumes once the peer reads: everything comes back.
	c.SetDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadFull(c, make([]byte, sent))
	if err != nil {
		t.Fatalf("reading the echo back: %d of %d bytes: %v", got, sent, err)
	}
}

// TestStaleAfterClose: connections closed while their recvs are in flight
// never deliver to the connections that reuse their numbers.
func TestStaleAfterClose(t *testing.T) {
	need(t)
	h, addr := echoServer(t, Config{})
	for round := 0; round < 5; round++ {
		var cs []net.Conn
		for i := 0; i < 20; i++ {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			cs = append(cs, c)
		}
		for _, c := range cs {
			c.Close()
		}
		pingPong(t, addr, 5, 5, 500)
	}
	waitConns(t, h, 0)
}

func TestRefused(t *testing.T) {
	t.Setenv(uring.RefuseEnv, "ENOSYS")
	if err := Available(); !errors.Is(err, uring.ErrUnavailable) {
		t.Fatalf("Available with io_uring refused = %v", err)
	}
	if _, err := New(Config{}); !errors.Is(err, uring.ErrUnavailable) {
		t.Fatalf("New with io_uring refused = %v", err)
	}
}
