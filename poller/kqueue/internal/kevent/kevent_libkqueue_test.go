//go:build linux && libkqueue && cgo

package kevent

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestCheck(t *testing.T) {
	if err := Check(); err != nil {
		t.Fatal(err)
	}
}

// A wait of a millisecond and a half lasts at least that long: libkqueue
// waits out a timeout finer than epoll_wait's milliseconds before it
// calls epoll_wait (versions that rounded it down ended such waits early).
func TestTimeoutNotShort(t *testing.T) {
	kq, err := Kqueue()
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(kq)
	const d = 1500 * time.Microsecond
	ts := unix.NsecToTimespec(int64(d))
	for range 5 {
		start := time.Now()
		n, err := Kevent(kq, nil, make([]Event, 1), &ts)
		if err == unix.EINTR {
			continue
		}
		if elapsed := time.Since(start); n != 0 || err != nil || elapsed < d {
			t.Fatalf("Kevent(%v) = %d, %v after %v", d, n, err, elapsed)
		}
	}
}
