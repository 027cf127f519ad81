//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package busywait

import (
	"errors"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/internal/testserver"
	"github.com/muxbench/muxbench/poller"
	"github.com/muxbench/muxbench/poller/internal/pollfd"
)

// pair returns a connected non-blocking socket pair closed at test end.
func pair(t testing.TB) (a, b int) { return testserver.Pair(t) }

func send(t *testing.T, fd int) {
	t.Helper()
	if _, err := unix.Write(fd, []byte{1}); err != nil {
		t.Fatal(err)
	}
}

func newBackend(t testing.TB, o poller.Options) *backend {
	t.Helper()
	b, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return b.(*backend)
}

func TestSleepAfterIdleRounds(t *testing.T) {
	const nap, timeout = 5 * time.Millisecond, 40 * time.Millisecond
	b := newBackend(t, poller.Options{SpinSleep: nap})
	a, _ := pair(t)
	b.Add(a, poller.Readable)
	ev := make([]poller.Event, 4)
	if n, err := b.Wait(ev, timeout); n != 0 || err != nil {
		t.Fatalf("Wait = %d, %v; want a timeout", n, err)
	}
	// Every idle round but the one that saw the deadline sleeps, and each
	// sleep lasts at least nap, so rounds are bounded by timeout/nap.
	if b.sleeps != b.rounds-1 {
		t.Errorf("%d sleeps in %d idle rounds, want one after each but the last", b.sleeps, b.rounds)
	}
	if max := int(timeout/nap) + 1; b.rounds > max {
		t.Errorf("%d rounds in %v with %v naps, want at most %d", b.rounds, timeout, nap, max)
	}

	spin := newBackend(t, poller.Options{})
	spin.Add(a, poller.Readable)
	spin.Wait(ev, timeout)
	if spin.sleeps != 0 || spin.rounds <= b.rounds {
		t.Errorf("without SpinSleep: %d rounds, %d sleeps; with it: %d rounds", spin.rounds, spin.sleeps, b.rounds)
	}
}

func TestNoSleepWhenReady(t *testing.T) {
	b := newBackend(t, poller.Options{SpinSleep: time.Hour})
	a, peer := pair(t)
	b.Add(a, poller.Readable)
	send(t, peer)
	ev := make([]poller.Event, 4)
	n, err := b.Wait(ev, -1)
	if n != 1 || err != nil || ev[0] != (poller.Event{Token: uint64(a), Flags: poller.Readable}) {
		t.Fatalf("Wait = %d %v %v", n, err, ev[:n])
	}
	if b.sleeps != 0 || b.rounds != 1 {
		t.Errorf("%d rounds, %d sleeps; want 1 round and no sleep", b.rounds, b.sleeps)
	}
	// Wait(0) is one round and never sleeps, ready or not.
	b.Remove(a, poller.Readable)
	b.rounds = 0
	if n, _ := b.Wait(ev, 0); n != 0 || b.rounds != 1 || b.sleeps != 0 {
		t.Errorf("Wait(0): n=%d rounds=%d sleeps=%d", n, b.rounds, b.sleeps)
	}
}

func TestSleepDefaults(t *testing.T) {
	info, ok := poller.Lookup("busywait-sleep")
	if !ok {
		t.Fatal("busywait-sleep not registered")
	}
	if !info.Caps.Spins {
		t.Error("busywait-sleep must advertise Spins")
	}
	for _, c := range []struct {
		name string
		in   time.Duration
		want time.Duration
	}{
		{"busywait", 0, 0},
		{"busywait", time.Millisecond, time.Millisecond},
		{"busywait-sleep", 0, DefaultSleep},
		{"busywait-sleep", time.Millisecond, time.Millisecond},
	} {
		info, _ := poller.Lookup(c.name)
		b, err := info.New(poller.Options{SpinSleep: c.in})
		if err != nil {
			t.Fatal(err)
		}
		if got := b.(*backend).sleep; got != c.want {
			t.Errorf("%s with SpinSleep %v sleeps %v, want %v", c.name, c.in, got, c.want)
		}
	}
	if _, err := poller.Open("busywait", poller.Options{SpinSleep: -1}); err == nil {
		t.Error("negative SpinSleep accepted")
	}
}

