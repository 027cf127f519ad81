//go:build linux

package proactor

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// streamByte is byte off of peer i's stream, so that every echoed byte
// can be checked without keeping what was sent.
func streamByte(i, off int) byte { return byte(off/3 + off>>11 + i*7) }

// budgetPeer sends its stream and never reads, until stopped.
type budgetPeer struct {
	c     *net.TCPConn
	sent  int
	again atomic.Bool // a send found the socket full: EAGAIN
	done  atomic.Bool // push returned
	err   error
}

// push sends until each bytes are sent, the write deadline passes or the
// socket fails, one non-blocking send at a time, so that EAGAIN is seen.
func (p *budgetPeer) push(i, each int) {
	defer p.done.Store(true)
	rc, err := p.c.SyscallConn()
	if err != nil {
		p.err = err
		return
	}
	chunk := make([]byte, 8<<10)
	for p.sent < each {
		n := min(len(chunk), each-p.sent)
		for j := range n {
			chunk[j] = streamByte(i, p.sent+j)
		}
		var wrote int
		var werr error
		err := rc.Write(func(fd uintptr) bool {
			wrote, werr = unix.Write(int(fd), chunk[:n])
			if errors.Is(werr, unix.EAGAIN) {
				p.again.Store(true)
				return false // wait until writable
			}
			return true
		})
		if err == nil {
			err = werr
		}
		if err != nil {
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				p.err = err
			}
			return
		}
		p.sent += wrote
	}
}

// TestOutputBudget: many peers that send and never read, each allowed by
// HighWater far more than the server-wide budget. The budget must stop
// them all with the bytes left in the kernel, which pushes back on the
// peers (their sends find the socket full), and every peer must get all
// it sent once it reads.
func TestOutputBudget(t *testing.T) {
	need(t)
	const (
		peers  = 200
		budget = 256 << 10
		rbuf   = 16 << 10
		sock   = 16 << 10 // SO_SNDBUF and SO_RCVBUF on both sides
		each   = 512 << 10
	)
	for _, single := range []bool{false, true} {
		t.Run(fmt.Sprintf("single-shot=%v", single), func(t *testing.T) {
			h, addr := echoServer(t, Config{OutputBudget: budget, HighWater: 4 << 20, ReadBufSize: rbuf,
				SndBuf: sock, RcvBuf: sock, SingleShotRecv: single})
			ps := make([]*budgetPeer, peers)
			for i := range ps {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				tc := c.(*net.TCPConn)
				tc.SetWriteBuffer(sock)
				tc.SetReadBuffer(sock)
				ps[i] = &budgetPeer{c: tc}
			}
			var wg sync.WaitGroup
			for i, p := range ps {
				wg.Go(func() { p.push(i, each) })
			}

			// The server ends up reading from none of them: every
			// connection has output waiting and no recv armed, and every
			// peer has found its socket full. (Without a budget the peers
			// send all they have instead.)
			deadline := time.Now().Add(60 * time.Second)
			for {
				settled, done := false, true
				for _, p := range ps {
					done = done && p.done.Load()
				}
				if done {
					break
				}
				h.do(func() {
					settled = h.l.squeezed && h.l.conns == peers
					for tr := range h.l.transp {
						settled = settled && tr.Buffered() > 0 && !tr.recvArmed
					}
				})
				for _, p := range ps {
					settled = settled && p.again.Load()
				}
				if settled {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the server did not stop reading from every peer")
				}
				time.Sleep(10 * time.Millisecond)
			}
			for _, p := range ps {
				p.c.SetWriteDeadline(time.Now())
			}
			wg.Wait()

			// Beyond the budget, a connection may take one more read, into
			// buffers that append may have grown to twice that, and hold
			// what the kernel had received for it before its multishot
			// recv was cancelled: no more than its socket buffer (which the
			// kernel doubles).
			bound := budget + peers*(2*rbuf+2*sock)
			var peak int
			var c Counters
			h.do(func() { peak, c = h.l.outPeak, h.l.Counters() })
			total := 0
			for i, p := range ps {
				if p.err != nil {
					t.Fatalf("peer %d: %v", i, p.err)
				}
				if p.sent == each {
					t.Errorf("peer %d sent all its %d bytes: not flow-controlled", i, each)
				}
				total += p.sent
			}
			t.Logf("peers sent %d bytes, the server held at most %d (bound %d), %d budget pauses", total, peak, bound, c.BudgetPauses)
			if peak > bound {
				t.Errorf("unsent and held bytes peaked at %d, bound %d", peak, bound)
			}
			if c.BudgetPauses == 0 {
				t.Error("no budget pause counted")
			}

			// Reading resumes once the peers read: each gets back all it
			// sent, in order.
			for i, p := range ps {
				wg.Go(func() {
					p.c.SetReadDeadline(time.Now().Add(60 * time.Second))
					got := make([]byte, p.sent)
					if _, err := io.ReadFull(p.c, got); err != nil {
						t.Errorf("peer %d reading back %d bytes: %v", i, p.sent, err)
						return
					}
					for off, b := range got {
						if b != streamByte(i, off) {
							t.Errorf("peer %d: echo differs at byte %d", i, off)
							return
						}
					}
				})
			}
			wg.Wait()
			for _, p := range ps {
				p.c.Close()
			}
			waitConns(t, h, 0)
			h.do(func() {
				if h.l.squeezed || h.l.outHeld != 0 {
					t.Errorf("every connection closed: squeezed %v, %d bytes counted as held", h.l.squeezed, h.l.outHeld)
				}
			})
		})
	}
}
