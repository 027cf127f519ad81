//go:build !linux

package peer

import (
	"net"
	"time"
)

// listening reports whether addr takes a connection.
func listening(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}
