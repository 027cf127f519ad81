//go:build linux

package uring

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ErrUnavailable is wrapped by every error that says io_uring cannot be
// used here at all (as opposed to a failure of one ring), for errors.Is.
var ErrUnavailable = errors.New("io_uring unavailable")

// unavailable is an ErrUnavailable with its reason, one line.
type unavailable struct {
	reason string
	err    error
}

func (u *unavailable) Error() string   { return u.reason }
func (u *unavailable) Unwrap() []error { return []error{ErrUnavailable, u.err} }

// RefuseEnv names the environment variable that simulates a refusal, so
// that the fallback paths run on machines that have io_uring: ENOSYS (no
// io_uring in the kernel), EPERM (a seccomp profile) or disabled (the
// io_uring_disabled sysctl at 2). Child processes inherit it.
const RefuseEnv = "MUXBENCH_URING_REFUSE"

const disabledPath = "/proc/sys/kernel/io_uring_disabled"

var (
	checkOnce sync.Once
	checkErr  error
	probed    *Probe
)

// Check reports why io_uring cannot be used by this process, or nil. It
// makes one small ring, once per process, and probes it.
func Check() error {
	if err := refused(); err != nil {
		return err
	}
	checkOnce.Do(func() { probed, checkErr = check() })
	return checkErr
}

// Supported reports the opcodes and features of this kernel; nil when
// Check fails.
func Supported() *Probe {
	if Check() != nil {
		return nil
	}
	return probed
}

// refused returns the simulated or sysctl refusal before any system call.
func refused() error {
	switch v := os.Getenv(RefuseEnv); v {
	case "":
	case "ENOSYS":
		return explain(unix.ENOSYS, "")
	case "EPERM":
		return explain(unix.EPERM, "")
	case "disabled":
		return explain(unix.EPERM, "2")
	default:
		return &unavailable{fmt.Sprintf("io_uring: %s=%q is not ENOSYS, EPERM or disabled", RefuseEnv, v), unix.EINVAL}
	}
	if s := sysctl(); s == "2" {
		return explain(unix.EPERM, s)
	}
	return nil
}

func sysctl() string {
	b, err := os.ReadFile(disabledPath)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// explain turns a refused io_uring_setup into one line saying why.
func explain(err error, disabled string) error {
	var reason string
	switch {
	case disabled == "2":
		reason = "io_uring is disabled on this system (" + disabledPath + " = 2)"
	case errors.Is(err, unix.ENOSYS):
		reason = "io_uring is not in this kernel (io_uring_setup: ENOSYS)"
	case errors.Is(err, unix.EPERM) && disabled == "1":
		reason = "io_uring is restricted to the io_uring_group (" + disabledPath + " = 1) and this process is not in it (EPERM)"
	case errors.Is(err, unix.EPERM):
		reason = "io_uring is forbidden here (io_uring_setup: EPERM), typically by a container's seccomp profile"
	default:
		reason = "io_uring_setup failed: " + err.Error()
	}
	return &unavailable{reason, err}
}

func check() (*Probe, error) {
	if err := refused(); err != nil {
		return nil, err
	}
	var kp params
	fd, err := setup(4, &kp)
	if err != nil {
		return nil, explain(err, sysctl())
	}
	unix.Close(fd)
	r, err := New(Params{Entries: 4})
	if err != nil {
		return nil, &unavailable{"io_uring: " + err.Error(), err}
	}
	defer r.Close()
	p, err := r.Probe()
	if err != nil {
		// IORING_REGISTER_PROBE came in 5.6.
		return nil, &unavailable{"io_uring: kernel too old to probe its operations (before 5.6)", err}
	}
	return p, nil
}

// Probe is what IORING_REGISTER_PROBE and the setup features tell.
type Probe struct {
	Features uint32
	ops      [256]bool
}

// Op reports whether the kernel supports opcode op.
func (p *Probe) Op(op uint8) bool { return p.ops[op] }

// Require returns an ErrUnavailable naming the first missing opcode or
// feature, for a user that cannot work without them.
func (p *Probe) Require(what string, ops []uint8, features uint32) error {
	for _, op := range ops {
		if !p.Op(op) {
			return &unavailable{fmt.Sprintf("io_uring: this kernel lacks %s, which %s needs", OpName(op), what), unix.EOPNOTSUPP}
		}
	}
	if miss := features &^ p.Features; miss != 0 {
		return &unavailable{fmt.Sprintf("io_uring: this kernel lacks features %#x, which %s needs", miss, what), unix.EOPNOTSUPP}
	}
	return nil
}

// OpName names the opcodes this package uses.
func OpName(op uint8) string {
	switch op {
	case OpNop:
		return "IORING_OP_NOP"
	case OpPollAdd:
		return "IORING_OP_POLL_ADD"
	case OpPollRemove:
		return "IORING_OP_POLL_REMOVE"
	case OpAccept:
		return "IORING_OP_ACCEPT"
	case OpAsyncCancel:
		return "IORING_OP_ASYNC_CANCEL"
	case OpRead:
		return "IORING_OP_READ"
	case OpWrite:
		return "IORING_OP_WRITE"
	case OpSend:
		return "IORING_OP_SEND"
	case OpRecv:
		return "IORING_OP_RECV"
	}
	return fmt.Sprintf("opcode %d", op)
}

// Probe asks the kernel which opcodes it supports.
func (r *Ring) Probe() (*Probe, error) {
	var kp probe
	if err := r.register(registerProbe, unsafe.Pointer(&kp), uint32(len(kp.ops))); err != nil {
		return nil, fmt.Errorf("IORING_REGISTER_PROBE: %w", err)
	}
	p := &Probe{Features: r.features}
	for _, o := range kp.ops[:kp.opsLen] {
		if o.flags&1 != 0 { // IO_URING_OP_SUPPORTED
			p.ops[o.op] = true
		}
	}
	return p, nil
}
