package sysstat

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ReadMachineCPU reads the machine's CPU time from /proc/stat.
func ReadMachineCPU() (MachineCPU, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return MachineCPU{}, fmt.Errorf("sysstat: %w", err)
	}
	m, err := parseProcStat(data)
	if err != nil {
		return MachineCPU{}, fmt.Errorf("sysstat: /proc/stat: %w", err)
	}
	return m, nil
}

// parseProcStat reads the first line, "cpu user nice system idle iowait
// irq softirq steal guest guest_nice", in USER_HZ ticks. Kernels before
// 2.6.11 lack steal; it then stays zero.
func parseProcStat(data []byte) (MachineCPU, error) {
	line, _, _ := bytes.Cut(data, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 8 || f[0] != "cpu" {
		return MachineCPU{}, errors.New(`no "cpu" line with 7 figures`)
	}
	var t [8]int64
	for i := range t {
		if i+1 >= len(f) {
			break
		}
		v, err := strconv.ParseInt(f[i+1], 10, 64)
		if err != nil || v < 0 {
			return MachineCPU{}, fmt.Errorf("bad figure %q", f[i+1])
		}
		t[i] = v
	}
	tick := 1e9 / clockTicks()
	return MachineCPU{
		ProcNs:  (t[0] + t[1] + t[2]) * tick,
		IdleNs:  (t[3] + t[4]) * tick,
		IRQNs:   (t[5] + t[6]) * tick,
		StealNs: t[7] * tick,
	}, nil
}

// LoadAvg is the one-minute load average (/proc/loadavg).
func LoadAvg() (float64, error) {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0, fmt.Errorf("sysstat: %w", err)
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return 0, errors.New("sysstat: /proc/loadavg is empty")
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return 0, fmt.Errorf("sysstat: /proc/loadavg: %w", err)
	}
	return v, nil
}

// SockBufMax is the largest SO_SNDBUF and SO_RCVBUF an unprivileged
// process may set (net.core.wmem_max and rmem_max): larger requests are
// clamped without an error.
func SockBufMax() (snd, rcv int, err error) {
	read := func(name string) (int, error) {
		data, err := os.ReadFile("/proc/sys/net/core/" + name)
		if err != nil {
			return 0, fmt.Errorf("sysstat: %w", err)
		}
		v, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil {
			return 0, fmt.Errorf("sysstat: net.core.%s: %w", name, err)
		}
		return v, nil
	}
	if snd, err = read("wmem_max"); err != nil {
		return 0, 0, err
	}
	if rcv, err = read("rmem_max"); err != nil {
		return 0, 0, err
	}
	return snd, rcv, nil
}
