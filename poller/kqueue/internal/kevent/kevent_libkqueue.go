//go:build linux && libkqueue && cgo

package kevent

/*
#cgo pkg-config: libkqueue
#include <sys/event.h>
#include <time.h>
*/
import "C"

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Event is libkqueue's struct kevent, laid out as darwin/amd64's
// unix.Kevent_t. Udata is an integer, not a pointer: the backend never
// sets it, and cgo need not look for Go pointers in it.
type Event struct {
	Ident  uint64
	Filter int16
	Flags  uint16
	Fflags uint32
	Data   int64
	Udata  uintptr
}

// The values are libkqueue's, which are FreeBSD's.
const (
	EVFILT_READ  = C.EVFILT_READ
	EVFILT_WRITE = C.EVFILT_WRITE
	EVFILT_USER  = C.EVFILT_USER
	EV_ADD       = C.EV_ADD
	EV_DELETE    = C.EV_DELETE
	EV_CLEAR     = C.EV_CLEAR
	EV_EOF       = C.EV_EOF
	EV_ERROR     = C.EV_ERROR
	NOTE_TRIGGER = C.NOTE_TRIGGER
)

// Emulation names the library under the backend: its figures are
// epoll's plus a translation layer, not a kernel kqueue's.
const Emulation = "libkqueue"

// Check compares Event and unix.Timespec with the C structures this
// build's libkqueue header declares, field by field.
func Check() error {
	var e Event
	var c C.struct_kevent
	for _, f := range []struct {
		name          string
		goOff, cOff   uintptr
		goSize, cSize uintptr
	}{
		{"struct kevent", 0, 0, unsafe.Sizeof(e), unsafe.Sizeof(c)},
		{"ident", unsafe.Offsetof(e.Ident), unsafe.Offsetof(c.ident), unsafe.Sizeof(e.Ident), unsafe.Sizeof(c.ident)},
		{"filter", unsafe.Offsetof(e.Filter), unsafe.Offsetof(c.filter), unsafe.Sizeof(e.Filter), unsafe.Sizeof(c.filter)},
		{"flags", unsafe.Offsetof(e.Flags), unsafe.Offsetof(c.flags), unsafe.Sizeof(e.Flags), unsafe.Sizeof(c.flags)},
		{"fflags", unsafe.Offsetof(e.Fflags), unsafe.Offsetof(c.fflags), unsafe.Sizeof(e.Fflags), unsafe.Sizeof(c.fflags)},
		{"data", unsafe.Offsetof(e.Data), unsafe.Offsetof(c.data), unsafe.Sizeof(e.Data), unsafe.Sizeof(c.data)},
		{"udata", unsafe.Offsetof(e.Udata), unsafe.Offsetof(c.udata), unsafe.Sizeof(e.Udata), unsafe.Sizeof(c.udata)},
		{"struct timespec", 0, 0, unsafe.Sizeof(unix.Timespec{}), unsafe.Sizeof(C.struct_timespec{})},
	} {
		if f.goOff != f.cOff || f.goSize != f.cSize {
			return fmt.Errorf("libkqueue's %s is %d bytes at offset %d, this build expects %d at %d", f.name, f.cSize, f.cOff, f.goSize, f.goOff)
		}
	}
	return nil
}

// Kqueue creates a kqueue.
func Kqueue() (int, error) {
	kq, err := C.kqueue()
	if kq < 0 {
		return -1, err
	}
	return int(kq), nil
}

// Kevent applies changes and then waits for events, as kevent(2). The
// call blocks in C, on a thread of its own as a system call would.
func Kevent(kq int, changes, events []Event, timeout *unix.Timespec) (int, error) {
	var ch, ev *C.struct_kevent
	if len(changes) > 0 {
		ch = (*C.struct_kevent)(unsafe.Pointer(&changes[0]))
	}
	if len(events) > 0 {
		ev = (*C.struct_kevent)(unsafe.Pointer(&events[0]))
	}
	n, err := C.kevent(C.int(kq), ch, C.int(len(changes)), ev, C.int(len(events)), (*C.struct_timespec)(unsafe.Pointer(timeout)))
	if n < 0 {
		return 0, err
	}
	return int(n), nil
}

// Set fills ev for a change.
func Set(ev *Event, fd, filter, flags int) {
	ev.Ident, ev.Filter, ev.Flags = uint64(fd), int16(filter), uint16(flags)
}
