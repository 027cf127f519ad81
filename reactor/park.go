//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package reactor

import (
	"time"

	"github.com/muxbench/muxbench/poller"
)

// parkTick is how often parked transports retry their writes. epoll and
// poll count milliseconds, so a shorter tick would not be kept anyway.
const parkTick = time.Millisecond

// The poller reports HangUp whatever the interest (on Linux it asks for
// RDHUP: the peer's FIN). A level-triggered poller then reports it every
// round for a transport that neither reads (end of stream seen, or paused
// by backpressure) nor can write (the peer's window is shut): a busy loop
// until the peer reads. Such a transport leaves the poller and retries its
// writes every parkTick instead.
//
// parkable says whether f is that event: a hang-up, nothing readable or
// writable, on a transport that does not read.
func (t *Transport) parkable(f poller.Flags) bool {
	return !t.r.et && f&poller.HangUp != 0 && f&(poller.Readable|poller.Writable|poller.Error) == 0 &&
		!t.reading() && t.Buffered() > 0
}

func (t *Transport) park() {
	r := t.r
	if t.registered {
		if err := r.p.Remove(t.fd); err != nil {
			t.closeWith(err)
			return
		}
		t.registered = false
	}
	t.parked = true
	r.c.Parks++
	if len(r.parked) == 0 {
		r.lastTick = time.Now()
	}
	r.parked = append(r.parked, t)
}

// unparkDue retries the parked transports' writes once a tick has passed.
// A transport whose buffer drained, or that reads again, returns to the
// poller.
func (r *Reactor) unparkDue() {
	if now := time.Now(); now.Sub(r.lastTick) >= parkTick {
		r.lastTick = now
	} else {
		return
	}
	keep := r.parked[:0]
	for _, t := range r.parked {
		if t.state == stDead {
			continue
		}
		t.busy = true
		t.doWrite()
		t.busy = false
		if t.state != stDead && t.Buffered() > 0 && !t.reading() {
			keep = append(keep, t)
			continue
		}
		if t.state != stDead {
			t.parked = false
			t.update()
		}
		r.flushDeferred()
	}
	clear(r.parked[len(keep):])
	r.parked = keep
}
