package bench

import (
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// listenBacklog is the accept queue a server on this host gets: what it
// asks for (SOMAXCONN, as the reactor and Go's net package do) capped by
// net.core.somaxconn.
func listenBacklog() int {
	b := unix.SOMAXCONN
	if data, err := os.ReadFile("/proc/sys/net/core/somaxconn"); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil && n > 0 {
			b = min(b, n)
		}
	}
	return b
}
