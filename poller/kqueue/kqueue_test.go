//go:build darwin || dragonfly || freebsd || netbsd || openbsd || (linux && libkqueue)

package kqueue

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/internal/testserver"
	"github.com/muxbench/muxbench/poller"
	"github.com/muxbench/muxbench/poller/kqueue/internal/kevent"
)

func pair(t *testing.T) (a, b int) { return testserver.Pair(t) }

func open(t *testing.T, o poller.Options) *poller.Poller {
	t.Helper()
	p, err := poller.Open("kqueue", o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// wait returns the events of one Wait with a short timeout.
func wait(t *testing.T, p *poller.Poller) []poller.Event {
	t.Helper()
	ev := make([]poller.Event, 8)
	n, err := p.Wait(ev, 10*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	return ev[:n]
}

func TestMergeReadWrite(t *testing.T) {
	p := open(t, poller.Options{})
	a, peer := pair(t)
	if err := p.Add(a, 42, poller.Readable|poller.Writable); err != nil {
		t.Fatal(err)
	}
	unix.Write(peer, []byte("x"))
	got := wait(t, p)
	want := poller.Event{Token: 42, Flags: poller.Readable | poller.Writable}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("got %v, want one %v", got, want)
	}
	// Level-triggered: still both on the next wait.
	if got := wait(t, p); len(got) != 1 || got[0] != want {
		t.Fatalf("second wait got %v, want %v", got, want)
	}
	// Dropping Writable deletes the write filter only.
	p.Modify(a, 43, poller.Readable)
	if got := wait(t, p); len(got) != 1 || got[0] != (poller.Event{Token: 43, Flags: poller.Readable}) {
		t.Fatalf("after Modify got %v", got)
	}
	p.Remove(a)
	if got := wait(t, p); len(got) != 0 {
		t.Fatalf("after Remove got %v", got)
	}
}

func TestEdgeTriggered(t *testing.T) {
	p := open(t, poller.Options{EdgeTriggered: true})
	a, peer := pair(t)
	p.Add(a, 1, poller.Readable)
	unix.Write(peer, []byte("x"))
	if got := wait(t, p); len(got) != 1 {
		t.Fatalf("first wait got %v", got)
	}
	if got := wait(t, p); len(got) != 0 {
		t.Fatalf("edge reported twice: %v", got)
	}
	unix.Write(peer, []byte("y"))
	if got := wait(t, p); len(got) != 1 {
		t.Fatalf("new data not reported: %v", got)
	}
}

func TestHangUp(t *testing.T) {
	p := open(t, poller.Options{})
	a, peer := pair(t)
	p.Add(a, 1, poller.Readable)
	unix.Shutdown(peer, unix.SHUT_WR)
	got := wait(t, p)
	if len(got) != 1 || got[0].Flags&(poller.Readable|poller.HangUp) != poller.Readable|poller.HangUp {
		t.Fatalf("got %v, want R|HUP", got)
	}
}

func TestWake(t *testing.T) {
	p := open(t, poller.Options{})
	go func() {
		time.Sleep(10 * time.Millisecond)
		p.Wake()
	}()
	done := make(chan int, 1)
	go func() {
		n, _ := p.Wait(make([]poller.Event, 1), -1)
		done <- n
	}()
	select {
	case n := <-done:
		if n != 0 {
			t.Fatalf("Wait after Wake returned %d events", n)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Wait(-1) did not return after Wake")
	}
	// Consumed: the next wait times out.
	if got := wait(t, p); len(got) != 0 {
		t.Fatalf("got %v", got)
	}
}

// A change-only kevent that reports EINTR has applied its changes: apply
// must neither fail nor submit them again (an EV_DELETE twice is ENOENT).
func TestApplyEINTRIsApplied(t *testing.T) {
	be, err := New(poller.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := be.(*backend)
	defer b.Close()
	a, _ := pair(t)
	if err := b.Add(a, poller.Readable); err != nil {
		t.Fatal(err)
	}
	orig, calls := submit, 0
	submit = func(kq int, ch []kevent.Event) error {
		calls++
		if err := orig(kq, ch); err != nil {
			return err
		}
		return unix.EINTR
	}
	defer func() { submit = orig }()
	if err := b.Remove(a, poller.Readable); err != nil {
		t.Fatalf("Remove after an interrupted kevent: %v", err)
	}
	if calls != 1 {
		t.Errorf("the change list was submitted %d times, want once", calls)
	}
	submit = orig
	var ch [1]kevent.Event
	kevent.Set(&ch[0], a, kevent.EVFILT_READ, kevent.EV_DELETE)
	if err := orig(b.kq, ch[:]); err != unix.ENOENT {
		t.Errorf("the filter is still there after Remove: deleting it again gave %v, want ENOENT", err)
	}
}

// The kernel's events as epoll would report them: the read filter's EOF
// is the peer's hang-up and makes nothing writable; the write filter's
// is a hang-up only with a socket error (our own SHUT_WR sets it too).
func TestFlags(t *testing.T) {
	const (
		R   = poller.Readable
		W   = poller.Writable
		HUP = poller.HangUp
		ERR = poller.Error
	)
	for _, c := range []struct {
		filter, flags int
		fflags        uint32
		want          poller.Flags
	}{
		{kevent.EVFILT_READ, 0, 0, R},
		{kevent.EVFILT_READ, kevent.EV_EOF, 0, R | HUP},
		{kevent.EVFILT_READ, kevent.EV_EOF, uint32(unix.ECONNRESET), R | HUP | ERR},
		{kevent.EVFILT_WRITE, 0, 0, W},
		{kevent.EVFILT_WRITE, kevent.EV_EOF, 0, W},
		{kevent.EVFILT_WRITE, kevent.EV_EOF, uint32(unix.ECONNRESET), W | HUP | ERR},
		{kevent.EVFILT_WRITE, kevent.EV_ERROR, 0, W | ERR},
	} {
		var ev kevent.Event
		kevent.Set(&ev, 3, c.filter, c.flags)
		ev.Fflags = c.fflags
		if got := flags(&ev); got != c.want {
			t.Errorf("filter %d, flags %#x, fflags %d: %v, want %v", c.filter, c.flags, c.fflags, got, c.want)
		}
	}
}

// widowKernel makes submit refuse a write filter for fd as FreeBSD does
// for a pipe whose reader has gone (NetBSD: EBADF), after applying the
// changes before it. Deleting the filter, which is not there, fails
// with ENOENT as it would in the kernel.
func widowKernel(t *testing.T, fd int, errno unix.Errno) {
	orig := submit
	submit = func(kq int, ch []kevent.Event) error {
		for i, c := range ch {
			if int(c.Ident) == fd && c.Filter == kevent.EVFILT_WRITE && c.Flags&kevent.EV_ADD != 0 {
				if err := orig(kq, ch[:i]); err != nil {
					return err
				}
				return errno
			}
		}
		return orig(kq, ch)
	}
	t.Cleanup(func() { submit = orig })
}

// A write filter refused for a widowed pipe is readiness: Add succeeds,
// and Wait reports the writer Writable|Error as epoll does, on every
// wait level-triggered, once edge-triggered; no later change tries to
// delete the filter that is not there.
func TestWidowedPipe(t *testing.T) {
	for _, c := range []struct {
		name  string
		errno unix.Errno
		edge  bool
	}{{"EPIPE", unix.EPIPE, false}, {"EBADF", unix.EBADF, false}, {"EPIPE-et", unix.EPIPE, true}} {
		t.Run(c.name, func(t *testing.T) {
			p := open(t, poller.Options{EdgeTriggered: c.edge})
			r, w := pair(t)
			widowKernel(t, w, c.errno)
			if err := p.Add(w, 7, poller.Readable|poller.Writable); err != nil {
				t.Fatalf("Add: %v", err)
			}
			want := poller.Event{Token: 7, Flags: poller.Writable | poller.Error}
			if got := wait(t, p); len(got) != 1 || got[0] != want {
				t.Fatalf("got %v, want %v", got, want)
			}
			if got := wait(t, p); c.edge && len(got) != 0 || !c.edge && (len(got) != 1 || got[0] != want) {
				t.Fatalf("second wait got %v", got)
			}
			unix.Write(r, []byte("x"))
			want.Flags |= poller.Readable
			if got := wait(t, p); c.edge && (len(got) != 1 || got[0].Flags != poller.Readable) || !c.edge && (len(got) != 1 || got[0] != want) {
				t.Fatalf("readable too: got %v", got)
			}
			if err := p.Modify(w, 8, poller.Readable); err != nil {
				t.Fatalf("Modify: %v", err)
			}
			if got := wait(t, p); !c.edge && len(got) != 1 || len(got) > 0 && got[0].Flags&poller.Writable != 0 {
				t.Fatalf("read interest only: got %v", got)
			}
			if err := p.Modify(w, 9, poller.Writable); err != nil {
				t.Fatalf("Modify: %v", err)
			}
			if got := wait(t, p); len(got) != 1 || got[0] != (poller.Event{Token: 9, Flags: poller.Writable | poller.Error}) {
				t.Fatalf("write interest again: got %v", got)
			}
			if err := p.Remove(w); err != nil {
				t.Fatalf("Remove: %v", err)
			}
			if got := wait(t, p); len(got) != 0 {
				t.Fatalf("after Remove: %v", got)
			}
		})
	}
	// EBADF for a descriptor that is not open is the caller's error.
	p := open(t, poller.Options{})
	widowKernel(t, 1<<20, unix.EBADF)
	if err := p.Add(1<<20, 1, poller.Writable); err == nil {
		t.Error("Add of a descriptor that is not open succeeded")
	}
}
