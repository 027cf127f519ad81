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
