package bench

import (
	"context"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/internal/testserver"
)

// A closed loop that owns one connection waits in a blocking read, once
// per echo; any other shape, or --gen-blocking-read=false, keeps the
// poller, and the result says which.
func TestRunBlockingRead(t *testing.T) {
	addr := testserver.Listen(t, testserver.Echo)
	for _, tc := range []struct {
		name string
		set  func(*Config)
		want bool
	}{
		{"one conn", func(c *Config) {}, true},
		{"poll only", func(c *Config) { c.GenPollOnly = true }, false},
		{"two conns", func(c *Config) { c.Conns = 2 }, false},
		{"open loop", func(c *Config) { c.Rate = 2000 }, false},
		{"spin", func(c *Config) { c.GenSpin = true }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := quick(addr)
			cfg.Conns, cfg.Duration = 1, 300*time.Millisecond
			tc.set(&cfg)
			res, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if res.Integrity.Errors() != 0 || res.RoundTrips == 0 {
				t.Fatalf("%d round trips, integrity %+v: %q", res.RoundTrips, res.Integrity, res.Warnings)
			}
			g := res.Generator
			if g.BlockingRead != tc.want {
				t.Errorf("blocking_read = %v, want %v", g.BlockingRead, tc.want)
			}
			// A few waits end without data: a signal, or the timeout; a
			// busy machine leaves few round trips to spread them over.
			spare := g.IO.Waits/100 + 5
			if rt := uint64(res.RoundTrips); tc.want && (g.IO.Waits > g.IO.Reads+spare || g.IO.Waits > rt+rt/10+spare) {
				t.Errorf("%d waits and %d reads for %d round trips: want one blocking read each", g.IO.Waits, g.IO.Reads, res.RoundTrips)
			}
			if off := res.Params.Extra["gen_blocking_read"] == "false"; off != cfg.GenPollOnly {
				t.Errorf("params %v for GenPollOnly %v", res.Params.Extra, cfg.GenPollOnly)
			}
		})
	}
}

// A server that stops answering leaves the loop in its blocking read;
// the read's timeout still lets it see Ctrl-C.
func TestBlockingReadSeesCancel(t *testing.T) {
	addr := testserver.Listen(t, func(c net.Conn) {
		buf := make([]byte, 64)
		for n := 0; n < 50; n++ {
			if _, err := io.ReadFull(c, buf); err != nil {
				return
			}
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
		io.Copy(io.Discard, c) // silent from now on
	})
	cfg := quick(addr)
	cfg.Conns, cfg.Duration = 1, time.Minute
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(500*time.Millisecond, cancel)
	start := time.Now()
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Generator.BlockingRead || !res.Partial {
		t.Errorf("blocking read %v, partial %v", res.Generator.BlockingRead, res.Partial)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v to stop after Ctrl-C", d)
	}
}

// Large messages: writes that come up short send the loop to its poller
// for room, reads in the poller never block, and every byte is checked.
// 8 MiB messages through small socket buffers (the loop's send buffer,
// the listener's receive buffer) to a server that stops reading once a
// message has begun, until the bytes waiting for it stop growing (the
// sender is stuck), must come up short. (A fixed pause before each
// message is not enough on a busy machine: the loop, still checking the
// last echo, may not have begun the next message when it ends.) The loop
// runs a count of round trips, not a window: one round trip of 8 MiB
// each way can take longer than any window a test can afford.
func TestBlockingReadLargeMessages(t *testing.T) {
	const size, rts = 8 << 20, 2
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var err error
		rc.Control(func(fd uintptr) { err = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, 64<<10) })
		return err
	}}
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	testserver.Serve(t, ln, func(c net.Conn) {
		buf := make([]byte, size)
		for {
			if _, err := io.ReadFull(c, buf[:1]); err != nil {
				return
			}
			waitStuck(c)
			if _, err := io.ReadFull(c, buf[1:]); err != nil {
				return
			}
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
	})
	l := countedLoop(t, ln.Addr().String(), size, rts)
	if err := unix.SetsockoptInt(l.conns[0].fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 64<<10); err != nil {
		t.Fatal(err)
	}
	if !l.useDirect() {
		t.Fatal("a closed loop with one connection did not take the blocking read")
	}
	runCounted(t, l, 2*time.Minute)
	if l.integ.Errors() != 0 || l.rts < rts {
		t.Fatalf("%d round trips of %d, integrity %+v: %q", l.rts, rts, l.integ, l.errs)
	}
	if g := l.io; g.ShortWrites+g.WriteEAGAIN == 0 {
		t.Errorf("no short writes with %d MiB messages: the poller path was not taken (%+v)", size>>20, g)
	}
}

