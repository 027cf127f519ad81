//go:build !linux

package poller_test

import "testing"

func threadID() int { return 0 }

func signalThread(t *testing.T) func(tid int) error {
	t.Skip("directed thread signals (tgkill) are Linux only")
	return nil
}
