package poller_test

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/poller"
	_ "github.com/muxbench/muxbench/poller/all"
)

// R and W keep the expectations short.
const (
	R = poller.Readable
	W = poller.Writable
)

// tok makes a token with the high bit set, so that a backend that keeps
// tokens in 32 bits or in an int fails.
func tok(fd int) uint64 { return 1<<63 | uint64(fd) }

type mode uint8

const (
	level mode = 1 << iota
	edge
	both = level | edge
)

// conformanceCase is one rule of the contract. Cases that depend on the
// trigger mode exist twice, with level- and edge-triggered expectations.
type conformanceCase struct {
	name  string
	modes mode
	run   func(t *testing.T, tg target)
}

var cases = []conformanceCase{
	{"NothingReadyFresh", both, nothingReadyFresh},
	{"ReadableUntilDrained", level, readableUntilDrained},
	{"ReadableEdge", edge, readableEdge},
	{"WritableUntilFull", level, writableUntilFull},
	{"WritableEdge", edge, writableEdge},
	{"PeerClose", both, peerClose},
	{"TCPReset", both, tcpReset},
	{"ListenerReadable", both, listenerReadable},
	{"ModifyInterest", level, modifyInterest},
	{"ModifyToken", both, modifyToken},
	{"RemoveStopsEvents", both, removeStopsEvents},
	{"InterestZero", both, interestZero},
	{"Errors", both, errorsCase},
	{"ErrorsAfterClose", both, errorsAfterClose},
	{"EdgeTriggeredUnsupported", level, edgeUnsupported},
	{"TimeoutZero", both, timeoutZero},
	{"TimeoutPositive", both, timeoutPositive},
	{"TimeoutNegative", both, timeoutNegative},
	{"WakeUnblocks", both, wakeUnblocks},
	{"WakeCoalesces", both, wakeCoalesces},
	{"WakeBeforeWait", both, wakeBeforeWait},
	{"EINTR", both, eintr},
	{"RawWaitSeenByGC", level, rawWaitSeenByGC},
	{"IdleRawWaitSleeps", level, idleRawWaitSleeps},
	{"NoStarvation", both, noStarvation},
	{"RoundRobin", level, roundRobin},
	{"Scale", both, scale},
	{"Tokens", both, tokens},
	{"HalfCloseQuietForWriter", both, halfCloseQuietForWriter},
	{"HalfCloseNotWritable", both, halfCloseNotWritable},
	{"OwnShutdownNoHangUp", both, ownShutdownNoHangUp},
	{"PipeReaderGone", both, pipeReaderGone},
}

// TestConformance runs the contract of poller.go against every backend
// this platform registers: TestConformance/<backend>/<case>.
func TestConformance(t *testing.T) {
	tgs := targets()
	if len(tgs) == 0 {
		t.Fatal("no backend registered")
	}
	for _, tg := range tgs {
		t.Run(tg.name, func(t *testing.T) {
			m := level
			if tg.et() {
				m = edge
			}
			for _, c := range cases {
				if c.modes&m == 0 {
					continue
				}
				t.Run(c.name, func(t *testing.T) { c.run(t, tg) })
			}
		})
	}
}

func TestOpenUnknown(t *testing.T) {
	p, err := poller.Open("no-such-backend", poller.Options{})
	if !errors.Is(err, poller.ErrUnknown) {
		t.Fatalf("Open(unknown) = %v, %v; want ErrUnknown", p, err)
	}
}

// diff compares events as sets: the order a wait reports them in is no
// part of the contract, and a descriptor reused may make a later pair's
// tokens the smaller.
func diff(t *testing.T, what string, want, got []poller.Event) {
	t.Helper()
	if d := cmp.Diff(want, got, byToken); d != "" {
		t.Fatalf("%s: events (-want +got):\n%s", what, d)
	}
}

var byToken = cmpopts.SortSlices(func(a, b poller.Event) bool { return a.Token < b.Token })

func none() []poller.Event { return []poller.Event{} }

func ev(token uint64, f poller.Flags) []poller.Event {
	return []poller.Event{{Token: token, Flags: f}}
}

func add(t *testing.T, p *poller.Poller, fd int, token uint64, f poller.Flags) {
	t.Helper()
	if err := p.Add(fd, token, f); err != nil {
		t.Fatalf("Add(%d, %#x, %v): %v", fd, token, f, err)
	}
}

func modify(t *testing.T, p *poller.Poller, fd int, token uint64, f poller.Flags) {
	t.Helper()
	if err := p.Modify(fd, token, f); err != nil {
		t.Fatalf("Modify(%d, %#x, %v): %v", fd, token, f, err)
	}
}

