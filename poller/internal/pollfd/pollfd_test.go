package pollfd

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/poller"
)

func TestEventsAndFlags(t *testing.T) {
	if ev := Events(poller.Writable); ev&RDHUP != 0 && RDHUP != 0 {
		t.Error("half-close asked without read interest")
	}
	if ev := Events(poller.Readable); ev&unix.POLLIN == 0 || ev&RDHUP != RDHUP {
		t.Errorf("read interest asks %#x", ev)
	}
	for re, want := range map[int16]poller.Flags{
		unix.POLLIN:                poller.Readable,
		unix.POLLPRI:               poller.Readable,
		unix.POLLOUT:               poller.Writable,
		unix.POLLHUP:               poller.HangUp,
		unix.POLLERR:               poller.Error,
		unix.POLLNVAL:              poller.Error,
		unix.POLLIN | unix.POLLOUT: poller.Readable | poller.Writable,
	} {
		if got := Flags(re); got != want {
			t.Errorf("Flags(%#x) = %v, want %v", re, got, want)
		}
	}
	if RDHUP != 0 && Flags(RDHUP) != poller.HangUp {
		t.Errorf("RDHUP reads as %v, want HangUp", Flags(RDHUP))
	}
}
