package compare

import (
	"context"
	"time"

	"github.com/muxbench/muxbench/sysstat"
)

// busySample is how long one look at the machine lasts: CPU time moves
// in ticks, so shorter samples read mostly rounding.
var busySample = time.Second

// machineBusy is the CPUs that processes other than this one (and steal)
// kept busy over the next busySample.
func machineBusy(ctx context.Context) (float64, error) {
	s, err := sysstat.NewForeignSampler()
	if err != nil {
		return 0, err
	}
	t := time.NewTimer(busySample)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-t.C:
	}
	n, err := s.Sample()
	if err != nil {
		return 0, err
	}
	return n.Foreign + n.Steal, nil
}
