//go:build linux

package bench

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/internal/testserver"
	"github.com/muxbench/muxbench/poller"
)

// On Linux the generator waits in its own epoll set, whose wait the Go
// runtime does not see; it must keep the poller contract the loop relies
// on: tokens, interests, hang-ups, wake-ups and the timer's token.
func TestRawEpollContract(t *testing.T) {
	p, err := openGenPoller("epoll")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, ok := p.(*rawEpoll); !ok {
		t.Fatalf("generator poller %T: want the raw epoll set", p)
	}
	a, b := testserver.Pair(t)
	evs := make([]poller.Event, 8)
	// wait with a positive timeout waits again after an interrupted wait,
	// which returns no events.
	wait := func(timeout time.Duration) []poller.Event {
		t.Helper()
		deadline := time.Now().Add(timeout)
		for {
			n, err := p.Wait(evs, timeout)
			if err != nil {
				t.Fatal(err)
			}
			if n > 0 || timeout <= 0 || time.Now().After(deadline) {
				return evs[:n]
			}
		}
	}
	if err := p.Add(a, 7, poller.Readable); err != nil {
		t.Fatal(err)
	}
	if got := wait(0); len(got) != 0 {
		t.Errorf("idle socket reported: %v", got)
	}
	unix.Write(b, []byte("x"))
	if got := wait(time.Second); len(got) != 1 || got[0].Token != 7 || got[0].Flags&poller.Readable == 0 {
		t.Errorf("readable socket: %v", got)
	}
	if err := p.Modify(a, 9, poller.Readable|poller.Writable); err != nil {
		t.Fatal(err)
	}
	if got := wait(0); len(got) != 1 || got[0].Token != 9 || got[0].Flags&poller.Writable == 0 {
		t.Errorf("writable socket: %v", got)
	}
	tfd, err := newWakeTimer()
	if err != nil {
		t.Fatal(err)
	}
	defer tfd.close()
	if err := p.Add(tfd.fd, timerToken, poller.Readable); err != nil {
		t.Fatal(err)
	}
	if err := p.Remove(a); err != nil {
		t.Fatal(err)
	}
	tfd.arm(nanotime() + int64(50*time.Microsecond))
	if got := wait(time.Second); len(got) != 1 || got[0].Token != timerToken {
		t.Errorf("timer expiry: %v", got)
	}
	tfd.expired()
	// A wake from another goroutine ends a wait that would block forever.
	go func() {
		time.Sleep(20 * time.Millisecond)
		p.Wake()
	}()
	if got := wait(-1); len(got) != 0 {
		t.Errorf("wake-up reported as events: %v", got)
	}
	// A peer's close is a hang-up.
	c, d := testserver.Raw(t)
	defer unix.Close(c)
	if err := p.Add(c, 3, poller.Readable); err != nil {
		t.Fatal(err)
	}
	unix.Close(d)
	if got := wait(time.Second); len(got) != 1 || got[0].Token != 3 || got[0].Flags&poller.HangUp == 0 {
		t.Errorf("peer closed: %v", got)
	}
}
