//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package reactor

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/poller"
	"github.com/muxbench/muxbench/sysstat"
)

// pp is a minimal ping-pong protocol for the loop's own tests (the real
// one lives in package protocol, which imports this one).
type pp struct {
	t       *Transport
	max     int
	msg     []byte
	got     int
	partial int
	done    bool
	lostN   int
	err     error
	onLost  func()
}

func (p *pp) ConnectionMade(c Conn) { p.t = c.(*Transport); c.Write(p.msg) }

func (p *pp) DataReceived(d []byte) {
	if p.done {
		return
	}
	p.got += len(d)
	if p.max > 0 && p.got >= p.max {
		p.done = true
		p.t.LoseWriteConnection()
		return
	}
	p.partial += len(d)
	for ; p.partial >= len(p.msg); p.partial -= len(p.msg) {
		p.t.Write(p.msg)
	}
}

func (p *pp) ReadConnectionLost() { p.done = true; p.t.LoseConnection() }

func (p *pp) ConnectionLost(err error) {
	p.lostN++
	p.err = err
	if p.onLost != nil {
		p.onLost()
	}
}

func TestPingPongMaximum(t *testing.T) {
	for _, size := range []int{1, 64 << 10} {
		t.Run(fmt.Sprintf("msg%d", size), func(t *testing.T) {
			forEachMode(t, func(t *testing.T, m mode) {
				r := newReactor(t, m, Config{})
				msg := pattern(size, 1)
				const clients = 3
				max := 200 * size
				var all []*pp
				lost := 0
				done := make(chan struct{})
				onLost := func() {
					if lost++; lost == 2*clients {
						close(done)
					}
				}
				l, err := r.Listen("tcp", "127.0.0.1:0", func() Protocol {
					p := &pp{msg: msg, onLost: onLost}
					all = append(all, p)
					return p
				})
				if err != nil {
					t.Fatal(err)
				}
				for range clients {
					p := &pp{msg: msg, max: max, onLost: onLost}
					all = append(all, p)
					if err := r.Connect("tcp", l.Addr().String(), p); err != nil {
						t.Fatal(err)
					}
				}
				start(t, r)
				recv(t, done, "every ConnectionLost")
				onLoop(t, r, func() {
					if len(all) != 2*clients {
						t.Errorf("%d protocols, want %d", len(all), 2*clients)
					}
					for i, p := range all {
						if p.lostN != 1 || p.err != nil {
							t.Errorf("protocol %d: ConnectionLost %d times, last %v; want once with nil", i, p.lostN, p.err)
						}
						if p.max > 0 && p.got < p.max {
							t.Errorf("client %d received %d of %d bytes", i, p.got, p.max)
						}
					}
					if c := r.Counters(); c.Opened != 2*clients || c.Closed != 2*clients || r.Conns() != 0 {
						t.Errorf("opened %d closed %d open %d", c.Opened, c.Closed, r.Conns())
					}
				})
			})
		})
	}
}

func TestPeerReset(t *testing.T) {
	forEachMode(t, func(t *testing.T, m mode) {
		if info, _ := poller.Lookup(m.backend); info.Emulation == "libkqueue" {
			t.Skip("libkqueue reads SO_ERROR for an event's fflags, clearing it: the read after a reset returns end of stream, not ECONNRESET")
		}
		r := newReactor(t, m, Config{})
		addr, made := echoServer(t, r)
		start(t, r)

		other := dial(t, addr)
		roundTrip(t, other, []byte("before"), 6)
		recv(t, made, "accept")

		victim := dial(t, addr)
		if _, err := victim.Write([]byte("half a mess")); err != nil {
			t.Fatal(err)
		}
		e := recv(t, made, "accept")
		var fd int
		waitFor(t, r, "the echo of the first bytes", 5*time.Second, func() bool {
			fd = e.t.Fd()
			return e.in > 0
		})
		victim.SetLinger(0)
		victim.Close()
		if err := recv(t, e.lost, "ConnectionLost"); err == nil {
			t.Fatal("ConnectionLost(nil) after a reset, want an error")
		} else {
			t.Logf("reset reported as %v", err)
		}
		onLoop(t, r, func() {
			if e.t.Fd() != -1 {
				t.Error("transport still has a descriptor")
			}
			if _, ok := r.p.Interest(fd); ok {
				t.Errorf("fd %d still registered", fd)
			}
			if r.Conns() != 1 {
				t.Errorf("%d open transports, want 1", r.Conns())
			}
		})
		roundTrip(t, other, pattern(100<<10, 2), 4096)
	})
}

