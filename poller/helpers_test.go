package poller_test

import (
	"errors"
	"sort"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/internal/testserver"
	"github.com/muxbench/muxbench/poller"
)

// target is one backend in one mode, as the suite runs it.
type target struct {
	name    string // sub-test name: the backend, plus "-et" when edge-triggered
	backend string
	opts    poller.Options
	caps    poller.Capabilities
}

func (tg target) et() bool { return tg.opts.EdgeTriggered }

// targets lists every registered backend level-triggered, again
// edge-triggered where the backend can do it, and again with raw waits.
func targets() []target {
	var out []target
	for _, info := range poller.Backends() {
		out = append(out, target{name: info.Name, backend: info.Name, caps: info.Caps})
		if info.Caps.EdgeTriggered {
			out = append(out, target{name: info.Name + "-et", backend: info.Name,
				opts: poller.Options{EdgeTriggered: true}, caps: info.Caps})
		}
		out = append(out, target{name: info.Name + "-raw", backend: info.Name,
			opts: poller.Options{RawWait: true}, caps: info.Caps})
	}
	return out
}

func open(t testing.TB, tg target) *poller.Poller {
	t.Helper()
	// A backend this machine refuses (io_uring forbidden, say) is
	// skipped, saying why.
	if err := poller.Check(tg.backend, tg.opts); errors.Is(err, poller.ErrUnavailable) {
		t.Skipf("skipping: %v", err)
	}
	p, err := poller.Open(tg.backend, tg.opts)
	if err != nil {
		t.Fatalf("Open(%q, %+v): %v", tg.backend, tg.opts, err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil && !errors.Is(err, poller.ErrClosed) {
			t.Errorf("Close: %v", err)
		}
	})
	return p
}

// nonblock makes fd non-blocking and close-on-exec. Done after creation
// because SOCK_NONBLOCK is not portable to darwin.
func nonblock(t testing.TB, fd int) {
	t.Helper()
	unix.CloseOnExec(fd)
	if err := unix.SetNonblock(fd, true); err != nil {
		t.Fatalf("SetNonblock(%d): %v", fd, err)
	}
}

// closer closes a descriptor once, so that a case may close it early and
// the cleanup does not close a reused number.
type closer struct{ fd int }

func (c *closer) Close() {
	if c.fd >= 0 {
		unix.Close(c.fd)
		c.fd = -1
	}
}

// socketPair returns a connected non-blocking AF_UNIX stream pair, closed
// when the test ends unless closed earlier through the returned closers.
func socketPair(t testing.TB) (a, b int, ca, cb *closer) {
	t.Helper()
	a, b = testserver.Raw(t)
	ca, cb = &closer{a}, &closer{b}
	t.Cleanup(ca.Close)
	t.Cleanup(cb.Close)
	return a, b, ca, cb
}

func pair(t testing.TB) (a, b int) {
	a, b, _, _ = socketPair(t)
	return a, b
}

// pipe returns a non-blocking pipe, closed when the test ends unless
// closed earlier through the returned closers.
func pipe(t testing.TB) (r, w int, cr, cw *closer) {
	t.Helper()
	var p [2]int
	if err := unix.Pipe(p[:]); err != nil {
		t.Fatalf("pipe: %v", err)
	}
	cr, cw = &closer{p[0]}, &closer{p[1]}
	t.Cleanup(cr.Close)
	t.Cleanup(cw.Close)
	nonblock(t, p[0])
	nonblock(t, p[1])
	return p[0], p[1], cr, cw
}

func write(t testing.TB, fd int, s string) {
	t.Helper()
	n, err := unix.Write(fd, []byte(s))
	if err != nil || n != len(s) {
		t.Fatalf("write(%d, %d bytes) = %d, %v", fd, len(s), n, err)
	}
}

// read reads up to n bytes and fails unless some arrive.
func read(t testing.TB, fd, n int) int {
	t.Helper()
	buf := make([]byte, n)
	got, err := unix.Read(fd, buf)
	if err != nil || got <= 0 {
		t.Fatalf("read(%d) = %d, %v", fd, got, err)
	}
	return got
}

// drain reads fd until EAGAIN and returns how many bytes it read.
func drain(t testing.TB, fd int) int {
	t.Helper()
	buf := make([]byte, 64<<10)
	total := 0
	for {
		n, err := unix.Read(fd, buf)
		if errors.Is(err, unix.EAGAIN) {
			return total
		}
		if err != nil {
			t.Fatalf("drain(%d): %v", fd, err)
		}
		if n == 0 {
			return total
		}
		total += n
	}
}

// fill writes to fd until the send buffer is full (EAGAIN).
func fill(t testing.TB, fd int) int {
	t.Helper()
	buf := make([]byte, 16<<10)
	total := 0
	for i := 0; ; i++ {
		n, err := unix.Write(fd, buf)
		if errors.Is(err, unix.EAGAIN) {
			return total
		}
		if err != nil {
			t.Fatalf("fill(%d): %v", fd, err)
		}
		total += n
		if i > 1<<16 {
			t.Fatalf("fill(%d): no EAGAIN after %d bytes", fd, total)
		}
	}
}

