package sysstat

// TCPMemory is the kernel's TCP memory state, machine-wide. Short of it,
// the kernel refuses writes with EAGAIN to sockets that poll writable,
// and keeps socket buffers near their minimum: what any process on the
// machine does with its connections can put it there, and tests that
// time or count a loop's wake-ups cannot judge it then.
type TCPMemory struct {
	// Pressures counts the times the kernel has entered pressure.
	Pressures int64
	// Short says it is under pressure now.
	Short bool
}

// TCPMemoryShort reports whether the kernel was short of TCP memory at
// either reading or entered pressure between them.
func TCPMemoryShort(a, b TCPMemory) bool {
	return a.Short || b.Short || a.Pressures != b.Pressures
}
