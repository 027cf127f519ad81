//go:build netbsd || openbsd

package kqueue

import (
	"github.com/muxbench/muxbench/poller/internal/wakepipe"
	"github.com/muxbench/muxbench/poller/kqueue/internal/kevent"
)

// waker is a pipe watched for reading: netbsd and openbsd have no
// EVFILT_USER.
type waker struct {
	p *wakepipe.Pipe
}

func (w *waker) init(kq int) error {
	p, err := wakepipe.New()
	if err != nil {
		return err
	}
	// Level-triggered: the pipe stays ready until drain empties it.
	var ev [1]kevent.Event
	kevent.Set(&ev[0], p.Fd(), kevent.EVFILT_READ, kevent.EV_ADD)
	if _, err := kevent.Kevent(kq, ev[:], nil, nil); err != nil {
		p.Close()
		return err
	}
	w.p = p
	return nil
}

func (w *waker) wake(int) error { return w.p.Wake() }

func (w *waker) isWake(ev *kevent.Event) bool {
	return int(ev.Ident) == w.p.Fd() && ev.Filter == kevent.EVFILT_READ
}

func (w *waker) drain() { w.p.Drain() }

func (w *waker) close() { w.p.Close() }
