//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package wakepipe

import (
	"testing"

	"golang.org/x/sys/unix"
)

func readable(t *testing.T, fd int) bool {
	t.Helper()
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	n, err := unix.Poll(pfd, 0)
	if err != nil {
		t.Fatal(err)
	}
	return n == 1
}

func TestWakeDrain(t *testing.T) {
	p, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if readable(t, p.Fd()) {
		t.Fatal("readable before Wake")
	}
	for range 1000 {
		if err := p.Wake(); err != nil {
			t.Fatal(err)
		}
	}
	if !readable(t, p.Fd()) {
		t.Fatal("not readable after Wake")
	}
	p.Drain()
	if readable(t, p.Fd()) {
		t.Fatal("still readable after Drain")
	}
	p.Drain() // nothing pending: must not block
}