func nothingReadyFresh(t *testing.T, tg target) {
	p := open(t, tg)
	a, _ := pair(t)
	add(t, p, a, tok(a), R)
	diff(t, "fresh pair, read interest", none(), waitOnce(t, p, 0))
	diff(t, "fresh pair, 20ms", none(), waitOnce(t, p, 20*time.Millisecond))
}

func readableUntilDrained(t *testing.T, tg target) {
	p := open(t, tg)
	a, b := pair(t)
	add(t, p, a, tok(a), R)
	write(t, b, "hello")
	diff(t, "after peer write", ev(tok(a), R), waitOnce(t, p, time.Second))
	diff(t, "next Wait, nothing read", ev(tok(a), R), waitOnce(t, p, time.Second))
	read(t, a, 2)
	diff(t, "partly read", ev(tok(a), R), waitOnce(t, p, time.Second))
	drain(t, a)
	diff(t, "drained", none(), waitOnce(t, p, 0))
}

func readableEdge(t *testing.T, tg target) {
	p := open(t, tg)
	a, b := pair(t)
	add(t, p, a, tok(a), R)
	write(t, b, "hello")
	diff(t, "after peer write", ev(tok(a), R), waitOnce(t, p, time.Second))
	diff(t, "no new data", none(), waitOnce(t, p, 0))
	read(t, a, 2)
	diff(t, "partly read, no new data", none(), waitOnce(t, p, 0))
	write(t, b, "again")
	diff(t, "new data", ev(tok(a), R), waitOnce(t, p, time.Second))
	drain(t, a)
	diff(t, "drained", none(), waitOnce(t, p, 0))
}

func writableUntilFull(t *testing.T, tg target) {
	p := open(t, tg)
	a, b := pair(t)
	add(t, p, a, tok(a), W)
	diff(t, "room in send buffer", ev(tok(a), W), waitOnce(t, p, time.Second))
	diff(t, "still room", ev(tok(a), W), waitOnce(t, p, time.Second))
	fill(t, a)
	diff(t, "send buffer full", none(), waitOnce(t, p, 0))
	drain(t, b)
	diff(t, "peer drained", ev(tok(a), W), waitOnce(t, p, time.Second))
}

func writableEdge(t *testing.T, tg target) {
	p := open(t, tg)
	a, b := pair(t)
	add(t, p, a, tok(a), W)
	diff(t, "room in send buffer", ev(tok(a), W), waitOnce(t, p, time.Second))
	diff(t, "no change", none(), waitOnce(t, p, 0))
	fill(t, a)
	diff(t, "send buffer full", none(), waitOnce(t, p, 0))
	drain(t, b)
	diff(t, "peer drained", ev(tok(a), W), waitOnce(t, p, time.Second))
	diff(t, "no change since", none(), waitOnce(t, p, 0))
}

// closedFlags checks a peer-close event: Readable or HangUp (select can
// only say Readable), never Writable for a read-only interest.
func closedFlags(t *testing.T, what string, evs []poller.Event, token uint64, allowed poller.Flags) {
	t.Helper()
	if len(evs) != 1 || evs[0].Token != token || evs[0].Flags&(R|poller.HangUp) == 0 || evs[0].Flags&^allowed != 0 {
		t.Fatalf("%s: got %v, want one event %#x with R or HUP (within %v)", what, evs, token, allowed)
	}
}

func peerClose(t *testing.T, tg target) {
	p := open(t, tg)
	a, _, _, cb := socketPair(t)
	add(t, p, a, tok(a), R)
	cb.Close()
	closedFlags(t, "peer closed", waitOnce(t, p, time.Second), tok(a), R|poller.HangUp)
	if tg.et() {
		diff(t, "peer closed, reported before", none(), waitOnce(t, p, 0))
		return
	}
	closedFlags(t, "peer closed, next Wait", waitOnce(t, p, time.Second), tok(a), R|poller.HangUp)
	buf := make([]byte, 1)
	if n, err := readFD(a, buf); n != 0 || err != nil {
		t.Fatalf("read after peer close = %d, %v; want end of stream", n, err)
	}
}

