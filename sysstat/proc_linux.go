package sysstat

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// pinSupported: sched_setaffinity binds a thread to CPUs.
const pinSupported = true

// atClkTck is AT_CLKTCK from <elf.h>: the kernel hands USER_HZ, the unit
// of /proc times, to every process in its auxiliary vector.
const atClkTck = 17

var clockTicks = sync.OnceValue(func() int64 {
	if aux, err := unix.Auxv(); err == nil {
		for _, kv := range aux {
			if kv[0] == atClkTck && kv[1] > 0 {
				return int64(kv[1])
			}
		}
	}
	return 100 // USER_HZ on every Linux architecture Go supports
})

// ProcessByPID reads another process's usage from /proc: CPU from
// /proc/PID/stat (in USER_HZ ticks, so 10 ms steps), context switches and
// peak RSS from /proc/PID/status. It measures a server that is not ours,
// such as a C reference echo server.
func ProcessByPID(pid int) (Usage, error) {
	if err := hide(FigPID, fmt.Sprintf("usage of process %d", pid)); err != nil {
		return Usage{}, err
	}
	u, err := statCPU(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return Usage{}, fmt.Errorf("sysstat: process %d: %w", pid, err)
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Usage{}, fmt.Errorf("sysstat: process %d: %w", pid, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		key, val, _ := strings.Cut(sc.Text(), ":")
		fields := strings.Fields(val)
		if len(fields) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(fields[0], 10, 64)
		switch key {
		case "voluntary_ctxt_switches":
			u.VolCtxSw = n
		case "nonvoluntary_ctxt_switches":
			u.InvolCtxSw = n
		case "VmHWM":
			u.MaxRSS = n * 1024 // "kB", which means KiB
		}
	}
	return u, nil
}

// ThreadByPID reads the CPU of thread tid of process pid, in the same
// ticks as ProcessByPID: the loop thread of a server that reports
// nothing itself.
func ThreadByPID(pid, tid int) (Usage, error) {
	if err := hide(FigThread, fmt.Sprintf("CPU of thread %d of process %d", tid, pid)); err != nil {
		return Usage{}, err
	}
	u, err := statCPU(fmt.Sprintf("/proc/%d/task/%d/stat", pid, tid))
	if err != nil {
		return Usage{}, fmt.Errorf("sysstat: thread %d of process %d: %w", tid, pid, err)
	}
	return u, nil
}

// statCPU reads user and system CPU from a stat file.
func statCPU(path string) (Usage, error) {
	stat, err := os.ReadFile(path)
	if err != nil {
		return Usage{}, err
	}
	utime, stime, err := parseStat(stat)
	if err != nil {
		return Usage{}, fmt.Errorf("%s: %w", path, err)
	}
	tick := 1e9 / clockTicks()
	return Usage{UserNs: utime * tick, SysNs: stime * tick}, nil
}

// parseStat takes utime and stime (fields 14 and 15) from a stat line.
// The command name (field 2) is in parentheses and may itself hold
// spaces and ')', so fields are counted from the last ')'.
func parseStat(stat []byte) (utime, stime int64, err error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, 0, errors.New("no command name")
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return 0, 0, errors.New("too few fields")
	}
	// f[0] is field 3 (state), so field 14 is f[11].
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, errors.New("bad utime/stime")
	}
	return utime, stime, nil
}

// ownPeakRSS is this process's peak resident set (VmHWM). Linux carries
// ru_maxrss across execve: a child's getrusage starts from its parent's
// RSS at fork, so a server started by a large parent would report the
// parent's peak as its own. VmHWM belongs to the process's own memory.
func ownPeakRSS() (int64, bool) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for line := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			if f := strings.Fields(v); len(f) > 0 {
				if n, err := strconv.ParseInt(f[0], 10, 64); err == nil {
					return n * 1024, true // "kB", which means KiB
				}
			}
		}
	}
	return 0, false
}

// RSS is the process's resident set now, in bytes (/proc/self/statm).
func RSS() (int64, error) {
	if err := hide(FigRSS, "current RSS"); err != nil {
		return 0, err
	}
	return statmRSS("self")
}

// RSSByPID is another process's resident set now, in bytes
// (/proc/PID/statm), for a server that is not ours.
func RSSByPID(pid int) (int64, error) {
	if err := hide(FigRSS, fmt.Sprintf("RSS of process %d", pid)); err != nil {
		return 0, err
	}
	return statmRSS(strconv.Itoa(pid))
}

