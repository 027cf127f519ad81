package compare

import "context"

// machineBusy measures the CPUs other processes keep busy; nil where the
// platform cannot tell.
var machineBusy func(ctx context.Context) (float64, error)
