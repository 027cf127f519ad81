//go:build dragonfly || freebsd || linux || netbsd || openbsd

package sysstat

// noFileCeiling is zero: here setrlimit takes the hard limit as the soft
// one (Linux keeps the hard limit within nr_open; the BSDs clamp the soft
// one to kern.maxfilesperproc themselves).
func noFileCeiling() uint64 { return 0 }
