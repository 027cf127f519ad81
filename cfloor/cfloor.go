// Package cfloor builds and runs muxbench's C floor: a minimal epoll echo
// server (echo.c) and a blocking ping-pong client (ping.c), the least a
// server and a client can do per round trip on this machine. The sources
// are embedded, so any muxbench binary can build them where a C compiler
// exists; by hand it is `make -C cfloor/c`.
package cfloor

import (
	"bufio"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
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
	name := os.Getenv("CC")
	if name == "" {
		name = "cc"
	}
	fields := strings.Fields(name)
	if len(fields) == 0 {
		return "", fmt.Errorf("%w: $CC is blank", ErrUnavailable)
	}
	path, err := exec.LookPath(fields[0])
	if err != nil {
		return "", fmt.Errorf("%w: no C compiler (%s not found; set CC)", ErrUnavailable, fields[0])
	}
	return path, nil
}

// Build compiles the echo server and the ping client into dir and returns
// their paths.
func Build(ctx context.Context, dir string) (echo, ping string, err error) {
	cc, err := Compiler()
	if err != nil {
		return "", "", err
	}
	for _, p := range []struct {
		src  []byte
		name string
		out  *string
	}{{echoSource, "echo", &echo}, {pingSource, "ping", &ping}} {
		src := filepath.Join(dir, p.name+".c")
		if err := os.WriteFile(src, p.src, 0o644); err != nil {
			return "", "", err
		}
		*p.out = filepath.Join(dir, p.name)
		cmd := exec.CommandContext(ctx, cc, "-O2", "-o", *p.out, src)
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", "", fmt.Errorf("cfloor: building %s.c: %v\n%s", p.name, err, out)
		}
	}
	return echo, ping, nil
}

// Server is a running C echo server.
type Server struct {
	Addr  string
	PID   int
	cmd   *exec.Cmd
	stdin io.Closer
	done  chan error
}

// Start runs the echo server at exe on a free loopback port and waits for
// its ready line. It holds the server's stdin (-e), so the server ends
// with this process however it ends.
func Start(exe string, args ...string) (*Server, error) {
	cmd := exec.Command(exe, append([]string{"-e"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &Server{cmd: cmd, stdin: stdin, done: make(chan error, 1)}
	ready := make(chan error, 1)
	go func() {
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err == nil {
			var r struct {
				Listen string `json:"listen"`
				PID    int    `json:"pid"`
			}
			if err = json.Unmarshal([]byte(line), &r); err == nil {
				s.Addr, s.PID = r.Listen, r.PID
			}
		}
		ready <- err
		s.done <- cmd.Wait()
	}()
	select {
	case err = <-ready:
	case <-time.After(10 * time.Second):
		err = errors.New("no ready line within 10s")
	}
	if err != nil {
		cmd.Process.Kill()
		stdin.Close()
		return nil, fmt.Errorf("cfloor: echo server did not start: %v %s", err, strings.TrimSpace(stderr.String()))
	}
	return s, nil
}

// Stop ends the server (SIGINT and end of its stdin, then SIGKILL after
// a second) and waits for it.
func (s *Server) Stop() {
	s.cmd.Process.Signal(os.Interrupt)
	s.stdin.Close()
	select {
	case <-s.done:
	case <-time.After(time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}
