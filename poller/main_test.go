package poller_test

import (
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// TestMain raises the descriptor limit to the hard one: the scale case and
// the 5000-pair benchmark need about 10,000 descriptors.
func TestMain(m *testing.M) {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
			fmt.Fprintln(os.Stderr, "poller test: raise RLIMIT_NOFILE:", err)
		}
	}
	os.Exit(m.Run())
}

// fdLimit is the soft descriptor limit, or 0 if unknown.
func fdLimit() int {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil || lim.Cur > 1<<30 {
		return 0
	}
	return int(lim.Cur)
}