func statmRSS(proc string) (int64, error) {
	path := "/proc/" + proc + "/statm"
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("sysstat: %w", err)
	}
	f := strings.Fields(string(data))
	if len(f) < 2 {
		return 0, fmt.Errorf("sysstat: %s: too few fields", path)
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("sysstat: %s: %w", path, err)
	}
	return pages * int64(os.Getpagesize()), nil
}

// OnlineCPUs lists the CPUs the kernel has online, whatever this
// process's affinity.
func OnlineCPUs() ([]int, error) {
	data, err := os.ReadFile("/sys/devices/system/cpu/online")
	if err == nil {
		if cpus, err := ParseCPUList(string(data)); err == nil && len(cpus) > 0 {
			return cpus, nil
		}
	}
	// No sysfs (a container without it): fall back to what we may use.
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil, fmt.Errorf("sysstat: listing CPUs: %w", err)
	}
	return setCPUs(&set), nil
}

// setCPUs lists the CPUs in set.
func setCPUs(set *unix.CPUSet) []int {
	var cpus []int
	for c := 0; c < len(set)*64; c++ {
		if set.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	return cpus
}

func cpuSet(cpus []int) (*unix.CPUSet, error) {
	if err := CheckCPUs(cpus); err != nil {
		return nil, err
	}
	if err := hide(FigPin, "CPU pinning"); err != nil {
		return nil, err
	}
	var set unix.CPUSet
	for _, c := range cpus {
		if c >= len(set)*64 {
			return nil, fmt.Errorf("sysstat: CPU %d is beyond the %d a CPU set holds", c, len(set)*64)
		}
		set.Set(c)
	}
	return &set, nil
}

// PinThread binds the calling OS thread to cpus. Lock the goroutine to
// its thread first (runtime.LockOSThread), or the pin lands on whichever
// thread the goroutine happens to run on.
func PinThread(cpus []int) error {
	set, err := cpuSet(cpus)
	if err != nil {
		return err
	}
	if err := unix.SchedSetaffinity(0, set); err != nil {
		return fmt.Errorf("sysstat: pinning thread to CPUs %s: %w", FormatCPUList(cpus), err)
	}
	return nil
}

// PinProcess binds every thread of this process to cpus. Affinity is per
// thread on Linux and a new thread inherits its creator's, so this sets
// each thread the Go runtime has already started, and goes round again
// until a pass finds no thread it has not seen.
func PinProcess(cpus []int) error {
	set, err := cpuSet(cpus)
	if err != nil {
		return err
	}
	done := map[int]bool{}
	for pass := 0; pass < 100; pass++ {
		tids, err := threadIDs()
		if err != nil {
			return err
		}
		fresh := 0
		for _, tid := range tids {
			if done[tid] {
				continue
			}
			fresh++
			done[tid] = true
			err := unix.SchedSetaffinity(tid, set)
			if err != nil && !errors.Is(err, unix.ESRCH) { // ESRCH: exited meanwhile
				return fmt.Errorf("sysstat: pinning thread %d to CPUs %s: %w", tid, FormatCPUList(cpus), err)
			}
		}
		if fresh == 0 {
			return nil
		}
		runtime.Gosched()
	}
	return errors.New("sysstat: pinning the process: threads kept appearing")
}

func threadIDs() ([]int, error) {
	f, err := os.Open("/proc/self/task")
	if err != nil {
		return nil, fmt.Errorf("sysstat: %w", err)
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("sysstat: /proc/self/task: %w", err)
	}
	tids := make([]int, 0, len(names))
	for _, n := range names {
		if tid, err := strconv.Atoi(n); err == nil {
			tids = append(tids, tid)
		}
	}
	return tids, nil
}

// Affinity is the set of CPUs the calling thread may run on.
func Affinity() ([]int, error) {
	if err := hide(FigPin, "CPU affinity"); err != nil {
		return nil, err
	}
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil, fmt.Errorf("sysstat: %w", err)
	}
	return setCPUs(&set), nil
}

// ThreadAffinity is the set of CPUs thread tid may run on.
func ThreadAffinity(tid int) ([]int, error) {
	if err := hide(FigPin, "CPU affinity"); err != nil {
		return nil, err
	}
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(tid, &set); err != nil {
		return nil, fmt.Errorf("sysstat: thread %d: %w", tid, err)
	}
	return setCPUs(&set), nil
}

// ThreadIDs lists this process's threads (/proc/self/task).
func ThreadIDs() ([]int, error) { return threadIDs() }

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		// "model name" on x86; arm64 kernels print no model name.
		if ok && strings.TrimSpace(key) == "model name" {
			return strings.TrimSpace(val)
		}
	}
	return ""
}
