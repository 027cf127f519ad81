package fault

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/muxbench/muxbench/protocol"
)

// Timings of the hostile peers: long enough that a server under load has
// the time to answer, short enough for many peers in a soak.
const (
	// silentHold is how long a peer that never sends stays connected.
	silentHold = 300 * time.Millisecond
	// stallAfter is how long a write may block before the peer that
	// never reads takes it that backpressure stopped the server reading.
	stallAfter = 500 * time.Millisecond
)

// hostileLoop runs one hostile peer after another, cycling the kinds from
// a different one per loop.
func (s *state) hostileLoop(ctx context.Context, loop int) {
	for i := loop; ctx.Err() == nil; i++ {
		s.hostilePeer(ctx, Kinds[i%len(Kinds)])
	}
}

func (s *state) hostilePeer(ctx context.Context, kind string) {
	c, err := s.dial(ctx)
	if err != nil {
		if ctx.Err() == nil {
			if !errors.Is(err, errShort) {
				s.count(func(r *Report) { r.ConnFailures++ })
				s.errorf("%s: connect: %v", kind, err)
			}
			sleep(ctx, 50*time.Millisecond)
		}
		return
	}
	id := hostileIDBase + nextID.Add(1)
	stop := interruptible(ctx, c)
	var why error
	switch kind {
	case ResetMidMessage:
		why = s.resetMidMessage(ctx, c, id)
	case NeverRead:
		why = s.neverRead(ctx, c, id)
	case HalfClose:
		why = s.halfClose(ctx, c, id)
	case SendAndVanish:
		why = s.sendAndVanish(ctx, c, id)
	case Silent:
		why = s.silent(ctx, c)
	}
	stop()
	c.Close() // a no-op after a reset
	if ctx.Err() != nil {
		return // cut short by the end of the run: neither way
	}
	if why != nil {
		why = fmt.Errorf("connection %#x: %w", id, why)
	}
	s.tally(kind, why)
}

// pattern is bytes [off, off+n) of message (id, 0).
func pattern(id uint64, n, off int) []byte {
	p := make([]byte, n)
	protocol.FillPattern(p, id, 0, off)
	return p
}

// resetMidMessage sends half a large message and resets: the server holds
// half a request and perhaps an echo it can no longer send. It reads the
// echo as it comes, so that the write does not wait on the socket
// buffers holding it all: the kernel shrinks them when the machine runs
// short of TCP memory, and a server that stops reading while its echo
// is unread would then hold the write until the timeout.
func (s *state) resetMidMessage(ctx context.Context, c *net.TCPConn, id uint64) error {
	if err := arm(ctx, c, s.cfg.Timeout); err != nil {
		return err
	}
	drained := make(chan struct{})
	go func() {
		io.Copy(io.Discard, c)
		close(drained)
	}()
	_, err := c.Write(pattern(id, s.cfg.LargeMsg/2, 0))
	reset(c)
	<-drained
	if err != nil {
		return fmt.Errorf("writing half a message: %w", err)
	}
	return nil
}

// neverRead pushes large messages and reads nothing back. A server that
// bounds its memory stops reading once its write buffer is full, so our
// writes stall before NeverReadLimit bytes; one that buffers without
// bound takes them all.
func (s *state) neverRead(ctx context.Context, c *net.TCPConn, id uint64) error {
	// A small receive buffer of our own: the server's echo backs up at once.
	c.SetReadBuffer(64 << 10)
	msg := pattern(id, s.cfg.LargeMsg, 0)
	total := 0
	defer reset(c)
	for total < s.cfg.NeverReadLimit {
		if err := arm(ctx, c, stallAfter); err != nil {
			return err
		}
		n, err := c.Write(msg)
		total += n
		if errors.Is(err, os.ErrDeadlineExceeded) {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// Stalled: backpressure works.
			s.count(func(r *Report) { r.NeverReadMaxBytes = max(r.NeverReadMaxBytes, uint64(total)) })
			return nil
		}
		if err != nil {
			return fmt.Errorf("after %d bytes: %w", total, err)
		}
	}
	return fmt.Errorf("the server took %d bytes from a peer that reads nothing: its buffering is not bounded", total)
}

// halfClose sends a message, shuts down its writing side, and must get
// the whole echo back, byte for byte, then EOF. It reads the echo while it
// writes, as resetMidMessage does, and for the same reason.
func (s *state) halfClose(ctx context.Context, c *net.TCPConn, id uint64) error {
	if err := arm(ctx, c, s.cfg.Timeout); err != nil {
		return err
	}
	size := s.cfg.LargeMsg / 4
	sent := make(chan error, 1)
	go func() {
		if _, err := c.Write(pattern(id, size, 0)); err != nil {
			sent <- fmt.Errorf("write: %w", err)
			return
		}
		if err := c.CloseWrite(); err != nil {
			sent <- fmt.Errorf("shutdown: %w", err)
			return
		}
		sent <- nil
	}()
	if err := s.readHalfClosedEcho(c, id, size); err != nil {
		c.SetDeadline(time.Unix(1, 0)) // end the write, if it still waits
		<-sent
		return err
	}
	return <-sent
}

// readHalfClosedEcho reads and checks the echo of message (id, 0) of size
// bytes, then EOF.
func (s *state) readHalfClosedEcho(c *net.TCPConn, id uint64, size int) error {
	buf := make([]byte, 32<<10)
	scratch := make([]byte, len(buf))
	got := 0
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if got+n > size {
				return fmt.Errorf("echo of %d bytes longer than the %d sent", got+n, size)
			}
			if i := protocol.CheckPattern(buf[:n], id, 0, got, scratch); i >= 0 {
				return fmt.Errorf("echo byte %d of %d wrong", got+i, size)
			}
			got += n
		}
		if err == io.EOF {
			if got < size {
				return fmt.Errorf("EOF after %d of %d echoed bytes", got, size)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("after %d of %d echoed bytes: %w", got, size, echoErr(err, s.cfg.Timeout))
		}
	}
}

// sendAndVanish sends a message and closes without reading its echo: the
// server writes to a peer that is gone.
func (s *state) sendAndVanish(ctx context.Context, c *net.TCPConn, id uint64) error {
	if err := arm(ctx, c, s.cfg.Timeout); err != nil {
		return err
	}
	if _, err := c.Write(pattern(id, s.cfg.LargeMsg/16, 0)); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return c.Close()
}

// silent connects and says nothing: the server must keep the connection
// without a word, and without spending anything on it.
func (s *state) silent(ctx context.Context, c *net.TCPConn) error {
	if err := arm(ctx, c, silentHold); err != nil {
		return err
	}
	var b [1]byte
	n, err := c.Read(b[:])
	switch {
	case n > 0:
		return errors.New("the server sent bytes nobody asked for")
	case errors.Is(err, os.ErrDeadlineExceeded):
		return ctx.Err()
	case err == io.EOF:
		return errors.New("the server closed a silent connection")
	}
	return fmt.Errorf("read: %w", err)
}