// halfCloseQuietForWriter: a writer that stopped reading and waits for room
// must not be woken by the peer's half-close on every wait (a
// level-triggered busy loop until the peer reads).
func halfCloseQuietForWriter(t *testing.T, tg target) {
	p := open(t, tg)
	a, b := pair(t)
	fill(t, a)
	if err := unix.Shutdown(b, unix.SHUT_WR); err != nil {
		t.Fatal(err)
	}
	add(t, p, a, tok(a), W)
	diff(t, "send buffer full, peer half-closed", none(), waitOnce(t, p, 20*time.Millisecond))
	drain(t, b)
	diff(t, "peer drained", ev(tok(a), W), waitOnce(t, p, time.Second))
}

// within fails unless evs is one event for token whose flags include
// need and stay within allowed.
func within(t *testing.T, what string, evs []poller.Event, token uint64, need, allowed poller.Flags) {
	t.Helper()
	if len(evs) != 1 || evs[0].Token != token || evs[0].Flags&need != need || evs[0].Flags&^allowed != 0 {
		t.Fatalf("%s: got %v, want one event %#x with %v, within %v", what, evs, token, need, allowed)
	}
}

// halfCloseNotWritable: the peer's half-close makes a descriptor readable
// (end of stream), not writable: with both interests and a full send
// buffer it is Readable (and HangUp), never Writable.
func halfCloseNotWritable(t *testing.T, tg target) {
	p := open(t, tg)
	a, b := pair(t)
	fill(t, a)
	if err := unix.Shutdown(b, unix.SHUT_WR); err != nil {
		t.Fatal(err)
	}
	add(t, p, a, tok(a), R|W)
	within(t, "send buffer full, peer half-closed", waitOnce(t, p, time.Second), tok(a), R, R|poller.HangUp)
	if !tg.et() {
		within(t, "next Wait", waitOnce(t, p, time.Second), tok(a), R, R|poller.HangUp)
	}
	drain(t, b)
	within(t, "peer drained", waitReady(t, p, map[uint64]poller.Flags{tok(a): W}), tok(a), W, R|W|poller.HangUp)
}

// ownShutdownNoHangUp: shutting down our own writing is no hang-up; the
// descriptor stays Writable (a write fails with EPIPE) and HangUp waits
// for the peer.
func ownShutdownNoHangUp(t *testing.T, tg target) {
	p := open(t, tg)
	a, b := pair(t)
	if err := unix.Shutdown(a, unix.SHUT_WR); err != nil {
		t.Fatal(err)
	}
	add(t, p, a, tok(a), R|W)
	diff(t, "own SHUT_WR", ev(tok(a), W), waitOnce(t, p, time.Second))
	if tg.et() {
		return
	}
	diff(t, "own SHUT_WR, next Wait", ev(tok(a), W), waitOnce(t, p, time.Second))
	write(t, b, "x")
	diff(t, "own SHUT_WR, peer wrote", ev(tok(a), R|W), waitOnce(t, p, time.Second))
	if err := unix.Shutdown(b, unix.SHUT_WR); err != nil {
		t.Fatal(err)
	}
	// select cannot see the hang-up.
	within(t, "both directions shut", waitOnce(t, p, time.Second), tok(a), R|W, R|W|poller.HangUp)
}

// pipeReaderGone: a pipe's writer whose reader has gone is reported
// Writable (with Error or HangUp where the kernel says so), so that it
// writes and meets EPIPE: whether the reader went before Add or after.
func pipeReaderGone(t *testing.T, tg target) {
	p := open(t, tg)
	const gone = W | poller.Error | poller.HangUp
	_, w, cr, _ := pipe(t)
	cr.Close()
	add(t, p, w, tok(w), W)
	within(t, "reader gone before Add", waitOnce(t, p, time.Second), tok(w), W, gone)
	if tg.et() {
		diff(t, "reported before", none(), waitOnce(t, p, 0))
	} else {
		within(t, "next Wait", waitOnce(t, p, time.Second), tok(w), W, gone)
	}
	if _, err := unix.Write(w, []byte("x")); err != unix.EPIPE {
		t.Fatalf("write to a pipe without reader: %v, want EPIPE", err)
	}
	modify(t, p, w, tok(w), 0)
	// The error is reported whatever the interest, where it is (epoll,
	// poll); never R or W.
	for _, e := range waitOnce(t, p, 20*time.Millisecond) {
		if e.Token != tok(w) || e.Flags&(R|W) != 0 {
			t.Fatalf("no interest: reported %v", e)
		}
	}
	modify(t, p, w, tok(w), R|W)
	// select takes the error for readability too.
	within(t, "both interests", waitOnce(t, p, time.Second), tok(w), W, gone|R)
	if err := p.Remove(w); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	diff(t, "removed", none(), waitOnce(t, p, 20*time.Millisecond))

	_, w2, cr2, _ := pipe(t)
	add(t, p, w2, tok(w2), W)
	diff(t, "reader there", ev(tok(w2), W), waitOnce(t, p, time.Second))
	cr2.Close()
	within(t, "reader gone after Add", waitReady(t, p, map[uint64]poller.Flags{tok(w2): W}), tok(w2), W, gone)
}

