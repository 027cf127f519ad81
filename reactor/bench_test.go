//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package reactor

import (
	"testing"
	"time"
)

// BenchmarkPingPong bounces one byte between a client and a server on one
// loop: an op is one message received, so ns/op is half a round trip of
// loop overhead plus the system calls, without a cross-core wake-up.
func BenchmarkPingPong(b *testing.B) {
	for _, m := range modes() {
		b.Run(m.name, func(b *testing.B) {
			r := newReactor(b, m, Config{})
			defer r.Close()
			done := 0
			onLost := func() {
				if done++; done == 2 {
					r.Stop()
				}
			}
			msg := []byte{'*'}
			l, err := r.Listen("tcp", "127.0.0.1:0", func() Protocol { return &pp{msg: msg, onLost: onLost} })
			if err != nil {
				b.Fatal(err)
			}
			// Both sides start with a message, so the client receives about
			// two per round trip of the pair.
			client := &pp{msg: msg, max: b.N, onLost: onLost}
			if err := r.Connect("tcp", l.Addr().String(), client); err != nil {
				b.Fatal(err)
			}
			stuck := time.AfterFunc(time.Minute, r.Stop)
			defer stuck.Stop()
			b.ResetTimer()
			if err := r.Run(); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if done != 2 {
				b.Fatal("stopped before both sides closed")
			}
			c := r.Counters()
			b.ReportMetric(float64(c.Waits)/float64(b.N), "waits/op")
			b.ReportMetric(float64(c.Reads+c.Writes)/float64(b.N), "syscalls/op")
		})
	}
}
