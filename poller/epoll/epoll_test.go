//go:build linux

package epoll

import (
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/internal/testserver"
	"github.com/muxbench/muxbench/poller"
)

func open(t *testing.T, o poller.Options) *backend {
	t.Helper()
	pb, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	b := pb.(*backend)
	t.Cleanup(func() { b.Close() })
	return b
}

// wait calls the backend directly, so it resumes an interrupted wait itself,
// as the wrapper does (the runtime's preemption signals interrupt it).
func wait(t *testing.T, b *backend, timeout time.Duration) []poller.Event {
	t.Helper()
	ev := make([]poller.Event, 8)
	for {
		n, err := b.Wait(ev, timeout)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		return ev[:n]
	}
}

func write(t *testing.T, fd int, s string) {
	t.Helper()
	if _, err := unix.Write(fd, []byte(s)); err != nil {
		t.Fatal(err)
	}
}

// Edge-triggered, a readable descriptor is reported once per arrival, but
// the wake-up descriptor stays level-triggered: a Wake is never lost
// behind an edge already consumed.
func TestEdgeTriggered(t *testing.T) {
	b := open(t, poller.Options{EdgeTriggered: true})
	a, peer := testserver.Pair(t)
	if err := b.Add(a, poller.Readable); err != nil {
		t.Fatal(err)
	}
	write(t, peer, "x")
	if ev := wait(t, b, time.Second); len(ev) != 1 || ev[0].Flags&poller.Readable == 0 {
		t.Fatalf("first wait %v, want readable", ev)
	}
	if ev := wait(t, b, 0); len(ev) != 0 {
		t.Errorf("unread data reported again edge-triggered: %v", ev)
	}
	for i := range 3 {
		if err := b.Wake(); err != nil {
			t.Fatal(err)
		}
		if ev := wait(t, b, time.Second); len(ev) != 0 {
			t.Errorf("wake %d: events %v, want none", i, ev)
		}
		// Drained: the next wait times out rather than returning at once.
		start := time.Now()
		if ev := wait(t, b, 20*time.Millisecond); len(ev) != 0 || time.Since(start) < 10*time.Millisecond {
			t.Errorf("wake %d: not drained (%v after %v)", i, ev, time.Since(start))
		}
	}
}

// EPOLLRDHUP is asked for only with read interest: a peer's half-close is
// HangUp for a reader, and not reported at all to a writer, which would
// otherwise be woken by it on every level-triggered wait.
func TestHalfCloseOnlyForReaders(t *testing.T) {
	b := open(t, poller.Options{})
	r, rpeer := testserver.Pair(t)
	w, wpeer := testserver.Pair(t)
	if err := b.Add(r, poller.Readable); err != nil {
		t.Fatal(err)
	}
	if err := b.Add(w, 0); err != nil {
		t.Fatal(err)
	}
	unix.Shutdown(rpeer, unix.SHUT_WR)
	unix.Shutdown(wpeer, unix.SHUT_WR)
	ev := wait(t, b, time.Second)
	if len(ev) != 1 || ev[0].Token != uint64(r) || ev[0].Flags&poller.HangUp == 0 {
		t.Errorf("events %v, want descriptor %d with HangUp only", ev, r)
	}
}
