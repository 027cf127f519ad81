//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package wakepipe

import (
	"syscall"

	"golang.org/x/sys/unix"
)

var wakeMsg = [1]byte{1}

// New opens a non-blocking pipe. Darwin has no pipe2, so the flags are set
// after the fact, under ForkLock as os.Pipe does, lest a concurrent fork
// inherit the descriptors.
func New() (*Pipe, error) {
	var p [2]int
	syscall.ForkLock.RLock()
	err := unix.Pipe(p[:])
	if err == nil {
		unix.CloseOnExec(p[0])
		unix.CloseOnExec(p[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return nil, err
	}
	for _, fd := range p {
		if err := unix.SetNonblock(fd, true); err != nil {
			unix.Close(p[0])
			unix.Close(p[1])
			return nil, err
		}
	}
	return &Pipe{r: p[0], w: p[1]}, nil
}