func TestHalfClose(t *testing.T) {
	forEachMode(t, func(t *testing.T, m mode) {
		r := newReactor(t, m, Config{})
		addr, made := echoServer(t, r)
		start(t, r)
		c := dial(t, addr)
		c.SetDeadline(time.Now().Add(30 * time.Second))
		msg := pattern(1<<20, 3)
		var werr error
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, werr = c.Write(msg); werr == nil {
				werr = c.CloseWrite()
			}
		}()
		got, err := io.ReadAll(c)
		wg.Wait()
		if werr != nil {
			t.Fatal(werr)
		}
		if err != nil {
			t.Fatalf("read to end of stream: %v", err)
		}
		if i := firstDiff(got, msg); i >= 0 {
			t.Fatalf("got %d bytes, differing from what was sent at %d", len(got), i)
		}
		e := recv(t, made, "accept")
		if err := recv(t, e.lost, "ConnectionLost"); err != nil {
			t.Fatalf("ConnectionLost(%v), want nil", err)
		}
	})
}

func TestBackpressure(t *testing.T) {
	const high, low, rbuf = 256 << 10, 64 << 10, 64 << 10
	forEachMode(t, func(t *testing.T, m mode) {
		// Small kernel buffers so the transport's own buffer fills fast.
		r := newReactor(t, m, Config{HighWater: high, LowWater: low, ReadBufSize: rbuf, SndBuf: 64 << 10, RcvBuf: 64 << 10})
		addr, made := echoServer(t, r)
		start(t, r)

		lazy := dial(t, addr)
		lazy.SetReadBuffer(64 << 10)
		lazy.SetWriteBuffer(64 << 10)
		e := recv(t, made, "accept")
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { // writes until the connection is closed, never reads
			defer wg.Done()
			chunk := pattern(64<<10, 4)
			lazy.SetWriteDeadline(time.Now().Add(30 * time.Second))
			for range 1024 {
				if _, err := lazy.Write(chunk); err != nil {
					return
				}
			}
		}()
		waitFor(t, r, "reading to pause", 15*time.Second, func() bool { return e.t.ReadPaused() })

		busy := dial(t, addr)
		for i := range 20 {
			roundTrip(t, busy, pattern(32<<10, uint64(i)), 8192)
		}
		time.Sleep(50 * time.Millisecond)
		onLoop(t, r, func() {
			if !e.t.ReadPaused() {
				t.Error("reading resumed although the peer still reads nothing")
			}
			if e.maxBuf > high+rbuf {
				t.Errorf("write buffer reached %d bytes, bound %d", e.maxBuf, high+rbuf)
			}
			t.Logf("buffered %d (max %d) after %d bytes in", e.t.Buffered(), e.maxBuf, e.in)
		})
		lazy.Close()
		wg.Wait()
	})
}

func TestShortWrites(t *testing.T) {
	forEachMode(t, func(t *testing.T, m mode) {
		r := newReactor(t, m, Config{SndBuf: 4096})
		addr, _ := echoServer(t, r)
		start(t, r)
		c := dial(t, addr)
		const size, n = 256 << 10, 4
		for i := range n {
			roundTrip(t, c, pattern(size, uint64(i+10)), size)
		}
		cs := counters(t, r)
		if cs.ShortWrites == 0 {
			t.Error("no short write counted with SO_SNDBUF 4096 and 256 KiB messages")
		}
		if cs.BytesIn != size*n || cs.BytesOut != size*n {
			t.Errorf("bytes in %d out %d, want %d", cs.BytesIn, cs.BytesOut, size*n)
		}
		t.Logf("writes %d, short %d, EAGAIN %d", cs.Writes, cs.ShortWrites, cs.WriteEAGAIN)
	})
}

