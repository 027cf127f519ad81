//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package protocol

import (
	"net"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/poller"
	"github.com/muxbench/muxbench/reactor"
)

// TestEchoIdleMemory is the server's cost per idle echo connection in Go
// heap, the figure that decides how many idle connections a sweep can
// hold. Clients are raw sockets so they add nothing to the heap.
func TestEchoIdleMemory(t *testing.T) {
	const n = 2000
	backend := "epoll"
	if _, ok := poller.Lookup(backend); !ok {
		backend = poller.Names()[0]
	}
	r, err := reactor.New(reactor.Config{Backend: backend})
	if err != nil {
		t.Fatal(err)
	}
	l, err := r.Listen("tcp", "127.0.0.1:0", NewEcho)
	if err != nil {
		t.Fatal(err)
	}
	ta := l.Addr().(*net.TCPAddr)
	sa := &unix.SockaddrInet4{Port: ta.Port}
	copy(sa.Addr[:], ta.IP.To4())
	run(t, r)
	conns := func() int {
		c := make(chan int)
		r.Call(func() { c <- r.Conns() })
		return <-c
	}
	conns()
	before := heapAlloc()
	var fds []int
	t.Cleanup(func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	})
	for range n {
		fd, err := rawSocket(unix.AF_INET)
		if err != nil {
			t.Fatal(err)
		}
		fds = append(fds, fd)
		if err := unix.Connect(fd, sa); err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(20 * time.Second); conns() < n; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("not every connection accepted")
		}
	}
	after := heapAlloc()
	per := (float64(after) - float64(before)) / n
	t.Logf("%s: %d idle echo connections: %.0f bytes of heap each", backend, n, per)
	if per > 4096 {
		t.Errorf("an idle echo connection costs %.0f bytes, want well under 4 KiB", per)
	}
}

func heapAlloc() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

func rawSocket(domain int) (int, error) {
	fd, err := unix.Socket(domain, unix.SOCK_STREAM, 0)
	if err == nil {
		unix.CloseOnExec(fd)
	}
	return fd, err
}
