//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package busywait

import (
	"fmt"
	"testing"

	"github.com/muxbench/muxbench/poller"
)

// BenchmarkIdleRound is one Wait(0) over n idle descriptors: the price of
// asking every descriptor, paid on every round whether anything is ready
// or not.
func BenchmarkIdleRound(b *testing.B) {
	for _, n := range []int{1, 10, 100, 1000} {
		b.Run(fmt.Sprintf("fds=%d", n), func(b *testing.B) {
			bw := newBackend(b, poller.Options{})
			for i := range n {
				a, _ := pair(b)
				bw.Add(a, uint64(i), poller.Readable)
			}
			ev := make([]poller.Event, 64)
			for b.Loop() {
				bw.Wait(ev, 0)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/fd")
		})
	}
}
