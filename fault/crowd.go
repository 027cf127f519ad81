package fault

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// NeverReadCrowd is the kind of the NeverReaders peers in the report:
// many peers that never read, all connected at once.
const NeverReadCrowd = "never_read_crowd"

// crowdBuf is the socket buffer size of a crowd peer, both ways: the
// crowd is there to fill the server's memory, not the kernel's.
const crowdBuf = 64 << 10

// crowd connects cfg.NeverReaders peers, has each push messages without
// reading until the server stops taking them or NeverReaderBytes have
// gone, and holds them all connected until ctx ends. A server that bounds
// only each connection's buffer, not their total, swallows n times that
// bound here.
func (s *state) crowd(ctx context.Context, n int) {
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			err := s.crowdPeer(ctx)
			if err != nil && (ctx.Err() != nil || errors.Is(err, errShort)) {
				return // cut short by the end of the run, or our own shortage: neither way
			}
			s.tally(NeverReadCrowd, err)
		})
	}
	wg.Wait()
}

// crowdPeer connects and writes NeverReaderBytes, for as long as the
// server takes to read them (it may never, once its buffers are full),
// then holds the connection until ctx ends. Blocked at the end is as
// expected as done; an error is not.
func (s *state) crowdPeer(ctx context.Context) error {
	c, err := s.dial(ctx)
	if err != nil {
		if ctx.Err() == nil && !errors.Is(err, errShort) {
			s.count(func(r *Report) { r.ConnFailures++ })
		}
		return fmt.Errorf("connect: %w", err)
	}
	defer reset(c)
	c.SetReadBuffer(crowdBuf)
	c.SetWriteBuffer(crowdBuf)
	id := hostileIDBase + nextID.Add(1)
	stop := interruptible(ctx, c)
	defer stop()
	msg := pattern(id, s.cfg.LargeMsg, 0)
	for total := 0; total < s.cfg.NeverReaderBytes; {
		n, err := c.Write(msg[:min(len(msg), s.cfg.NeverReaderBytes-total)])
		total += n
		if ctx.Err() != nil {
			return nil // still blocked, or just done: the server held on
		}
		if err != nil {
			return fmt.Errorf("after %d bytes: %w", total, err)
		}
	}
	<-ctx.Done()
	return nil
}
