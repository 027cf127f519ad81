//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

// Package wakepipe is the wake-up descriptor shared by the backends whose
// kernel interface has no user event of its own (select, poll, epoll): a
// descriptor the backend watches for reading, made readable by Wake from
// any goroutine and emptied by Drain in the waiting loop.
package wakepipe

import "golang.org/x/sys/unix"

// Pipe is a non-blocking wake-up channel: an eventfd on Linux (one
// descriptor, a counter that cannot fill up), a pipe elsewhere.
type Pipe struct {
	r, w int // the same descriptor for an eventfd
}

// Fd is the descriptor to watch for readability.
func (p *Pipe) Fd() int { return p.r }

// Wake makes Fd readable. A full pipe or saturated counter already means a
// wake-up is pending, so that is not an error.
func (p *Pipe) Wake() error {
	_, err := unix.Write(p.w, wakeMsg[:])
	if err == unix.EAGAIN {
		return nil
	}
	return err
}

// Drain consumes every pending wake-up so that Fd stops being readable.
func (p *Pipe) Drain() {
	var buf [128]byte
	for {
		n, err := unix.Read(p.r, buf[:])
		if err == unix.EINTR {
			continue
		}
		// An eventfd is emptied by one read; a pipe by a short one.
		if err != nil || n < len(buf) {
			return
		}
	}
}

// Close releases the descriptors.
func (p *Pipe) Close() error {
	err := unix.Close(p.r)
	if p.w != p.r {
		if e := unix.Close(p.w); err == nil {
			err = e
		}
	}
	return err
}
