//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package selectpoll

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/poller/internal/timeout"
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

func (b *backend) selectWait(d time.Duration) (int, error) {
	b.rdOut, b.wrOut = b.rd, b.wr
	return unix.Select(b.maxfd+1, &b.rdOut.s, &b.wrOut.s, nil, timeout.Timeval(d))
}
