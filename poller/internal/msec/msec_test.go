package msec

import (
	"math"
	"testing"
	"time"
)

func TestTimeout(t *testing.T) {
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
		{time.Duration(math.MaxInt64), 1<<31 - 1},
	} {
		if got := Timeout(c.d); got != c.want {
			t.Errorf("Timeout(%v) = %d, want %d", c.d, got, c.want)
		}
	}
}
