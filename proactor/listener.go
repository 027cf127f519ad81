//go:build linux

package proactor

import (
	"errors"
	"fmt"
	"net"

	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/internal/rawio"
	"github.com/muxbench/muxbench/internal/uring"
	"github.com/muxbench/muxbench/reactor"
)

// Listener accepts with one multishot accept request, re-armed when the
// kernel ends it, and paused while the process is out of descriptors.
type Listener struct {
	l        *Loop
	fd       int
	idx, gen uint32
	factory  func() reactor.Protocol
	addr     net.Addr
	armed    bool
	single   bool // multishot accept refused (before 5.19)
	paused   bool
	// sndBuf and rcvBuf are what the first accepted connection's socket
	// reported: the sizes the kernel applied, read back once.
	sndBuf, rcvBuf int
}

// AcceptedBufs are SO_SNDBUF and SO_RCVBUF as the first accepted socket
// has them; zero before any accept.
func (ln *Listener) AcceptedBufs() (snd, rcv int) { return ln.sndBuf, ln.rcvBuf }

// Addr is the bound address.
func (ln *Listener) Addr() net.Addr { return ln.addr }

// Listen binds a TCP listener ("tcp", "tcp4" or "tcp6") and accepts into
// protocols made by f.
func (l *Loop) Listen(network, address string, f func() reactor.Protocol) (*Listener, error) {
	if l.closed {
		return nil, ErrClosed
	}
	if f == nil {
		return nil, errors.New("proactor: nil protocol factory")
	}
	sa, domain, err := rawio.Sockaddr(network, address)
	if err != nil {
		return nil, fmt.Errorf("proactor: %w", err)
	}
	fd, err := unix.Socket(domain, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("proactor: socket: %w", err)
	}
	fail := func(what string, err error) (*Listener, error) {
		unix.Close(fd)
		return nil, fmt.Errorf("proactor: %s %s: %w", what, address, err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		return fail("setsockopt", err)
	}
	if l.cfg.ReusePort {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
			return fail("SO_REUSEPORT", err)
		}
	}
	// Set on the listener, the buffer sizes are inherited by every
	// accepted socket before its handshake ends, when the window scale
	// is chosen (as the reactor and stdlib servers do).
	if err := rawio.SetBufs(fd, l.cfg.SndBuf, l.cfg.RcvBuf); err != nil {
		return fail("setsockopt", err)
	}
	if err := unix.Bind(fd, sa); err != nil {
		return fail("bind", err)
	}
	if err := unix.Listen(fd, unix.SOMAXCONN); err != nil {
		return fail("listen", err)
	}
	bound, err := unix.Getsockname(fd)
	if err != nil {
		return fail("getsockname", err)
	}
	ln := &Listener{l: l, fd: fd, factory: f, addr: rawio.TCPAddr(bound)}
	ln.idx, ln.gen = l.alloc(ln)
	l.lns[ln] = struct{}{}
	ln.arm()
	return ln, nil
}

func (ln *Listener) arm() {
	if ln.armed || ln.fd < 0 || ln.paused {
		return
	}
	s := ln.l.sqe()
	s.Opcode, s.Fd, s.OpFlags = uring.OpAccept, int32(ln.fd), unix.SOCK_CLOEXEC
	if !ln.single {
		s.IOPrio = uring.AcceptMultishot
	}
	s.UserData = userData(opAccept, ln.idx, ln.gen)
	ln.armed = true
}

func (ln *Listener) complete(_ uint8, c *uring.CQE) {
	l := ln.l
	if c.Flags&uring.CQEFMore == 0 {
		ln.armed = false
	}
	if ln.fd < 0 {
		if !ln.armed {
			l.releaseSlot(ln.idx)
		}
		if c.Res >= 0 {
			unix.Close(int(c.Res))
		}
		return
	}
	switch {
	case c.Res >= 0:
		l.c.Accepts++
		if ln.sndBuf == 0 {
			l.c.Syscalls += 2
			ln.sndBuf, _ = unix.GetsockoptInt(int(c.Res), unix.SOL_SOCKET, unix.SO_SNDBUF)
			ln.rcvBuf, _ = unix.GetsockoptInt(int(c.Res), unix.SOL_SOCKET, unix.SO_RCVBUF)
		}
		l.setConnOpts(int(c.Res))
		l.newTransport(int(c.Res), ln.factory()).made()
	case c.Res == -int32(unix.EMFILE), c.Res == -int32(unix.ENFILE):
		// Out of descriptors: wait for a connection to close (or, with
		// none open, for the loop's short retry) instead of spinning.
		l.c.AcceptEMFILE++
		ln.paused = true
		ln.cancelAccept()
		return
	case c.Res == -int32(unix.EINVAL) && !ln.single:
		ln.single = true
	case c.Res == -int32(unix.ECANCELED):
	default:
		l.c.AcceptErrors++
	}
	if !ln.armed && !ln.single {
		l.c.Retries++
	}
	ln.arm()
}

func (ln *Listener) cancelAccept() {
	if !ln.armed {
		return
	}
	s := ln.l.sqe()
	s.Opcode, s.Fd, s.Addr = uring.OpAsyncCancel, -1, userData(opAccept, ln.idx, ln.gen)
	s.Flags = uring.SQECQESkipSuccess
	s.UserData = userData(opCancel, 0, 0)
}

// resumeListeners re-arms listeners paused for want of descriptors.
func (l *Loop) resumeListeners() {
	for ln := range l.lns {
		if ln.paused {
			ln.paused = false
			ln.arm()
		}
	}
}

func (l *Loop) pausedListeners() bool {
	for ln := range l.lns {
		if ln.paused {
			return true
		}
	}
	return false
}

// Close stops accepting and closes the socket.
func (ln *Listener) Close() error {
	if ln.fd < 0 {
		return ErrClosed
	}
	ln.cancelAccept()
	err := unix.Close(ln.fd)
	ln.fd = -1
	delete(ln.l.lns, ln)
	if !ln.armed {
		ln.l.releaseSlot(ln.idx)
	}
	return err
}
