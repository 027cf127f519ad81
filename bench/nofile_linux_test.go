package bench

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// lowerNoFile sets RLIMIT_NOFILE from noFileEnv, if set: after the Go
// runtime's own raise at start-up, so that it holds.
func lowerNoFile() {
	if n, err := strconv.ParseUint(os.Getenv(noFileEnv), 10, 64); err == nil {
		unix.Setrlimit(unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: n, Max: n})
	}
}