// tcpReset: a peer that closes with SO_LINGER 0 sends a reset; the reader
// must hear of it (Readable, HangUp or Error).
func tcpReset(t *testing.T, tg target) {
	p := open(t, tg)
	l, port := tcpListener(t)
	c := tcpConnect(t, port)
	s := accept(t, l)
	if err := setLingerZero(s.fd); err != nil {
		t.Fatalf("SO_LINGER: %v", err)
	}
	add(t, p, c.fd, tok(c.fd), R)
	diff(t, "connected, idle", none(), waitOnce(t, p, 0))
	s.Close()
	evs := waitReady(t, p, map[uint64]poller.Flags{tok(c.fd): 0})
	if len(evs) != 1 || evs[0].Flags&(R|poller.HangUp|poller.Error) == 0 || evs[0].Flags&W != 0 {
		t.Fatalf("after reset: got %v, want one event %#x with R, HUP or ERR", evs, tok(c.fd))
	}
}

func listenerReadable(t *testing.T, tg target) {
	p := open(t, tg)
	l, port := tcpListener(t)
	add(t, p, l, tok(l), R)
	diff(t, "no connection waiting", none(), waitOnce(t, p, 0))
	tcpConnect(t, port)
	diff(t, "connection waiting", ev(tok(l), R), waitReady(t, p, map[uint64]poller.Flags{tok(l): R}))
	if tg.et() {
		diff(t, "same connection still waiting", none(), waitOnce(t, p, 0))
	} else {
		diff(t, "still waiting", ev(tok(l), R), waitOnce(t, p, time.Second))
	}
	accept(t, l)
	diff(t, "accepted", none(), waitOnce(t, p, 0))
}

func modifyInterest(t *testing.T, tg target) {
	p := open(t, tg)
	a, b := pair(t)
	write(t, b, "x") // a is now readable, and writable all along
	add(t, p, a, tok(a), R)
	diff(t, "read interest", ev(tok(a), R), waitOnce(t, p, time.Second))
	modify(t, p, a, tok(a), W)
	diff(t, "write interest", ev(tok(a), W), waitOnce(t, p, time.Second))
	modify(t, p, a, tok(a), R)
	diff(t, "read interest again", ev(tok(a), R), waitOnce(t, p, time.Second))
	modify(t, p, a, tok(a), R|W)
	diff(t, "both", ev(tok(a), R|W), waitOnce(t, p, time.Second))
	modify(t, p, a, tok(a), 0)
	diff(t, "none", none(), waitOnce(t, p, 0))
	if f, ok := p.Interest(a); !ok || f != 0 {
		t.Fatalf("Interest(%d) = %v, %v; want none, true", a, f, ok)
	}
}

func modifyToken(t *testing.T, tg target) {
	p := open(t, tg)
	a, b := pair(t)
	add(t, p, a, tok(a), R)
	calls := p.Syscalls()
	modify(t, p, a, 42<<40|uint64(a), R)
	if n := p.Syscalls() - calls; n != 0 {
		t.Errorf("a Modify of the token alone made %d system calls", n)
	}
	write(t, b, "x")
	diff(t, "new token", ev(42<<40|uint64(a), R), waitOnce(t, p, time.Second))
}

func removeStopsEvents(t *testing.T, tg target) {
	p := open(t, tg)
	a, b := pair(t)
	c, d := pair(t)
	add(t, p, a, tok(a), R)
	add(t, p, c, tok(c), R)
	write(t, b, "x")
	write(t, d, "x")
	diff(t, "both readable", []poller.Event{{Token: tok(a), Flags: R}, {Token: tok(c), Flags: R}},
		waitOnce(t, p, time.Second))
	if err := p.Remove(a); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if p.Len() != 1 {
		t.Fatalf("Len after Remove = %d, want 1", p.Len())
	}
	if _, ok := p.Interest(a); ok {
		t.Fatalf("Interest(%d) after Remove says registered", a)
	}
	write(t, b, "y")
	write(t, d, "y")
	diff(t, "after Remove", ev(tok(c), R), waitOnce(t, p, time.Second))
	add(t, p, a, tok(a)+1, R)
	want := []poller.Event{{Token: tok(a) + 1, Flags: R}, {Token: tok(c), Flags: R}}
	if tg.et() {
		// Adding reports what is ready already; c has had no new data.
		want = want[:1]
	}
	diff(t, "added again", want, waitOnce(t, p, time.Second))
}

