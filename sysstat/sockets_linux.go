package sysstat

import (
	"fmt"
	"os"
	"strings"
)

// SocketsByPID counts the sockets process pid holds (/proc/PID/fd): for
// a server that reports nothing itself, its connections, plus its
// listener and whatever sockets it holds of its own.
func SocketsByPID(pid int) (int, error) {
	if err := hide(FigFDs, fmt.Sprintf("descriptors of process %d", pid)); err != nil {
		return 0, err
	}
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	f, err := os.Open(dir)
	if err != nil {
		return 0, fmt.Errorf("sysstat: %w", err)
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return 0, fmt.Errorf("sysstat: %s: %w", dir, err)
	}
	n := 0
	for _, name := range names {
		// A descriptor closed meanwhile is not counted.
		if l, err := os.Readlink(dir + "/" + name); err == nil && strings.HasPrefix(l, "socket:") {
			n++
		}
	}
	return n, nil
}
