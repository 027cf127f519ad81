package sysstat

import (
	"math"
	"os/exec"
	"testing"
	"time"
)

func TestParseProcStat(t *testing.T) {
	hz := clockTicks()
	tick := 1e9 / hz
	m, err := parseProcStat([]byte("cpu  100 5 50 1000 20 3 7 11 40 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := MachineCPU{ProcNs: 155 * tick, IdleNs: 1020 * tick, IRQNs: 10 * tick, StealNs: 11 * tick}
	if m != want {
		t.Errorf("got %+v, want %+v", m, want)
	}
	for _, bad := range []string{"", "intr 1 2 3", "cpu 1 2 3", "cpu 1 2 x 4 5 6 7 8", "cpu 1 -2 3 4 5 6 7 8"} {
		if _, err := parseProcStat([]byte(bad)); err == nil {
			t.Errorf("parseProcStat(%q) accepted", bad)
		}
	}
}

func TestMachineNoise(t *testing.T) {
	a := MachineCPU{ProcNs: 10e9, StealNs: 1e9}
	b := MachineCPU{ProcNs: 14e9, StealNs: 1.5e9}
	n := MachineNoise(a, b, 3e9, 2)
	if math.Abs(n.Foreign-0.5) > 1e-9 || math.Abs(n.Steal-0.25) > 1e-9 {
		t.Errorf("noise %+v, want foreign 0.5, steal 0.25", n)
	}
	// Tick rounding can make the own processes' CPU exceed the machine's.
	if n := MachineNoise(a, b, 5e9, 2); n.Foreign != 0 {
		t.Errorf("foreign %v, want 0", n.Foreign)
	}
}

// A busy process counts as foreign unless it is one of the measured ones.
func TestForeignSamplerExcludesMeasured(t *testing.T) {
	cmd := exec.Command("sh", "-c", "while :; do :; done")
	if err := cmd.Start(); err != nil {
		t.Skip("no shell to run a busy process:", err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	pid := cmd.Process.Pid
	all, err := NewForeignSampler()
	if err != nil {
		t.Fatal(err)
	}
	mine, err := NewForeignSampler(pid)
	if err != nil {
		t.Fatal(err)
	}
	u0, err := ProcessByPID(pid)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	time.Sleep(time.Second)
	u1, err := ProcessByPID(pid)
	if err != nil {
		t.Fatal(err)
	}
	na, err := all.Sample()
	if err != nil {
		t.Fatal(err)
	}
	nm, err := mine.Sample()
	if err != nil {
		t.Fatal(err)
	}
	busy := float64(u1.CPUNs()-u0.CPUNs()) / 1e9 / time.Since(start).Seconds()
	if busy <= 0 {
		t.Skip("the busy process got no CPU")
	}
	// The busy process is inside the first sampler's foreign CPU and
	// outside the second's.
	if na.Foreign < busy*0.8 {
		t.Errorf("foreign %.3f CPUs with a process busy at %.3f", na.Foreign, busy)
	}
	if d := na.Foreign - nm.Foreign; d < busy*0.8 || d > busy*1.2+0.05 {
		t.Errorf("excluding the busy process (%.3f CPUs) lowered foreign CPU by %.3f", busy, d)
	}
}

func TestLoadAvg(t *testing.T) {
	v, err := LoadAvg()
	if err != nil || v < 0 {
		t.Errorf("LoadAvg = %v, %v", v, err)
	}
}

func TestSockBufMax(t *testing.T) {
	snd, rcv, err := SockBufMax()
	if err != nil || snd <= 0 || rcv <= 0 {
		t.Errorf("SockBufMax = %d, %d, %v", snd, rcv, err)
	}
}
