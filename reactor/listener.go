//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package reactor

import (
	"errors"
	"fmt"
	"net"

	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/internal/rawio"
	"github.com/muxbench/muxbench/poller"
)

// maxAcceptBatch bounds the accepts of one level-triggered event so that a
// connection storm cannot starve established connections; the poller
// reports the listener again next round. Edge-triggered listeners replay
// the event instead of losing the edge.
const maxAcceptBatch = 128

// Listener is a transport whose read event accepts connections and binds
// each to a fresh protocol from its factory.
type Listener struct {
	r       *Reactor
	fd      int
	tok     uint64
	factory func() Protocol
	addr    net.Addr
	paused  bool
	// own is set for a socket Listen opened, which no other reactor
	// can be serving.
	own bool
	// sndBuf and rcvBuf are what the first accepted connection's
	// getsockopt reported: what the kernel applied, not what was asked.
	sndBuf, rcvBuf int
}

// Addr is the bound address (useful after listening on port 0).
func (l *Listener) Addr() net.Addr { return l.addr }

// Fd is the listening socket, -1 once closed.
func (l *Listener) Fd() int { return l.fd }

// AcceptedBufs are SO_SNDBUF and SO_RCVBUF of the first accepted
// connection as getsockopt reports them (Linux doubles the size asked,
// for its bookkeeping, and caps it at net.core.wmem_max/rmem_max); zero
// before any connection. Loop thread only.
func (l *Listener) AcceptedBufs() (snd, rcv int) { return l.sndBuf, l.rcvBuf }

// Listen binds a non-blocking listening socket (ListenSocket) and serves
// it (ListenFD).
func (r *Reactor) Listen(network, addr string, f func() Protocol) (*Listener, error) {
	if r.closed {
		return nil, ErrClosed
	}
	if f == nil {
		return nil, errors.New("reactor: nil protocol factory")
	}
	fd, err := ListenSocket(network, addr, r.cfg)
	if err != nil {
		return nil, err
	}
	l, err := r.ListenFD(fd, f)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	l.own = true
	return l, nil
}

// ListenSocket binds a non-blocking, close-on-exec listening socket;
// network is tcp, tcp4 or tcp6. cfg.SndBuf and RcvBuf are set on it,
// before listen(2), so that every accepted socket has them from its
// handshake on: the TCP window scale is chosen then, and a receive
// buffer shrunk after it can leave the window stuck. cfg.ReusePort sets
// SO_REUSEPORT.
func ListenSocket(network, addr string, cfg Config) (int, error) {
	sa, domain, err := sockaddr(network, addr)
	if err != nil {
		return -1, err
	}
	fd, err := rawio.Socket(domain)
	if err != nil {
		return -1, fmt.Errorf("reactor: socket: %w", err)
	}
	fail := func(what string, err error) (int, error) {
		unix.Close(fd)
		return -1, fmt.Errorf("reactor: %s %s: %w", what, addr, err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		return fail("setsockopt", err)
	}
	if cfg.ReusePort {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, reusePort, 1); err != nil {
			return fail("SO_REUSEPORT", err)
		}
	}
	if err := setBufs(fd, cfg.SndBuf, cfg.RcvBuf); err != nil {
		return fail("setsockopt", err)
	}
	if err := unix.Bind(fd, sa); err != nil {
		return fail("bind", err)
	}
	if err := unix.Listen(fd, unix.SOMAXCONN); err != nil {
		return fail("listen", err)
	}
	return fd, nil
}

// ListenFD serves fd, a non-blocking listening socket, and closes it on
// Close. Reactors may serve duplicates of one socket, one each: they
// then accept from one queue, which stays open until the last closes,
// and with Config.ExclusiveAccept a pending connection wakes one of
// them.
func (r *Reactor) ListenFD(fd int, f func() Protocol) (*Listener, error) {
	if r.closed {
		return nil, ErrClosed
	}
	if f == nil {
		return nil, errors.New("reactor: nil protocol factory")
	}
	bound, err := unix.Getsockname(fd)
	if err != nil {
		return nil, fmt.Errorf("reactor: getsockname: %w", err)
	}
	l := &Listener{r: r, fd: fd, factory: f, addr: tcpAddr(bound)}
	l.tok = r.alloc(l)
	add := r.p.Add
	if r.cfg.ExclusiveAccept {
		add = r.p.AddExclusive
	}
	if err := add(fd, l.tok, poller.Readable); err != nil {
		r.release(l.tok)
		return nil, fmt.Errorf("reactor: watch %s: %w", l.addr, err)
	}
	r.listeners[l] = struct{}{}
	return l, nil
}

