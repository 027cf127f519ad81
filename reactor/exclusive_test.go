//go:build linux

package reactor

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/poller"
)

// Two reactors serve duplicates of one listening socket, watched
// exclusively. While only the second runs, it accepts every connection:
// the first, registered but not waiting, passes each wake-up on. Once
// both run, every connection is served by one of them; and once one
// closes its listener, by the other.
func TestSharedListener(t *testing.T) {
	for _, m := range modes() {
		if !m.exclusive {
			continue
		}
		et := m
		et.name, et.opts.EdgeTriggered = m.name+"-et", true
		for _, m := range []mode{m, et} {
			t.Run(m.name, func(t *testing.T) { sharedListener(t, m) })
		}
	}
}

func sharedListener(t *testing.T, m mode) {
	a, b := newReactor(t, m, Config{}), newReactor(t, m, Config{})
	// For a failure before start(t, a); closing twice is harmless.
	t.Cleanup(func() { a.Close() })
	fd, err := ListenSocket("tcp", "127.0.0.1:0", Config{})
	if err != nil {
		t.Fatal(err)
	}
	dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		unix.Close(fd)
		t.Fatal(err)
	}
	la, err := a.ListenFD(fd, func() Protocol { return newEchoRec() })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.ListenFD(dup, func() Protocol { return newEchoRec() }); err != nil {
		t.Fatal(err)
	}
	addr := la.Addr().String()
	echo := func(n int, seed uint64) {
		for i := range n {
			c := dial(t, addr)
			roundTrip(t, c, pattern(1000, seed+uint64(i)), 100)
			c.Close()
		}
	}
	start(t, b)
	echo(10, 1)
	if got := counters(t, b).Accepts; got != 10 {
		t.Errorf("the running reactor accepted %d of 10", got)
	}
	start(t, a)
	echo(20, 100)
	ca, cb := counters(t, a), counters(t, b)
	if ca.Accepts+cb.Accepts != 30 || ca.AcceptErrors+cb.AcceptErrors != 0 {
		t.Errorf("accepted %d+%d of 30, %d+%d errors", ca.Accepts, cb.Accepts, ca.AcceptErrors, cb.AcceptErrors)
	}
	t.Logf("spread of the last 20: %d/%d", ca.Accepts, cb.Accepts-10)
	// One reactor's Close leaves the socket listening for the other.
	onLoop(t, a, func() {
		if err := la.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	echo(5, 200)
	if got := counters(t, b).Accepts - cb.Accepts; got != 5 {
		t.Errorf("after the other's Close, the remaining reactor accepted %d of 5", got)
	}
}

// A backend that cannot watch exclusively is refused at New, not at the
// first Listen.
func TestExclusiveAcceptUnsupported(t *testing.T) {
	for _, info := range poller.Backends() {
		if info.Caps.Exclusive || poller.Check(info.Name, poller.Options{}) != nil {
			continue
		}
		r, err := New(Config{Backend: info.Name, ExclusiveAccept: true})
		if !errors.Is(err, poller.ErrUnsupported) {
			if r != nil {
				r.Close()
			}
			t.Errorf("%s: New = %v, want ErrUnsupported", info.Name, err)
		}
	}
}
