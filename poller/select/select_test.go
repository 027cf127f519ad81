//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package selectpoll

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/internal/testserver"
	"github.com/muxbench/muxbench/poller"
)

var (
	socketpair = testserver.Pair
	rawPair    = testserver.Raw
)

// TestClosedPeerReadable: select has no hang-up bit; a closed peer shows as
// readable (end of stream).
func TestClosedPeerReadable(t *testing.T) {
	p, err := poller.Open("select", poller.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var pr [2]int
	pr[0], pr[1] = rawPair(t)
	defer unix.Close(pr[0])
	if err := p.Add(pr[0], 7, poller.Readable); err != nil {
		t.Fatal(err)
	}
	unix.Close(pr[1])
	ev := make([]poller.Event, 4)
	n, err := p.Wait(ev, time.Second)
	if err != nil || n != 1 || ev[0] != (poller.Event{Token: 7, Flags: poller.Readable}) {
		t.Fatalf("Wait = %d, %v, %v; want token 7 readable", n, err, ev[:n])
	}
}

func TestWake(t *testing.T) {
	p, err := poller.Open("select", poller.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	go func() {
		time.Sleep(10 * time.Millisecond)
		p.Wake()
	}()
	ev := make([]poller.Event, 4)
	if n, err := p.Wait(ev, -1); err != nil || n != 0 {
		t.Fatalf("woken Wait = %d, %v", n, err)
	}
	// The wake-up was consumed: the next Wait sleeps its whole timeout
	// rather than returning at once on a stale wake-up (a lower bound,
	// which a slow machine cannot break).
	start := time.Now()
	if n, err := p.Wait(ev, 30*time.Millisecond); err != nil || n != 0 {
		t.Fatalf("Wait after wake-up = %d, %v", n, err)
	}
	if d := time.Since(start); d < 25*time.Millisecond {
		t.Fatalf("Wait after wake-up returned after %v of its 30ms: a stale wake-up was still pending", d)
	}
}
