package server

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/muxbench/muxbench/internal/testserver"
)

// A small receive buffer with large messages: every engine sets it on
// the listener, before the handshake chooses the window scale, so every
// engine echoes. Set after accept, the reactor's window stayed stuck and
// nothing came back. The sizes the kernel applied are what Stats reports.
func TestSmallRcvBufLargeMessages(t *testing.T) {
	const rcvBuf, size = 4096, 1 << 20
	msg := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	for _, b := range backends() {
		t.Run(b, func(t *testing.T) {
			s := startServer(t, Config{Backend: b, RcvBuf: rcvBuf, SndBuf: rcvBuf})
			c := dialN(t, s.Addr(), 1)[0]
			c.SetDeadline(time.Now().Add(20 * time.Second))
			werr := make(chan error, 1)
			go func() { _, err := c.Write(msg); werr <- err }()
			got := make([]byte, size)
			if _, err := io.ReadFull(c, got); err != nil {
				t.Fatalf("1 MiB echo through a %d B receive buffer: %v", rcvBuf, err)
			}
			if err := <-werr; err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, msg) {
				t.Fatal("echo mismatch")
			}
			ctl := testserver.Control(t, s.ControlAddr(), "")
			st := testserver.Stats(t, ctl)
			// Linux doubles the size asked, the BSDs keep it.
			for name, v := range map[string]int{"SO_SNDBUF": st.Options.SndBuf, "SO_RCVBUF": st.Options.RcvBuf} {
				if v < rcvBuf || v > 2*rcvBuf {
					t.Errorf("%s read back as %d, asked %d", name, v, rcvBuf)
				}
			}
			if st.Accept.Accepted != 1 || st.Accept.Refused() != 0 {
				t.Errorf("accepts %+v", st.Accept)
			}
		})
	}
}
