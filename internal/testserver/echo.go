package testserver

import (
	"io"
	"net"
)

// Echo writes back what c sends until c ends, then closes it: the honest
// server every check of the generator is measured against.
func Echo(c net.Conn) {
	defer c.Close()
	io.Copy(c, c)
}

// Corrupt is Echo from a broken server: it flips the low bit of each
// byte at an offset bad says is to be damaged, offsets counted over the
// connection's stream, so that the damage lands where a test expects it
// to be caught.
func Corrupt(bad func(off int) bool) func(net.Conn) {
	return func(c net.Conn) {
		defer c.Close()
		CorruptCopy(c, c, bad)
	}
}

// CorruptCopy copies src to dst until either fails, damaging what bad
// says as Corrupt does: a relay in front of an honest server.
func CorruptCopy(dst io.Writer, src io.Reader, bad func(off int) bool) {
	buf := make([]byte, 32<<10)
	total := 0
	for {
		n, err := src.Read(buf)
		for i := range n {
			if bad(total + i) {
				buf[i] ^= 1
			}
		}
		total += n
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
