package sysstat

import (
	"errors"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// burn spins on this thread for d of wall time.
func burn(d time.Duration) {
	x := 0
	for end := time.Now().Add(d); time.Now().Before(end); {
		for i := range 10000 {
			x += i
		}
	}
	_ = x
}

func TestProcess(t *testing.T) {
	before, err := Process()
	if err != nil {
		t.Fatal(err)
	}
	burn(200 * time.Millisecond)
	after, err := Process()
	if err != nil {
		t.Fatal(err)
	}
	d := after.Sub(before)
	if d.UserNs <= 0 || d.SysNs < 0 || d.VolCtxSw < 0 || d.InvolCtxSw < 0 {
		t.Errorf("200 ms of spinning: %+v", d)
	}
	if after.MaxRSS < 1<<20 {
		t.Errorf("MaxRSS = %d bytes, want at least a MiB (units?)", after.MaxRSS)
	}
}

func TestThread(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before, err := Thread()
	if errors.Is(err, ErrUnavailable) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	burn(200 * time.Millisecond)
	after, _ := Thread()
	if d := after.Sub(before); d.UserNs <= 0 {
		t.Errorf("thread usage did not move: %+v", d)
	}
	proc, _ := Process()
	if after.CPUNs() > proc.CPUNs() {
		t.Errorf("thread CPU %d ns above the process's %d ns", after.CPUNs(), proc.CPUNs())
	}
}

func TestProcessByPID(t *testing.T) {
	burn(100 * time.Millisecond)
	self, err := Process()
	if err != nil {
		t.Fatal(err)
	}
	u, err := ProcessByPID(os.Getpid())
	if errors.Is(err, ErrUnavailable) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if u.CPUNs() <= 0 || u.MaxRSS <= 0 || u.VolCtxSw < 0 {
		t.Errorf("own usage by pid: %+v", u)
	}
	// /proc counts in ticks and rusage in ns: allow a generous gap.
	if diff := u.CPUNs() - self.CPUNs(); diff > int64(time.Second) || diff < -int64(time.Second) {
		t.Errorf("by pid %d ns, getrusage %d ns", u.CPUNs(), self.CPUNs())
	}
	if _, err := ProcessByPID(1 << 30); err == nil {
		t.Error("a pid that cannot exist gave no error")
	}
}

func TestRSS(t *testing.T) {
	rss, err := RSS()
	if errors.Is(err, ErrUnavailable) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	p, _ := Process()
	if rss < 1<<20 || rss > p.MaxRSS+1<<20 {
		t.Errorf("RSS %d, MaxRSS %d", rss, p.MaxRSS)
	}
}

func TestCPUList(t *testing.T) {
	for in, want := range map[string][]int{
		"0": {0}, "0,1": {0, 1}, " 1 , 0 ": {0, 1}, "0-3,6": {0, 1, 2, 3, 6},
		"2,2,1-2": {1, 2}, "": nil, "0-1\n": {0, 1},
	} {
		got, err := ParseCPUList(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("ParseCPUList(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"a", "-1", "1-", "3-1", "0,,1", "0;1", "0-999999"} {
		if got, err := ParseCPUList(in); err == nil {
			t.Errorf("ParseCPUList(%q) = %v, want an error", in, got)
		}
	}
	if s := FormatCPUList([]int{6, 0, 1, 2, 3, 9}); s != "0-3,6,9" {
		t.Errorf("FormatCPUList = %q", s)
	}
}

func TestPinThread(t *testing.T) {
	if !CanPin() {
		t.Skip("threads cannot be pinned here")
	}
	online, err := OnlineCPUs()
	if err != nil || len(online) == 0 {
		t.Fatal(online, err)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := Affinity()
	if err != nil {
		t.Fatal(err)
	}
	last := online[len(online)-1]
	if err := PinThread([]int{last}); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := PinThread(orig); err != nil {
			t.Error(err)
		}
	}()
	if got, _ := Affinity(); !slices.Equal(got, []int{last}) {
		t.Errorf("after PinThread(%d): affinity %v", last, got)
	}
	err = PinThread([]int{last + 1})
	if err == nil || !strings.Contains(err.Error(), "CPU "+itoa(last+1)+" does not exist") || !strings.Contains(err.Error(), itoa(len(online))+" CPUs") {
		t.Errorf("pinning to a missing CPU: %v", err)
	}
	if err := PinThread(nil); err == nil {
		t.Error("pinning to no CPU accepted")
	}
}

func TestPinProcess(t *testing.T) {
	if !CanPin() {
		t.Skip("threads cannot be pinned here")
	}
	online, _ := OnlineCPUs()
	runtime.LockOSThread()
	orig, _ := Affinity()
	runtime.UnlockOSThread()
	// Make sure the runtime has a few threads to find.
	done := make(chan bool)
	for range 4 {
		go func() { runtime.LockOSThread(); <-done }()
	}
	defer close(done)
	target := []int{online[0]}
	if err := PinProcess(target); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := PinProcess(orig); err != nil {
			t.Error(err)
		}
	}()
	tids, err := ThreadIDs()
	if err != nil || len(tids) < 2 {
		t.Fatal(tids, err)
	}
	for _, tid := range tids {
		if got, err := ThreadAffinity(tid); err == nil && !slices.Equal(got, target) {
			t.Errorf("thread %d: affinity %v, want %v", tid, got, target)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestNoFile(t *testing.T) {
	lim, err := RaiseNoFile()
	if err != nil {
		t.Fatal(err)
	}
	if lim.Soft == 0 || lim.Soft > lim.Hard {
		t.Errorf("limits %+v", lim)
	}
	if _, err := CheckFDs(10); err != nil {
		t.Errorf("10 descriptors: %v", err)
	}
	_, err = CheckFDs(int(min(lim.Soft, 1<<40)))
	if err == nil || !strings.Contains(err.Error(), "RLIMIT_NOFILE allows") {
		t.Errorf("as many descriptors as the limit, plus those open: %v", err)
	}
	// Where the open descriptors cannot be counted (OpenBSD, NetBSD,
	// DragonFly), stdin, stdout and stderr still count.
	t.Setenv(HideEnv, FigFDs)
	_, err = CheckFDs(int(min(lim.Soft, 1<<40)))
	if err == nil || !strings.Contains(err.Error(), "open at least") {
		t.Errorf("as many descriptors as the limit, the open ones uncounted: %v", err)
	}
}

func TestMachine(t *testing.T) {
	e := ReadMachine()
	if e.Kernel == "" || e.Cores < 1 {
		t.Errorf("machine %+v", e)
	}
	if runtime.GOOS == "linux" && (runtime.GOARCH == "amd64" || runtime.GOARCH == "386") && e.CPUModel == "" {
		t.Error("no CPU model on x86 linux")
	}
	t.Logf("%+v", e)
}

// Our own pid read as another process's: the same pages as RSS, give or
// take what the runtime maps between the two reads.
func TestRSSByPID(t *testing.T) {
	byPID, err := RSSByPID(os.Getpid())
	if errors.Is(err, ErrUnavailable) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	self, err := RSS()
	if err != nil {
		t.Fatal(err)
	}
	if d := byPID - self; d < -16<<20 || d > 16<<20 {
		t.Errorf("RSS by pid %d, own %d", byPID, self)
	}
	if _, err := RSSByPID(1 << 30); err == nil {
		t.Error("a pid that cannot exist gave no error")
	}
}

// darwin's hard limit is RLIM_INFINITY, which its setrlimit refuses as a
// soft one: the ceiling must win there, and never raise a limit.
func TestSoftTarget(t *testing.T) {
	const inf = ^uint64(0)
	for _, c := range []struct{ hard, ceiling, want uint64 }{
		{inf, 10240, 10240}, {inf, 0, inf}, {1000, 0, 1000}, {1000, 5000, 1000}, {524288, 245760, 245760},
	} {
		if got := softTarget(c.hard, c.ceiling); got != c.want {
			t.Errorf("softTarget(hard %d, ceiling %d) = %d, want %d", c.hard, c.ceiling, got, c.want)
		}
	}
}
