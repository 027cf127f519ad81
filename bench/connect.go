package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/internal/rawio"
)

// maxConnectBatch bounds the connections being set up at once even where
// the backlog is deep: more in flight gains nothing.
const maxConnectBatch = 256

// connectBatch is how many connections are set up at once: never more
// than the server's accept backlog (4096 on a default Linux, 128 on the
// BSDs and darwin), or the kernel drops SYNs (or resets them) and the
// connect waits for a retransmit.
func connectBatch() int { return min(maxConnectBatch, listenBacklog()) }

func sockaddr(addr string) (unix.Sockaddr, int, error) {
	ap, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return nil, 0, err
	}
	if ip4 := ap.IP.To4(); ip4 != nil {
		sa := &unix.SockaddrInet4{Port: ap.Port}
		copy(sa.Addr[:], ip4)
		return sa, unix.AF_INET, nil
	}
	sa := &unix.SockaddrInet6{Port: ap.Port}
	copy(sa.Addr[:], ap.IP.To16())
	return sa, unix.AF_INET6, nil
}

// dialAll opens n non-blocking TCP connections to addr, connectBatch() at a
// time, each given timeout to complete. It returns the connected sockets
// and the number that failed; it gives up with an error only when nothing
// connects at all (an unreachable target) or ctx ends.
func dialAll(ctx context.Context, addr string, n int, timeout time.Duration) (fds []int, failed int, err error) {
	sa, family, err := sockaddr(addr)
	if err != nil {
		return nil, 0, err
	}
	var d dialing
	defer func() {
		if err != nil {
			for _, fd := range fds {
				unix.Close(fd)
			}
			fds = nil
		}
	}()
	perBatch := connectBatch()
	for len(d.fds)+d.failed < n {
		if err := ctx.Err(); err != nil {
			return d.fds, d.failed, err
		}
		pending, err := d.start(sa, family, min(perBatch, n-len(d.fds)-d.failed))
		if err != nil {
			return d.fds, d.failed, err
		}
		if err := d.await(ctx, pending, timeout); err != nil {
			return d.fds, d.failed, err
		}
		if len(d.fds) == 0 && d.failed > 0 {
			return nil, d.failed, fmt.Errorf("cannot connect to %s: %w", addr, d.firstErr)
		}
	}
	return d.fds, d.failed, nil
}

// dialing is where dialAll stands: the sockets connected, how many
// connections failed, and the first error, which says why.
type dialing struct {
	fds      []int
	failed   int
	firstErr error
}

// fail closes fd, whose connection failed with err.
func (d *dialing) fail(fd int, err error) {
	unix.Close(fd)
	d.failed++
	d.firstErr = cmpErr(d.firstErr, err)
}

// start begins n non-blocking connects to sa and returns those under
// way, to poll for their completion; one refused at once has failed.
func (d *dialing) start(sa unix.Sockaddr, family, n int) ([]unix.PollFd, error) {
	pending := make([]unix.PollFd, 0, n)
	for range n {
		fd, err := rawio.Socket(family)
		if err != nil {
			if errors.Is(err, unix.EMFILE) || errors.Is(err, unix.ENFILE) {
				return pending, fmt.Errorf("out of descriptors after %d connections: %w", len(d.fds)+len(pending), err)
			}
			return pending, err
		}
		// Ping-pong never wants Nagle's delay.
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		err = unix.Connect(fd, sa)
		if err != nil && err != unix.EINPROGRESS {
			d.fail(fd, err)
			continue
		}
		pending = append(pending, unix.PollFd{Fd: int32(fd), Events: unix.POLLOUT})
	}
	return pending, nil
}

// await waits up to timeout for the connects in pending to complete,
// keeping the sockets that connected; those that fail or are still
// under way at the timeout, or when ctx ends, have failed.
func (d *dialing) await(ctx context.Context, pending []unix.PollFd, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for len(pending) > 0 {
		left := time.Until(deadline)
		if left <= 0 || ctx.Err() != nil {
			for _, p := range pending {
				unix.Close(int(p.Fd))
			}
			d.failed += len(pending)
			d.firstErr = cmpErr(d.firstErr, fmt.Errorf("connect timed out after %v", timeout))
			return nil
		}
		_, err := unix.Poll(pending, int(min(left, 100*time.Millisecond)/time.Millisecond)+1)
		if err != nil && err != unix.EINTR {
			return err
		}
		still := pending[:0]
		for _, p := range pending {
			if p.Revents == 0 {
				still = append(still, p)
				continue
			}
			fd := int(p.Fd)
			soerr, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
			if err == nil && soerr != 0 {
				err = unix.Errno(soerr)
			}
			if err != nil {
				d.fail(fd, err)
				continue
			}
			d.fds = append(d.fds, fd)
		}
		for i := range still {
			still[i].Revents = 0
		}
		pending = still
	}
	return nil
}

func cmpErr(first, err error) error {
	if first == nil {
		return err
	}
	return first
}
