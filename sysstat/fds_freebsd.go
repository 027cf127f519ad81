package sysstat

import "golang.org/x/sys/unix"

// OpenFDs is the number of descriptors this process has open, from the
// kern.proc.nfds sysctl (what getdtablecount reads); -1 when the kernel
// lacks it. /dev/fd would not do: without fdescfs mounted it lists only
// 0, 1 and 2.
func OpenFDs() int {
	if hidden(FigFDs) {
		return -1
	}
	// The trailing 0 is the sysctl's one argument: the calling process.
	n, err := unix.SysctlUint32Args("kern.proc.nfds", 0)
	if err != nil {
		return -1
	}
	return int(n)
}
