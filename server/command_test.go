package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/muxbench/muxbench/control"
	"github.com/muxbench/muxbench/internal/testserver"
	"github.com/muxbench/muxbench/poller"
	"github.com/muxbench/muxbench/sysstat"
)

func TestCommandBadInput(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--backend", "carrier-pigeon"}, "--backend"},
		{[]string{"--read-buf", "-1"}, "read-buf"},
		{[]string{"--backend", "poll-et"}, `unknown backend "poll-et"`},
		{[]string{"--backend", "stdlib-et"}, "--backend"},
		{[]string{"--sndbuf", "4q"}, "sndbuf"},
		{[]string{"--high-water", "1k", "--low-water", "4k"}, "--low-water"},
		{[]string{"--inject-short-writes", "1.5"}, "--inject-short-writes"},
		{[]string{"--inject-eagain", "-0.1"}, "--inject-eagain"},
		{[]string{"--inject-eagain", "NaN"}, "--inject-eagain"},
		{[]string{"--inject-read-eagain", "1"}, "--inject-read-eagain"},
		{[]string{"--backend", "stdlib", "--inject-eagain", "0.1"}, "poller backend"},
		{[]string{"--backend", "stdlib", "--edge"}, "--edge"},
		{[]string{"--backend", "stdlib", "--output-budget", "1m"}, "--output-budget"},
		{[]string{"--output-budget", "lots"}, "output-budget"},
		{[]string{"--cpus", "0,x"}, "--cpus"},
		{[]string{"--cpus", "4096"}, "CPU 4096 does not exist"},
		{[]string{"--gomaxprocs", "-2"}, "--gomaxprocs"},
		{[]string{"--loops", "0"}, "--loops 0: want 1 to"},
		{[]string{"--loops", "-3"}, "--loops -3"},
		{[]string{"--loops", "100000"}, "--loops 100000"},
		{[]string{"--backend", "stdlib", "--loops", "2", "--gomaxprocs", "3"}, "contradicts --loops 2"},
		{[]string{"--spin-sleep", "-1s"}, "--spin-sleep"},
		{[]string{"--listen", "nope:port:x"}, "--listen"},
		{[]string{"--listen", busy.Addr().String()}, "--listen"},
		{[]string{"--control", busy.Addr().String()}, "--control"},
		{[]string{"--token", "fifteen-bytes!!"}, "--token: a token of 15 bytes: want at least 16"},
		{[]string{"--no-such-flag"}, "no-such-flag"},
		{[]string{"extra"}, "unexpected argument"},
	} {
		var stdout, stderr bytes.Buffer
		code := Command(tc.args, &stdout, &stderr)
		msg := stderr.String()
		if code != 2 || strings.Count(msg, "\n") != 1 || !strings.Contains(msg, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line naming %q", tc.args, code, msg, tc.want)
		}
		// The same, marked as a refusal of the flags, on stdout for a
		// parent.
		var line struct {
			Error string
			Usage bool
		}
		if err := json.Unmarshal(stdout.Bytes(), &line); err != nil || !line.Usage ||
			"muxbench serve: "+line.Error+"\n" != msg || strings.Count(stdout.String(), "\n") != 1 {
			t.Errorf("%v: stdout %q, want the error as one JSON line", tc.args, stdout.String())
		}
		if strings.Contains(msg, "goroutine") || strings.Contains(msg, "panic") {
			t.Errorf("%v: %s", tc.args, msg)
		}
	}
}

func TestCommandHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := Command([]string{"--help"}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "-exit-on-stdin-eof") {
		t.Errorf("help: exit %d, stdout %q", code, stdout.String())
	}
}

