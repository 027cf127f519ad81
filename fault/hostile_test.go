package fault

import (
	"context"
	"net"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/internal/testserver"
	"github.com/muxbench/muxbench/result"
	"github.com/muxbench/muxbench/sysstat"
)

// tightEcho echoes each piece before it reads the next, through socket
// buffers as small as the kernel allows: a server that stops reading
// while its echo is unread, on a machine short of TCP memory, where the
// kernel keeps every buffer near its minimum.
func tightEcho(t *testing.T) string {
	t.Helper()
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var err error
		rc.Control(func(fd uintptr) {
			for _, opt := range []int{unix.SO_RCVBUF, unix.SO_SNDBUF} {
				if e := unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, opt, 4096); e != nil {
					err = e
				}
			}
		})
		return err
	}}
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	testserver.Serve(t, ln, func(c net.Conn) {
		defer c.Close()
		buf := make([]byte, 4096)
		for {
			n, err := c.Read(buf)
			if n > 0 {
				if _, werr := c.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	})
	return ln.Addr().String()
}

// The hostile peers that must see their echo through, or that reset in
// the middle of a message, do not wait on the socket buffers holding a
// whole message: against a server that stops reading while its echo is
// unread, with small buffers, each still gets through as expected. Their
// halves and quarters of 16 MiB are more than loopback's buffers hold.
// On a machine short of TCP memory every transfer crawls: a failure there
// is tried again, and not judged if the shortage lasts.
func TestHostilePeersDoNotLeanOnBuffers(t *testing.T) {
	cfg, err := Config{Target: tightEcho(t), Hostile: true, LargeMsg: 16 << 20, Timeout: 5 * time.Second}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{ResetMidMessage, HalfClose} {
		for try := 1; ; try++ {
			m0, err0 := sysstat.ReadTCPMemory()
			s := &state{cfg: cfg, hostile: make(map[string]*result.HostileKind)}
			start := time.Now()
			s.hostilePeer(context.Background(), kind)
			m1, err1 := sysstat.ReadTCPMemory()
			h := s.hostile[kind]
			if h != nil && h.Expected == 1 {
				break
			}
			if err0 != nil || err1 != nil || !sysstat.TCPMemoryShort(m0, m1) {
				t.Errorf("%s against a server with small buffers: %+v after %v, errors %q", kind, h, time.Since(start), s.rep.Errors)
				break
			}
			if try == 3 {
				t.Logf("%s not judged: the machine's TCP memory was under pressure in each of %d tries", kind, try)
				break
			}
		}
	}
}
