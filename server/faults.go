package server

import (
	"fmt"

	"github.com/muxbench/muxbench/reactor"
	"github.com/muxbench/muxbench/result"
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

func describeFaults(f Faults, o *result.ServerOptions) {
	if !faultsActive(f) {
		return
	}
	o.InjectShortWrites = f.ShortWriteFrac
	o.InjectWriteEAGAIN = f.WriteEAGAINFrac
	o.InjectReadEAGAIN = f.ReadEAGAINFrac
	o.FaultSeed = f.Seed
}
