package sysstat

import (
	"fmt"
	"os"
	"strings"
)

// HideEnv names figures to report unavailable although this platform has
// them, comma-separated: "pin", "rss", "thread", "pid", "fds", or "all".
// It makes the paths darwin and the BSDs take (an unpinned run, no RSS,
// no loop-thread CPU) reachable, and so testable, on Linux. A child
// process inherits it, so a run's server degrades with its generator.
const HideEnv = "MUXBENCH_SYSSTAT_HIDE"

// Figures HideEnv can hide.
const (
	FigPin    = "pin"    // CPU pinning and affinity
	FigRSS    = "rss"    // current resident set, own or by pid
	FigThread = "thread" // per-thread CPU (RUSAGE_THREAD)
	FigPID    = "pid"    // another process's CPU by pid
	FigFDs    = "fds"    // the count of open descriptors
)

// hidden reports whether HideEnv hides figure. The environment is read
// on every call, not once, so that a test can set and unset it.
func hidden(figure string) bool {
	v := os.Getenv(HideEnv)
	if v == "" {
		return false
	}
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f == figure || f == "all" {
			return true
		}
	}
	return false
}

// hide is the error for a figure HideEnv hides, nil otherwise.
func hide(figure, what string) error {
	if hidden(figure) {
		return fmt.Errorf("%w: %s (hidden by %s)", ErrUnavailable, what, HideEnv)
	}
	return nil
}

// CanPin reports whether threads can be pinned to CPUs here: only Linux
// has an affinity call (darwin's is a hint, the BSDs' differ), and
// HideEnv may say no.
func CanPin() bool { return pinSupported && !hidden(FigPin) }
