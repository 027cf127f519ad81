//go:build linux

package uring

// Values from <linux/io_uring.h>, written out because x/sys/unix carries
// only the system call numbers.

// Setup flags (io_uring_params.flags).
const (
	SetupCQSize        = 1 << 3
	SetupClamp         = 1 << 4
	SetupSubmitAll     = 1 << 7
	SetupCoopTaskrun   = 1 << 8
	SetupTaskrunFlag   = 1 << 9
	SetupSingleIssuer  = 1 << 12
	SetupDeferTaskrun  = 1 << 13
	setupNoSQArrayFlag = 1 << 16
)

// Kernel features (io_uring_params.features).
const (
	FeatSingleMmap = 1 << 0
	FeatNoDrop     = 1 << 1
	FeatFastPoll   = 1 << 5
	FeatExtArg     = 1 << 8
	FeatCQESkip    = 1 << 11
)

// Opcodes.
const (
	OpNop         = 0
	OpPollAdd     = 6
	OpPollRemove  = 7
	OpAccept      = 13
	OpAsyncCancel = 14
	OpRead        = 22
	OpWrite       = 23
	OpSend        = 26
	OpRecv        = 27
)

// SQE flags.
const (
	SQEFixedFile      = 1 << 0
	SQEIOLink         = 1 << 2
	SQEAsync          = 1 << 4
	SQEBufferSelect   = 1 << 5
	SQECQESkipSuccess = 1 << 6
)

// Operation flags.
const (
	PollAddMulti      = 1 << 0 // in sqe.len for OpPollAdd
	AcceptMultishot   = 1 << 0 // in sqe.ioprio for OpAccept
	RecvSendPollFirst = 1 << 0 // in sqe.ioprio for OpSend, OpRecv
	RecvMultishot     = 1 << 1
	AsyncCancelAll    = 1 << 0
	AsyncCancelFD     = 1 << 1
	AsyncCancelAny    = 1 << 2
)

// CQE flags.
const (
	CQEFBuffer       = 1 << 0
	CQEFMore         = 1 << 1
	CQEFSockNonempty = 1 << 2
	CQEBufferShift   = 16
)

// Enter flags.
const (
	enterGetEvents = 1 << 0
	enterExtArg    = 1 << 3
)

// SQ ring flags.
const (
	sqNeedWakeup = 1 << 0
	sqCQOverflow = 1 << 1
	sqTaskrun    = 1 << 2
)

// Register opcodes.
const (
	registerProbe      = 8
	registerPbufRing   = 22
	unregisterPbufRing = 23
)

// mmap offsets.
const (
	offSQRing = 0
	offCQRing = 0x8000000
	offSQEs   = 0x10000000
)

type sqringOffsets struct {
	head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
	userAddr                                                        uint64
}

type cqringOffsets struct {
	head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
	userAddr                                                        uint64
}

type params struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFD uint32
	resv                                                                   [3]uint32
	sqOff                                                                  sqringOffsets
	cqOff                                                                  cqringOffsets
}

type getEventsArg struct {
	sigmask   uint64
	sigmaskSz uint32
	minWait   uint32
	ts        uint64
}

type probeOp struct {
	op    uint8
	resv  uint8
	flags uint16
	resv2 uint32
}

type probe struct {
	lastOp uint8
	opsLen uint8
	resv   uint16
	resv2  [3]uint32
	ops    [256]probeOp
}

type bufReg struct {
	ringAddr    uint64
	ringEntries uint32
	bgid        uint16
	flags       uint16
	resv        [3]uint64
}
