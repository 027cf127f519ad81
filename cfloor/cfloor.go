// Package cfloor builds and runs muxbench's C floor: a minimal epoll echo
// server (echo.c) and a blocking ping-pong client (ping.c), the least a
// server and a client can do per round trip on this machine. The sources
// are embedded, so any muxbench binary can build them where a C compiler
// exists; by hand it is `make -C cfloor/c`. The echo server is the peer
// c-floor (package peer), started and stopped as every peer is.
package cfloor

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"

	"github.com/muxbench/muxbench/peer"
)

// Name is the c-floor line in results and charts.
const Name = "c-floor"

//go:embed c/echo.c
var echoSource []byte

//go:embed c/ping.c
var pingSource []byte

// ErrUnavailable is wrapped when the floor cannot be built here: no C
// compiler, or no epoll.
var ErrUnavailable = errors.New("cfloor: unavailable")

// Compiler is the C compiler to use: $CC, or cc on the PATH.
func Compiler() (string, error) {
	if runtime.GOOS != "linux" {
		return "", fmt.Errorf("%w: the C floor is an epoll server, and %s has no epoll", ErrUnavailable, runtime.GOOS)
	}
	cc, err := peer.Compiler()
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return cc, nil
}

// Build compiles the echo server and the ping client into dir and returns
// their paths.
func Build(ctx context.Context, dir string) (echo, ping string, err error) {
	if _, err := Compiler(); err != nil {
		return "", "", err
	}
	echo, ping = filepath.Join(dir, "echo"), filepath.Join(dir, "ping")
	for _, p := range []struct {
		src []byte
		out string
	}{{echoSource, echo}, {pingSource, ping}} {
		if err := peer.CompileC(ctx, p.out, p.src); err != nil {
			return "", "", fmt.Errorf("cfloor: %v", err)
		}
	}
	return echo, ping, nil
}

// The floor is also a peer, c-floor: run measures it as the server child.
func init() {
	peer.Register(&peer.Peer{Name: Name, Multiplexer: "epoll", Family: Name, Language: "C", Reference: true, Needs: "a C compiler (gcc)",
		Doc:     "muxbench's C floor (cfloor/c/echo.c): one thread, level-triggered epoll, nothing else",
		Program: peer.C("cfloor_echo", echoSource, "", nil), Args: []string{"-e"}})
}
