//go:build linux

package bench

import (
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/internal/rawio"
)

// directTimeout bounds a blocking read, so that a loop waiting on a
// stalled server still sees a phase change (the window's edges, Ctrl-C)
// this soon.
const directTimeout = 10 * time.Millisecond

// makeDirect puts a loop's only connection in blocking mode with a
// receive timeout, for waitDirect. Reads and writes elsewhere then pass
// MSG_DONTWAIT, so they still never block.
func makeDirect(fd int) error {
	tv := unix.NsecToTimeval(int64(directTimeout))
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return err
	}
	return unix.SetNonblock(fd, false)
}

// blockingRead waits for the echo in the read itself. It is a raw system
// call, as the raw epoll wait is: the loop's locked thread keeps its P.
// A socket read with a receive timeout is never restarted after a signal
// (signal(7)), so the collector's preemption signal still gets through:
// the read returns EINTR.
func blockingRead(fd int, p []byte) (int, error) { return rawio.Recv(fd, p, 0) }

func (l *genLoop) read(fd int, p []byte) (int, error) {
	if l.direct != nil {
		return rawio.Recv(fd, p, unix.MSG_DONTWAIT)
	}
	return rawio.Read(fd, p)
}

func (l *genLoop) writeTo(fd int, p []byte) (int, error) {
	if l.direct != nil {
		return rawio.Send(fd, p, unix.MSG_DONTWAIT)
	}
	return rawio.Write(fd, p)
}
