package bench

import (
	"sort"
	"testing"
	"time"
)

// The schedule sends one message every 1/rate seconds over all
// connections, each connection every conns/rate seconds.
func TestScheduleEvenlySpread(t *testing.T) {
	s := schedule{start: 1_000, conns: 4, rate: 1000} // 1 ms apart overall
	if got := s.interval(); got != 4_000_000 {
		t.Errorf("interval = %d ns, want 4 ms", got)
	}
	var all []int64
	for c := range 4 {
		for k := range uint64(5) {
			all = append(all, s.intended(c, k))
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	for i, v := range all {
		if want := int64(1_000 + i*1_000_000); v != want {
			t.Fatalf("send %d at %d ns, want %d", i, v, want)
		}
	}
	if got := s.intended(2, 3) - s.intended(2, 2); got != s.interval() {
		t.Errorf("one connection's period = %d, want %d", got, s.interval())
	}
}

// Far into a long run the arithmetic must not drift.
func TestScheduleNoDrift(t *testing.T) {
	s := schedule{conns: 1000, rate: 30_000}
	k := uint64(30 * 3600) // an hour at 30 messages per second per conn
	if got, want := s.intended(0, k), int64(3600e9); got != want {
		t.Errorf("after an hour: %d, want %d", got, want)
	}
}

// A rate so low that the period overflows int64 puts every message in
// the far future; it used to wrap negative and make all of them overdue.
func TestScheduleOverflowSaturates(t *testing.T) {
	s := schedule{start: 1_000, conns: 100, rate: 1e-9}
	if got := s.interval(); got <= 0 {
		t.Errorf("interval = %d ns at 1e-9 rt/s, want far in the future", got)
	}
	if got := s.intended(5, 7); got <= s.start {
		t.Errorf("intended = %d ns, before the start %d", got, s.start)
	}
}

// The time series keeps 100 ms intervals, so that a comparison's window
// of a second or two draws a line over time; at most 300 in a long one.
func TestSeriesSlot(t *testing.T) {
	for _, c := range []struct{ window, slot time.Duration }{
		{time.Second, 100 * time.Millisecond}, {2 * time.Second, 100 * time.Millisecond},
		{30 * time.Second, 100 * time.Millisecond}, {time.Minute, 200 * time.Millisecond}, {5 * time.Minute, time.Second},
	} {
		if got := time.Duration(seriesSlot(c.window)); got != c.slot {
			t.Errorf("window %v: interval %v, want %v", c.window, got, c.slot)
		}
	}
}
