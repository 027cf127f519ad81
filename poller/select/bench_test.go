//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package selectpoll

import (
	"fmt"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/poller"
)

// BenchmarkWait times one Wait that finds one ready descriptor among idle
// ones: select's cost grows with the idle count. A non-zero timeout costs
// more even though the wait never sleeps: the kernel then queues itself on
// every descriptor it scans before the ready one.
func BenchmarkWait(b *testing.B) {
	for _, timeout := range []time.Duration{0, time.Second} {
		for _, idle := range []int{0, 100, 1000, 4000} {
			b.Run(fmt.Sprintf("timeout=%v/idle=%d", timeout, idle), func(b *testing.B) {
				benchWait(b, "select", idle, timeout)
			})
		}
	}
}

func benchWait(b *testing.B, name string, idle int, timeout time.Duration) {
	p, err := poller.Open(name, poller.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	pair := func() int {
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { unix.Close(fds[0]); unix.Close(fds[1]) })
		return fds[0]
	}
	if p.Capabilities().MaxFD > 0 {
		idle = min(idle, p.Capabilities().MaxFD/2-16)
	}
	for i := range idle {
		if err := p.Add(pair(), uint64(i), poller.Readable); err != nil {
			b.Fatal(err)
		}
	}
	// The active one is the newest, so the highest descriptor.
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	unix.Write(fds[1], []byte("x"))
	if err := p.Add(fds[0], 1<<32, poller.Readable); err != nil {
		b.Fatal(err)
	}
	ev := make([]poller.Event, 64)
	b.ResetTimer()
	for b.Loop() {
		if n, err := p.Wait(ev, timeout); n != 1 || err != nil {
			b.Fatalf("Wait = %d, %v", n, err)
		}
	}
}
