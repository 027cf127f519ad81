package sysstat

// OpenFDs is the number of descriptors this process has open, counted
// from /proc/self/fd; -1 when it cannot be read. A server whose count
// does not come back down once its connections are gone leaks them.
func OpenFDs() int {
	if hidden(FigFDs) {
		return -1
	}
	return countDir("/proc/self/fd")
}
