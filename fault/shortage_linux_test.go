package fault

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/internal/testserver"
	"github.com/muxbench/muxbench/sysstat"
)

// A crowd larger than this process's descriptors allow is this process's
// shortage, and said to be: no peer counts it as the server's doing.
func TestOwnDescriptorShortage(t *testing.T) {
	// Each connection is held, its first byte read and the rest left to
	// fill the buffers.
	addr := testserver.Listen(t, func(c net.Conn) { c.Read(make([]byte, 1)) })
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	low := lim
	low.Cur = uint64(sysstat.OpenFDs() + 40)
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &low); err != nil {
		t.Skipf("cannot lower RLIMIT_NOFILE: %v", err)
	}
	defer unix.Setrlimit(unix.RLIMIT_NOFILE, &lim)

	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	rep, err := Run(ctx, Config{Target: addr, NeverReaders: 200, Timeout: 5 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "this process ran out of descriptors, not the server") {
		t.Errorf("err = %v, want this process's shortage named", err)
	}
	if rep == nil {
		t.Fatal("no report beside the error")
	}
	if rep.ConnFailures != 0 {
		t.Errorf("%d connection failures counted: %q", rep.ConnFailures, rep.Errors)
	}
	for _, h := range rep.Hostile {
		if h.Unexpected != 0 {
			t.Errorf("%s: %d peers counted as meeting a server that misbehaved: %q", h.Kind, h.Unexpected, rep.Errors)
		}
	}
}
