//go:build !linux && (darwin || dragonfly || freebsd || netbsd || openbsd)

package reactor

// tcpPressure: the kernel's TCP memory is not watched here.
func tcpPressure() (entered int64, now bool) { return 0, false }