// Close stops listening; open connections stay.
func (l *Listener) Close() error {
	if l.fd < 0 {
		return ErrClosed
	}
	r := l.r
	r.p.Remove(l.fd)
	// A poller may still hold the socket after Remove (io_uring cancels
	// its poll asynchronously, and the file lives until then): on Linux,
	// shutdown stops a listening socket at once, so no connection is
	// accepted into its backlog after Close. Elsewhere it may fail,
	// harmlessly. Not a socket given to ListenFD: other reactors may be
	// serving it.
	if l.own {
		_ = unix.Shutdown(l.fd, unix.SHUT_RD)
	}
	err := unix.Close(l.fd)
	l.fd = -1
	r.release(l.tok)
	delete(r.listeners, l)
	return err
}

func (l *Listener) handle(poller.Flags) {
	r := l.r
	for i := 0; l.fd >= 0 && !l.paused; i++ {
		if i == maxAcceptBatch {
			if r.et {
				r.retryLater(l.tok, poller.Readable)
			}
			return
		}
		nfd, err := rawio.Accept(l.fd)
		r.c.Syscalls++
		if err != nil {
			switch err {
			case unix.EAGAIN:
				return
			case unix.EINTR:
				continue
			case unix.EMFILE, unix.ENFILE:
				if err == unix.EMFILE {
					r.c.AcceptEMFILE++
				} else {
					r.c.AcceptENFILE++
				}
				if !l.exhausted() {
					return
				}
				continue
			case unix.ECONNABORTED:
				// The peer gave up while queued: next one.
				r.c.AcceptErrors++
				continue
			}
			r.c.AcceptErrors++
			return
		}
		r.c.Accepts++
		r.setNoDelay(nfd)
		if l.sndBuf == 0 {
			l.sndBuf, _ = unix.GetsockoptInt(nfd, unix.SOL_SOCKET, unix.SO_SNDBUF)
			l.rcvBuf, _ = unix.GetsockoptInt(nfd, unix.SOL_SOCKET, unix.SO_RCVBUF)
		}
		t, err := r.newTransport(nfd, l.factory(), false)
		if err != nil {
			// For example a descriptor beyond select's range.
			r.c.AcceptErrors++
			unix.Close(nfd)
			continue
		}
		t.made()
		r.flushDeferred()
	}
}

// exhausted handles EMFILE/ENFILE. A level-triggered listener with a
// pending connection would be reported every round: a busy loop. While we
// hold connections, stop watching the listener until one of them closes
// (the queued clients wait in the backlog). With none of ours to free,
// give up the spare descriptor to accept-and-close, so the backlog drains
// instead of spinning.
//
// It reports whether to go on accepting. Linux's accept fails with EMFILE
// before looking at the queue, so only the spare tells an empty backlog.
func (l *Listener) exhausted() bool {
	r := l.r
	if r.conns == 0 && r.spare >= 0 {
		closeSpare(r.spare)
		r.spare = -1
		nfd, err := rawio.Accept(l.fd)
		if err == nil {
			unix.Close(nfd)
			r.c.AcceptDropped++
		}
		r.spare = openSpare()
		if r.spare >= 0 {
			return err == nil
		}
	}
	if err := r.p.Modify(l.fd, l.tok, 0); err != nil {
		r.c.AcceptErrors++
	}
	l.paused = true
	r.c.AcceptPauses++
	r.paused = append(r.paused, l)
	return false
}

// resumeListeners watches paused listeners again: a descriptor was freed.
func (r *Reactor) resumeListeners() {
	if len(r.paused) == 0 {
		return
	}
	for _, l := range r.paused {
		if l.fd < 0 {
			continue
		}
		l.paused = false
		r.p.Modify(l.fd, l.tok, poller.Readable)
		if r.et {
			r.retryLater(l.tok, poller.Readable)
		}
	}
	r.paused = r.paused[:0]
}

// sockaddr is rawio.Sockaddr with its errors named as the reactor's.
func sockaddr(network, addr string) (unix.Sockaddr, int, error) {
	sa, domain, err := rawio.Sockaddr(network, addr)
	if err != nil {
		return nil, 0, fmt.Errorf("reactor: %w", err)
	}
	return sa, domain, nil
}

func tcpAddr(sa unix.Sockaddr) net.Addr { return rawio.TCPAddr(sa) }

func openSpare() int {
	fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1
	}
	return fd
}

func closeSpare(fd int) {
	if fd >= 0 {
		unix.Close(fd)
	}
}
