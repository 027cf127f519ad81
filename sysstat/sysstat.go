// Package sysstat reads what a benchmark needs to know about processes,
// threads and the machine: CPU time (process, calling thread, another
// process by pid), context switches, memory, CPU pinning, descriptor
// limits and the facts about the host (Machine).
//
// Linux is the measured platform; the BSDs and darwin build, and what
// cannot be read there returns an error wrapping ErrUnavailable.
//
// CPU figures come from the kernel's accounting, which on a tick-based
// kernel (HZ=250 here) moves in steps of a few milliseconds: read them
// over windows of a second or more.
package sysstat

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
)

// ErrUnavailable is wrapped by every error for a figure this platform
// does not expose.
var ErrUnavailable = errors.New("sysstat: unavailable on " + runtime.GOOS)

// Usage is CPU time, context switches and peak memory of a process or a
// thread, cumulative since it started.
type Usage struct {
	UserNs, SysNs int64
	// VolCtxSw counts sleeps (waiting for I/O, a lock); InvolCtxSw counts
	// preemptions, a sign of CPU contention.
	VolCtxSw, InvolCtxSw int64
	// MaxRSS is the peak resident set in bytes; zero for a thread.
	MaxRSS int64
}

// CPUNs is user plus system time.
func (u Usage) CPUNs() int64 { return u.UserNs + u.SysNs }

// Sub is the usage spent between an earlier reading and u. MaxRSS is not
// a counter, so u's is kept.
func (u Usage) Sub(earlier Usage) Usage {
	return Usage{
		UserNs:     u.UserNs - earlier.UserNs,
		SysNs:      u.SysNs - earlier.SysNs,
		VolCtxSw:   u.VolCtxSw - earlier.VolCtxSw,
		InvolCtxSw: u.InvolCtxSw - earlier.InvolCtxSw,
		MaxRSS:     u.MaxRSS,
	}
}

// Machine holds the facts about the host a result records.
type Machine struct {
	Hostname string
	Kernel   string // uname: sysname release version
	CPUModel string
	// Cores is the number of CPUs online, not just those this process may
	// run on.
	Cores int
}

// ReadMachine reads the host's facts, best effort: facts that cannot be
// read stay empty, as a result is still worth writing without them.
func ReadMachine() Machine {
	m := Machine{Kernel: kernel(), CPUModel: cpuModel()}
	m.Hostname, _ = os.Hostname()
	if cpus, err := OnlineCPUs(); err == nil {
		m.Cores = len(cpus)
	} else {
		m.Cores = runtime.NumCPU()
	}
	return m
}

// ParseCPUList reads a CPU list as taskset and /sys write it: "0",
// "0,1", "0-3,6". The result is sorted and without duplicates.
func ParseCPUList(s string) ([]int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	seen := map[int]bool{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, err1 := strconv.Atoi(lo)
		b := a
		var err2 error
		if isRange {
			b, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil || a < 0 || b < a || b-a > 1<<16 {
			return nil, fmt.Errorf("bad CPU list %q: want CPU numbers and ranges like 0 or 0,1 or 0-3", s)
		}
		for c := a; c <= b; c++ {
			seen[c] = true
		}
	}
	out := make([]int, 0, len(seen))
	for c := range seen {
		out = append(out, c)
	}
	sort.Ints(out)
	return out, nil
}

// FormatCPUList writes cpus the way ParseCPUList reads them, with ranges.
func FormatCPUList(cpus []int) string {
	c := append([]int(nil), cpus...)
	sort.Ints(c)
	var parts []string
	for i := 0; i < len(c); {
		j := i
		for j+1 < len(c) && c[j+1] <= c[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("%d-%d", c[i], c[j]))
		} else {
			parts = append(parts, strconv.Itoa(c[i]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// CheckCPUs names the first CPU in cpus that does not exist, and how many
// there are, so that a bad --cpus fails before anything starts.
func CheckCPUs(cpus []int) error {
	if len(cpus) == 0 {
		return errors.New("sysstat: no CPU given to pin to")
	}
	online, err := OnlineCPUs()
	if err != nil {
		return err
	}
	ok := map[int]bool{}
	for _, c := range online {
		ok[c] = true
	}
	for _, c := range cpus {
		if !ok[c] {
			return fmt.Errorf("sysstat: CPU %d does not exist: this machine has %d CPUs (%s)", c, len(online), FormatCPUList(online))
		}
	}
	return nil
}
