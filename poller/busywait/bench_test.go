//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package busywait

import (
	"fmt"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/poller"
)

// BenchmarkIdleRound is one Wait(0) over n idle descriptors: the price of
// asking every descriptor, paid on every round whether anything is ready
// or not.
func BenchmarkIdleRound(b *testing.B) {
	for _, n := range []int{1, 10, 100, 1000} {
		b.Run(fmt.Sprintf("fds=%d", n), func(b *testing.B) {
			bw := newBackend(b, poller.Options{})
			for range n {
				a, _ := pair(b)
				bw.Add(a, poller.Readable)
			}
			ev := make([]poller.Event, 64)
			for b.Loop() {
				bw.Wait(ev, 0)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/fd")
		})
	}
}

// BenchmarkIdleWait is a Wait(10ms) on one idle descriptor: it reports the
// CPU the process burns while nothing happens (cpu-% of one core), the
// cost spinning pays and a nap after each idle round cuts.
func BenchmarkIdleWait(b *testing.B) {
	for _, nap := range []time.Duration{0, DefaultSleep, time.Millisecond} {
		b.Run(fmt.Sprintf("sleep=%dus", nap.Microseconds()), func(b *testing.B) {
			bw := newBackend(b, poller.Options{SpinSleep: nap})
			a, _ := pair(b)
			bw.Add(a, poller.Readable)
			ev := make([]poller.Event, 1)
			c0 := cpuTime(b)
			for b.Loop() {
				bw.Wait(ev, 10*time.Millisecond)
			}
			b.ReportMetric(100*float64(cpuTime(b)-c0)/float64(b.Elapsed()), "cpu-%")
			b.ReportMetric(float64(bw.rounds)/float64(b.N), "rounds/op")
		})
	}
}

func cpuTime(b *testing.B) time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
