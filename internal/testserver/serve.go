// Package testserver holds what the tests stand up again and again:
// echo servers honest and broken, an address no one listens on, a test
// binary that plays `muxbench serve` or a user's own server as a child,
// a server's control channel, and the connected socket pairs every
// poller test starts from. Tests only: no other code imports it.
package testserver

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"
)

// Listen serves handle on a loopback listener until the test ends (see
// Serve) and returns its address.
func Listen(t testing.TB, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	Serve(t, ln, handle)
	return ln.Addr().String()
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

// ClosedAddr is a loopback address no one listens on, a port that was
// listening a moment ago: one that refuses connections, or that a server
// the test starts can take.
func ClosedAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// ServeChild makes the test binary a user's own server, started by a
// test as a child: it listens on 127.0.0.1:port ("0" for any), calls
// ready (if not nil) with the address, and hands each connection it accepts to took,
// on the accepting goroutine (took blocking stops the accepts). It exits
// when its stdin ends, as the servers muxbench starts must, and never
// returns.
func ServeChild(port string, ready func(net.Addr), took func(net.Conn)) {
	ln, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if ready != nil {
		ready(ln.Addr())
	}
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	Accept(ln, took)
	os.Exit(1)
}
