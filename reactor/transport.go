//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package reactor

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/internal/rawio"
	"github.com/muxbench/muxbench/poller"
)

type tstate uint8

const (
	stOpen    tstate = iota
	stClosing        // LoseConnection: flush, then close
	stDead           // close pending or done; no more I/O
)

// Transport owns one non-blocking stream socket: it reads into the loop's
// shared buffer, writes what the socket takes, keeps the rest and watches
// for writability only while it has something kept.
type Transport struct {
	r     *Reactor
	fd    int
	tok   uint64
	proto Protocol

	state      tstate
	connecting bool
	interest   poller.Flags
	registered bool
	paused     bool // backpressure: write buffer above high water
	eof        bool // the peer shut down its side
	shutWr     bool // LoseWriteConnection asked
	wrDone     bool // SHUT_WR sent
	linger0    bool
	busy       bool  // inside handle or ConnectionMade: closing must wait
	err        error // reason handed to ConnectionLost

	// wbuf[woff:] is what the socket has not taken yet. It is nil while
	// nothing is kept, so an idle connection owns no buffer.
	wbuf []byte
	woff int
	held int // cap(wbuf) as counted in the reactor's held
}

// account brings the reactor's total of buffer memory up to date after
// wbuf changed.
func (t *Transport) account() {
	if d := cap(t.wbuf) - t.held; d != 0 {
		t.held += d
		t.r.held += d
		t.r.heldChanged()
	}
}

// Fd is the socket's descriptor, -1 once closed.
func (t *Transport) Fd() int { return t.fd }

// Reactor is the loop that owns the transport.
func (t *Transport) Reactor() *Reactor { return t.r }

// Buffered is how many written bytes the socket has not taken yet.
func (t *Transport) Buffered() int { return len(t.wbuf) - t.woff }

// ReadPaused reports whether reading stopped because the write buffer went
// above the high-water mark.
func (t *Transport) ReadPaused() bool { return t.paused }

// Write sends p, copying only what the socket does not take at once; p may
// be reused when Write returns. Writes after LoseConnection, Abort or
// LoseWriteConnection are dropped.
func (t *Transport) Write(p []byte) {
	if len(p) == 0 || t.state != stOpen || t.shutWr {
		return
	}
	if t.connecting || t.Buffered() > 0 {
		t.keep(p)
		t.afterKeep()
		return
	}
	n, err := t.send(p)
	if err != nil {
		t.closeWith(err)
		return
	}
	if n < len(p) {
		t.keep(p[n:])
		t.afterKeep()
	}
}

// keep appends p to the write buffer, first sliding the unsent tail down
// when the sent prefix is the larger part.
func (t *Transport) keep(p []byte) {
	if t.woff > 0 && t.woff >= len(t.wbuf)-t.woff {
		n := copy(t.wbuf, t.wbuf[t.woff:])
		t.wbuf = t.wbuf[:n]
		t.woff = 0
	}
	t.wbuf = append(t.wbuf, p...)
	t.account()
}

func (t *Transport) afterKeep() {
	if !t.paused && t.Buffered() > t.r.cfg.HighWater {
		t.paused = true
	}
	t.update()
}

// send writes p: once when level-triggered (the poller reports again),
// until done or EAGAIN when edge-triggered (no new edge would come).
func (t *Transport) send(p []byte) (int, error) {
	r := t.r
	done := 0
	for done < len(p) {
		if r.injectWriteEAGAIN() {
			if r.et {
				r.retryLater(t.tok, poller.Writable)
			}
			return done, nil
		}
		chunk := p[done:]
		chunk = chunk[:r.shortWrite(len(chunk))]
		n, err := rawio.Write(t.fd, chunk)
		r.c.Writes++
		if err != nil {
			switch err {
			case unix.EINTR:
				continue
			case unix.EAGAIN:
				r.c.WriteEAGAIN++
				return done, nil
			}
			return done, err
		}
		r.c.BytesOut += uint64(n)
		done += n
		if n < len(chunk) {
			r.c.ShortWrites++
		}
		if !r.et {
			break
		}
	}
	return done, nil
}

// LoseConnection closes the connection once the write buffer has drained;
// ConnectionLost(nil) follows. Reading stops at once.
func (t *Transport) LoseConnection() {
	if t.state != stOpen {
		return
	}
	if t.Buffered() == 0 && !t.connecting {
		t.closeWith(nil)
		return
	}
	t.state = stClosing
	t.update()
}

// LoseWriteConnection shuts down our writing side (a FIN) once the write
// buffer has drained, and keeps reading.
func (t *Transport) LoseWriteConnection() {
	if t.state != stOpen || t.shutWr {
		return
	}
	t.shutWr = true
	if t.Buffered() == 0 && !t.connecting {
		t.shutdownWrite()
	}
}

