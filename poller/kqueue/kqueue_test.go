//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package kqueue

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/internal/testsock"
	"github.com/muxbench/muxbench/poller"
)

func pair(t *testing.T) (a, b int) { return testsock.Pair(t) }

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
	submit = func(kq int, ch []unix.Kevent_t) error {
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
	var ch [1]unix.Kevent_t
	unix.SetKevent(&ch[0], a, unix.EVFILT_READ, unix.EV_DELETE)
	if err := orig(b.kq, ch[:]); err != unix.ENOENT {
		t.Errorf("the filter is still there after Remove: deleting it again gave %v, want ENOENT", err)
	}
}
