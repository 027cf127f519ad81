package testserver

import (
	"testing"

	"golang.org/x/sys/unix"
)

// Raw returns a connected non-blocking, close-on-exec AF_UNIX stream pair
// that the caller closes. The flags are set apart: darwin has no
// SOCK_NONBLOCK.
func Raw(t testing.TB) (a, b int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatalf("socketpair: %v", err)
	}
	for _, fd := range fds {
		unix.CloseOnExec(fd)
		if err := unix.SetNonblock(fd, true); err != nil {
			unix.Close(fds[0])
			unix.Close(fds[1])
			t.Fatal(err)
		}
	}
	return fds[0], fds[1]
}

// Pair is Raw, closed when the test ends. A test that closes an end early
// must use Raw: a second close could hit a reused descriptor number.
func Pair(t testing.TB) (a, b int) {
	t.Helper()
	a, b = Raw(t)
	t.Cleanup(func() { unix.Close(a); unix.Close(b) })
	return a, b
}
