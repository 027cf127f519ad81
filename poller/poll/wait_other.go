//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package poll

import "golang.org/x/sys/unix"

// poll is poll(2); RawWait is not honoured here.
func (b *backend) poll(ms int) (int, error) { return unix.Poll(b.fds, ms) }
