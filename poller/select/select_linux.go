package selectpoll

import (
	"math/bits"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/poller/internal/timeout"
)

// maxFD is zero: Linux's select takes bitmaps of any size (nfds is bounded
// only by the descriptor table), while glibc's FD_SETSIZE and x/sys's
// FdSet stop at 1024. So the sets are our own, grown to the highest
// descriptor, and passed to the raw syscall.
const maxFD = 0

// fdset is a kernel fd_set of any length: an array of C longs, which have
// the width of uint on every Linux port, bit fd%w of word fd/w.
type fdset []uint

const wordBits = bits.UintSize

func (s fdset) set(fd int)   { s[fd/wordBits] |= 1 << (uint(fd) % wordBits) }
func (s fdset) clear(fd int) { s[fd/wordBits] &^= 1 << (uint(fd) % wordBits) }
func (s fdset) has(fd int) bool {
	return fd/wordBits < len(s) && s[fd/wordBits]&(1<<(uint(fd)%wordBits)) != 0
}

func (b *backend) grow(fd int) {
	need := fd/wordBits + 1
	if len(b.rd) >= need {
		return
	}
	// Append grows the capacity geometrically; all four stay the same length.
	for _, s := range []*fdset{&b.rd, &b.wr, &b.rdOut, &b.wrOut} {
		*s = append(*s, make(fdset, need-len(*s))...)
	}
}

func (b *backend) selectWait(d time.Duration) (int, error) {
	nw := b.maxfd/wordBits + 1
	copy(b.rdOut[:nw], b.rd[:nw])
	copy(b.wrOut[:nw], b.wr[:nw])
	ts := timeout.Timespec(d)
	// pselect6 rather than select: arm64 and newer ports have only the
	// former. A nil signal mask makes it behave as select.
	r, e := b.wait.Syscall6(unix.SYS_PSELECT6, uintptr(b.maxfd+1),
		uintptr(unsafe.Pointer(&b.rdOut[0])), uintptr(unsafe.Pointer(&b.wrOut[0])),
		0, uintptr(unsafe.Pointer(ts)), 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}
