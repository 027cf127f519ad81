//go:build linux

package proactor

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"github.com/muxbench/muxbench/reactor"
)

// TestSpares: a spare fits what is asked, not many times more; a full set
// of spares gives its largest up for a smaller newcomer.
func TestSpares(t *testing.T) {
	var s spares
	s.put(make([]byte, 10, 64), 1<<20)
	s.put(make([]byte, 0, 4096), 1<<20)
	if b := s.take(100); b != nil {
		t.Errorf("take(100) = cap %d, want none: 64 is too small, 4096 too large", cap(b))
	}
	if b := s.take(1024); cap(b) != 4096 || len(b) != 0 {
		t.Errorf("take(1024) = len %d cap %d, want an empty 4096", len(b), cap(b))
	}
	if b := s.take(64); cap(b) != 64 || s.bytes != 0 {
		t.Errorf("take(64) = cap %d, %d bytes left", cap(b), s.bytes)
	}
	s.put(make([]byte, 0, 1<<16), 1<<16)
	s.put(make([]byte, 0, 1<<10), 1<<16)
	if s.bytes != 1<<10 || s.take(1<<16) != nil || cap(s.take(1<<10)) != 1<<10 {
		t.Errorf("a full set kept the larger spare over the newcomer")
	}
	s.put(make([]byte, 0, 1<<17), 1<<16)
	if s.bytes != 0 {
		t.Errorf("kept a spare above the limit")
	}
}

// TestDrainedBuffersGoBack: a connection whose output drained keeps no
// buffer (it gives them to the loop for the next writer, within a
// quarter of the budget), and what a connection keeps is counted
// against the budget. A connection once kept its drained buffers,
// uncounted: peers that never read, 500 of them, then held 600 MiB of
// them beyond a budget of 64 MiB.
func TestDrainedBuffersGoBack(t *testing.T) {
	need(t)
	const size = 1 << 20
	h, addr := echoServer(t, Config{SndBuf: 16 << 10})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	msg := bytes.Repeat([]byte("muxbench"), size/8)
	go c.Write(msg)
	got := make([]byte, size)
	if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("echo of %d bytes: %v", size, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var kept, counted, held, spare int
		h.do(func() {
			for tr := range h.l.transp {
				kept += cap(tr.sending) + cap(tr.out) + cap(tr.held)
				counted += tr.acct
			}
			held, spare = h.l.outHeld, h.l.spare.bytes
		})
		if kept == 0 && counted == 0 && held == 0 {
			if spare == 0 || spare > reactor.DefaultOutputBudget/spareDiv {
				t.Errorf("%d bytes of spare buffers, want some, at most %d", spare, reactor.DefaultOutputBudget/spareDiv)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("drained: the connection keeps %d bytes of buffers, %d of them counted (%d in all)", kept, counted, held)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
