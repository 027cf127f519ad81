package poller_test

import (
	"errors"
	"testing"
	"time"

	"github.com/muxbench/muxbench/poller"
)

// A listening socket shared by two pollers, added exclusively: each
// reports the pending connection while the other is not waiting (the
// kernel passes the wake-up on), interest can be taken away and given
// back (epoll allows no EPOLL_CTL_MOD of such an entry), and Remove lets
// it be added again. A backend without Capabilities.Exclusive refuses
// with ErrUnsupported and registers nothing.
func TestAddExclusive(t *testing.T) {
	for _, tg := range targets() {
		t.Run(tg.name, func(t *testing.T) {
			p1, p2 := open(t, tg), open(t, tg)
			l, port := tcpListener(t)
			err := p1.AddExclusive(l, 1, poller.Readable)
			if !tg.caps.Exclusive {
				if !errors.Is(err, poller.ErrUnsupported) || p1.Len() != 0 {
					t.Fatalf("AddExclusive = %v with %d registered, want ErrUnsupported and none", err, p1.Len())
				}
				return
			}
			if err != nil {
				t.Fatalf("AddExclusive: %v", err)
			}
			if err := p2.AddExclusive(l, 2, poller.Readable); err != nil {
				t.Fatalf("second poller's AddExclusive: %v", err)
			}
			tcpConnect(t, port)
			waitReady(t, p2, map[uint64]poller.Flags{2: poller.Readable})
			if err := p1.Modify(l, 1, 0); err != nil {
				t.Fatalf("Modify to no interest: %v", err)
			}
			if ev := waitOnce(t, p1, 0); len(ev) != 0 {
				t.Errorf("events %v without interest", ev)
			}
			if err := p1.Modify(l, 3, poller.Readable); err != nil {
				t.Fatalf("Modify back to Readable: %v", err)
			}
			waitReady(t, p1, map[uint64]poller.Flags{3: poller.Readable})
			if got, ok := p1.Interest(l); !ok || got != poller.Readable {
				t.Errorf("Interest = %v, %v; want R, registered", got, ok)
			}
			accept(t, l)
			for _, p := range []*poller.Poller{p1, p2} {
				if err := p.Remove(l); err != nil {
					t.Fatalf("Remove: %v", err)
				}
			}
			if err := p1.Add(l, 4, poller.Readable); err != nil {
				t.Fatalf("Add after Remove: %v", err)
			}
			tcpConnect(t, port)
			waitReady(t, p1, map[uint64]poller.Flags{4: poller.Readable})
			if ev := waitOnce(t, p2, 10*time.Millisecond); len(ev) != 0 {
				t.Errorf("removed poller reported %v", ev)
			}
		})
	}
}
