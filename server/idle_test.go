package server

import (
	"testing"
	"time"

	"github.com/muxbench/muxbench/control"
	"github.com/muxbench/muxbench/internal/testserver"
	"github.com/muxbench/muxbench/poller"
	"github.com/muxbench/muxbench/sysstat"
)

// TestIdleServerSleeps: a server holding thousands of idle connections
// and no load sleeps. Its event loop (its whole process for stdlib) used
// a third of a CPU with poll and select here while the runtime's
// preemption signals kept ending its raw waits, each of which then
// scanned every descriptor again; asleep, it uses next to nothing. The
// bound leaves room for a busy machine's stats calls and scheduling.
func TestIdleServerSleeps(t *testing.T) {
	const (
		idle   = 5000
		settle = 300 * time.Millisecond // the last accepts, then the first wait interrupted
		window = time.Second
		most   = 0.05
	)
	if lim, err := sysstat.RaiseNoFile(); err != nil || lim.Soft < 2*idle+256 {
		t.Skipf("%d idle connections need %d descriptors here, RLIMIT_NOFILE allows %d (%v)", idle, 2*idle+256, lim.Soft, err)
	}
	for _, b := range backends() {
		if info, ok := poller.Lookup(b); ok && info.Caps.Spins {
			continue // it spins by design
		}
		t.Run(b, func(t *testing.T) {
			s := startServer(t, Config{Backend: b})
			ctl := testserver.Control(t, s.ControlAddr(), "")
			dialN(t, s.Addr(), idle)
			waitStats(t, ctl, "every connection accepted", func(st control.Stats) bool { return st.Conns == idle })
			time.Sleep(settle)
			a := testserver.Stats(t, ctl)
			time.Sleep(window)
			z := testserver.Stats(t, ctl)
			loops, proc, err := z.CPUSince(a)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d idle connections: event loops %.2f%% of a CPU, process %.2f%%", idle, 100*loops, 100*proc)
			if loops > most {
				t.Errorf("with %d idle connections and no load, the event loops used %.1f%% of a CPU over %v, want at most %.0f%%",
					idle, 100*loops, window, 100*most)
			}
		})
	}
}
