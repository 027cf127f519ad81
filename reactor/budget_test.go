//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package reactor

import (
	"io"
	"sync"
	"testing"
	"time"

	"github.com/muxbench/muxbench/poller"
)

// Peers that never read fill their transports' write buffers. Each one's
// HighWater allows far more than the budget; the budget must stop them
// all, keep serving a peer that reads its replies, and let every one of
// them go on once they read.
func TestOutputBudget(t *testing.T) {
	const (
		budget, rbuf = 512 << 10, 16 << 10
		lazies       = 4
		each         = 1 << 20 // sent by each lazy peer: all of them together are 8 budgets
	)
	forEachMode(t, func(t *testing.T, m mode) {
		if info, _ := poller.Lookup(m.backend); info.Caps.Spins {
			// The budget lives in the transports, the same for every
			// backend; a spinning loop only makes this test slow.
			t.Skip("spins")
		}
		r := newReactor(t, m, Config{HighWater: 4 << 20, OutputBudget: budget, ReadBufSize: rbuf, SndBuf: 64 << 10, RcvBuf: 64 << 10})
		addr, made := echoServer(t, r)
		start(t, r)

		var wg sync.WaitGroup
		defer wg.Wait()
		type lazy struct {
			msg []byte
			e   *echoRec
		}
		var peers []lazy
		conns := make([]interface {
			io.Reader
			SetReadDeadline(time.Time) error
		}, lazies)
		for i := range lazies {
			c := dial(t, addr)
			c.SetReadBuffer(64 << 10)
			c.SetWriteBuffer(64 << 10)
			conns[i] = c
			p := lazy{msg: pattern(each, uint64(i+1)), e: recv(t, made, "accept")}
			peers = append(peers, p)
			wg.Go(func() {
				c.SetWriteDeadline(time.Now().Add(60 * time.Second))
				for off := 0; off < each; off += rbuf {
					if _, err := c.Write(p.msg[off : off+rbuf]); err != nil {
						t.Errorf("lazy peer %d: %v", i, err)
						return
					}
				}
			})
		}
		// Every lazy transport has output waiting and reads no more, and
		// together they hold about the budget, not lazies × HighWater.
		waitFor(t, r, "every lazy peer's reading to stop", 20*time.Second, func() bool {
			if !r.squeezed {
				return false
			}
			for _, p := range peers {
				if p.e.t.Buffered() == 0 || p.e.t.reading() {
					return false
				}
			}
			return true
		})
		// Appending may double a buffer's capacity, and a transport with
		// nothing waiting may take one read.
		bound := 2*budget + lazies*2*rbuf
		onLoop(t, r, func() {
			if r.held > bound {
				t.Errorf("write buffers hold %d bytes, bound %d", r.held, bound)
			}
		})

		// A peer that reads its replies is still served.
		busy := dial(t, addr)
		for i := range 5 {
			roundTrip(t, busy, pattern(32<<10, uint64(100+i)), 4096)
		}

		// Once the lazy peers read, every one of them gets all of its
		// bytes back: reading resumed on each connection.
		var rg sync.WaitGroup
		for i, c := range conns {
			rg.Go(func() {
				c.SetReadDeadline(time.Now().Add(60 * time.Second))
				got := make([]byte, each)
				if _, err := io.ReadFull(c, got); err != nil {
					t.Errorf("lazy peer %d reading back: %v", i, err)
					return
				}
				if d := firstDiff(got, peers[i].msg); d >= 0 {
					t.Errorf("lazy peer %d: echo differs at byte %d", i, d)
				}
			})
		}
		rg.Wait()
		onLoop(t, r, func() {
			if r.squeezed || r.c.BudgetPauses == 0 {
				t.Errorf("after the drain: squeezed %v, %d budget pauses", r.squeezed, r.c.BudgetPauses)
			}
		})
	})
}
