package reactor

import (
	"errors"
	"fmt"
)

// Faults make a transport's system calls misbehave on purpose, in the
// spirit of openresty's mockeagain, so that the rare paths (short writes,
// EAGAIN at any point) run often. Each fraction is a probability per call.
type Faults struct {
	// ShortWriteFrac of writes offer the socket only a random non-empty
	// prefix of what is pending.
	ShortWriteFrac float64
	// WriteEAGAINFrac of writes and ReadEAGAINFrac of reads fail with
	// EAGAIN without making the system call.
	WriteEAGAINFrac float64
	ReadEAGAINFrac  float64
	// Seed makes a run repeatable.
	Seed int64
}

func (f Faults) active() bool {
	return f.ShortWriteFrac > 0 || f.WriteEAGAINFrac > 0 || f.ReadEAGAINFrac > 0
}

// CheckFaultFraction refuses a fraction outside [0, 1): at 1 no call
// would ever get through, and the loop would spin without progress.
func CheckFaultFraction(x float64) error {
	if !(x >= 0 && x < 1) { // also refuses NaN
		return errors.New("outside [0, 1)")
	}
	return nil
}

func (f Faults) validate() error {
	for _, v := range []struct {
		name string
		x    float64
	}{{"short-write", f.ShortWriteFrac}, {"write EAGAIN", f.WriteEAGAINFrac}, {"read EAGAIN", f.ReadEAGAINFrac}} {
		if err := CheckFaultFraction(v.x); err != nil {
			return fmt.Errorf("reactor: %s fault fraction %v: %w", v.name, v.x, err)
		}
	}
	return nil
}

// injectReadEAGAIN decides whether this read fails with a fake EAGAIN.
func (r *Reactor) injectReadEAGAIN() bool {
	if !r.faults || r.cfg.Faults.ReadEAGAINFrac == 0 || r.rng.Float64() >= r.cfg.Faults.ReadEAGAINFrac {
		return false
	}
	r.c.InjectedReadEAGAIN++
	return true
}

func (r *Reactor) injectWriteEAGAIN() bool {
	if !r.faults || r.cfg.Faults.WriteEAGAINFrac == 0 || r.rng.Float64() >= r.cfg.Faults.WriteEAGAINFrac {
		return false
	}
	r.c.InjectedWriteEAGAIN++
	return true
}

// shortWrite returns how much of n pending bytes to offer the socket.
func (r *Reactor) shortWrite(n int) int {
	if !r.faults || n < 2 || r.cfg.Faults.ShortWriteFrac == 0 || r.rng.Float64() >= r.cfg.Faults.ShortWriteFrac {
		return n
	}
	r.c.InjectedShortWrites++
	return 1 + r.rng.IntN(n-1)
}