func interestZero(t *testing.T, tg target) {
	p := open(t, tg)
	a, b, _, cb := socketPair(t)
	add(t, p, a, tok(a), 0)
	write(t, b, "x")
	for _, e := range waitOnce(t, p, 20*time.Millisecond) {
		if e.Flags&(R|W) != 0 {
			t.Fatalf("interest 0 reported %v", e)
		}
	}
	if f, ok := p.Interest(a); !ok || f != 0 || p.Len() != 1 {
		t.Fatalf("Interest = %v, %v, Len = %d; want none, true, 1", f, ok, p.Len())
	}
	// A closed peer may show as HangUp (epoll, poll), never as R or W.
	cb.Close()
	for _, e := range waitOnce(t, p, 20*time.Millisecond) {
		if e.Token != tok(a) || e.Flags&(R|W) != 0 {
			t.Fatalf("interest 0, peer closed: reported %v", e)
		}
	}
}

func errorsCase(t *testing.T, tg target) {
	p := open(t, tg)
	a, b := pair(t)
	add(t, p, a, tok(a), R)
	if err := p.Add(a, 7, W); !errors.Is(err, poller.ErrRegistered) {
		t.Errorf("Add twice = %v, want ErrRegistered", err)
	}
	if err := p.Modify(b, 7, R); !errors.Is(err, poller.ErrNotRegistered) {
		t.Errorf("Modify unknown = %v, want ErrNotRegistered", err)
	}
	if err := p.Remove(b); !errors.Is(err, poller.ErrNotRegistered) {
		t.Errorf("Remove unknown = %v, want ErrNotRegistered", err)
	}
	if err := p.Remove(1 << 20); !errors.Is(err, poller.ErrNotRegistered) && !errors.Is(err, poller.ErrFDRange) {
		t.Errorf("Remove(1<<20) = %v, want ErrNotRegistered or ErrFDRange", err)
	}
	if err := p.Add(-1, 7, R); err == nil {
		t.Errorf("Add(-1) succeeded")
	}
	if n, err := p.Wait(nil, 0); err == nil {
		t.Errorf("Wait(nil) = %d, nil; want an error", n)
	}
	if n, err := p.Wait([]poller.Event{}, 0); err == nil {
		t.Errorf("Wait(empty) = %d, nil; want an error", n)
	}
	if max := tg.caps.MaxFD; max > 0 {
		if err := p.Add(max, 7, R); !errors.Is(err, poller.ErrFDRange) {
			t.Errorf("Add(MaxFD=%d) = %v, want ErrFDRange", max, err)
		}
	}
	// The failed calls left the registration as it was.
	if f, ok := p.Interest(a); !ok || f != R || p.Len() != 1 {
		t.Errorf("after errors: Interest = %v, %v, Len = %d; want R, true, 1", f, ok, p.Len())
	}
	write(t, b, "x")
	diff(t, "after errors", ev(tok(a), R), waitOnce(t, p, time.Second))
}

func errorsAfterClose(t *testing.T, tg target) {
	p := open(t, tg)
	a, b := pair(t)
	add(t, p, a, tok(a), R)
	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	checks := []struct {
		op  string
		err error
	}{
		{"Add", p.Add(b, 1, R)},
		{"Modify", p.Modify(a, 1, W)},
		{"Remove", p.Remove(a)},
		{"Wake", p.Wake()},
		{"Close", p.Close()},
	}
	_, werr := p.Wait(make([]poller.Event, 4), 0)
	checks = append(checks, struct {
		op  string
		err error
	}{"Wait", werr})
	for _, c := range checks {
		if !errors.Is(c.err, poller.ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", c.op, c.err)
		}
	}
}

func edgeUnsupported(t *testing.T, tg target) {
	if tg.caps.EdgeTriggered {
		t.Skipf("%s supports edge-triggered mode", tg.backend)
	}
	p, err := poller.Open(tg.backend, poller.Options{EdgeTriggered: true})
	if !errors.Is(err, poller.ErrUnsupported) {
		if p != nil {
			p.Close()
		}
		t.Fatalf("Open(%s, EdgeTriggered) = %v; want ErrUnsupported", tg.backend, err)
	}
}

