//go:build !linux

package bench

// wakeTimer has no counterpart here: the loop waits with the poller's
// own timeout and spins the rest.
type wakeTimer struct {
	fd    int
	armed int64
}

func newWakeTimer() (*wakeTimer, error) { return nil, nil }
func (t *wakeTimer) arm(int64) error    { return nil }
func (t *wakeTimer) expired()           {}
func (t *wakeTimer) close()             {}