// More ready descriptors than events: successive waits must go round the
// ring instead of reporting the first ones again.
func TestNoStarvation(t *testing.T) {
	p, err := poller.Open("busywait", poller.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	const fds = 10
	for i := range fds {
		a, peer := pair(t)
		send(t, peer)
		if err := p.Add(a, uint64(i), poller.Readable); err != nil {
			t.Fatal(err)
		}
	}
	ev := make([]poller.Event, 3)
	seen := map[uint64]int{}
	var order []uint64
	for range (fds + len(ev) - 1) / len(ev) {
		n, err := p.Wait(ev, 0)
		if err != nil || n != len(ev) {
			t.Fatalf("Wait = %d, %v; want %d events", n, err, len(ev))
		}
		for _, e := range ev[:n] {
			seen[e.Token]++
			order = append(order, e.Token)
		}
	}
	if len(seen) != fds {
		t.Fatalf("after %d waits saw %d of %d ready descriptors: %v", (fds+2)/3, len(seen), fds, order)
	}
	// Each wait continues right after the last one reported.
	for i := 1; i < len(order); i++ {
		if order[i] != (order[i-1]+1)%fds {
			t.Fatalf("scan order %v does not continue round the ring", order)
		}
	}
}

// A Wait(-1) with nothing registered spins on the wake flag; it must let
// the waking goroutine run even with a single P.
func TestWakeOneProc(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for _, name := range []string{"busywait", "busywait-sleep"} {
		p, err := poller.Open(name, poller.Options{})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			n, err := p.Wait(make([]poller.Event, 1), -1)
			if err == nil && n != 0 {
				err = errors.New("events from an empty poller")
			}
			done <- err
		}()
		runtime.Gosched()
		if err := p.Wake(); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s: %v", name, err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: Wait(-1) did not return after Wake", name)
		}
		p.Close()
	}
}

func TestWakeBeforeWait(t *testing.T) {
	p, err := poller.Open("busywait", poller.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.Wake()
	ev := make([]poller.Event, 1)
	if n, err := p.Wait(ev, -1); n != 0 || err != nil {
		t.Fatalf("Wait after Wake = %d, %v", n, err)
	}
	// The wake-up was consumed: the next wait runs to its timeout.
	start := time.Now()
	if n, _ := p.Wait(ev, 20*time.Millisecond); n != 0 {
		t.Fatal("events from an empty poller")
	}
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Errorf("Wait(20ms) returned after %v: wake-up not consumed", d)
	}
}

func TestReadiness(t *testing.T) {
	p, err := poller.Open("busywait", poller.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	a, peer := pair(t)
	ev := make([]poller.Event, 4)
	wait := func() poller.Flags {
		t.Helper()
		n, err := p.Wait(ev, 0)
		if err != nil || n > 1 {
			t.Fatalf("Wait = %d, %v", n, err)
		}
		if n == 0 {
			return 0
		}
		return ev[0].Flags
	}
	p.Add(a, 1, poller.Readable)
	if f := wait(); f != 0 {
		t.Errorf("idle socket reported %v", f)
	}
	p.Modify(a, 1, poller.Readable|poller.Writable)
	if f := wait(); f != poller.Writable {
		t.Errorf("got %v, want W", f)
	}
	send(t, peer)
	if f := wait(); f != poller.Readable|poller.Writable {
		t.Errorf("got %v, want R|W", f)
	}
	p.Modify(a, 1, 0)
	if f := wait(); f != 0 {
		t.Errorf("no interest, got %v", f)
	}
	unix.Shutdown(peer, unix.SHUT_WR)
	p.Modify(a, 1, poller.Readable)
	if f := wait(); f&poller.Readable == 0 || (pollfd.RDHUP != 0 && f&poller.HangUp == 0) {
		t.Errorf("peer shut down: got %v", f)
	}
}

func TestAddClosed(t *testing.T) {
	p, err := poller.Open("busywait", poller.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	a, _ := pair(t)
	fd, err := unix.Dup(a)
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
	if err := p.Add(fd, 1, poller.Readable); !errors.Is(err, unix.EBADF) {
		t.Fatalf("Add(closed fd) = %v, want EBADF", err)
	}
	if p.Len() != 0 {
		t.Fatalf("Len = %d after a failed Add", p.Len())
	}
}

// A nap never runs past the caller's deadline.
func TestNapWithinTimeout(t *testing.T) {
	b := newBackend(t, poller.Options{SpinSleep: time.Hour})
	start := time.Now()
	if n, err := b.Wait(make([]poller.Event, 1), 20*time.Millisecond); n != 0 || err != nil {
		t.Fatalf("Wait = %d, %v", n, err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("Wait(20ms) with an hour's SpinSleep took %v", d)
	}
	if b.sleeps == 0 {
		t.Fatal("no nap")
	}
}