func (t *Transport) shutdownWrite() {
	t.wrDone = true
	t.r.c.Syscalls++
	if err := unix.Shutdown(t.fd, unix.SHUT_WR); err != nil {
		t.closeWith(err)
	}
}

// Abort drops the write buffer and closes at once with SO_LINGER 0, so the
// peer sees a reset; ConnectionLost(ErrAborted) follows.
func (t *Transport) Abort() {
	if t.state == stDead {
		return
	}
	t.linger0 = true
	t.wbuf, t.woff = nil, 0
	t.account()
	t.closeWith(ErrAborted)
}

// closeWith closes with err (nil: orderly): at once when called from
// outside the transport's own handling (another connection's handler,
// Call), else when the current handler returned, so that a protocol never
// sees ConnectionLost while inside its own DataReceived or ConnectionMade.
func (t *Transport) closeWith(err error) {
	if t.state == stDead {
		return
	}
	t.state = stDead
	t.err = err
	if t.busy {
		t.r.deferred.Add(t)
		return
	}
	t.closeNow()
}

func (t *Transport) closeNow() {
	if t.fd < 0 {
		return
	}
	r := t.r
	if t.registered {
		r.p.Remove(t.fd)
	}
	r.c.Syscalls++ // close
	if t.linger0 {
		r.c.Syscalls++
		unix.SetsockoptLinger(t.fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
	}
	unix.Close(t.fd)
	t.fd = -1
	r.release(t.tok)
	delete(r.transp, t)
	r.conns--
	r.c.Closed++
	t.wbuf, t.woff = nil, 0
	t.account()
	r.resumeListeners()
	t.proto.ConnectionLost(t.err)
}

func (t *Transport) reading() bool {
	return t.state == stOpen && !t.connecting && !t.paused && !t.eof &&
		!(t.r.squeezed && t.Buffered() > 0)
}

// update brings the poller's interest in line with the transport's state.
func (t *Transport) update() {
	if t.state == stDead {
		return
	}
	var want poller.Flags
	if t.reading() {
		want |= poller.Readable
	}
	if t.connecting || t.Buffered() > 0 {
		want |= poller.Writable
	}
	if t.registered && want == t.interest {
		return
	}
	var err error
	switch {
	case want == 0 && t.eof:
		// Nothing to read or write after the peer's FIN: leave the poller,
		// or a level-triggered HangUp would be reported every round.
		if t.registered {
			err = t.r.p.Remove(t.fd)
			t.registered = false
		}
	case !t.registered:
		err = t.r.p.Add(t.fd, t.tok, want)
		t.registered = err == nil
	default:
		err = t.r.p.Modify(t.fd, t.tok, want)
	}
	if err != nil {
		t.closeWith(fmt.Errorf("reactor: poller: %w", err))
		return
	}
	t.interest = want
}

func (t *Transport) handle(f poller.Flags) {
	if t.state == stDead {
		return
	}
	t.busy = true
	defer func() { t.busy = false }()
	if t.connecting {
		if f&(poller.Writable|poller.Error|poller.HangUp) != 0 {
			t.finishConnect()
		}
		return
	}
	did := false
	if f&(poller.Readable|poller.HangUp|poller.Error) != 0 && t.reading() {
		t.doRead()
		did = true
	}
	if t.state == stDead {
		return
	}
	if f&(poller.Writable|poller.HangUp|poller.Error) != 0 && t.Buffered() > 0 {
		t.doWrite()
		did = true
	}
	if !did && f&poller.Error != 0 {
		// Neither reading nor writing would collect the error: fetch it,
		// or a level-triggered poller reports it forever.
		t.closeWith(sockError(t.fd))
	}
}

func sockError(fd int) error {
	e, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return err
	}
	if e == 0 {
		return unix.ECONNRESET
	}
	return unix.Errno(e)
}

func (t *Transport) doRead() {
	r := t.r
	for {
		if r.injectReadEAGAIN() {
			// Edge-triggered, the socket may still hold data and no edge
			// would come: ask for a replay next round.
			if r.et {
				r.retryLater(t.tok, poller.Readable)
			}
			return
		}
		n, err := rawio.Read(t.fd, r.buf)
		r.c.Reads++
		if err != nil {
			switch err {
			case unix.EINTR:
				continue
			case unix.EAGAIN:
				r.c.ReadEAGAIN++
				return
			}
			t.closeWith(err)
			return
		}
		if n == 0 {
			t.readEOF()
			return
		}
		r.c.BytesIn += uint64(n)
		t.proto.DataReceived(r.buf[:n])
		if !r.et || !t.reading() {
			return
		}
	}
}