func TestInjectedFaults(t *testing.T) {
	f := Faults{ShortWriteFrac: 0.3, WriteEAGAINFrac: 0.3, ReadEAGAINFrac: 0.3, Seed: 7}
	forEachMode(t, func(t *testing.T, m mode) {
		r := newReactor(t, m, Config{Faults: f, ReadBufSize: 4096})
		addr, _ := echoServer(t, r)
		start(t, r)
		c := dial(t, addr)
		roundTrip(t, c, pattern(1<<20, 5), 3000)
		cs := counters(t, r)
		if cs.InjectedShortWrites == 0 || cs.InjectedReadEAGAIN == 0 || cs.InjectedWriteEAGAIN == 0 {
			t.Errorf("injected short %d, read EAGAIN %d, write EAGAIN %d: want all > 0",
				cs.InjectedShortWrites, cs.InjectedReadEAGAIN, cs.InjectedWriteEAGAIN)
		}
		if cs.BytesIn != 1<<20 || cs.BytesOut != 1<<20 {
			t.Errorf("bytes in %d out %d, want %d", cs.BytesIn, cs.BytesOut, 1<<20)
		}
	})
}

// TestInjectedFaultsBothSides runs ping-pong with the loop on both ends,
// so that every read and write of the exchange may be a fault.
func TestInjectedFaultsBothSides(t *testing.T) {
	f := Faults{ShortWriteFrac: 0.3, WriteEAGAINFrac: 0.3, ReadEAGAINFrac: 0.3, Seed: 11}
	forEachMode(t, func(t *testing.T, m mode) {
		r := newReactor(t, m, Config{Faults: f, ReadBufSize: 1024})
		msg := pattern(3000, 6)
		done := make(chan struct{})
		var server, client *pp
		n := 0
		onLost := func() {
			if n++; n == 2 {
				close(done)
			}
		}
		l, err := r.Listen("tcp", "127.0.0.1:0", func() Protocol {
			server = &pp{msg: msg, onLost: onLost}
			return server
		})
		if err != nil {
			t.Fatal(err)
		}
		client = &pp{msg: msg, max: 300 * len(msg), onLost: onLost}
		if err := r.Connect("tcp", l.Addr().String(), client); err != nil {
			t.Fatal(err)
		}
		start(t, r)
		recv(t, done, "both ConnectionLost")
		onLoop(t, r, func() {
			if client.err != nil || server.err != nil || client.lostN != 1 || server.lostN != 1 {
				t.Errorf("client lost %d times (%v), server %d times (%v)", client.lostN, client.err, server.lostN, server.err)
			}
		})
	})
}

// staleProto is one of two connections made readable in the same round:
// the first to be dispatched closes the other and puts a new socket on the
// other's descriptor number.
type staleProto struct {
	t     *Transport
	data  int
	lostN int
	err   error
	do    func(self *staleProto)
}

func (s *staleProto) ConnectionMade(c Conn)    { s.t = c.(*Transport) }
func (s *staleProto) DataReceived(d []byte)    { s.data += len(d); s.do(s) }
func (s *staleProto) ConnectionLost(err error) { s.lostN++; s.err = err }

// newOwner records in which round (Wait call) it first saw data.
type newOwner struct {
	r         *Reactor
	t         *Transport
	dataRound uint64
}

func (o *newOwner) ConnectionMade(c Conn) { o.t = c.(*Transport) }
func (o *newOwner) DataReceived([]byte) {
	if o.dataRound == 0 {
		o.dataRound = o.r.c.Waits
	}
}
func (o *newOwner) ConnectionLost(error) {}

func socketpair(t testing.TB) (int, int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	unix.CloseOnExec(fds[0])
	unix.CloseOnExec(fds[1])
	return fds[0], fds[1]
}

