package rawio

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

func TestReadWrite(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		if err := unix.SetNonblock(fd, true); err != nil {
			t.Fatal(err)
		}
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	buf := make([]byte, 8)
	if _, err := Read(fds[0], buf); !errors.Is(err, unix.EAGAIN) {
		t.Fatalf("read of an empty socket = %v, want EAGAIN", err)
	}
	if n, err := Write(fds[1], []byte("ping")); n != 4 || err != nil {
		t.Fatalf("write = %d, %v", n, err)
	}
	if n, err := Read(fds[0], buf); n != 4 || err != nil || string(buf[:n]) != "ping" {
		t.Fatalf("read = %d %q, %v", n, buf[:n], err)
	}
	unix.Close(fds[1])
	if n, err := Read(fds[0], buf); n != 0 || err != nil {
		t.Fatalf("read after close = %d, %v; want end of stream", n, err)
	}
}
