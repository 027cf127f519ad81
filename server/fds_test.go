package server

import (
	"bytes"
	"runtime"
	"testing"

	"github.com/muxbench/muxbench/control"
	"github.com/muxbench/muxbench/internal/testserver"
	"github.com/muxbench/muxbench/sysstat"
)

// TestOpenFDsBackToStart checks the figure a soak relies on to find
// leaks: the count rises with connections and returns to where it started
// once both sides have closed them.
func TestOpenFDsBackToStart(t *testing.T) {
	if sysstat.OpenFDs() < 0 {
		t.Skip("open descriptors cannot be counted on " + runtime.GOOS)
	}
	for _, b := range backends() {
		t.Run(b, func(t *testing.T) {
			s := startServer(t, Config{Backend: b})
			ctl := testserver.Control(t, s.ControlAddr(), "")
			before := waitStats(t, ctl, "idle", func(st control.Stats) bool { return st.Conns == 0 })
			if before.OpenFDs <= 0 {
				t.Fatalf("OpenFDs = %d before any connection", before.OpenFDs)
			}
			const n = 6
			conns := dialN(t, s.Addr(), n)
			echo(t, conns, bytes.Repeat([]byte("x"), 100), 3)
			during := waitStats(t, ctl, "connections open", func(st control.Stats) bool { return st.Conns == n })
			// Each connection is two descriptors here: ours and the server's.
			if during.OpenFDs < before.OpenFDs+2*n {
				t.Errorf("OpenFDs with %d connections = %d, want at least %d", n, during.OpenFDs, before.OpenFDs+2*n)
			}
			for _, c := range conns {
				c.Close()
			}
			waitStats(t, ctl, "descriptors back to the start", func(st control.Stats) bool {
				return st.Conns == 0 && st.OpenFDs == before.OpenFDs
			})
		})
	}
}
