package bench

import "math"

// schedule is the open-loop plan: rate round trips per second over all
// conns, spread evenly. Connection c sends its k-th message at
// start + (c + k*conns)/rate, so the whole run sends exactly one message
// every 1/rate seconds and no two connections fire together.
type schedule struct {
	start int64 // ns on the loop clock
	conns int
	rate  float64
}

// intended is when connection c's k-th message is due, in ns.
func (s schedule) intended(c int, k uint64) int64 {
	return s.start + saturate((float64(c)+float64(k)*float64(s.conns))*1e9/s.rate, math.MaxInt64-s.start)
}

// interval is one connection's period in ns.
func (s schedule) interval() int64 {
	return saturate(float64(s.conns)*1e9/s.rate, math.MaxInt64)
}

// saturate converts ns to an integer no larger than limit: converting a
// float beyond int64 is undefined in Go, and on amd64 it gives the most
// negative number, which would make every message overdue.
func saturate(ns float64, limit int64) int64 {
	if !(ns < float64(limit)) { // NaN too
		return limit
	}
	return int64(ns)
}
