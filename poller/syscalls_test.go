package poller_test

import (
	"testing"
	"time"
)

// TestSyscallsCounted: every backend accounts for at least one system
// call per Wait that finds nothing ready. (A Wait may cost none: iouring
// serves one from completions already in its queue.)
func TestSyscallsCounted(t *testing.T) {
	for _, tg := range targets() {
		t.Run(tg.name, func(t *testing.T) {
			p := open(t, tg)
			a, b := pair(t)
			add(t, p, a, tok(a), R)
			before := p.Syscalls()
			const waits = 5
			for i := 0; i < waits; i++ {
				waitOnce(t, p, 0)
			}
			write(t, b, "x")
			waitOnce(t, p, time.Second)
			if got := p.Syscalls() - before; got < waits {
				t.Fatalf("%d system calls counted for %d idle Waits and one more", got, waits)
			}
		})
	}
}
