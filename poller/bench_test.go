package poller_test

import (
	"fmt"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/poller"
)

// BenchmarkChain is libevent's test/bench.c: pairs socket pairs, all
// registered for reading, and active bytes in flight. Each byte read from
// pair i is written on to pair i+1, so that active descriptors are ready at
// any time out of pairs watched. One op is one event delivered: a Wait's
// share, one read and one write. A multiplexer whose cost grows with what
// it watches (select, poll, busy-waiting) shows it as pairs grows; one
// whose cost grows with what is ready (epoll, kqueue) stays flat.
//
// The work is b.N events and no more. Busy-waiting over 5000 pairs costs
// milliseconds an event, so a count such as -benchtime 2000x would run for
// many seconds: a spinning backend skips a run whose scans exceed
// spinBudget, and a duration (-benchtime 1s, the default) runs it.
func BenchmarkChain(b *testing.B) {
	for _, info := range poller.Backends() {
		for _, pairs := range []int{100, 1000, 5000} {
			for _, active := range []int{1, 100} {
				name := fmt.Sprintf("backend=%s/pairs=%d/active=%d", info.Name, pairs, active)
				b.Run(name, func(b *testing.B) { benchChain(b, info, pairs, active) })
			}
		}
	}
}

// spinBudget bounds how many descriptors a spinning backend may ask about
// in one run: a few seconds at the ~0.7 us a question measured here.
const spinBudget = 4_000_000

func benchChain(b *testing.B, info poller.Info, pairs, active int) {
	// Two descriptors a pair, plus what the process already holds.
	need := 2*pairs + 64
	if max := info.Caps.MaxFD; max > 0 && max < need {
		b.Skipf("%s watches descriptors below %d only; %d pairs need %d", info.Name, max, pairs, need)
	}
	if lim := fdLimit(); lim > 0 && lim < need {
		b.Skipf("RLIMIT_NOFILE is %d; %d pairs need %d", lim, pairs, need)
	}
	if scans := b.N / active * pairs; info.Caps.Spins && scans > spinBudget {
		b.Skipf("%s: %d events over %d pairs ask about %d descriptors, more than %d; use -benchtime 1s",
			info.Name, b.N, pairs, scans, spinBudget)
	}
	p, err := poller.Open(info.Name, poller.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	rd := make([]int, pairs)
	wr := make([]int, pairs)
	for i := range rd {
		a, w := pair(b)
		rd[i], wr[i] = a, w
		if err := p.Add(a, uint64(i), poller.Readable); err != nil {
			b.Fatal(err)
		}
	}

	one := []byte{'e'}
	var buf [1]byte
	send := func(i int) {
		if n, err := unix.Write(wr[i], one); n != 1 {
			b.Fatalf("write pair %d: %d, %v", i, n, err)
		}
	}
	evs := make([]poller.Event, 256)
	writes := b.N - active // the first active sends count as events too
	fired, count, waits := 0, 0, 0

	b.ResetTimer()
	start := time.Now()
	space := pairs / active
	for i := 0; i < active; i++ {
		send(i * space)
		fired++
	}
	for count < fired {
		n, err := p.Wait(evs, time.Second)
		if err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			b.Fatalf("chain stalled: %d of %d events delivered", count, fired)
		}
		waits++
		for _, e := range evs[:n] {
			i := int(e.Token)
			if got, err := unix.Read(rd[i], buf[:]); got != 1 {
				b.Fatalf("read pair %d: %d, %v", i, got, err)
			}
			count++
			if writes > 0 {
				send((i + 1) % pairs)
				writes--
				fired++
			}
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(count), "ns/event")
	b.ReportMetric(float64(count)/float64(waits), "events/wait")
}

// BenchmarkIdleWait times one Wait that finds one ready descriptor among
// idle ones: the cost of select, poll and busy-waiting grows with the idle
// count, epoll's and kqueue's does not. For select and poll a non-zero
// timeout costs more even though the wait never sleeps: the kernel then
// queues itself on every descriptor it scans before the ready one.
func BenchmarkIdleWait(b *testing.B) {
	for _, info := range poller.Backends() {
		for _, timeout := range []time.Duration{0, time.Second} {
			for _, idle := range []int{0, 100, 1000, 4000} {
				name := fmt.Sprintf("backend=%s/timeout=%v/idle=%d", info.Name, timeout, idle)
				b.Run(name, func(b *testing.B) { benchIdleWait(b, info, idle, timeout) })
			}
		}
	}
}

func benchIdleWait(b *testing.B, info poller.Info, idle int, timeout time.Duration) {
	// Two descriptors a pair, plus what the process already holds.
	need := 2*(idle+1) + 64
	if max := info.Caps.MaxFD; max > 0 && max < need {
		b.Skipf("%s watches descriptors below %d only; %d idle need %d", info.Name, max, idle, need)
	}
	if lim := fdLimit(); lim > 0 && lim < need {
		b.Skipf("RLIMIT_NOFILE is %d; %d idle need %d", lim, idle, need)
	}
	p, err := poller.Open(info.Name, poller.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	for i := range idle {
		a, _ := pair(b)
		if err := p.Add(a, uint64(i), poller.Readable); err != nil {
			b.Fatal(err)
		}
	}
	// The active one is the newest, so the highest descriptor.
	a, w := pair(b)
	write(b, w, "x")
	if err := p.Add(a, 1<<32, poller.Readable); err != nil {
		b.Fatal(err)
	}
	ev := make([]poller.Event, 64)
	for b.Loop() {
		if n, err := p.Wait(ev, timeout); n != 1 || err != nil {
			b.Fatalf("Wait = %d, %v", n, err)
		}
	}
}
