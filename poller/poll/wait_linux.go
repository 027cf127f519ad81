//go:build linux

package poll

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// poll is poll(2), as ppoll, which every Linux port has; raw while busy
// when asked (poller.Options.RawWait, rawio.Waiter).
func (b *backend) poll(ms int) (int, error) {
	var ts *unix.Timespec
	if ms >= 0 {
		t := unix.NsecToTimespec(int64(ms) * 1e6)
		ts = &t
	}
	r, e := b.wait.Syscall6(unix.SYS_PPOLL, uintptr(unsafe.Pointer(&b.fds[0])), uintptr(len(b.fds)), uintptr(unsafe.Pointer(ts)), 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}
