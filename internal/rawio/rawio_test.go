package rawio

import (
	"errors"
	"testing"
	"time"

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

// Sockets from Socket and Accept are non-blocking and close-on-exec.
func TestSocketAccept(t *testing.T) {
	ln, err := Socket(unix.AF_INET)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(ln)
	if err := unix.Bind(ln, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(ln, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := Accept(ln); !errors.Is(err, unix.EAGAIN) {
		t.Fatalf("accept with nothing pending = %v, want EAGAIN", err)
	}
	sa, err := unix.Getsockname(ln)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Socket(unix.AF_INET)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(c)
	if err := unix.Connect(c, sa); err != nil && !errors.Is(err, unix.EINPROGRESS) {
		t.Fatal(err)
	}
	var a int
	for range 200 {
		if a, err = Accept(ln); !errors.Is(err, unix.EAGAIN) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(a)
	for name, fd := range map[string]int{"listener": ln, "socket": c, "accepted": a} {
		fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
		if err != nil || fl&unix.O_NONBLOCK == 0 {
			t.Errorf("%s: flags %#x, %v: not non-blocking", name, fl, err)
		}
		fdfl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err != nil || fdfl&unix.FD_CLOEXEC == 0 {
			t.Errorf("%s: descriptor flags %#x, %v: not close-on-exec", name, fdfl, err)
		}
	}
}
