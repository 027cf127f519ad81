//go:build linux

// Package rawio reads and writes non-blocking descriptors without the Go
// runtime's syscall bookkeeping (entersyscall/exitsyscall, and the sysmon
// hand-off it invites). A non-blocking read or write never parks its
// thread, so the bookkeeping buys nothing and costs a few hundred
// nanoseconds a call: on a ping-pong round trip of two calls that is
// several percent of the CPU measured. The server's reactor and the load
// generator use the same calls, so neither side is favoured.
//
// Only for descriptors in non-blocking mode: a blocking call here would
// hold its P for as long as it blocks. Socket and Accept make such
// descriptors, the same way for both sides.
package rawio

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Read is read(2) on a non-blocking descriptor.
func Read(fd int, p []byte) (int, error) {
	r, _, e := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)))
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

// Write is write(2) on a non-blocking descriptor.
func Write(fd int, p []byte) (int, error) {
	r, _, e := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)))
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

// Recv is recv(2), for a blocking socket: flags MSG_DONTWAIT makes one
// call non-blocking, and without it the call blocks holding its P, which
// only a thread that owns its P anyway (the generator's loop) may do.
func Recv(fd int, p []byte, flags int) (int, error) {
	r, _, e := unix.RawSyscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)), uintptr(flags), 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

// Send is send(2), for a blocking socket like Recv.
func Send(fd int, p []byte, flags int) (int, error) {
	r, _, e := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)), uintptr(flags), 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

// Syscall6 makes the blocking system call trap, raw or not as Waiter
// says.
func (w *Waiter) Syscall6(trap, a1, a2, a3, a4, a5, a6 uintptr) (uintptr, unix.Errno) {
	var r uintptr
	var e unix.Errno
	if w.Raw && !w.interrupted {
		r, _, e = unix.RawSyscall6(trap, a1, a2, a3, a4, a5, a6)
	} else {
		r, _, e = unix.Syscall6(trap, a1, a2, a3, a4, a5, a6)
	}
	w.interrupted = e == unix.EINTR
	return r, e
}