func timeoutZero(t *testing.T, tg target) {
	p := open(t, tg)
	a, _ := pair(t)
	add(t, p, a, tok(a), R)
	start := time.Now()
	for i := 0; i < 10; i++ {
		diff(t, "timeout 0", none(), waitOnce(t, p, 0))
	}
	// Lenient: ten Waits that should not sleep at all.
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("10 Wait(0) took %v", d)
	}
}

func timeoutPositive(t *testing.T, tg target) {
	p := open(t, tg)
	a, _ := pair(t)
	add(t, p, a, tok(a), R)
	const timeout = 50 * time.Millisecond
	start := time.Now()
	diff(t, "timeout 50ms", none(), waitOnce(t, p, timeout))
	// Lower bound only, less a little for clocks that tick coarsely.
	if d := time.Since(start); d < timeout*9/10 {
		t.Fatalf("Wait(%v) returned after %v", timeout, d)
	}
}

func timeoutNegative(t *testing.T, tg target) {
	p := open(t, tg)
	a, b := pair(t)
	add(t, p, a, tok(a), R)
	evs := make([]poller.Event, 8)
	c := waitAsync(p, evs, -1)
	const delay = 30 * time.Millisecond
	time.Sleep(delay)
	write(t, b, "x")
	r := await(t, c, "Wait(-1), then peer writes")
	// An early return would come back empty: the event proves it waited.
	diff(t, "Wait(-1)", ev(tok(a), R), merge(evs[:r.n]))
}

func wakeUnblocks(t *testing.T, tg target) {
	p := open(t, tg)
	a, _ := pair(t)
	add(t, p, a, tok(a), R)
	evs := make([]poller.Event, 8)
	for i := 0; i < 3; i++ {
		c := waitAsync(p, evs, -1)
		time.Sleep(20 * time.Millisecond)
		if err := p.Wake(); err != nil {
			t.Fatalf("Wake: %v", err)
		}
		r := await(t, c, fmt.Sprintf("Wake #%d", i))
		diff(t, "woken", none(), merge(evs[:r.n]))
	}
}

