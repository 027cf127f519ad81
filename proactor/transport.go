//go:build linux

package proactor

import (
	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/internal/uring"
	"github.com/muxbench/muxbench/reactor"
)

type tstate uint8

const (
	stOpen    tstate = iota
	stClosing        // LoseConnection: flush, then close
	stDead           // closed, or closing as soon as the handler returns
)

// Transport is one connection: a recv request kept armed while reading,
// at most one send in flight, and what the protocol wrote meanwhile.
// It implements reactor.Conn.
type Transport struct {
	l        *Loop
	fd       int
	idx, gen uint32
	proto    reactor.Protocol

	state     tstate
	recvArmed bool
	recvMulti bool // the armed recv is multishot
	// recvCancel: the recv's cancellation is on its way.
	recvCancel bool
	sendArmed  bool
	inflight   int // requests the kernel still holds: the slot waits for them
	paused     bool
	eof        bool
	shutWr     bool
	wrDone     bool
	linger0    bool
	busy       bool
	err        error

	// sending[soff:] is what the send in flight (or the next) covers;
	// out is what was written since. The kernel reads sending until the
	// send completes, so it is neither reused nor dropped before.
	sending []byte
	soff    int
	offered int
	out     []byte
	// held is what arrived after reading paused, from receives the kernel
	// had completed already; it is delivered on resuming, then the end of
	// stream if one came (heldEOF). The write buffer thus stays under
	// HighWater plus one read, as the reactor's does.
	held    []byte
	hoff    int // held[:hoff] is delivered
	heldEOF bool
	// acct is what the loop's outHeld counts for this connection.
	acct int
}

var _ reactor.Conn = (*Transport)(nil)

// Fd is the socket, -1 once closed.
func (t *Transport) Fd() int { return t.fd }

// Buffered is how many written bytes the kernel has not taken yet.
func (t *Transport) Buffered() int { return len(t.sending) - t.soff + len(t.out) }

func (t *Transport) ud(op uint8) uint64 { return userData(op, t.idx, t.gen) }

func (t *Transport) reading() bool {
	return t.state == stOpen && !t.blocked() && !t.eof && !t.heldEOF
}

// blocked: backpressure stops receiving, the connection's own (above
// HighWater) or the server's (above OutputBudget, for connections with
// output waiting).
func (t *Transport) blocked() bool {
	return t.paused || t.l.squeezed && t.Buffered() > 0
}

// account brings the loop's outHeld up to date after the buffers
// changed. It counts their memory, which append may have grown to twice
// what they hold, for as long as the connection has them; a connection
// whose output drained gives them back to the loop (spareBuf).
func (t *Transport) account() {
	n := 0
	if t.fd >= 0 {
		n = cap(t.sending) + cap(t.out) + cap(t.held)
	}
	if d := n - t.acct; d != 0 {
		t.acct = n
		t.l.outHeld += d
		t.l.heldChanged()
	}
}

// mustCancel: the armed recv must end, because reading stopped, or
// because it is multishot in a crowded server.
func (t *Transport) mustCancel() bool {
	return t.recvArmed && (!t.reading() || t.recvMulti && t.l.crowded)
}

// stopReading cancels the recv, once, so that what the peer sends stays
// in the kernel.
func (t *Transport) stopReading() {
	if t.recvArmed && !t.recvCancel {
		t.recvCancel = true
		t.cancel(opRecv, true)
	}
}

// resume delivers what was held and receives again, unless blocked.
func (t *Transport) resume() {
	if t.state != stOpen || t.blocked() {
		return
	}
	t.deliverHeld()
	t.armRecv()
}

// Write queues p and starts a send if none is in flight; p may be reused
// when Write returns.
func (t *Transport) Write(p []byte) {
	if len(p) == 0 || t.state != stOpen || t.shutWr {
		return
	}
	t.out = t.l.appendBuf(t.out, p)
	if !t.sendArmed {
		t.startSend()
	}
	if !t.paused && t.Buffered() > t.l.cfg.HighWater {
		t.paused = true
	}
	t.account()
	if t.blocked() {
		t.stopReading()
	}
}

func (t *Transport) startSend() {
	if t.soff == len(t.sending) {
		t.sending, t.out = t.out, t.sending[:0]
		t.soff = 0
	}
	offer := t.sending[t.soff:]
	if len(offer) == 0 {
		return
	}
	if l := t.l; l.rng != nil && len(offer) > 1 && l.rng.Float64() < l.cfg.ShortSendFrac {
		offer = offer[:1+l.rng.IntN(len(offer)-1)]
		l.c.InjectedShortWrites++
	}
	s := t.l.sqe()
	s.Opcode, s.Fd, s.Addr, s.Len = uring.OpSend, int32(t.fd), uint64(addr(offer)), uint32(len(offer))
	s.OpFlags = unix.MSG_NOSIGNAL
	s.UserData = t.ud(opSend)
	t.offered = len(offer)
	t.sendArmed = true
	t.inflight++
}

