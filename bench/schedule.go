package bench

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
	return s.start + int64((float64(c)+float64(k)*float64(s.conns))*1e9/s.rate)
}

// interval is one connection's period in ns.
func (s schedule) interval() int64 {
	return int64(float64(s.conns) * 1e9 / s.rate)
}
