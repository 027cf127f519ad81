package sysstat

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ReadTCPMemory reads /proc/net/netstat and /proc/net/protocols.
func ReadTCPMemory() (TCPMemory, error) {
	var m TCPMemory
	b, err := os.ReadFile("/proc/net/netstat")
	if err != nil {
		return m, fmt.Errorf("sysstat: %w", err)
	}
	found := false
	lines := strings.Split(string(b), "\n")
	for i := 0; i+1 < len(lines); i += 2 {
		names, values := strings.Fields(lines[i]), strings.Fields(lines[i+1])
		for j, n := range names {
			if names[0] == "TcpExt:" && n == "TCPMemoryPressures" && j < len(values) {
				m.Pressures, err = strconv.ParseInt(values[j], 10, 64)
				found = err == nil
			}
		}
	}
	if !found {
		return m, fmt.Errorf("sysstat: /proc/net/netstat: no TCPMemoryPressures")
	}
	if b, err = os.ReadFile("/proc/net/protocols"); err != nil {
		return m, fmt.Errorf("sysstat: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[0] == "TCP" {
			m.Short = f[4] == "yes"
			return m, nil
		}
	}
	return m, fmt.Errorf("sysstat: /proc/net/protocols: no TCP line")
}