// crowdedReadDiv divides the read size while the server is crowded: a
// connection may keep what it read beyond the budget, so 500 peers that
// never read would add 500 reads to it.
const crowdedReadDiv = 8

func (t *Transport) armRecv() {
	if !t.reading() || t.recvArmed {
		return
	}
	l := t.l
	s := l.sqe()
	s.Opcode, s.Fd, s.Flags, s.BufIndex = uring.OpRecv, int32(t.fd), uring.SQEBufferSelect, l.bufs.Group()
	t.recvMulti = l.multi && !l.crowded
	if t.recvMulti {
		s.IOPrio = uring.RecvMultishot
	} else if l.crowded {
		s.Len = uint32(max(l.cfg.ReadBufSize/crowdedReadDiv, 1))
	}
	s.UserData = t.ud(opRecv)
	t.recvArmed = true
	t.inflight++
}

// cancel asks the kernel to end the request op, if armed.
func (t *Transport) cancel(op uint8, armed bool) {
	if !armed {
		return
	}
	s := t.l.sqe()
	s.Opcode, s.Fd, s.Addr = uring.OpAsyncCancel, -1, t.ud(op)
	s.Flags = uring.SQECQESkipSuccess
	s.UserData = userData(opCancel, t.idx, t.gen)
}

func (t *Transport) complete(op uint8, c *uring.CQE) {
	t.busy = true
	switch op {
	case opRecv:
		t.recvDone(c)
	case opSend:
		t.sendDone(c)
	}
	t.handled()
}

// handled ends a handler of the connection: a close it asked for waits
// until now.
func (t *Transport) handled() {
	t.busy = false
	if t.state == stDead {
		t.l.deferred.Add(t)
	}
}

func (t *Transport) recvDone(c *uring.CQE) {
	l := t.l
	if c.Flags&uring.CQEFMore == 0 {
		t.recvArmed, t.recvCancel = false, false
		t.inflight--
	}
	if c.Flags&uring.CQEFBuffer != 0 {
		id := uint16(c.Flags >> uring.CQEBufferShift)
		defer l.recycle(id, int(c.Res))
		if c.Res > 0 {
			l.c.Reads++
			l.c.BytesIn += uint64(c.Res)
			data := l.bufs.Buf(id)[:c.Res]
			switch {
			case t.state != stOpen || t.eof:
			case t.blocked() || t.held != nil:
				t.held = l.appendBuf(t.held, data)
				t.account()
			default:
				t.proto.DataReceived(data)
			}
		}
	}
	switch {
	case c.Res == 0:
		switch {
		case t.state != stOpen || t.eof:
		case t.held != nil:
			t.heldEOF = true
		default:
			t.readEOF()
		}
		return
	case c.Res > 0:
		if !t.recvArmed && t.recvMulti {
			l.c.Retries++ // the kernel ended the multishot recv early
		}
	case c.Res == -int32(unix.ENOBUFS):
		l.c.ENOBUFS++
	case c.Res == -int32(unix.ECANCELED):
	case c.Res == -int32(unix.EAGAIN), c.Res == -int32(unix.EINTR):
		l.c.Retries++
	case c.Res == -int32(unix.EINVAL) && l.multi:
		l.multi = false // a kernel before multishot recv (6.0)
	default:
		t.closeWith(unix.Errno(-c.Res))
		return
	}
	t.armRecv()
}

func (t *Transport) sendDone(c *uring.CQE) {
	l := t.l
	t.sendArmed = false
	t.inflight--
	if t.state == stDead {
		return
	}
	switch {
	case c.Res >= 0:
		n := int(c.Res)
		l.c.Writes++
		l.c.BytesOut += uint64(n)
		if n < t.offered {
			l.c.ShortWrites++
		}
		t.soff += n
		t.account()
	case c.Res == -int32(unix.EAGAIN), c.Res == -int32(unix.EINTR):
		l.c.Retries++
	default:
		t.closeWith(unix.Errno(-c.Res))
		return
	}
	if t.Buffered() > 0 {
		t.startSend()
		return
	}
	l.spareBuf(t.sending)
	l.spareBuf(t.out)
	t.sending, t.soff, t.out = nil, 0, nil
	t.account()
	switch {
	case t.state == stClosing:
		t.closeWith(nil)
		return
	case t.shutWr && !t.wrDone:
		t.shutdownWrite()
	}
	t.paused = false // nothing is left unsent: below LowWater
	t.resume()
}

