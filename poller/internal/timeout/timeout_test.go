package timeout

import (
	"math"
	"testing"
	"time"
)

func TestMillis(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want int
	}{
		{-time.Nanosecond, -1},
		{-time.Hour, -1},
		{0, 0},
		{time.Nanosecond, 1},
		{time.Millisecond, 1},
		{time.Millisecond + 1, 2},
		{1500 * time.Microsecond, 2},
		{time.Second, 1000},
		{time.Duration(math.MaxInt64), int(Max / time.Millisecond)},
	} {
		if got := Millis(c.d); got != c.want {
			t.Errorf("Millis(%v) = %d, want %d", c.d, got, c.want)
		}
	}
}

func TestTimespecTimeval(t *testing.T) {
	if Timespec(-1) != nil || Timeval(-1) != nil {
		t.Error("a negative timeout must block (nil)")
	}
	for _, c := range []struct {
		d        time.Duration
		sec      int64
		nsec, us int64
	}{
		{0, 0, 0, 0},
		{time.Nanosecond, 0, 1, 1},
		{1500 * time.Microsecond, 0, 1500000, 1500},
		{2*time.Second + 1, 2, 1, 1},
		{time.Duration(math.MaxInt64), int64(Max / time.Second), 0, 0},
	} {
		ts, tv := Timespec(c.d), Timeval(c.d)
		if int64(ts.Sec) != c.sec || int64(ts.Nsec) != c.nsec {
			t.Errorf("Timespec(%v) = %d s %d ns, want %d s %d ns", c.d, ts.Sec, ts.Nsec, c.sec, c.nsec)
		}
		if int64(tv.Sec) != c.sec || int64(tv.Usec) != c.us {
			t.Errorf("Timeval(%v) = %d s %d us, want %d s %d us", c.d, tv.Sec, tv.Usec, c.sec, c.us)
		}
	}
}
