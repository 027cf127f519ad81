//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package reactor

import (
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/poller"
)

// TestIdleConnMemory measures the Go heap an idle server connection costs
// (transport, slot, protocol, registration), with clients on raw sockets
// so that they add nothing to the heap. Kernel socket memory is not in it.
func TestIdleConnMemory(t *testing.T) {
	const n = 2000
	backend := "epoll"
	if _, ok := poller.Lookup(backend); !ok {
		backend = poller.Names()[0]
	}
	r := newReactor(t, mode{name: backend, backend: backend}, Config{})
	l, err := r.Listen("tcp", "127.0.0.1:0", func() Protocol { return newEchoRec() })
	if err != nil {
		t.Fatal(err)
	}
	sa, domain, err := sockaddr("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	start(t, r)
	// Let the loop reach its steady state before the baseline.
	onLoop(t, r, func() {})
	before := heap()
	fds := make([]int, 0, n)
	t.Cleanup(func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	})
	for range n {
		fd, err := rawSocket(domain)
		if err != nil {
			t.Fatal(err)
		}
		fds = append(fds, fd)
		if err := unix.Connect(fd, sa); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, r, "every connection accepted", 20*time.Second, func() bool { return r.conns == n })
	after := heap()
	per := (float64(after) - float64(before)) / n
	t.Logf("%s: %d idle connections, heap %d -> %d bytes: %.0f bytes each", backend, n, before, after, per)
	if per > 4096 {
		t.Errorf("an idle connection costs %.0f bytes of heap, want well under 4 KiB", per)
	}
}

func heap() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