func TestLoopbackDefault(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:0": "127.0.0.1:0", ":9000": "127.0.0.1:9000", "9000": "127.0.0.1:9000",
		"0.0.0.0:1": "0.0.0.0:1", "[::1]:5": "[::1]:5",
	} {
		if got, err := loopbackDefault("listen", in); err != nil || got != want {
			t.Errorf("loopbackDefault(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// readReady reads the one line a server prints and checks there is no
// other output before it.
func readReady(t *testing.T, r io.Reader) Ready {
	t.Helper()
	line, err := bufio.NewReader(r).ReadBytes('\n')
	if err != nil {
		t.Fatalf("ready line: %v (%q)", err, line)
	}
	var rd Ready
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rd); err != nil {
		t.Fatalf("ready line %q: %v", line, err)
	}
	return rd
}

// testToken is long enough for a server to take.
const testToken = "0123456789abcdef"

// serve reachable beyond loopback and given no token makes one and
// prints it; only that token stops it.
func TestCommandMakesATokenBeyondLoopback(t *testing.T) {
	pr, pw := io.Pipe()
	var stderr bytes.Buffer
	code := make(chan int, 1)
	go func() {
		code <- Command([]string{"--backend", poller.Stdlib, "--listen", "0.0.0.0:0"}, pw, &stderr)
		pw.Close()
	}()
	rd := readReady(t, pr)
	go io.Copy(io.Discard, pr)
	m := regexp.MustCompile(`its control token is ([0-9a-f]{32}) `).FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("no token printed: %q", stderr.String())
	}
	if _, err := control.Dial(rd.Control, "", 5*time.Second); !errors.Is(err, control.ErrRefused) {
		t.Errorf("no token: %v, want a refusal", err)
	}
	ctl := testserver.Control(t, rd.Control, m[1])
	if err := ctl.Stop(); err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-code:
		if c != 0 {
			t.Errorf("exit %d; stderr %q", c, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Command did not return after a control stop")
	}
}

func TestCommandServesUntilStop(t *testing.T) {
	for _, b := range backends() {
		t.Run(b, func(t *testing.T) {
			pr, pw := io.Pipe()
			var stderr bytes.Buffer
			code := make(chan int, 1)
			go func() {
				code <- Command([]string{"--backend", b, "--read-buf", "16k", "--token", testToken}, pw, &stderr)
				pw.Close()
			}()
			rd := readReady(t, pr)
			go io.Copy(io.Discard, pr)
			if rd.Backend != b || rd.PID != os.Getpid() {
				t.Errorf("ready %+v", rd)
			}
			echo(t, dialN(t, rd.Listen, 2), []byte("hello"), 3)
			ctl := testserver.Control(t, rd.Control, testToken)
			if st := testserver.Stats(t, ctl); st.Options.ReadBuf != 16384 {
				t.Fatalf("stats %+v", st)
			}
			if err := ctl.Stop(); err != nil {
				t.Fatal(err)
			}
			select {
			case c := <-code:
				if c != 0 {
					t.Errorf("exit %d after a control stop; stderr %q", c, stderr.String())
				}
			case <-time.After(20 * time.Second):
				t.Fatal("Command did not return after a control stop")
			}
		})
	}
}

func startChild(t *testing.T, args ...string) (*exec.Cmd, io.WriteCloser, Ready, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"serve"}, args...)...)
	cmd.Env = append(os.Environ(), spawnEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	rd := readReady(t, stdout)
	go io.Copy(io.Discard, stdout)
	return cmd, stdin, rd, &stderr
}

func waitExit(t *testing.T, cmd *exec.Cmd, stderr *bytes.Buffer, why string) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("%s: child exited with %v; stderr %q", why, err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("%s: child still running", why)
	}
}

func TestChildExitsOnStdinEOF(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	cmd, stdin, rd, stderr := startChild(t, "--backend", poller.Stdlib, "--exit-on-stdin-eof")
	if rd.PID != cmd.Process.Pid {
		t.Errorf("ready pid %d, child %d", rd.PID, cmd.Process.Pid)
	}
	echo(t, dialN(t, rd.Listen, 1), []byte("x"), 1)
	stdin.Close() // what the parent's death does to the pipe
	waitExit(t, cmd, stderr, "stdin closed")
}

func TestChildExitsOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	cmd, _, rd, stderr := startChild(t, "--backend", poller.Stdlib)
	if st := testserver.Stats(t, testserver.Control(t, rd.Control, "")); st.ThreadUserNs != -1 {
		t.Fatalf("stats from the child: %+v", st)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	waitExit(t, cmd, stderr, "SIGTERM")
}

func TestChildPinned(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	online, err := sysstat.OnlineCPUs()
	if err != nil || len(online) < 2 {
		t.Skip("needs two CPUs")
	}
	if !sysstat.CanPin() {
		t.Skip("no CPU pinning on " + runtime.GOOS)
	}
	if _, err := sysstat.Affinity(); err != nil {
		t.Skip(err)
	}
	last := online[len(online)-1]
	for _, b := range []string{poller.Stdlib, defaultBackend()} {
		t.Run(b, func(t *testing.T) {
			cmd, _, rd, stderr := startChild(t, "--backend", b, "--cpus", strconv.Itoa(last))
			echo(t, dialN(t, rd.Listen, 1), []byte("pin"), 10)
			entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", rd.PID))
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				tid, _ := strconv.Atoi(e.Name())
				got, err := sysstat.ThreadAffinity(tid)
				if err == nil && !slices.Equal(got, []int{last}) {
					t.Errorf("thread %d of the server runs on CPUs %v, want [%d]", tid, got, last)
				}
			}
			cmd.Process.Signal(syscall.SIGINT)
			waitExit(t, cmd, stderr, "SIGINT")
		})
	}
}
