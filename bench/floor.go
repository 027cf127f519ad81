package bench

import (
	"runtime"
	"slices"
	"time"

	"github.com/muxbench/muxbench/poller"
	"github.com/muxbench/muxbench/result"
	"github.com/muxbench/muxbench/sysstat"
)

// The timing floor: how late a perfect sender would be on the
// generator's CPU. A thread that does nothing but read the clock there
// sees the gaps in which it did not run: interrupts, and on a virtual
// machine the host's own work, which the guest's accounting (steal time
// included) may not show. A send that falls due in a gap leaves at its
// end whatever the generator does, so the rest of the gap is its
// lateness: over a probe of length T, lateness exceeds x for
// sum(max(0, gap-x))/T of the time.
const (
	floorProbe = 250 * time.Millisecond
	// floorMinGap: gaps below this are clock reads and loop overhead,
	// not time lost; they count as no lateness.
	floorMinGap = 1_000
	// floorLostGap is the gap counted in Lost and GapsPerSec.
	floorLostGap = 10_000
	floorMaxGaps = 1 << 18
)

// onCPU locks the calling goroutine to its thread and pins that to cpu
// (-1: wherever it runs), best effort as for the loops; the returned
// function undoes both.
func onCPU(cpu int) (undo func()) {
	runtime.LockOSThread()
	var orig []int
	if cpu >= 0 {
		orig, _ = sysstat.Affinity()
		_ = sysstat.PinThread([]int{cpu})
	}
	return func() {
		if orig != nil {
			_ = sysstat.PinThread(orig)
		}
		runtime.UnlockOSThread()
	}
}

// measureFloor spins on cpu (-1: wherever the thread runs) for d and
// returns the floor it saw.
func measureFloor(cpu int, d time.Duration) result.TimingFloor {
	defer onCPU(cpu)()
	gaps := make([]int64, 0, 4096)
	start := nanotime()
	end := start + int64(d)
	prev := start
	for {
		t := nanotime()
		if g := t - prev; g >= floorMinGap && len(gaps) < floorMaxGaps {
			gaps = append(gaps, g)
		}
		prev = t
		if t >= end {
			break
		}
	}
	f := floorFromGaps(gaps, prev-start)
	f.CPU = cpu
	return f
}

// floorFromGaps is the lateness distribution of a send due at a random
// instant of a span of total ns that held these gaps.
func floorFromGaps(gaps []int64, total int64) result.TimingFloor {
	f := result.TimingFloor{ProbeSec: float64(total) / 1e9}
	if total <= 0 {
		return f
	}
	var lost int64
	n := 0
	for _, g := range gaps {
		if g >= floorLostGap {
			lost += g
			n++
		}
	}
	f.Lost = float64(lost) / float64(total)
	f.GapsPerSec = float64(n) / f.ProbeSec
	s := slices.Clone(gaps)
	slices.Sort(s)
	// above(x) is the time with lateness over x; it falls as x grows,
	// so the smallest x with above(x) <= q*total is found by bisection.
	above := func(x int64) int64 {
		var sum int64
		for i := len(s) - 1; i >= 0 && s[i] > x; i-- {
			sum += s[i] - x
		}
		return sum
	}
	quantile := func(q float64) int64 {
		lo, hi := int64(0), int64(0)
		if len(s) > 0 {
			hi = s[len(s)-1]
		}
		for lo < hi {
			mid := lo + (hi-lo)/2
			if float64(above(mid)) <= q*float64(total) {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		return lo
	}
	f.P50, f.P99, f.P999 = quantile(0.5), quantile(0.01), quantile(0.001)
	return f
}

// The paced floor: a loop that paces itself as the open loop paces its
// sends, sending nothing. Between sends further apart than its margin the
// loop sleeps, and woken it arrives late by what waking a halted CPU
// takes (tens of us on a virtual machine), which a thread that spins
// never pays: that is the floor of such a loop. Closer together, the loop
// polls without blocking and this floor is the spinning one's.
const (
	// pacedProbeSends is how many deadlines the paced probe takes at
	// least, within [floorProbe, pacedProbeMax].
	pacedProbeSends = 1000
	pacedProbeMax   = time.Second
)

// pacedProbe is how long the paced probe takes at deadlines interval
// apart.
func pacedProbe(interval int64) time.Duration {
	return min(max(time.Duration(pacedProbeSends*interval), floorProbe), pacedProbeMax)
}

// measurePacedFloor paces a loop with backend's poller on cpu (-1:
// wherever the thread runs) through deadlines interval apart for d, as
// the open loop paces its sends, and returns how late it reached them.
func measurePacedFloor(backend string, cpu int, interval int64, d time.Duration) (result.TimingFloor, error) {
	defer onCPU(cpu)()
	f := result.TimingFloor{CPU: cpu, IntervalNs: interval}
	p, err := openGenPoller(backend)
	if err != nil {
		return f, err
	}
	defer p.Close()
	pc, err := newPacer(p)
	if err != nil {
		return f, err
	}
	defer pc.close(p)
	events := make([]poller.Event, 4)
	n := min(int64(d)/interval+1, floorMaxGaps)
	late := make([]int64, 0, n)
	start := nanotime() + interval
	end := start + min(int64(d), n*interval)
	for due := start; due < end; due += interval {
		for nanotime() < due {
			n, err := p.Wait(events, pc.untilDue(due))
			if err != nil {
				return f, err
			}
			for _, ev := range events[:n] {
				if ev.Token == timerToken {
					pc.onTimer()
				}
			}
		}
		late = append(late, nanotime()-due)
	}
	f.ProbeSec = float64(nanotime()-start) / 1e9
	f.Sends = int64(len(late))
	slices.Sort(late)
	at := func(q float64) int64 {
		if len(late) == 0 {
			return 0
		}
		return late[min(int(q*float64(len(late))), len(late)-1)]
	}
	f.P50, f.P99, f.P999 = at(0.5), at(0.99), at(0.999)
	return f, nil
}
