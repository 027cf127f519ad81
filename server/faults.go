package server

import (
	"fmt"
	"strconv"

	"github.com/muxbench/muxbench/reactor"
)

// Faults injects short writes and EAGAIN into a reactor backend.
type Faults = reactor.Faults

func faultsActive(f Faults) bool {
	return f.ShortWriteFrac > 0 || f.WriteEAGAINFrac > 0 || f.ReadEAGAINFrac > 0
}

// checkFaults refuses fractions outside [0, 1): at 1 no call would ever
// get through and the loop would spin without progress.
func checkFaults(f Faults) error {
	for _, x := range []struct {
		name string
		v    float64
	}{{"short-write", f.ShortWriteFrac}, {"write EAGAIN", f.WriteEAGAINFrac}, {"read EAGAIN", f.ReadEAGAINFrac}} {
		if !(x.v >= 0 && x.v < 1) { // also refuses NaN
			return fmt.Errorf("server: %s fraction %v outside [0,1)", x.name, x.v)
		}
	}
	return nil
}

func describeFaults(f Faults, o map[string]string) {
	if !faultsActive(f) {
		return
	}
	frac := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	o["inject_short_writes"] = frac(f.ShortWriteFrac)
	o["inject_write_eagain"] = frac(f.WriteEAGAINFrac)
	o["inject_read_eagain"] = frac(f.ReadEAGAINFrac)
	o["seed"] = strconv.FormatInt(f.Seed, 10)
}
