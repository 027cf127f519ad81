//go:build !linux

package sysstat

import "fmt"

// SocketsByPID is unavailable here: no /proc/PID/fd to read.
func SocketsByPID(pid int) (int, error) {
	return 0, fmt.Errorf("%w: the sockets of process %d", ErrUnavailable, pid)
}
