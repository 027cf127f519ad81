//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package sysstat

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// pinSupported is false: darwin's thread affinity is only a hint, and
// the BSDs' cpuset calls are not wired up.
const pinSupported = false

// ProcessByPID reads another process's usage; this needs /proc.
func ProcessByPID(pid int) (Usage, error) {
	return Usage{}, fmt.Errorf("%w: usage of process %d (no /proc)", ErrUnavailable, pid)
}

// ThreadByPID reads another process's thread's CPU; this needs /proc.
func ThreadByPID(pid, tid int) (Usage, error) {
	return Usage{}, fmt.Errorf("%w: CPU of thread %d of process %d (no /proc)", ErrUnavailable, tid, pid)
}

// RSS is the process's resident set now; this needs /proc.
func RSS() (int64, error) {
	return 0, fmt.Errorf("%w: current RSS (no /proc)", ErrUnavailable)
}

// RSSByPID is another process's resident set now; this needs /proc.
func RSSByPID(pid int) (int64, error) {
	return 0, fmt.Errorf("%w: RSS of process %d (no /proc)", ErrUnavailable, pid)
}

// OnlineCPUs lists the CPUs. Without a portable affinity interface all
// the runtime sees are assumed online.
func OnlineCPUs() ([]int, error) {
	cpus := make([]int, runtime.NumCPU())
	for i := range cpus {
		cpus[i] = i
	}
	return cpus, nil
}

// PinThread binds the calling thread to cpus; not available here.
func PinThread(cpus []int) error {
	if err := CheckCPUs(cpus); err != nil {
		return err
	}
	return fmt.Errorf("%w: CPU pinning", ErrUnavailable)
}

// PinProcess binds every thread to cpus; not available here.
func PinProcess(cpus []int) error { return PinThread(cpus) }

// Affinity is the set of CPUs the calling thread may run on; not
// available here.
func Affinity() ([]int, error) {
	return nil, fmt.Errorf("%w: CPU affinity", ErrUnavailable)
}

// ThreadAffinity is the set of CPUs thread tid may run on; not available
// here.
func ThreadAffinity(tid int) ([]int, error) { return Affinity() }

// ThreadIDs lists this process's threads; this needs /proc.
func ThreadIDs() ([]int, error) {
	return nil, fmt.Errorf("%w: thread list (no /proc)", ErrUnavailable)
}

func cpuModel() string {
	// darwin names the CPU here; the other BSDs in hw.model.
	for _, name := range []string{"machdep.cpu.brand_string", "hw.model"} {
		if s, err := unix.Sysctl(name); err == nil && s != "" {
			return s
		}
	}
	return ""
}

// ownPeakRSS: getrusage's ru_maxrss is all there is.
func ownPeakRSS() (int64, bool) { return 0, false }
