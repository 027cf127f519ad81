package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/muxbench/muxbench/internal/testserver"
	"github.com/muxbench/muxbench/server"
)

// playEnv makes the test binary play muxbench itself, so that `run`
// starts the test binary as its server child; its `serve` then answers
// through corruptProxy, a server that damages the echo.
const playEnv = "MUXBENCH_CMD_TEST_PLAY"

// play is the test binary playing muxbench, with a corrupting serve.
func play() int {
	args := os.Args[1:]
	if len(args) == 0 || args[0] != "serve" {
		return dispatch(args, os.Stdout, os.Stderr)
	}
	pr, pw := io.Pipe()
	code := make(chan int, 1)
	go func() {
		code <- server.Command(args[1:], pw, os.Stderr)
		pw.Close()
	}()
	br := bufio.NewReader(pr)
	line, err := br.ReadBytes('\n')
	var ready server.Ready
	if err == nil && json.Unmarshal(line, &ready) == nil && ready.Listen != "" {
		if ready.Listen, err = corruptProxy(ready.Listen); err != nil {
			fmt.Fprintln(os.Stderr, "corrupting proxy:", err)
			return 1
		}
		line, _ = json.Marshal(ready)
		line = append(line, '\n')
	}
	os.Stdout.Write(line)
	go io.Copy(os.Stdout, br)
	return <-code
}

// corrupted says which bytes of a connection's echo the corrupting
// servers damage: one in 5000.
func corrupted(off int) bool { return off%5000 == 4999 }

// corruptProxy listens on loopback and relays each connection to target,
// damaging what comes back. It serves until the process exits. It keeps
// the server's side of a connection open after the generator has given
// it up, so that the run fails on the damage alone, not on connections
// missing at the server.
func corruptProxy(target string) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	go testserver.Accept(ln, func(c net.Conn) {
		go func() {
			defer c.Close()
			up, err := net.Dial("tcp", target)
			if err != nil {
				return
			}
			defer up.Close()
			go io.Copy(up, c)
			testserver.CorruptCopy(c, up, corrupted)
		}()
	})
	return ln.Addr().String(), nil
}

// integrityFailure checks a run against a corrupting server: exit 1, one
// INTEGRITY FAILURE line, and the table still printed.
func integrityFailure(t *testing.T, stdout, stderr string, code int) {
	t.Helper()
	if code != 1 {
		t.Errorf("exit %d, want 1; stderr %q", code, stderr)
	}
	if n := strings.Count(stderr, "INTEGRITY FAILURE"); n != 1 || !strings.Contains(stderr, "mismatched") {
		t.Errorf("want one INTEGRITY FAILURE line counting mismatches, stderr %q", stderr)
	}
	if !strings.Contains(stdout, "rt/s") {
		t.Errorf("no table: %q", stdout)
	}
}

// load against an echo server that damages bytes fails.
func TestLoadCorruptingServerFails(t *testing.T) {
	addr := testserver.Listen(t, testserver.Corrupt(corrupted))
	stdout, stderr, code := muxbench(t, "load", "--target="+addr, "--conns=4",
		"--warmup=100ms", "--duration=500ms", "--gen-cpus=none")
	integrityFailure(t, stdout, stderr, code)
}

// run whose own server child damages bytes fails.
func TestRunCorruptingServerFails(t *testing.T) {
	cmd := exec.Command(os.Args[0], "run", "--backend="+firstBackend(), "--conns=4",
		"--warmup=100ms", "--duration=500ms", "--server-cpus=none", "--gen-cpus=none")
	cmd.Env = append(os.Environ(), playEnv+"=1")
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatalf("run still going after 2 minutes: %s", e.String())
	}
	integrityFailure(t, o.String(), e.String(), cmd.ProcessState.ExitCode())
}