// waitStuck waits, for 10 s at most, until the bytes queued for c to
// read have stopped growing for 100 ms: its peer's writes are stuck.
func waitStuck(c net.Conn) {
	rc, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		return
	}
	queued := func() (n int) {
		rc.Control(func(fd uintptr) { n, _ = unix.IoctlGetInt(int(fd), unix.SIOCINQ) })
		return n
	}
	last, same := queued(), 0
	for deadline := time.Now().Add(10 * time.Second); same < 5 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		if n := queued(); n == last {
			same++
		} else {
			last, same = n, 0
		}
	}
}

// countedLoop is a closed generator loop of one connection to addr that
// stops after rts round trips.
func countedLoop(t *testing.T, addr string, size int, rts uint64) *genLoop {
	t.Helper()
	l := dialedLoop(t, addr, 1, size)
	l.limit = rts
	return l
}

// runCounted runs l to its limit, counting from its first message, and
// waits for it to stop, for at most patience.
func runCounted(t *testing.T, l *genLoop, patience time.Duration) {
	t.Helper()
	l.cmd.Store(phaseMeasure)
	go l.run(-1)
	defer func() {
		l.setPhase(phaseAbort)
		close(l.release)
		<-l.exited
	}()
	select {
	case <-l.exited:
	case <-time.After(patience):
		t.Fatalf("%d of %d round trips after %v", l.pub.Load(), l.limit, patience)
	}
	if l.err != nil {
		t.Fatal(l.err)
	}
}

// The direct connection is blocking with a receive timeout: a read with
// nothing to read returns EAGAIN after about directTimeout, and counts as
// a wait, not a read. A signal (the runtime preempts a goroutine that has
// run 10 ms without yielding, and this one never yields inside the raw
// read) ends the read early with EINTR, so only the reads that ended in
// EAGAIN say how long it blocks. The kernel counts the timeout in clock
// ticks, so one such read may end a tick early (up to the whole 10 ms at
// HZ=100); the longest of ten does not, while a read that does not block
// takes microseconds.
func TestWaitDirectTimesOut(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[1])
	l, err := newGenLoop(0, GenBackend(), 64, false, schedule{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.closeAll()
	if err := l.add(fds[0], 0); err != nil {
		t.Fatal(err)
	}
	if !l.useDirect() {
		t.Fatal("a closed loop with one connection did not take the blocking read")
	}
	if fl, _ := unix.FcntlInt(uintptr(fds[0]), unix.F_GETFL, 0); fl&unix.O_NONBLOCK != 0 {
		t.Fatal("the direct connection is still non-blocking")
	}
	c := l.direct
	c.busy = true
	l.waitDirect(c)
	if l.io.Waits != 1 || l.io.Reads != 0 || c.dead {
		t.Errorf("waits %d reads %d dead %v after a timeout", l.io.Waits, l.io.Reads, c.dead)
	}

	var timeouts, interrupted int
	var longest time.Duration
	for give := time.Now().Add(10 * time.Second); timeouts < 10 && time.Now().Before(give); {
		start := time.Now()
		_, err := blockingRead(c.fd, l.rbuf)
		d := time.Since(start)
		switch err {
		case unix.EAGAIN:
			timeouts++
			longest = max(longest, d)
		case unix.EINTR:
			interrupted++
		default:
			t.Fatalf("blocking read with nothing to read: %v", err)
		}
	}
	if timeouts == 0 {
		t.Fatalf("no read ended in its timeout in 10 s (%d interrupted)", interrupted)
	}
	if longest < directTimeout/2 {
		t.Errorf("the longest of %d reads that timed out took %v (%d interrupted): not blocking", timeouts, longest, interrupted)
	}
	// Reads on the poller path never block on it: never interrupted
	// (only a read that sleeps can be), and quick, though a busy machine
	// may hold up any one of them.
	fastest := time.Hour
	for range 10 {
		start := time.Now()
		if _, err := l.read(c.fd, l.rbuf); err != unix.EAGAIN {
			t.Fatalf("read on the poller path: %v, want EAGAIN", err)
		}
		fastest = min(fastest, time.Since(start))
	}
	if fastest > directTimeout/2 {
		t.Errorf("the fastest of 10 reads on the poller path took %v: it blocks", fastest)
	}
}
