package sysstat

// OpenFDs is the number of descriptors this process has open, counted
// from /dev/fd, which darwin's devfs always lists in full; -1 when it
// cannot be read.
func OpenFDs() int {
	if hidden(FigFDs) {
		return -1
	}
	return countDir("/dev/fd")
}
