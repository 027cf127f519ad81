package sysstat

import "time"

// MachineCPU is the CPU time the whole machine has spent since boot, by
// kind, in nanoseconds summed over every CPU (/proc/stat's "cpu" line).
type MachineCPU struct {
	// ProcNs is time spent running processes: user, nice and system
	// (guest time is already inside user).
	ProcNs int64
	// IRQNs is interrupt and softirq time, which belongs to no process.
	IRQNs int64
	// IdleNs is idle and iowait time.
	IdleNs int64
	// StealNs is time a hypervisor gave to other guests while this one
	// wanted to run.
	StealNs int64
}

// Noise is what other tenants of the machine took over an interval, in
// CPUs (1.0 is one CPU busy for the whole interval).
type Noise struct {
	// Foreign is the CPU that processes other than the measured ones
	// used: the machine's process time minus theirs.
	Foreign float64
	// Steal is the CPU the hypervisor gave to other guests.
	Steal float64
}

// MachineNoise is the noise between two readings of the machine taken
// sec seconds apart, during which the measured processes used ownNs of
// CPU. Accounting moves in ticks on both sides, so a small negative
// difference is rounding and reads as zero.
func MachineNoise(a, b MachineCPU, ownNs int64, sec float64) Noise {
	if sec <= 0 {
		return Noise{}
	}
	n := Noise{
		Foreign: float64(b.ProcNs-a.ProcNs-ownNs) / 1e9 / sec,
		Steal:   float64(b.StealNs-a.StealNs) / 1e9 / sec,
	}
	n.Foreign = max(n.Foreign, 0)
	n.Steal = max(n.Steal, 0)
	return n
}

// ForeignSampler measures noise interval by interval, for a time series:
// each Sample covers the time since the previous one. It counts this
// process and the processes given by pid as the measured ones.
type ForeignSampler struct {
	pids    []int
	last    MachineCPU
	lastOwn int64
	lastAt  time.Time
}

// NewForeignSampler takes the first reading; pids are the measured
// processes besides this one (a server child).
func NewForeignSampler(pids ...int) (*ForeignSampler, error) {
	s := &ForeignSampler{pids: pids}
	m, own, err := s.read()
	if err != nil {
		return nil, err
	}
	s.last, s.lastOwn, s.lastAt = m, own, time.Now()
	return s, nil
}

func (s *ForeignSampler) read() (MachineCPU, int64, error) {
	m, err := ReadMachineCPU()
	if err != nil {
		return MachineCPU{}, 0, err
	}
	u, err := Process()
	if err != nil {
		return MachineCPU{}, 0, err
	}
	own := u.CPUNs()
	for _, pid := range s.pids {
		p, err := ProcessByPID(pid)
		if err != nil {
			return MachineCPU{}, 0, err
		}
		own += p.CPUNs()
	}
	return m, own, nil
}

// Sample is the noise since the previous Sample (or NewForeignSampler).
// A measured process that has exited makes it fail.
func (s *ForeignSampler) Sample() (Noise, error) {
	m, own, err := s.read()
	if err != nil {
		return Noise{}, err
	}
	now := time.Now()
	n := MachineNoise(s.last, m, own-s.lastOwn, now.Sub(s.lastAt).Seconds())
	s.last, s.lastOwn, s.lastAt = m, own, now
	return n, nil
}
