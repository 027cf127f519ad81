//go:build unix

package sysstat

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// Process is the calling process's usage (getrusage RUSAGE_SELF): every
// thread, the Go runtime's included.
func Process() (Usage, error) {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return Usage{}, fmt.Errorf("sysstat: getrusage: %w", err)
	}
	u := fromRusage(&ru)
	u.MaxRSS = int64(ru.Maxrss) * maxRSSUnit
	if p, ok := ownPeakRSS(); ok {
		u.MaxRSS = p
	}
	return u, nil
}

func fromRusage(ru *unix.Rusage) Usage {
	return Usage{
		UserNs:     ru.Utime.Nano(),
		SysNs:      ru.Stime.Nano(),
		VolCtxSw:   int64(ru.Nvcsw),
		InvolCtxSw: int64(ru.Nivcsw),
	}
}

// NoFileLimit is RLIMIT_NOFILE, the most descriptors the process may have
// open: with two per connection in-process, the ceiling of a run.
type NoFileLimit struct{ Soft, Hard uint64 }

// NoFile reads RLIMIT_NOFILE.
func NoFile() (NoFileLimit, error) {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		return NoFileLimit{}, fmt.Errorf("sysstat: getrlimit: %w", err)
	}
	return NoFileLimit{Soft: uint64(rl.Cur), Hard: uint64(rl.Max)}, nil
}

// RaiseNoFile raises the soft RLIMIT_NOFILE to the hard one (the Go
// runtime does so at start-up since 1.19, but a parent may have lowered
// it for us), or to the platform's own ceiling below it, and returns the
// limits now in force.
func RaiseNoFile() (NoFileLimit, error) {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		return NoFileLimit{}, fmt.Errorf("sysstat: getrlimit: %w", err)
	}
	if want := softTarget(uint64(rl.Max), noFileCeiling()); uint64(rl.Cur) < want {
		set := rl
		setLimit(&set.Cur, want)
		if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &set); err != nil {
			return NoFileLimit{Soft: uint64(rl.Cur), Hard: uint64(rl.Max)}, fmt.Errorf("sysstat: raising RLIMIT_NOFILE to %d: %w", want, err)
		}
	}
	return NoFile()
}

// setLimit stores v in an Rlimit field, int64 on some BSDs, uint64
// elsewhere.
func setLimit[T int64 | uint64](field *T, v uint64) { *field = T(v) }

// softTarget is the soft limit to ask for: the hard one, or ceiling when
// that is lower (zero: no ceiling).
func softTarget(hard, ceiling uint64) uint64 {
	if ceiling > 0 && ceiling < hard {
		return ceiling
	}
	return hard
}

// CheckFDs reports whether need more descriptors fit next to those
// already open; the error says how many a run needs and how many are
// allowed, so a user can shrink the run instead of meeting EMFILE halfway.
func CheckFDs(need int) (NoFileLimit, error) {
	lim, err := RaiseNoFile()
	if err != nil {
		return lim, err
	}
	open, what := openFDs()
	if total := uint64(need + open); total > lim.Soft {
		return lim, fmt.Errorf("this run needs %d descriptors (%d new + %d %s), RLIMIT_NOFILE allows %d (hard limit %d): use fewer connections", total, need, open, what, lim.Soft, lim.Hard)
	}
	return lim, nil
}

// openFDs counts the process's open descriptors, and says "open" or,
// where the count is unknown, "open at least": then it is the lowest
// free descriptor number, below which every descriptor is open. Zero
// would let a run that cannot fit pass the check.
func openFDs() (int, string) {
	if n := OpenFDs(); n >= 0 {
		return n, "open"
	}
	fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, "open at least"
	}
	unix.Close(fd)
	return fd, "open at least"
}

func kernel() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return ""
	}
	return strings.Join([]string{
		unix.ByteSliceToString(u.Sysname[:]),
		unix.ByteSliceToString(u.Release[:]),
		unix.ByteSliceToString(u.Version[:]),
	}, " ")
}
