package sysstat

import "golang.org/x/sys/unix"

// noFileCeiling is kern.maxfilesperproc: darwin's hard RLIMIT_NOFILE is
// usually unlimited, and its setrlimit refuses RLIM_INFINITY as a soft
// limit with EINVAL. Go's os package caps its own raise the same way.
func noFileCeiling() uint64 {
	n, err := unix.SysctlUint32("kern.maxfilesperproc")
	if err != nil {
		return 0
	}
	return uint64(n)
}
