package server

import (
	"fmt"
	"strconv"
)

// Faults injects failures into a reactor's writes, to exercise the
// short-write and EAGAIN paths with small messages and default buffers.
type Faults struct {
	// ShortWrites is the fraction of writes cut short.
	ShortWrites float64
	// EAGAIN is the fraction of writes failed with EAGAIN.
	EAGAIN float64
	// Seed makes the injection reproducible.
	Seed int64
}

func (f Faults) any() bool { return f.ShortWrites > 0 || f.EAGAIN > 0 }

func (f Faults) check() error {
	for _, x := range []struct {
		name string
		v    float64
	}{{"short-write", f.ShortWrites}, {"EAGAIN", f.EAGAIN}} {
		if !(x.v >= 0 && x.v <= 1) { // also refuses NaN
			return fmt.Errorf("server: %s fraction %v outside [0,1]", x.name, x.v)
		}
	}
	return nil
}

func (f Faults) describe(o map[string]string) {
	if !f.any() {
		return
	}
	o["inject_short_writes"] = strconv.FormatFloat(f.ShortWrites, 'g', -1, 64)
	o["inject_eagain"] = strconv.FormatFloat(f.EAGAIN, 'g', -1, 64)
	o["seed"] = strconv.FormatInt(f.Seed, 10)
}