func (t *Transport) readEOF() {
	t.eof = true
	if hc, ok := t.proto.(HalfCloseable); ok {
		t.update()
		hc.ReadConnectionLost()
		return
	}
	t.LoseConnection()
}

func (t *Transport) doWrite() {
	was := t.reading()
	n, err := t.send(t.wbuf[t.woff:])
	if err != nil {
		t.closeWith(err)
		return
	}
	t.woff += n
	if t.Buffered() == 0 {
		t.wbuf, t.woff = nil, 0
		t.account()
		switch {
		case t.state == stClosing:
			t.closeWith(nil)
			return
		case t.shutWr && !t.wrDone:
			t.shutdownWrite()
		}
	}
	if t.paused && t.Buffered() <= t.r.cfg.LowWater {
		t.paused = false
	}
	if t.r.et && !was && t.reading() {
		// Data that arrived while paused raised no edge since.
		t.r.retryLater(t.tok, poller.Readable)
	}
	t.update()
}

func (t *Transport) finishConnect() {
	if err := sockErrorOrNil(t.fd); err != nil {
		t.closeWith(err)
		return
	}
	t.connecting = false
	// made's update changes the interest from Writable, which re-arms an
	// edge-triggered poller too: kept bytes go out when writable.
	t.made()
}

func sockErrorOrNil(fd int) error {
	e, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return err
	}
	if e != 0 {
		return unix.Errno(e)
	}
	return nil
}

// made tells the protocol and then settles the interest it needs.
func (t *Transport) made() {
	prev := t.busy
	t.busy = true
	t.proto.ConnectionMade(t)
	t.busy = prev
	if t.state == stClosing && t.Buffered() == 0 {
		t.closeWith(nil)
		return
	}
	t.update()
}

// newTransport registers fd (already non-blocking) under a fresh token.
func (r *Reactor) newTransport(fd int, p Protocol, connecting bool) (*Transport, error) {
	if p == nil {
		return nil, errors.New("reactor: nil protocol")
	}
	t := &Transport{r: r, fd: fd, proto: p, connecting: connecting}
	t.tok = r.alloc(t)
	t.interest = poller.Readable
	if connecting {
		t.interest = poller.Writable
	}
	if err := r.p.Add(fd, t.tok, t.interest); err != nil {
		r.release(t.tok)
		return nil, err
	}
	t.registered = true
	r.transp[t] = struct{}{}
	r.conns++
	r.c.Opened++
	return t, nil
}

// setConnOpts applies the socket options every connected socket gets;
// accepted ones inherit the buffer sizes from their listener.
func (r *Reactor) setConnOpts(fd int) {
	r.setNoDelay(fd)
	setBufs(fd, r.cfg.SndBuf, r.cfg.RcvBuf)
}

// setNoDelay sets TCP_NODELAY unless configured off; it fails harmlessly
// on a Unix-domain socket.
func (r *Reactor) setNoDelay(fd int) {
	if !r.cfg.DisableNoDelay {
		r.c.Syscalls++
		unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	}
}

// setBufs sets SO_SNDBUF and SO_RCVBUF where positive.
func setBufs(fd, snd, rcv int) error { return rawio.SetBufs(fd, snd, rcv) }

// Adopt makes a transport of a connected stream socket the caller owns
// (for example one end of a socketpair), sets it non-blocking and calls
// p.ConnectionMade. The reactor closes fd when the connection ends.
func (r *Reactor) Adopt(fd int, p Protocol) (*Transport, error) {
	if r.closed {
		return nil, ErrClosed
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		return nil, err
	}
	t, err := r.newTransport(fd, p, false)
	if err != nil {
		return nil, err
	}
	t.made()
	return t, nil
}

// Connect starts a non-blocking connect; p.ConnectionMade follows once
// connected, or p.ConnectionLost(err) alone if connecting fails.
func (r *Reactor) Connect(network, addr string, p Protocol) error {
	if r.closed {
		return ErrClosed
	}
	sa, domain, err := sockaddr(network, addr)
	if err != nil {
		return err
	}
	fd, err := rawio.Socket(domain)
	if err != nil {
		return fmt.Errorf("reactor: socket: %w", err)
	}
	r.setConnOpts(fd)
	err = unix.Connect(fd, sa)
	switch err {
	case nil:
		t, err := r.newTransport(fd, p, false)
		if err != nil {
			unix.Close(fd)
			return err
		}
		t.made()
		return nil
	case unix.EINPROGRESS, unix.EINTR:
		if _, err := r.newTransport(fd, p, true); err != nil {
			unix.Close(fd)
			return err
		}
		return nil
	}
	unix.Close(fd)
	return fmt.Errorf("reactor: connect %s: %w", addr, err)
}
