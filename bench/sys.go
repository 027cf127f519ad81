package bench

import (
	"github.com/muxbench/muxbench/sysstat"
)

// cpuTimes is CPU time and context switches of a thread or process; ok is
// false where the platform cannot tell.
type cpuTimes struct {
	userNs, sysNs  int64
	volCS, involCS int64
	maxRSS         int64
	ok             bool
}

func fromUsage(u sysstat.Usage, err error) cpuTimes {
	if err != nil {
		return cpuTimes{}
	}
	return cpuTimes{userNs: u.UserNs, sysNs: u.SysNs, volCS: u.VolCtxSw, involCS: u.InvolCtxSw, maxRSS: u.MaxRSS, ok: true}
}

// threadCPU must run on the thread it measures: RUSAGE_THREAD has no
// thread argument.
func threadCPU() cpuTimes { return fromUsage(sysstat.Thread()) }

func pidCPU(pid int) (cpuTimes, error) {
	u, err := sysstat.ProcessByPID(pid)
	return fromUsage(u, err), err
}