func wakeCoalesces(t *testing.T, tg target) {
	p := open(t, tg)
	a, _ := pair(t)
	add(t, p, a, tok(a), R)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				if err := p.Wake(); err != nil {
					t.Errorf("Wake: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	r := await(t, waitAsync(p, make([]poller.Event, 8), -1), "Wait(-1) after 4000 Wakes")
	if r.n != 0 {
		t.Fatalf("Wait after Wakes reported %d events", r.n)
	}
	// The wake-ups were consumed: the next Wait times out, neither
	// returning at once for ever nor failing.
	start := time.Now()
	diff(t, "after the wake-up", none(), waitOnce(t, p, 50*time.Millisecond))
	if d := time.Since(start); d < 45*time.Millisecond {
		t.Fatalf("Wait(50ms) after the coalesced wake-up returned after %v: a stale wake-up was left pending", d)
	}
	// And Wake still works.
	c := waitAsync(p, make([]poller.Event, 8), -1)
	time.Sleep(10 * time.Millisecond)
	if err := p.Wake(); err != nil {
		t.Fatalf("Wake: %v", err)
	}
	await(t, c, "Wake after coalesced Wakes")
}

func wakeBeforeWait(t *testing.T, tg target) {
	p := open(t, tg)
	a, _ := pair(t)
	add(t, p, a, tok(a), R)
	if err := p.Wake(); err != nil {
		t.Fatalf("Wake: %v", err)
	}
	r := await(t, waitAsync(p, make([]poller.Event, 8), -1), "Wake before Wait(-1)")
	if r.n != 0 {
		t.Fatalf("woken Wait reported %d events", r.n)
	}
	if err := p.Wake(); err != nil {
		t.Fatalf("Wake: %v", err)
	}
	start := time.Now()
	diff(t, "Wake before Wait(5s)", none(), waitOnce(t, p, 5*time.Second))
	if d := time.Since(start); d > 4*time.Second {
		t.Fatalf("Wait(5s) after Wake took %v", d)
	}
}

// eintr signals the waiting thread again and again during Wait(200ms):
// Wait must neither fail nor return early.
func eintr(t *testing.T, tg target) {
	sig := signalThread(t)
	p := open(t, tg)
	a, _ := pair(t)
	add(t, p, a, tok(a), R)
	const timeout = 200 * time.Millisecond
	tids := make(chan int, 1)
	done := make(chan waitResult, 1)
	evs := make([]poller.Event, 8)
	go func() {
		lockThread()
		defer unlockThread()
		tids <- threadID()
		start := time.Now()
		n, err := p.Wait(evs, timeout)
		done <- waitResult{n, err, time.Since(start)}
	}()
	tid := <-tids
	sent := 0
	deadline := time.After(hang)
	for {
		select {
		case r := <-done:
			if r.err != nil {
				t.Fatalf("Wait(%v) interrupted by %d signals: %v", timeout, sent, r.err)
			}
			if r.n != 0 {
				t.Fatalf("Wait reported %v", evs[:r.n])
			}
			if r.elapsed < timeout*9/10 {
				t.Fatalf("Wait(%v) returned after %v (%d signals)", timeout, r.elapsed, sent)
			}
			if sent == 0 {
				t.Fatalf("no signal sent")
			}
			return
		case <-deadline:
			t.Fatalf("Wait(%v) still blocked after %v", timeout, hang)
		default:
		}
		if err := sig(tid); err != nil {
			t.Fatalf("signal thread %d: %v", tid, err)
		}
		sent++
		time.Sleep(2 * time.Millisecond)
	}
}

// noStarvation: 64 ready descriptors and room for 4 events per Wait; each
// must come up within a bounded number of Waits.
func noStarvation(t *testing.T, tg target) {
	p := open(t, tg)
	const ready, room = 64, 4
	want := map[uint64]bool{}
	for i := 0; i < ready; i++ {
		a, b := pair(t)
		add(t, p, a, tok(a), R)
		write(t, b, "x") // never read: level-triggered keeps it ready
		want[tok(a)] = true
	}
	seen := map[uint64]bool{}
	evs := make([]poller.Event, room)
	const rounds = 4 * ready / room
	for i := 0; i < rounds && len(seen) < ready; i++ {
		n, err := p.Wait(evs, time.Second)
		if err != nil {
			t.Fatalf("Wait: %v", err)
		}
		if n > room {
			t.Fatalf("Wait returned %d > len(events) %d", n, room)
		}
		for _, e := range evs[:n] {
			if !want[e.Token] {
				t.Fatalf("unknown token %#x", e.Token)
			}
			seen[e.Token] = true
		}
	}
	if len(seen) != ready {
		t.Fatalf("after %d Waits of %d events, %d of %d ready descriptors reported", rounds, room, len(seen), ready)
	}
}

// roundRobin: more descriptors stay ready than one Wait may report; every
// Wait is full and each descriptor comes up within as many Waits as it
// takes to cover them all, so that none waits while others repeat.
func roundRobin(t *testing.T, tg target) {
	p := open(t, tg)
	const ready, room = 10, 3
	for i := 0; i < ready; i++ {
		a, b := pair(t)
		add(t, p, a, tok(a), R)
		write(t, b, "x") // never read: level-triggered keeps it ready
	}
	seen := map[uint64]bool{}
	evs := make([]poller.Event, room)
	for range (ready + room - 1) / room {
		n, err := p.Wait(evs, time.Second)
		if err != nil || n != room {
			t.Fatalf("Wait = %d, %v; want %d", n, err, room)
		}
		for _, e := range evs[:n] {
			seen[e.Token] = true
		}
	}
	if len(seen) != ready {
		t.Fatalf("reported %d of %d ready descriptors: %v", len(seen), ready, seen)
	}
}

// scale registers 2,000 pairs whose numbers are all above 1024 and makes a
// few of them ready.
func scale(t *testing.T, tg target) {
	const pairs, base = 2000, 1100
	top := base + 2*pairs + 64
	if max := tg.caps.MaxFD; max > 0 && max < top {
		t.Skipf("%s watches descriptors below %d only; this case needs up to %d", tg.backend, max, top)
	}
	if lim := fdLimit(); lim > 0 && lim < top {
		t.Skipf("RLIMIT_NOFILE is %d; this case needs %d", lim, top)
	}
	p := open(t, tg)
	rd := make([]int, pairs)
	wr := make([]int, pairs)
	for i := range rd {
		a, b := pair(t)
		rd[i], wr[i] = highFD(t, a, base), highFD(t, b, base)
		t.Cleanup(func() { closeFD(rd[i]); closeFD(wr[i]) })
		add(t, p, rd[i], tok(rd[i]), R)
	}
	if p.Len() != pairs {
		t.Fatalf("Len = %d, want %d", p.Len(), pairs)
	}
	diff(t, "2000 idle", none(), waitOnce(t, p, 0))
	var want []poller.Event
	wantSet := map[uint64]poller.Flags{}
	for _, i := range []int{0, 1, 517, 1024, pairs - 2, pairs - 1} {
		write(t, wr[i], "x")
		want = append(want, poller.Event{Token: tok(rd[i]), Flags: R})
		wantSet[tok(rd[i])] = R
	}
	diff(t, "six of 2000 ready", merge(want), waitReady(t, p, wantSet))
	for _, e := range want {
		drain(t, int(e.Token&^(1<<63)))
	}
	diff(t, "drained", none(), waitOnce(t, p, 0))
}

func tokens(t *testing.T, tg target) {
	p := open(t, tg)
	toks := []uint64{0, 1, 1 << 32, 1<<63 | 1<<31, ^uint64(0) >> 1, ^uint64(0) - 1}
	want := map[uint64]poller.Flags{}
	for _, tk := range toks {
		a, b := pair(t)
		add(t, p, a, tk, R)
		write(t, b, "x")
		want[tk] = R
	}
	var wantEv []poller.Event
	for tk, f := range want {
		wantEv = append(wantEv, poller.Event{Token: tk, Flags: f})
	}
	diff(t, "tokens", merge(wantEv), waitReady(t, p, want))
}

// TestTokenAllOnes: every uint64 is a token, the one a backend might be
// tempted to keep for its own wake-up included.
func TestTokenAllOnes(t *testing.T) {
	for _, tg := range targets() {
		t.Run(tg.name, func(t *testing.T) {
			p := open(t, tg)
			a, b := pair(t)
			add(t, p, a, ^uint64(0), R)
			write(t, b, "x")
			diff(t, "token ^0 (a backend that keeps it for its own wake-up drops the event)",
				ev(^uint64(0), R), waitOnce(t, p, 200*time.Millisecond))
		})
	}
}

// rawWaitSeenByGC: a raw wait is one the runtime does not see, so the
// garbage collector, stopping the world, interrupts it (EINTR) to reach
// its goroutine; a wait the runtime knows of it would leave alone.
func rawWaitSeenByGC(t *testing.T, tg target) {
	if !tg.opts.RawWait || !tg.caps.RawWait {
		t.Skip("waits are not raw in this mode")
	}
	open(t, tg) // skips where the backend is unavailable
	var info poller.Info
	for _, in := range poller.Backends() {
		if in.Name == tg.backend {
			info = in
		}
	}
	b, err := info.New(tg.opts)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var stop atomic.Bool
	started, interrupted := make(chan struct{}), make(chan error, 1)
	go func() {
		lockThread()
		defer unlockThread()
		close(started)
		evs := make([]poller.Event, 4)
		for !stop.Load() {
			if _, err := b.Wait(evs, -1); err != nil {
				interrupted <- err
				return
			}
		}
	}()
	defer func() { stop.Store(true); b.Wake() }()
	<-started
	time.Sleep(20 * time.Millisecond) // into the wait
	gc := make(chan struct{})
	go func() { runtime.GC(); close(gc) }()
	select {
	case <-gc:
	case <-time.After(hang):
		t.Fatal("the garbage collector could not stop a goroutine in a raw wait")
	}
	select {
	case err := <-interrupted:
		if !errors.Is(err, unix.EINTR) {
			t.Fatalf("raw wait failed with %v, want EINTR", err)
		}
	case <-time.After(hang):
		t.Fatal("the garbage collector never interrupted the wait: not raw")
	}
}

// idleRawWaitSleeps: to the runtime, a goroutine in a raw wait runs
// without end, and sysmon signals it to be preempted every 10 to 20 ms,
// which ends the wait (EINTR). Once interrupted, the wait must go on as
// one the runtime sees, which it leaves alone; or an idle loop wakes
// dozens of times a second, and poll and select rescan every descriptor
// each time (a third of a CPU at 5,000 idle connections).
func idleRawWaitSleeps(t *testing.T, tg target) {
	if !tg.opts.RawWait || !tg.caps.RawWait {
		t.Skip("waits are not raw in this mode")
	}
	p := open(t, tg)
	const (
		idle = time.Second
		// One raw wait, interrupted, and one ordinary wait that times
		// out; a garbage collection or a stray signal may add one.
		most = 4
	)
	calls := make(chan uint64)
	go func() {
		lockThread()
		defer unlockThread()
		before := p.Syscalls()
		evs := make([]poller.Event, 4)
		if _, err := p.Wait(evs, idle); err != nil {
			t.Error(err)
		}
		calls <- p.Syscalls() - before
	}()
	if n := <-calls; n > most {
		t.Errorf("an idle Wait of %v made %d system calls, want at most %d: the runtime's preemption signals keep waking it", idle, n, most)
	}
}
