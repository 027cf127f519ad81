//go:build unix

package rawio

import (
	"fmt"
	"net"

	"golang.org/x/sys/unix"
)

// Sockaddr resolves a TCP address for bind(2) or connect(2) and returns
// the socket domain it needs; network is tcp, tcp4 or tcp6.
func Sockaddr(network, addr string) (unix.Sockaddr, int, error) {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return nil, 0, fmt.Errorf("unsupported network %q (tcp, tcp4, tcp6)", network)
	}
	ta, err := net.ResolveTCPAddr(network, addr)
	if err != nil {
		return nil, 0, err
	}
	if ip4 := ta.IP.To4(); network != "tcp6" && (ta.IP == nil || ip4 != nil) {
		sa := &unix.SockaddrInet4{Port: ta.Port}
		if ip4 != nil {
			copy(sa.Addr[:], ip4)
		}
		return sa, unix.AF_INET, nil
	}
	sa := &unix.SockaddrInet6{Port: ta.Port}
	copy(sa.Addr[:], ta.IP.To16())
	return sa, unix.AF_INET6, nil
}

// TCPAddr is a socket address as the net package writes it.
func TCPAddr(sa unix.Sockaddr) net.Addr {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return &net.TCPAddr{IP: net.IP(a.Addr[:]).To16(), Port: a.Port}
	case *unix.SockaddrInet6:
		return &net.TCPAddr{IP: net.IP(a.Addr[:]), Port: a.Port}
	}
	return nil
}

// SetBufs sets SO_SNDBUF and SO_RCVBUF where positive.
func SetBufs(fd, snd, rcv int) error {
	if snd > 0 {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, snd); err != nil {
			return fmt.Errorf("SO_SNDBUF %d: %w", snd, err)
		}
	}
	if rcv > 0 {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, rcv); err != nil {
			return fmt.Errorf("SO_RCVBUF %d: %w", rcv, err)
		}
	}
	return nil
}