// deliverHeld hands over what arrived while paused, a read's worth at a
// time, until done or paused again.
func (t *Transport) deliverHeld() {
	for t.hoff < len(t.held) && !t.blocked() && t.state == stOpen {
		n := min(len(t.held)-t.hoff, t.l.cfg.ReadBufSize)
		h := t.held
		p := h[t.hoff : t.hoff+n]
		t.hoff += n
		if t.hoff == len(h) {
			t.held, t.hoff = nil, 0
		}
		t.account()
		t.proto.DataReceived(p)
		if t.held == nil {
			// Spared only now: a Write in DataReceived may take a spare
			// buffer, which must not be the one p is in.
			t.l.spareBuf(h)
		}
	}
	if t.held == nil {
		if t.heldEOF && t.state == stOpen {
			t.heldEOF = false
			t.readEOF()
		}
	}
}

func (t *Transport) readEOF() {
	t.eof = true
	if hc, ok := t.proto.(reactor.HalfCloseable); ok {
		hc.ReadConnectionLost()
		return
	}
	t.LoseConnection()
}

// LoseConnection closes once everything written is sent.
func (t *Transport) LoseConnection() {
	if t.state != stOpen {
		return
	}
	if t.Buffered() == 0 {
		t.closeWith(nil)
		return
	}
	t.state = stClosing
}

// LoseWriteConnection shuts down the writing side once everything written
// is sent, and keeps reading.
func (t *Transport) LoseWriteConnection() {
	if t.state != stOpen || t.shutWr {
		return
	}
	t.shutWr = true
	if t.Buffered() == 0 {
		t.shutdownWrite()
	}
}

func (t *Transport) shutdownWrite() {
	t.wrDone = true
	t.l.c.Syscalls++
	if err := unix.Shutdown(t.fd, unix.SHUT_WR); err != nil {
		t.closeWith(err)
	}
}

// Abort drops what is unsent and closes with a reset.
func (t *Transport) Abort() {
	if t.state == stDead {
		return
	}
	t.linger0 = true
	t.out = nil
	t.closeWith(reactor.ErrAborted)
}

func (t *Transport) closeWith(err error) {
	if t.state == stDead {
		return
	}
	t.state = stDead
	t.err = err
	if t.busy {
		return // complete queues it once the handler is done
	}
	t.closeNow()
}

func (t *Transport) closeNow() {
	l := t.l
	if t.fd >= 0 {
		// A request still waiting in the submission queue names only the
		// descriptor's number, which the close below frees for the next
		// accept: submitted later, it would act on that new connection.
		// It becomes a no-op instead, which still completes.
		fd := int32(t.fd)
		l.ring.Unconsumed(func(s *uring.SQE) {
			if s.Fd == fd && s.Opcode != uring.OpAsyncCancel {
				s.Neutralize()
			}
		})
		t.cancel(opRecv, t.recvArmed)
		t.cancel(opSend, t.sendArmed)
		if t.linger0 {
			l.c.Syscalls++
			unix.SetsockoptLinger(t.fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
		}
		// The requests the kernel has taken hold the socket open until
		// their cancellation completes; their completions carry the
		// generation in user_data, which makes them harmless.
		l.c.Syscalls++
		unix.Close(t.fd)
		t.fd = -1
		l.spareBuf(t.out)
		l.spareBuf(t.held)
		t.out, t.held, t.hoff = nil, nil, 0
		t.account()
		delete(l.transp, t)
		l.conns--
		l.c.Closed++
		l.resumeListeners()
		t.proto.ConnectionLost(t.err)
	}
	if t.inflight == 0 && t.idx != 0 {
		l.releaseSlot(t.idx)
		t.idx = 0
		l.spareBuf(t.sending) // the kernel no longer reads it
		t.sending, t.held, t.hoff = nil, nil, 0
	}
}

func (t *Transport) made() {
	t.busy = true
	t.proto.ConnectionMade(t)
	t.busy = false
	if t.state == stDead {
		t.closeNow()
		return
	}
	if t.state == stClosing && t.Buffered() == 0 {
		t.closeWith(nil)
		return
	}
	t.armRecv()
}

// setConnOpts sets TCP_NODELAY; the buffer sizes come from the listener.
func (l *Loop) setConnOpts(fd int) {
	if !l.cfg.DisableNoDelay {
		l.c.Syscalls++
		unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	}
}

func (l *Loop) newTransport(fd int, p reactor.Protocol) *Transport {
	t := &Transport{l: l, fd: fd, proto: p}
	t.idx, t.gen = l.alloc(t)
	l.transp[t] = struct{}{}
	l.conns++
	l.c.Opened++
	return t
}

// Adopt makes a connection of a connected stream socket the caller owns
// (it is closed when the connection ends) and calls p.ConnectionMade.
func (l *Loop) Adopt(fd int, p reactor.Protocol) (*Transport, error) {
	if l.closed {
		return nil, ErrClosed
	}
	// Blocking: io_uring waits for readiness itself, and answers a request
	// on an O_NONBLOCK socket with EAGAIN on some kernels.
	if err := unix.SetNonblock(fd, false); err != nil {
		return nil, err
	}
	t := l.newTransport(fd, p)
	t.made()
	l.settle()
	return t, nil
}