func TestStaleEvents(t *testing.T) {
	forEachMode(t, func(t *testing.T, m mode) {
		r := newReactor(t, m, Config{})
		var ps [2]*staleProto
		var peers [2]int
		owner := &newOwner{r: r}
		var ownerPeer = -1
		reusedFd := -1
		replace := func(self *staleProto) {
			if reusedFd >= 0 {
				return
			}
			victim := ps[0]
			if self == ps[0] {
				victim = ps[1]
			}
			fd := victim.t.Fd()
			victim.t.Abort()
			a, b := socketpair(t)
			// Put the new socket on the closed one's number, whatever
			// the kernel would have picked. (Errors only, no Fatal: this
			// runs on the loop goroutine.)
			switch fd {
			case a:
			case b:
				a, b = b, a
			default:
				if err := unix.Dup2(a, fd); err != nil {
					t.Error(err)
					return
				}
				unix.Close(a)
				unix.CloseOnExec(fd)
			}
			if _, err := r.Adopt(fd, owner); err != nil {
				t.Error(err)
				return
			}
			ownerPeer = b
			reusedFd = fd
			unix.Write(b, []byte("x")) // the new owner's data comes next round
		}
		for i := range ps {
			a, b := socketpair(t)
			ps[i] = &staleProto{do: replace}
			if _, err := r.Adopt(a, ps[i]); err != nil {
				t.Fatal(err)
			}
			peers[i] = b
			unix.Write(b, []byte("ab")) // both readable before the first Wait
		}
		t.Cleanup(func() {
			unix.Close(peers[0])
			unix.Close(peers[1])
			if ownerPeer >= 0 {
				unix.Close(ownerPeer)
			}
		})
		start(t, r)
		waitFor(t, r, "the new owner's data", 5*time.Second, func() bool { return owner.dataRound > 0 })
		onLoop(t, r, func() {
			c := r.Counters()
			if c.Stale != 1 {
				t.Errorf("%d stale events dropped, want 1", c.Stale)
			}
			if owner.dataRound < 2 {
				t.Errorf("new owner of fd %d got data in round %d: the old owner's event reached it", reusedFd, owner.dataRound)
			}
			var closed, live *staleProto = ps[0], ps[1]
			if ps[0].lostN == 0 {
				closed, live = ps[1], ps[0]
			}
			if closed.data != 0 || closed.lostN != 1 || !errors.Is(closed.err, ErrAborted) {
				t.Errorf("closed one: data %d, lost %d times (%v)", closed.data, closed.lostN, closed.err)
			}
			if live.data != 2 || live.lostN != 0 {
				t.Errorf("live one: data %d, lost %d times", live.data, live.lostN)
			}
		})
	})
}

