package reactor

import (
	"os"
	"strconv"
	"strings"
)

// tcpPressure says how often the kernel has run short of TCP memory,
// machine-wide (it then refuses writes with EAGAIN to sockets that poll
// writable, so a level-triggered loop with output waiting wakes for
// nothing, whatever it does), and whether it is short now. Other
// processes' connections can put it there.
func tcpPressure() (entered int64, now bool) {
	if b, err := os.ReadFile("/proc/net/netstat"); err == nil {
		lines := strings.Split(string(b), "\n")
		for i := 0; i+1 < len(lines); i += 2 {
			names, values := strings.Fields(lines[i]), strings.Fields(lines[i+1])
			for j, n := range names {
				if n == "TCPMemoryPressures" && j < len(values) && names[0] == "TcpExt:" {
					entered, _ = strconv.ParseInt(values[j], 10, 64)
				}
			}
		}
	}
	if b, err := os.ReadFile("/proc/net/protocols"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) > 4 && f[0] == "TCP" {
				now = f[4] == "yes"
			}
		}
	}
	return entered, now
}
