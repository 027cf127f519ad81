package poller_test

import (
	"os"
	"os/signal"
	"testing"

	"golang.org/x/sys/unix"
)

func threadID() int { return unix.Gettid() }

// signalThread returns a function that sends SIGUSR1 to one thread of this
// process, caught (so harmless) for the rest of the test. A directed signal
// is sure to interrupt that thread's system call; the runtime's own
// preemption signals are not.
func signalThread(t *testing.T) func(tid int) error {
	c := make(chan os.Signal, 1)
	signal.Notify(c, unix.SIGUSR1)
	t.Cleanup(func() { signal.Stop(c) })
	pid := unix.Getpid()
	return func(tid int) error { return unix.Tgkill(pid, tid, unix.SIGUSR1) }
}
