package reactor

import "golang.org/x/sys/unix"

// reusePort is the socket option that lets several listeners share a
// port and spreads connections over them: FreeBSD's SO_REUSEPORT lets
// them bind but sends every connection to one (FreeBSD 12+).
const reusePort = unix.SO_REUSEPORT_LB
