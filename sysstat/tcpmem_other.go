//go:build !linux

package sysstat

import "fmt"

// ReadTCPMemory needs /proc/net.
func ReadTCPMemory() (TCPMemory, error) {
	return TCPMemory{}, fmt.Errorf("%w: TCP memory pressure (no /proc/net)", ErrUnavailable)
}
