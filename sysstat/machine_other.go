//go:build !linux

package sysstat

import "fmt"

// ReadMachineCPU needs /proc/stat.
func ReadMachineCPU() (MachineCPU, error) {
	return MachineCPU{}, fmt.Errorf("%w: machine CPU time (no /proc/stat)", ErrUnavailable)
}

// LoadAvg needs /proc/loadavg.
func LoadAvg() (float64, error) {
	return 0, fmt.Errorf("%w: load average (no /proc/loadavg)", ErrUnavailable)
}

// SockBufMax needs /proc/sys; the BSDs refuse sizes above kern.ipc.maxsockbuf
// with an error instead.
func SockBufMax() (snd, rcv int, err error) {
	return 0, 0, fmt.Errorf("%w: socket buffer maximum (no /proc/sys)", ErrUnavailable)
}
