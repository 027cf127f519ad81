package reactor

// Counters are the loop's tallies. They are plain fields written only by
// the loop thread, so leaving them on costs an increment, not an atomic.
type Counters struct {
	BytesIn, BytesOut uint64
	// Reads and Writes count read(2) and write(2) calls actually made.
	Reads, Writes uint64
	// ShortWrites counts writes that took some but not all of what the
	// socket was offered (0 < n < offered).
	ShortWrites uint64
	// ReadEAGAIN and WriteEAGAIN count real EAGAIN returns.
	ReadEAGAIN, WriteEAGAIN uint64

	Waits      uint64 // poller Wait calls
	Events     uint64 // events returned by Wait
	Dispatches uint64 // events handed to a live handler
	// Stale counts events dropped because their token's slot was freed or
	// reused since the Wait: the fd was closed, and perhaps reused.
	Stale uint64

	Accepts      uint64
	AcceptErrors uint64 // failed accepts other than EAGAIN, EMFILE and ENFILE
	AcceptEMFILE uint64
	AcceptENFILE uint64
	// AcceptPauses counts times a listener stopped watching for
	// connections because the process or system ran out of descriptors.
	AcceptPauses uint64
	// AcceptDropped counts connections accepted and closed at once through
	// the spare descriptor, when nothing of ours could free one.
	AcceptDropped uint64

	Opened, Closed uint64 // transports
	// BudgetPauses counts times the write buffers together went above
	// OutputBudget and transports with output waiting stopped reading.
	BudgetPauses uint64

	// Syscalls counts every system call the loop made: the reads and
	// writes above, the poller's waits and changes, accepts, closes,
	// shutdowns and socket options.
	Syscalls uint64

	// Injected faults, kept apart from the real ones above.
	InjectedShortWrites uint64
	InjectedReadEAGAIN  uint64
	InjectedWriteEAGAIN uint64
}
