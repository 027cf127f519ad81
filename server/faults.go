package server

import "github.com/muxbench/muxbench/reactor"

// Faults injects short writes and EAGAIN into a reactor backend.
type Faults = reactor.Faults

func faultsActive(f Faults) bool {
	return f.ShortWriteFrac > 0 || f.WriteEAGAINFrac > 0 || f.ReadEAGAINFrac > 0
}