// waitOnce calls Wait once with room for 64 events and returns them merged
// by token and sorted, so that cmp.Diff compares sets.
func waitOnce(t testing.TB, p *poller.Poller, timeout time.Duration) []poller.Event {
	t.Helper()
	ev := make([]poller.Event, 64)
	n, err := p.Wait(ev, timeout)
	if err != nil {
		t.Fatalf("Wait(%v): %v", timeout, err)
	}
	return merge(ev[:n])
}

func merge(evs []poller.Event) []poller.Event {
	m := map[uint64]poller.Flags{}
	for _, e := range evs {
		m[e.Token] |= e.Flags
	}
	out := make([]poller.Event, 0, len(m))
	for tok, f := range m {
		out = append(out, poller.Event{Token: tok, Flags: f})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Token < out[j].Token })
	return out
}

// waitReady waits for events until want is reached (each token has at
// least the wanted flags) or a generous deadline passes. It returns the
// union of everything seen.
func waitReady(t testing.TB, p *poller.Poller, want map[uint64]poller.Flags) []poller.Event {
	t.Helper()
	seen := map[uint64]poller.Flags{}
	deadline := time.Now().Add(5 * time.Second)
	for {
		for _, e := range waitOnce(t, p, 500*time.Millisecond) {
			seen[e.Token] |= e.Flags
		}
		done := true
		for tok, f := range want {
			if seen[tok]&f != f {
				done = false
			}
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited 5s for %v, saw %v", want, seen)
		}
	}
	var all []poller.Event
	for tok, f := range seen {
		all = append(all, poller.Event{Token: tok, Flags: f})
	}
	return merge(all)
}

// tcpListener listens on 127.0.0.1:0 and returns the socket and its port.
func tcpListener(t testing.TB) (int, int) {
	t.Helper()
	l, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatalf("socket: %v", err)
	}
	t.Cleanup(func() { unix.Close(l) })
	unix.CloseOnExec(l)
	if err := unix.Bind(l, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatalf("bind: %v", err)
	}
	if err := unix.Listen(l, 16); err != nil {
		t.Fatalf("listen: %v", err)
	}
	nonblock(t, l)
	sa, err := unix.Getsockname(l)
	if err != nil {
		t.Fatalf("getsockname: %v", err)
	}
	return l, sa.(*unix.SockaddrInet4).Port
}

// tcpConnect connects to 127.0.0.1:port (blocking: loopback completes at
// once) and returns the non-blocking client socket.
func tcpConnect(t testing.TB, port int) *closer {
	t.Helper()
	c, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatalf("socket: %v", err)
	}
	cl := &closer{c}
	t.Cleanup(cl.Close)
	unix.CloseOnExec(c)
	if err := unix.Connect(c, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: port}); err != nil {
		t.Fatalf("connect: %v", err)
	}
	nonblock(t, c)
	return cl
}

// accept takes one pending connection, retrying briefly on EAGAIN.
func accept(t testing.TB, l int) *closer {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		fd, _, err := unix.Accept(l)
		if err == nil {
			nonblock(t, fd)
			c := &closer{fd}
			t.Cleanup(c.Close)
			return c
		}
		if !errors.Is(err, unix.EAGAIN) || time.Now().After(deadline) {
			t.Fatalf("accept: %v", err)
		}
		time.Sleep(time.Millisecond)
	}
}

// highFD moves fd to a number at least min, so that backends are tested
// beyond select's historical FD_SETSIZE.
func highFD(t testing.TB, fd, min int) int {
	t.Helper()
	nfd, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD, min)
	if err != nil {
		t.Fatalf("F_DUPFD(%d, %d): %v", fd, min, err)
	}
	unix.Close(fd)
	unix.CloseOnExec(nfd)
	return nfd
}

type waitResult struct {
	n       int
	err     error
	elapsed time.Duration
}

// waitAsync runs one Wait on another goroutine, which owns ev until the
// result arrives.
func waitAsync(p *poller.Poller, ev []poller.Event, timeout time.Duration) <-chan waitResult {
	c := make(chan waitResult, 1)
	go func() {
		start := time.Now()
		n, err := p.Wait(ev, timeout)
		c <- waitResult{n, err, time.Since(start)}
	}()
	return c
}

// hang bounds how long a case waits for a Wait that should return.
const hang = 10 * time.Second

func await(t testing.TB, c <-chan waitResult, what string) waitResult {
	t.Helper()
	select {
	case r := <-c:
		if r.err != nil {
			t.Fatalf("%s: Wait: %v", what, r.err)
		}
		return r
	case <-time.After(hang):
		t.Fatalf("%s: Wait still blocked after %v", what, hang)
	}
	panic("unreachable")
}
