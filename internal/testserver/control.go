package testserver

import (
	"testing"
	"time"

	"github.com/muxbench/muxbench/control"
)

// Control dials a server's control channel at addr, closed when the test
// ends.
func Control(t testing.TB, addr, token string) *control.Client {
	t.Helper()
	ctl, err := control.Dial(addr, token, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ctl.Close() })
	return ctl
}

// Stats is the server's figures now; a server that cannot say fails the
// test.
func Stats(t testing.TB, ctl *control.Client) control.Stats {
	t.Helper()
	st, err := ctl.Stats()
	if err != nil {
		t.Fatal(err)
	}
	return st
}
