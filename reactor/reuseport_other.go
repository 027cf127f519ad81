//go:build linux || darwin || dragonfly || netbsd || openbsd

package reactor

import "golang.org/x/sys/unix"

// reusePort is the socket option that lets several listeners share a
// port. Linux hashes connections over them; macOS and the other BSDs
// let them bind but do not spread the connections.
const reusePort = unix.SO_REUSEPORT
