//go:build linux

package proactor

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

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
// it sent once it reads. A crowded server receives with no multishot
// recv: each could bring in all the kernel holds for its connection.
func TestOutputBudget(t *testing.T) {
	need(t)
	const (
		peers   = 200
		budget  = 256 << 10
		rbuf    = 16 << 10
		buffers = 64
		sock    = 16 << 10 // SO_SNDBUF and SO_RCVBUF on both sides
		each    = 512 << 10
	)
	for _, single := range []bool{false, true} {
		t.Run(fmt.Sprintf("single-shot=%v", single), func(t *testing.T) {
			h, addr := echoServer(t, Config{OutputBudget: budget, HighWater: 4 << 20, ReadBufSize: rbuf,
				SndBuf: sock, RcvBuf: sock, SingleShotRecv: single, Buffers: buffers})
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
			// At the start of every round of the loop (which then never
			// blocks): a crowded server whose multishot recvs go on is
			// seen.
			var (
				stopWatch   atomic.Bool
				crowded     int
				multishotOn int
				watch       func()
			)
			watched := make(chan struct{})
			watch = func() {
				if h.l.crowded {
					crowded++
					for tr := range h.l.transp {
						if tr.recvArmed && tr.recvMulti && !tr.recvCancel {
							multishotOn++
							break
						}
					}
				}
				if stopWatch.Load() {
					close(watched)
					return
				}
				h.l.Call(watch)
			}
			h.l.Call(watch)

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
			stopWatch.Store(true)
			<-watched
			for _, p := range ps {
				p.c.SetWriteDeadline(time.Now())
			}
			wg.Wait()
			if multishotOn > 0 {
				t.Errorf("%d of %d looks at the crowded server found a multishot recv armed, not being cancelled", multishotOn, crowded)
			}

			// Beyond the budget: what one wait brought in (no more than
			// the receive buffers hold), and a crowded read in flight per
			// connection, in buffers that grow by doubling.
			bound := 2 * (budget + buffers*rbuf + peers*rbuf/crowdedReadDiv)
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

// resident is the fraction of b's pages in memory (mincore(2)).
func resident(t *testing.T, b []byte) float64 {
	t.Helper()
	page := os.Getpagesize()
	vec := make([]byte, (len(b)+page-1)/page)
	_, _, e := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), uintptr(unsafe.Pointer(&vec[0])))
	if e != 0 {
		t.Fatalf("mincore: %v", e)
	}
	n := 0
	for _, v := range vec {
		n += int(v & 1)
	}
	return float64(n) / float64(len(vec))
}

// TestCrowdedRingGivesPagesBack: the receive buffers, filled whole by a
// bulk transfer, give their pages back as they are recycled while the
// server is crowded, whose short reads then touch few of them: at the
// height of a crowd the memory is the budget's, not the ring's.
func TestCrowdedRingGivesPagesBack(t *testing.T) {
	need(t)
	const (
		buffers = 8
		rbuf    = 64 << 10
		budget  = 4 << 20 // crowded above 3 MiB: not by the bulk echo
		sock    = 16 << 10
	)
	h, addr := echoServer(t, Config{Buffers: buffers, ReadBufSize: rbuf, OutputBudget: budget, HighWater: 4 << 20, SndBuf: sock})
	ring := unsafe.Slice(&h.l.bufs.Buf(0)[0], buffers*rbuf)

	// A bulk echo fills every buffer.
	bulk, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer bulk.Close()
	bulk.SetDeadline(time.Now().Add(30 * time.Second))
	msg := bytes.Repeat([]byte("0123456789abcdef"), 2*buffers*rbuf/16)
	go bulk.Write(msg)
	if _, err := io.ReadFull(bulk, make([]byte, len(msg))); err != nil {
		t.Fatal(err)
	}
	var before float64
	h.do(func() { before = resident(t, ring) })

	// A peer that never reads crowds the server.
	crowd, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer crowd.Close()
	crowd.(*net.TCPConn).SetReadBuffer(sock)
	crowd.SetWriteDeadline(time.Now().Add(30 * time.Second))
	go func() {
		for p := make([]byte, rbuf); ; {
			if _, err := crowd.Write(p); err != nil {
				return
			}
		}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for crowded := false; !crowded; time.Sleep(5 * time.Millisecond) {
		h.do(func() { crowded = h.l.crowded })
		if time.Now().After(deadline) {
			t.Fatal("the server never became crowded")
		}
	}

	// Short messages, echoed, take every buffer in turn.
	small := []byte("ping")
	got := make([]byte, len(small))
	for range 4 * buffers {
		if _, err := bulk.Write(small); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(bulk, got); err != nil || !bytes.Equal(got, small) {
			t.Fatalf("echo %q, %v", got, err)
		}
	}
	var after float64
	var crowded bool
	h.do(func() { after, crowded = resident(t, ring), h.l.crowded })
	t.Logf("receive buffers resident: %.0f%% after the bulk echo, %.0f%% once crowded", 100*before, 100*after)
	if !crowded {
		t.Skip("the crowd ended early: nothing to judge")
	}
	if before < 0.75 || after > 0.25 {
		t.Errorf("receive buffers resident: %.0f%% after the bulk echo (want most), %.0f%% once crowded (want at most 25%%)", 100*before, 100*after)
	}
}
