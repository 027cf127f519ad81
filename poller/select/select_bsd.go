//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package selectpoll

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// maxFD is the size of x/sys's FdSet, the platform's FD_SETSIZE (1024;
// 256 on netbsd): the poller wrapper refuses higher descriptors with
// ErrFDRange, which FdSet.Set would otherwise answer with a panic.
const maxFD = len(unix.FdSet{}.Bits) * int(unsafe.Sizeof(unix.FdSet{}.Bits[0])) * 8

type fdset struct{ s unix.FdSet }

func (f *fdset) set(fd int)      { f.s.Set(fd) }
func (f *fdset) clear(fd int)    { f.s.Clear(fd) }
func (f *fdset) has(fd int) bool { return f.s.IsSet(fd) }

func (b *backend) grow(int) {}

// maxSleep keeps the timeval within what darwin accepts: its select
// fails with EINVAL beyond 10^8 seconds (the Go runtime caps kevent the
// same way). Waking early with nothing is allowed.
const maxSleep = 1e8 * time.Second

func (b *backend) selectWait(timeout time.Duration) (int, error) {
	b.rdOut, b.wrOut = b.rd, b.wr
	var tv *unix.Timeval
	if timeout >= 0 {
		timeout = min(timeout, maxSleep)
		// Round up to the microsecond so a short wait does not become a poll.
		t := unix.NsecToTimeval(int64((timeout + time.Microsecond - 1) / time.Microsecond * time.Microsecond))
		tv = &t
	}
	return unix.Select(b.maxfd+1, &b.rdOut.s, &b.wrOut.s, nil, tv)
}
