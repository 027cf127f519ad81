//go:build linux

package iouring_test

import (
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/internal/testserver"
	"github.com/muxbench/muxbench/internal/uring"
	"github.com/muxbench/muxbench/poller"
	"github.com/muxbench/muxbench/poller/iouring"
)

func need(t *testing.T) {
	t.Helper()
	if err := iouring.Available(); err != nil {
		t.Skipf("iouring unavailable, skipping: %v", err)
	}
}

func open(t *testing.T, o poller.Options) *poller.Poller {
	t.Helper()
	p, err := poller.Open("iouring", o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func wait(t *testing.T, p *poller.Poller, timeout time.Duration) []poller.Event {
	t.Helper()
	evs := make([]poller.Event, 16)
	n, err := p.Wait(evs, timeout)
	if err != nil {
		t.Fatal(err)
	}
	return evs[:n]
}

func write(t *testing.T, fd int) {
	t.Helper()
	if _, err := unix.Write(fd, []byte("x")); err != nil {
		t.Fatal(err)
	}
}

// TestStaleCompletion: a poll that completes after Remove, its descriptor
// closed and the number given to a new socket, never reaches the new
// owner: the completion carries the old generation.
func TestStaleCompletion(t *testing.T) {
	need(t)
	for _, et := range []bool{false, true} {
		p := open(t, poller.Options{EdgeTriggered: et})
		a, b := testserver.Raw(t)
		if err := p.Add(a, 1, poller.Readable); err != nil {
			t.Fatal(err)
		}
		if evs := wait(t, p, 0); len(evs) != 0 { // armed, idle
			t.Fatalf("idle: %v", evs)
		}
		write(t, b) // the poll completes; nobody reaps it yet
		time.Sleep(10 * time.Millisecond)
		if err := p.Remove(a); err != nil {
			t.Fatal(err)
		}
		unix.Close(a)
		unix.Close(b)
		c, d := testserver.Pair(t)
		if c != a {
			t.Logf("descriptor %d not reused (got %d); the check still holds", a, c)
		}
		if err := p.Add(c, 2, poller.Readable); err != nil {
			t.Fatal(err)
		}
		if evs := wait(t, p, 20*time.Millisecond); len(evs) != 0 {
			t.Fatalf("et=%v: the new owner got %v from the old poll", et, evs)
		}
		write(t, d)
		if evs := wait(t, p, time.Second); len(evs) != 1 || evs[0].Token != 2 || evs[0].Flags != poller.Readable {
			t.Fatalf("et=%v: new owner's event %v, want token 2 R", et, evs)
		}
	}
}

// TestParkedWriter: a writer whose peer half-closed leaves the ring for
// the private epoll; Modify brings it back with read interest, and the
// half-close shows as R|HUP.
func TestParkedWriter(t *testing.T) {
	need(t)
	p := open(t, poller.Options{})
	a, b := testserver.Pair(t)
	buf := make([]byte, 64<<10)
	for {
		if _, err := unix.Write(a, buf); err != nil {
			break
		}
	}
	unix.Shutdown(b, unix.SHUT_WR)
	if err := p.Add(a, 7, poller.Writable); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if evs := wait(t, p, 10*time.Millisecond); len(evs) != 0 {
			t.Fatalf("full, peer half-closed: %v", evs)
		}
	}
	if err := p.Modify(a, 7, poller.Readable); err != nil {
		t.Fatal(err)
	}
	evs := wait(t, p, time.Second)
	if len(evs) != 1 || evs[0].Flags != poller.Readable|poller.HangUp {
		t.Fatalf("read interest after the half-close: %v, want R|HUP", evs)
	}
	// Back to writing, then room appears: Writable from the park.
	if err := p.Modify(a, 7, poller.Writable); err != nil {
		t.Fatal(err)
	}
	if evs := wait(t, p, 10*time.Millisecond); len(evs) != 0 {
		t.Fatalf("parked again: %v", evs)
	}
	for {
		if _, err := unix.Read(b, buf); err != nil {
			break
		}
	}
	evs = wait(t, p, time.Second)
	if len(evs) != 1 || evs[0].Flags != poller.Writable {
		t.Fatalf("after the peer read: %v, want W", evs)
	}
	if err := p.Remove(a); err != nil {
		t.Fatal(err)
	}
}

type syscaller interface{ Syscalls() uint64 }

// TestOneEnterPerWait: re-arming ten ready descriptors and waiting costs
// one io_uring_enter, however many polls are re-armed.
func TestOneEnterPerWait(t *testing.T) {
	need(t)
	bk, err := iouring.New(poller.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer bk.Close()
	for i := 0; i < 10; i++ {
		a, b := testserver.Pair(t)
		bk.Add(a, poller.Readable)
		write(t, b)
	}
	evs := make([]poller.Event, 32)
	for round := 0; round < 5; round++ {
		before := bk.(syscaller).Syscalls()
		n, err := bk.Wait(evs, time.Second)
		if err != nil || n != 10 {
			t.Fatalf("round %d: Wait = %d, %v; want 10 level-triggered events", round, n, err)
		}
		if d := bk.(syscaller).Syscalls() - before; d != 1 {
			t.Fatalf("round %d: %d system calls for one Wait, want 1", round, d)
		}
	}
}

// TestRefused: where io_uring is refused, Open fails with the reason.
func TestRefused(t *testing.T) {
	t.Setenv(uring.RefuseEnv, "EPERM")
	_, err := iouring.New(poller.Options{})
	if !errors.Is(err, uring.ErrUnavailable) {
		t.Fatalf("New with io_uring refused: %v, want ErrUnavailable", err)
	}
}
