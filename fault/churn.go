package fault

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync/atomic"
	"time"

	"github.com/muxbench/muxbench/protocol"
)

// Connection ids of the pattern: far above the load generator's (0 up),
// and apart for churned and hostile connections, so that an echo carrying
// another connection's bytes names where they came from.
const (
	churnIDBase   = 1 << 40
	hostileIDBase = 2 << 40
)

var nextID atomic.Uint64

// keepAlive paces the round trips of a churned connection that has sent
// its messages and waits to be replaced: alive and checked, without
// competing with the measured load.
const keepAlive = 10 * time.Millisecond

// issueTickets hands out rate replacements per second, in 10 ms batches.
// Tickets the workers cannot take are dropped: the report counts what was
// churned, not what was asked.
func issueTickets(ctx context.Context, rate int, tickets chan<- struct{}) {
	const tick = 10 * time.Millisecond
	t := time.NewTicker(tick)
	defer t.Stop()
	last := time.Now()
	owed := 0.0
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			owed += float64(rate) * now.Sub(last).Seconds()
			last = now
			for ; owed >= 1; owed-- {
				select {
				case tickets <- struct{}{}:
				default:
				}
			}
		}
	}
}

// churn keeps one connection open and replaces it whenever it holds a
// ticket and has exchanged its messages. Replacements alternate between
// an orderly close and a reset that leaves an unread echo behind, the
// case that gives a server a closed descriptor with work still pending.
func (s *state) churn(ctx context.Context, worker int, tickets <-chan struct{}) {
	cfg := s.cfg
	b := newBuffers(cfg.MsgSize)
	for n := worker; ctx.Err() == nil; n++ {
		c, err := s.dial(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if !errors.Is(err, errShort) {
				s.count(func(r *Report) { r.ConnFailures++ })
				s.errorf("churn: connect: %v", err)
			}
			sleep(ctx, 50*time.Millisecond)
			continue
		}
		id := churnIDBase + nextID.Add(1)
		stop := interruptible(ctx, c)
		seq, replace := s.churnConn(ctx, c, id, tickets, b)
		stop()
		if !replace {
			c.Close()
			continue
		}
		if n%2 == 1 {
			// One more message, never read, then the reset.
			protocol.FillPattern(b.msg, id, seq, 0)
			c.SetWriteDeadline(time.Now().Add(cfg.Timeout))
			_, werr := c.Write(b.msg)
			reset(c)
			if werr != nil && ctx.Err() == nil {
				s.count(func(r *Report) { r.IntegrityErrors++ })
				s.errorf("churn: connection %#x: writing before the reset: %v", id, werr)
				continue
			}
			s.count(func(r *Report) { r.Churned++; r.ChurnResets++ })
			continue
		}
		c.Close()
		s.count(func(r *Report) { r.Churned++ })
	}
}

// churnConn runs verified round trips on c until it may be replaced (a
// ticket after ChurnMsgs messages) or fails; it returns the next sequence
// number and whether c is to be replaced.
func (s *state) churnConn(ctx context.Context, c net.Conn, id uint64, tickets <-chan struct{}, b *buffers) (uint64, bool) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for seq := uint64(0); ; seq++ {
		if err := s.roundTrip(ctx, c, id, seq, b); err != nil {
			if ctx.Err() == nil {
				s.count(func(r *Report) { r.IntegrityErrors++ })
				s.errorf("churn: %v", err)
			}
			return seq, false
		}
		s.count(func(r *Report) { r.ChurnRoundTrips++ })
		if seq+1 < uint64(s.cfg.ChurnMsgs) {
			continue
		}
		timer.Reset(keepAlive)
		select {
		case <-tickets:
			return seq + 1, true
		case <-ctx.Done():
			return seq + 1, false
		case <-timer.C:
		}
	}
}

// buffers are one connection driver's message, echo and pattern scratch.
type buffers struct{ msg, got, scratch []byte }

func newBuffers(size int) *buffers {
	return &buffers{msg: make([]byte, size), got: make([]byte, size), scratch: make([]byte, min(size, 64<<10))}
}

// arm sets c's deadline unless ctx has ended: interruptible's deadline in
// the past must not be overwritten by a later one.
func arm(ctx context.Context, c net.Conn, d time.Duration) error {
	c.SetDeadline(time.Now().Add(d))
	return ctx.Err()
}

// roundTrip sends message (id, seq) and checks every byte of its echo.
func (s *state) roundTrip(ctx context.Context, c net.Conn, id, seq uint64, b *buffers) error {
	if err := arm(ctx, c, s.cfg.Timeout); err != nil {
		return err
	}
	protocol.FillPattern(b.msg, id, seq, 0)
	if _, err := c.Write(b.msg); err != nil {
		return fmt.Errorf("connection %#x message %d: write: %w", id, seq, err)
	}
	if n, err := io.ReadFull(c, b.got); err != nil {
		return fmt.Errorf("connection %#x message %d: echo cut short after %d of %d bytes: %w", id, seq, n, len(b.got), echoErr(err, s.cfg.Timeout))
	}
	if i := protocol.CheckPattern(b.got, id, seq, 0, b.scratch); i >= 0 {
		return mismatch(b.got, i, id, seq)
	}
	return nil
}

// mismatch describes a wrong echo; the header words tell whose bytes came
// back when a whole message of another connection did.
func mismatch(got []byte, i int, id, seq uint64) error {
	err := fmt.Errorf("connection %#x message %d: echo byte %d of %d wrong", id, seq, i, len(got))
	if len(got) >= 16 {
		gs, gc := binary.LittleEndian.Uint64(got), binary.LittleEndian.Uint64(got[8:])
		if gc != id {
			err = fmt.Errorf("%w: it carries connection %#x message %d", err, gc, gs)
		}
	}
	return err
}

func echoErr(err error, timeout time.Duration) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("no echo within %v", timeout)
	}
	return err
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
