package bench

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/internal/units"
	"github.com/muxbench/muxbench/result"
	"github.com/muxbench/muxbench/sysstat"
)

// What makes a result's figures trustworthy beyond the echoed bytes:
// the connections it claims were all there, and nothing else of note ran
// on the machine meanwhile.

// DefaultNoiseThreshold is the foreign and steal CPU, in CPUs, above
// which a run is marked noisy: a twentieth of a CPU is already more than
// tick-based accounting's error over a few seconds.
const DefaultNoiseThreshold = 0.05

// connSettle bounds the wait, before the window, for a server to report
// one more of the want connections it owes: accepting thousands takes it
// a moment after the generator's connects have returned (a reactor takes
// some 10k a second under the race detector, ten times that without),
// and a select server serving the load beside them much longer.
func connSettle(want int) time.Duration {
	return min(time.Second+time.Duration(want)*100*time.Microsecond, 10*time.Second)
}

// maxSettle bounds the whole wait for a server that keeps accepting,
// however slowly.
const maxSettle = 2 * time.Minute

// closedIdle counts the idle sockets that are no longer open: a peek
// that does not block finds the peer's FIN or reset instead of EAGAIN.
func closedIdle(fds []int) int {
	var b [1]byte
	closed := 0
	for _, fd := range fds {
		for {
			n, _, err := unix.Recvfrom(fd, b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if (err != nil && !errors.Is(err, unix.EAGAIN)) || (err == nil && n == 0) {
				closed++
			}
			break
		}
	}
	return closed
}

// shortfall is how many of the want connections are missing at one edge
// of the window, and why in words: idle ones the server closed, or fewer
// than want in the server's own count (s may be nil, or have no count),
// with note, if any, on how it got there.
func shortfall(edge string, idle []int, s *serverSample, want int, note string) (int, string) {
	missing, why := 0, ""
	if c := closedIdle(idle); c > 0 {
		missing = c
		why = fmt.Sprintf("%d of %d idle connections closed by the server at the window's %s", c, len(idle), edge)
	}
	if s != nil && s.countsConns && s.conns < want {
		if n := want - s.conns; n > missing {
			missing = n
			why = fmt.Sprintf("the server holds %d of the %d connections at the window's %s", s.conns, want, edge)
			if note != "" {
				why += ": " + note
			}
		}
	}
	return missing, why
}

// settle waits until the server reports want connections, for as long
// as it keeps taking more (connSettle without one ends the wait, and
// maxSettle in all), and returns its last sample. If the server is still
// short of want, why says whether it was still accepting.
func settle(p serverProbe, want int) (s *serverSample, why string, err error) {
	start := time.Now()
	held, gained := -1, start
	for {
		st, err := p.sample()
		if err != nil {
			return nil, "", err
		}
		now := time.Now()
		if st.conns > held {
			held, gained = st.conns, now
		}
		switch {
		case !st.countsConns || st.conns >= want:
			return &st, "", nil
		case now.Sub(gained) > connSettle(want):
			return &st, fmt.Sprintf("it took none for %v and stopped accepting", connSettle(want).Round(time.Millisecond)), nil
		case now.Sub(start) > maxSettle:
			return &st, fmt.Sprintf("it was still accepting after %v", maxSettle), nil
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// noiseMeter reads the machine at the window's edges.
type noiseMeter struct {
	m0, m1 sysstat.MachineCPU
	t0, t1 time.Time
	load   float64
	err    error
}

func startNoise() *noiseMeter {
	n := &noiseMeter{t0: time.Now()}
	n.m0, n.err = sysstat.ReadMachineCPU()
	if n.err == nil {
		n.load, n.err = sysstat.LoadAvg()
	}
	return n
}

// end takes the reading at the window's end, beside the run's own CPU.
func (n *noiseMeter) end() {
	if n.err == nil {
		n.t1 = time.Now()
		n.m1, n.err = sysstat.ReadMachineCPU()
	}
}

// figures is the window's noise; own is the CPU the run's own processes
// used meanwhile. Where the machine cannot be read, nil and why.
func (n *noiseMeter) figures(own time.Duration, threshold float64) (*result.Noise, error) {
	if n.err != nil {
		return nil, n.err
	}
	v := sysstat.MachineNoise(n.m0, n.m1, int64(own), n.t1.Sub(n.t0).Seconds())
	return &result.Noise{
		ForeignCPU: round3(v.Foreign),
		StealCPU:   round3(v.Steal),
		LoadAvg:    n.load,
		Noisy:      v.Foreign+v.Steal > threshold,
	}, nil
}

// round3 keeps a thousandth of a CPU, more than tick accounting resolves.
func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// foreignSeries samples the foreign CPU once per interval of the time
// series, from the window's start.
type foreignSeries struct {
	s    *sysstat.ForeignSampler
	slot time.Duration
	stop chan struct{}
	done chan struct{}
	vals []float64
}

// startForeignSeries starts sampling; pids are the run's processes
// besides this one. It returns nil where the machine cannot be read.
func startForeignSeries(slot time.Duration, pids ...int) *foreignSeries {
	s, err := sysstat.NewForeignSampler(pids...)
	if err != nil || slot <= 0 {
		return nil
	}
	f := &foreignSeries{s: s, slot: slot, stop: make(chan struct{}), done: make(chan struct{})}
	go f.run()
	return f
}

func (f *foreignSeries) run() {
	defer close(f.done)
	tick := time.NewTicker(f.slot)
	defer tick.Stop()
	for {
		select {
		case <-f.stop:
			return
		case <-tick.C:
			n, err := f.s.Sample()
			if err != nil {
				return
			}
			f.vals = append(f.vals, round3(n.Foreign))
		}
	}
}

// finish stops sampling and returns one figure per whole interval.
func (f *foreignSeries) finish() []float64 {
	if f == nil {
		return nil
	}
	close(f.stop)
	<-f.done
	return f.vals
}

// fillForeign puts the sampled figures into the series' intervals.
func fillForeign(series []result.Second, vals []float64) {
	for i := range series {
		if i < len(vals) {
			v := vals[i]
			series[i].ForeignCPU = &v
		}
	}
}

// pinWarnings says when the server and the generator are pinned to a
// CPU they share: each then waits for the other to be descheduled, and
// latency and CPU per round trip measure that.
func pinWarnings(cfg *Config) []string {
	var shared []int
	for _, c := range cfg.Server.CPUs {
		if slices.Contains(cfg.GenCPUs, c) && !slices.Contains(shared, c) {
			shared = append(shared, c)
		}
	}
	if len(shared) == 0 {
		return nil
	}
	return []string{fmt.Sprintf("the server (--server-cpus %s) and the generator (--gen-cpus %s) are pinned to CPU %s together: each waits for the other to be descheduled, and the figures measure that",
		sysstat.FormatCPUList(cfg.Server.CPUs), sysstat.FormatCPUList(cfg.GenCPUs), sysstat.FormatCPUList(shared))}
}

// bufWarnings says when a socket buffer asked for is beyond what the
// kernel lets a process set: Linux clamps it without an error.
func bufWarnings(cfg *Config) []string {
	if cfg.Server.SndBuf == 0 && cfg.Server.RcvBuf == 0 {
		return nil
	}
	snd, rcv, err := sysstat.SockBufMax()
	if err != nil {
		return nil
	}
	var w []string
	for _, b := range []struct {
		flag, sysctl string
		v, max       int
	}{{"--sndbuf", "wmem_max", cfg.Server.SndBuf, snd}, {"--rcvbuf", "rmem_max", cfg.Server.RcvBuf, rcv}} {
		if b.v > b.max {
			w = append(w, fmt.Sprintf("%s %s is above net.core.%s (%s): the kernel clamps it; server.options has what it applied",
				b.flag, units.FormatSize(int64(b.v)), b.sysctl, units.FormatSize(int64(b.max))))
		}
	}
	return w
}
