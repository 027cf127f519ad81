//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package reactor

import "testing"

// The loop's system-call count holds every call it made: each read and
// write, each of the poller's calls, and besides them at least an accept
// and a close for a connection that came and went.
func TestSyscallsCounted(t *testing.T) {
	forEachMode(t, func(t *testing.T, m mode) {
		r := newReactor(t, m, Config{})
		addr, made := echoServer(t, r)
		start(t, r)
		snap := func() (c Counters, p uint64) {
			onLoop(t, r, func() { c, p = r.Counters(), r.p.Syscalls() })
			return c, p
		}
		c0, p0 := snap()
		c := dial(t, addr)
		const n = 20
		for i := range n {
			roundTrip(t, c, pattern(64, uint64(i+1)), 64)
		}
		c.Close()
		recv(t, recv(t, made, "the server's connection").lost, "its ConnectionLost")
		c1, p1 := snap()
		calls := int64(c1.Syscalls - c0.Syscalls)
		reads, writes, polls := int64(c1.Reads-c0.Reads), int64(c1.Writes-c0.Writes), int64(p1-p0)
		if writes < n || reads < n {
			t.Fatalf("%d reads and %d writes for %d echoes", reads, writes, n)
		}
		if own := calls - reads - writes - polls; own < 2 {
			t.Errorf("%d system calls counted: %d reads, %d writes and %d poller calls leave %d for the accept and the close",
				calls, reads, writes, polls, own)
		}
	})
}