func TestStopFromAnotherGoroutine(t *testing.T) {
	forEachMode(t, func(t *testing.T, m mode) {
		before := runtime.NumGoroutine()
		r := newReactor(t, m, Config{})
		addr, _ := echoServer(t, r)
		done := make(chan error, 1)
		go func() { done <- r.Run() }()
		c := dial(t, addr)
		roundTrip(t, c, []byte("hello"), 5)
		go r.Stop()
		if err := recv(t, done, "Run to return after Stop"); err != nil {
			t.Fatal(err)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		c.Close()
		deadline := time.Now().Add(2 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines after Stop, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
		}
	})
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{
		{Backend: "no-such-backend"},
		{Backend: "epoll", HighWater: 10, LowWater: 20},
		{Backend: "epoll", Faults: Faults{ShortWriteFrac: 1}},
		{Backend: "epoll", Faults: Faults{ReadEAGAINFrac: -0.1}},
	} {
		if r, err := New(cfg); err == nil {
			r.Close()
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
}

// TestHalfClosedSlowReader: the peer sends, shuts down its side and reads
// the echo only later. Level-triggered pollers report its hang-up every
// round while the server can neither read nor write; the server must not
// spin through that wait, and must still deliver every byte.
func TestHalfClosedSlowReader(t *testing.T) {
	forEachMode(t, func(t *testing.T, m mode) {
		r := newReactor(t, m, Config{SndBuf: 64 << 10, HighWater: 128 << 10, LowWater: 32 << 10})
		addr, made := echoServer(t, r)
		start(t, r)
		c := dial(t, addr)
		c.SetReadBuffer(64 << 10)
		c.SetDeadline(time.Now().Add(30 * time.Second))
		msg := pattern(1<<20, 8)
		werr := make(chan error, 1)
		go func() {
			_, err := c.Write(msg)
			if err == nil {
				err = c.CloseWrite()
			}
			werr <- err
		}()
		e := recv(t, made, "accept")
		waitFor(t, r, "the server to stall on the unread echo", 10*time.Second, func() bool {
			return e.t.Buffered() > 0 && !e.t.reading()
		})
		// A busy window in which the kernel ran short of TCP memory proves
		// nothing (see sysstat.TCPMemory): try again, a few times.
		var w uint64
		for try := 1; ; try++ {
			m0, err0 := sysstat.ReadTCPMemory()
			c0 := counters(t, r)
			time.Sleep(300 * time.Millisecond)
			c1 := counters(t, r)
			m1, err1 := sysstat.ReadTCPMemory()
			if w = c1.Waits - c0.Waits; w <= 1000 {
				break
			}
			if err0 != nil || err1 != nil || !sysstat.TCPMemoryShort(m0, m1) {
				t.Errorf("%d waits in 300 ms while the peer reads nothing: a busy loop", w)
				break
			}
			if try == 3 {
				t.Logf("not judged: %d waits in 300 ms, but the machine's TCP memory was under pressure in each of %d windows", w, try)
				break
			}
		}
		got, err := io.ReadAll(c)
		if m, merr := sysstat.ReadTCPMemory(); errors.Is(err, os.ErrDeadlineExceeded) && merr == nil && m.Short {
			// Past the kernel's limit it refuses TCP memory even to a
			// socket's minimum: no loop can deliver then.
			t.Skipf("the machine's TCP memory is under pressure, held by other processes: %d of %d bytes echoed in 30 s", len(got), len(msg))
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := <-werr; err != nil {
			t.Fatal(err)
		}
		if i := firstDiff(got, msg); i >= 0 {
			t.Fatalf("got %d bytes, differing at %d", len(got), i)
		}
		if err := recv(t, e.lost, "ConnectionLost"); err != nil {
			t.Fatalf("ConnectionLost(%v), want nil", err)
		}
		t.Logf("waits in the 300 ms stall %d", w)
	})
}

func TestListenConnectIPv6(t *testing.T) {
	r := newReactor(t, modes()[0], Config{})
	done := make(chan struct{})
	n := 0
	onLost := func() {
		if n++; n == 2 {
			close(done)
		}
	}
	var server *pp
	l, err := r.Listen("tcp6", "[::1]:0", func() Protocol {
		server = &pp{msg: []byte("pong"), onLost: onLost}
		return server
	})
	if err != nil {
		r.Close()
		t.Skipf("no IPv6 loopback: %v", err)
	}
	client := &pp{msg: []byte("ping"), max: 400, onLost: onLost}
	if err := r.Connect("tcp", l.Addr().String(), client); err != nil {
		t.Fatal(err)
	}
	start(t, r)
	recv(t, done, "both ConnectionLost")
	onLoop(t, r, func() {
		if client.err != nil || server.err != nil || client.got < 400 {
			t.Errorf("client got %d (%v), server lost with %v", client.got, client.err, server.err)
		}
	})
}

func TestAddressErrors(t *testing.T) {
	r := newReactor(t, modes()[0], Config{})
	start(t, r)
	onLoop(t, r, func() {
		if _, err := r.Listen("udp", "127.0.0.1:0", func() Protocol { return newEchoRec() }); err == nil {
			t.Error("Listen on udp succeeded")
		}
		if _, err := r.Listen("tcp", "127.0.0.1:99999", func() Protocol { return newEchoRec() }); err == nil {
			t.Error("Listen on port 99999 succeeded")
		}
		if err := r.Connect("tcp", "no-port", newEchoRec()); err == nil {
			t.Error("Connect without a port succeeded")
		}
	})
	// A refused connect reports through ConnectionLost, never ConnectionMade.
	e := newEchoRec()
	var cerr error
	onLoop(t, r, func() {
		l, err := r.Listen("tcp", "127.0.0.1:0", func() Protocol { return newEchoRec() })
		if err != nil {
			cerr = err
			return
		}
		addr := l.Addr().String()
		l.Close()
		cerr = r.Connect("tcp", addr, e)
	})
	if cerr != nil {
		t.Logf("refused at once: %v", cerr)
		return
	}
	err := recv(t, e.lost, "ConnectionLost")
	made := false
	onLoop(t, r, func() { made = e.t != nil })
	if err == nil || made {
		t.Errorf("refused connect: ConnectionLost(%v), ConnectionMade called %v", err, made)
	}
}

// abortOnData aborts from inside DataReceived and notes whether
// ConnectionLost came while DataReceived was still running.
type abortOnData struct {
	t      *Transport
	inData bool
	nested bool
	lost   chan error
}

func (a *abortOnData) ConnectionMade(c Conn) { a.t = c.(*Transport) }
func (a *abortOnData) DataReceived([]byte) {
	a.inData = true
	a.t.Write([]byte("dropped by Abort"))
	a.t.Abort()
	a.t.Write([]byte("after Abort: ignored"))
	a.inData = false
}
func (a *abortOnData) ConnectionLost(err error) { a.nested = a.inData; a.lost <- err }

func TestAbortFromDataReceived(t *testing.T) {
	forEachMode(t, func(t *testing.T, m mode) {
		r := newReactor(t, m, Config{})
		made := make(chan *abortOnData, 1)
		l, err := r.Listen("tcp", "127.0.0.1:0", func() Protocol {
			a := &abortOnData{lost: make(chan error, 1)}
			made <- a
			return a
		})
		if err != nil {
			t.Fatal(err)
		}
		start(t, r)
		c := dial(t, l.Addr().String())
		c.Write([]byte("go"))
		a := recv(t, made, "accept")
		if err := recv(t, a.lost, "ConnectionLost"); !errors.Is(err, ErrAborted) {
			t.Errorf("ConnectionLost(%v), want ErrAborted", err)
		}
		onLoop(t, r, func() {
			if a.nested {
				t.Error("ConnectionLost ran inside DataReceived")
			}
			if a.t.Fd() != -1 || r.Conns() != 0 {
				t.Errorf("fd %d, %d open transports after Abort", a.t.Fd(), r.Conns())
			}
		})
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		got, err := io.ReadAll(c)
		if len(got) > 0 && string(got) != "dropped by Abort" {
			t.Errorf("peer read %q after the abort", got)
		}
		if !errors.Is(err, unix.ECONNRESET) {
			t.Errorf("peer read error %v, want a reset (SO_LINGER 0)", err)
		}
	})
}

// A closed listener refuses connections at once, even where the poller
// lets go of the socket later (io_uring cancels its poll asynchronously).
func TestListenerCloseRefuses(t *testing.T) {
	forEachMode(t, func(t *testing.T, m mode) {
		r := newReactor(t, m, Config{})
		start(t, r)
		for i := range 20 {
			var ln *Listener
			var err error
			onLoop(t, r, func() { ln, err = r.Listen("tcp", "127.0.0.1:0", func() Protocol { return newEchoRec() }) })
			if err != nil {
				t.Fatal(err)
			}
			addr := ln.Addr().String()
			c, err := net.DialTimeout("tcp", addr, time.Second) // the poll is armed: it accepts
			if err != nil {
				t.Fatal(err)
			}
			c.Close()
			onLoop(t, r, func() { err = ln.Close() })
			if err != nil {
				t.Fatal(err)
			}
			if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
				c.Close()
				t.Fatalf("round %d: %s still accepts after Close", i, addr)
			}
		}
	})
}
