// Package testserver gives tests connected non-blocking socket pairs, the
// fixture every poller test starts from, and servers of their own making.
// Tests only: no other code imports it.
package testserver

import (
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Raw returns a connected non-blocking, close-on-exec AF_UNIX stream pair
// that the caller closes. The flags are set apart: darwin has no
// SOCK_NONBLOCK.
func Raw(t testing.TB) (a, b int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatalf("socketpair: %v", err)
	}
	for _, fd := range fds {
		unix.CloseOnExec(fd)
		if err := unix.SetNonblock(fd, true); err != nil {
			unix.Close(fds[0])
			unix.Close(fds[1])
			t.Fatal(err)
		}
	}
	return fds[0], fds[1]
}

// Pair is Raw, closed when the test ends. A test that closes an end early
// must use Raw: a second close could hit a reused descriptor number.
func Pair(t testing.TB) (a, b int) {
	t.Helper()
	a, b = Raw(t)
	t.Cleanup(func() { unix.Close(a); unix.Close(b) })
	return a, b
}

// Serve accepts on ln until the test ends and hands each connection to
// handle on a goroutine of its own (see Accept). The cleanup closes ln
// and every connection, then waits for the handlers.
func Serve(t testing.TB, ln net.Listener, handle func(net.Conn)) {
	t.Helper()
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		Accept(ln, func(c net.Conn) {
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() { handle(c) })
		})
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
}

// Accept hands each connection ln accepts to took, until ln is closed.
// An accept that fails for another reason (the process out of
// descriptors) is tried again.
func Accept(ln net.Listener, took func(net.Conn)) {
	for {
		c, err := ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		took(c)
	}
}
