package bench

import _ "unsafe" // for go:linkname

// nanotime is the runtime's monotonic clock: one vDSO call, without the
// wall-clock read time.Now adds. The loops read it once per round trip.
//
//go:linkname nanotime runtime.nanotime
func nanotime() int64
