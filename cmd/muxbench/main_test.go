package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/internal/testserver"
	"github.com/muxbench/muxbench/poller"
	"github.com/muxbench/muxbench/result"
)

var binary string

// TestMain builds the command once; the tests run it as users do.
func TestMain(m *testing.M) {
	if os.Getenv(playEnv) != "" {
		os.Exit(play())
	}
	dir, err := os.MkdirTemp("", "muxbench-cmd-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "muxbench")
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if out, err := exec.Command(gobin, "build", "-tags", buildTags(), "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building muxbench: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildTags are the tags this test binary was built with (libkqueue, say),
// so that the command has the backends the test expects.
func buildTags() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-tags" {
				return s.Value
			}
		}
	}
	return ""
}

// muxbench runs the binary to completion, bounded in time.
func muxbench(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatalf("muxbench %q: %v", args, err)
	}
	return o.String(), e.String(), code
}

// Bad input: exit 2 and one line naming the flag, never a stack trace.
func TestBadInput(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	closed := testserver.ClosedAddr(t)
	type badInput struct {
		args []string
		want string
	}
	tests := []badInput{
		{[]string{"frobnicate"}, "unknown command"},
		{[]string{"reprot", "x.json"}, `unknown command "reprot": did you mean report?`},
		{[]string{"epoll"}, "muxbench --backend epoll"},
		{[]string{"help", "reprot"}, "did you mean report?"},
		{[]string{"help", "run", "load"}, "muxbench help: want one command"},
		{[]string{"run", "--conn=5"}, "unknown flag --conn: did you mean --conns?"},
		{[]string{"run", "--dur=5s"}, "unknown flag --dur: did you mean --duration?"},
		{[]string{"report", "x.json", "--fromat=csv"}, "unknown flag --fromat: did you mean --format?"},
		{[]string{"report", "nosuch.json", "--format", "csv"}, "muxbench report: nosuch.json: no such file or directory"},
		{[]string{"report", "x.json", "--format"}, "--format needs a value"},
		{[]string{"plot", "nosuch", "-o", t.TempDir()}, "muxbench plot: nosuch: no such file"},
		{[]string{"diff", "old", "new", "--fail-over=x"}, "--fail-over x: want a number"},
		{[]string{"diff", "old"}, "want two result sets, OLD and NEW, got 1"},
		{[]string{"merge", "nosuch.json", "-o", filepath.Join(t.TempDir(), "m.json")}, "muxbench merge: nosuch.json: no such file"},
		{[]string{"compare", "--plan", "extra"}, `unexpected argument "extra"`},
		{[]string{"soak", "--backend=epol"}, `unknown backend "epol": did you mean epoll?`},
		{[]string{"serve", "--backend=selct"}, "did you mean select?"},
		{[]string{"backends", "--all"}, "unknown flag --all"},
		{[]string{"run", "--backend=epol"}, `unknown backend "epol": did you mean epoll?`},
		{[]string{"--backend=nosuch"}, "--backend"},
		{[]string{"run", "--backend=epoll,nosuch"}, "--backend"},
		{[]string{"run", "--backend=poll-et"}, `unknown backend "poll-et"`},
		{[]string{"run", "--backend=poll", "--edge"}, "--edge"},
		{[]string{"run", "--backend=poll", "--spin-sleep=1ms"}, "--spin-sleep: poller: option not supported by this backend: poll does not busy-wait"},
		{[]string{"serve", "--backend=poll", "--spin-sleep=1ms"}, "--spin-sleep"},
		{[]string{"run", "--backend=stdlib", "--inject-short-writes=0.1"}, "fault injection needs a poller backend"},
		{[]string{"run", "--backend=poll", "--read-buf=-1"}, "-read-buf"},
		{[]string{"--conns=0"}, "--conns"},
		{[]string{"--conns=-5"}, "--conns"},
		{[]string{"--conns=many"}, "-conns"},
		{[]string{"--idle=-1"}, "--idle"},
		{[]string{"--duration=abc"}, "-duration"},
		{[]string{"--duration=-1s"}, "--duration"},
		{[]string{"--warmup=soon"}, "-warmup"},
		{[]string{"--msg-size=8"}, "--msg-size"},
		{[]string{"--msg-size=32MiB"}, "--msg-size"},
		{[]string{"--msg-size=lots"}, "-msg-size"},
		{[]string{"--sndbuf=xyz"}, "-sndbuf"},
		{[]string{"--rate=-1"}, "--rate"},
		{[]string{"--rcvbuf=2GiB"}, "--rcvbuf"},
		{[]string{"--sndbuf=3GiB", "--backend=stdlib"}, "--sndbuf"},
		{[]string{"--noise-threshold=-1"}, "--noise-threshold"},
		{[]string{"--noise-threshold=x"}, "-noise-threshold"},
		{[]string{"--gen-cpus=999"}, "--gen-cpus"},
		{[]string{"--server-cpus=x"}, "--server-cpus"},
		{[]string{"--percentiles=200"}, "--percentiles"},
		{[]string{"--inject-eagain=2"}, "--inject-eagain"},
		{[]string{"run", "stray"}, "unexpected argument"},
		{[]string{"--conns=15000", "--idle=15000"}, "ulimit -n"},
		{[]string{"--listen=" + busy.Addr().String(), "--backend=" + firstBackend()}, "--listen"},
		{[]string{"load"}, "--target"},
		{[]string{"load", "--target=" + closed, "--duration=1s"}, "connect"},
		{[]string{"load", "--target=nohost.invalid:1", "--duration=1s"}, "nohost.invalid"},
	}
	// A backend built for other systems only is named as such.
	for _, e := range poller.Elsewhere() {
		tests = append(tests, badInput{[]string{"--backend=" + e.Name}, e.Name + " is not available on " + runtime.GOOS + " (it is built for"})
		tests = append(tests, badInput{[]string{"compare", "--plan", "--backend=" + e.Name}, e.Name + " is not available on"})
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, stderr, code := muxbench(t, tc.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2 (stderr %q)", code, stderr)
			}
			lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
			if len(lines) != 1 {
				t.Errorf("want one line on stderr, got %d: %q", len(lines), stderr)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q does not mention %q", stderr, tc.want)
			}
			if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic") {
				t.Errorf("stack trace: %q", stderr)
			}
		})
	}
}

// firstBackend is the platform's default, epoll on Linux: the backend
// end-to-end tests run, as a user's first run does.
func firstBackend() string {
	if d := poller.Default(); d != "" {
		return d
	}
	return poller.Stdlib
}

func TestBackendsCommand(t *testing.T) {
	out, _, code := muxbench(t, "backends")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, n := range append(poller.Names(), "stdlib") {
		if !strings.Contains(out, n) {
			t.Errorf("backends does not list %s:\n%s", n, out)
		}
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"run", "--help"}, {"load", "-h"}} {
		out, _, code := muxbench(t, args...)
		if code != 0 || !strings.Contains(out, "usage") {
			t.Errorf("%q: exit %d, %q", args, code, out)
		}
	}
}

// A short run of two servers writes one file per backend and a table row
// for each.
func TestRunEndToEnd(t *testing.T) {
	dir := t.TempDir() + "/"
	backends := firstBackend() + ",stdlib"
	out, stderr, code := muxbench(t, "--backend="+backends, "--conns=8", "--idle=4", "--duration=1s",
		"--warmup=200ms", "--server-cpus=none", "--gen-cpus=none", "--json="+dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, b := range strings.Split(backends, ",") {
		if !strings.Contains(out, b) {
			t.Errorf("no row for %s:\n%s", b, out)
		}
		res, err := result.ReadFile(filepath.Join(dir, b+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if res.Params.Backend != b || res.RoundTrips == 0 || res.Server == nil || res.Integrity.Errors() != 0 {
			t.Errorf("%s: backend %q, %d round trips, server %v, integrity %+v", b, res.Params.Backend, res.RoundTrips, res.Server, res.Integrity)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if len(line) > 100 {
			t.Errorf("table line over 100 columns: %q", line)
		}
	}
	// Flags after the arguments, as users type them.
	csv := filepath.Join(dir, "runs.csv")
	if _, stderr, code := muxbench(t, "report", dir, "--format", "csv", "-o", csv); code != 0 {
		t.Fatalf("report DIR --format csv -o FILE: exit %d: %s", code, stderr)
	}
	if b, err := os.ReadFile(csv); err != nil || strings.Count(string(b), "\n") != 1+len(strings.Split(backends, ",")) {
		t.Errorf("report wrote %v:\n%s", err, b)
	}
}

func processGone(pid int) bool {
	for range 100 {
		if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); errors.Is(err, os.ErrNotExist) {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// Ctrl-C during the window: the partial result is printed and saved, the
// exit status is 130, and no server child is left behind, whatever
// signals follow the first while the run saves what it measured (a
// second one only cuts short the wait for the server child).
func TestInterrupt(t *testing.T) {
	for _, sigs := range [][]syscall.Signal{
		{syscall.SIGINT},
		{syscall.SIGINT, syscall.SIGTERM, syscall.SIGINT},
		{syscall.SIGTERM, syscall.SIGTERM},
	} {
		var names []string
		for _, s := range sigs {
			names = append(names, unix.SignalName(s))
		}
		t.Run(strings.Join(names, ","), func(t *testing.T) { interrupt(t, sigs) })
	}
}

func interrupt(t *testing.T, sigs []syscall.Signal) {
	file := filepath.Join(t.TempDir(), "r.json")
	cmd := exec.Command(binary, "--backend="+firstBackend(), "--conns=8", "--duration=60s", "--warmup=100ms",
		"--server-cpus=none", "--gen-cpus=none", "--json="+file)
	var out bytes.Buffer
	cmd.Stdout = &out
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(stderr)
	measuring := false
	for sc.Scan() {
		if strings.Contains(sc.Text(), "measure") {
			measuring = true
			break
		}
	}
	if !measuring {
		t.Fatal("no progress line during the window")
	}
	go func() {
		for sc.Scan() {
		}
	}()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for i, sig := range sigs {
		if i > 0 {
			// While the first one's save is under way, which takes a
			// second at least: the server child is waited for.
			time.Sleep(100 * time.Millisecond)
		}
		if err := cmd.Process.Signal(sig); errors.Is(err, os.ErrProcessDone) {
			t.Logf("the run ended before signal %d of %d", i+1, len(sigs))
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("still running 30s after the signal")
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Errorf("exit %v, want 130", err)
	}
	res, err := result.ReadFile(file)
	if err != nil {
		t.Fatalf("no partial result saved: %v", err)
	}
	if !res.Partial || res.RoundTrips == 0 || res.WindowSec >= 60 {
		t.Errorf("partial %v, %d round trips, window %.1fs", res.Partial, res.RoundTrips, res.WindowSec)
	}
	if !strings.Contains(out.String(), firstBackend()+"*") {
		t.Errorf("table does not mark the partial row:\n%s", out.String())
	}
	pid, _ := strconv.Atoi(res.Params.Extra["server_pid"])
	if pid <= 0 {
		t.Fatal("no server pid in the result")
	}
	if !processGone(pid) {
		t.Errorf("server child %d left running", pid)
	}
}

// serverOf waits for pid's `muxbench serve` child (Linux). Any of its
// threads may have started it.
func serverOf(t *testing.T, pid int) int {
	t.Helper()
	for range 500 {
		files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
		for _, name := range files {
			b, _ := os.ReadFile(name)
			for _, f := range strings.Fields(string(b)) {
				c, _ := strconv.Atoi(f)
				if cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", c)); bytes.Contains(cmdline, []byte("\x00serve\x00")) {
					return c
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no server child appeared")
	return 0
}

// A server that crashes during the window is a failed run, not bad
// input: exit 1, "server crashed", its last lines on stderr and all of
// its stderr beside the result.
func TestServerCrash(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("finds the child in /proc")
	}
	file := filepath.Join(t.TempDir(), "r.json")
	cmd := exec.Command(binary, "--backend="+firstBackend(), "--conns=4", "--duration=60s", "--warmup=100ms",
		"--server-cpus=none", "--gen-cpus=none", "--json="+file)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(stderr)
	for sc.Scan() && !strings.Contains(sc.Text(), "measure") {
	}
	child := serverOf(t, cmd.Process.Pid)
	// The Go runtime dumps its goroutines and exits 2 on SIGQUIT, as it
	// does on a fatal error.
	if err := syscall.Kill(child, syscall.SIGQUIT); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	err = cmd.Wait()
	msg := strings.Join(lines, "\n")
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Errorf("exit %v, want 1\n%s", err, msg)
	}
	saved := strings.TrimSuffix(file, ".json") + ".server-stderr.log"
	if !strings.Contains(msg, "server crashed (exit status 2): SIGQUIT: quit") || !strings.Contains(msg, saved) {
		t.Errorf("stderr does not report the crash and where its stderr is:\n%s", msg)
	}
	b, err := os.ReadFile(saved)
	if err != nil || !bytes.Contains(b, []byte("goroutine ")) {
		t.Errorf("saved stderr: %v\n%.300s", err, b)
	}
}

// A server that closes the silent connections fails the run: exit 1 and
// one line naming the count, the table still printed.
func TestIdleClosedFailsRun(t *testing.T) {
	addr := testserver.Listen(t, func(c net.Conn) {
		defer c.Close()
		// Silent for 200 ms: an idle connection, closed.
		c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		buf := make([]byte, 64<<10)
		n, err := c.Read(buf)
		if err != nil {
			return
		}
		c.SetReadDeadline(time.Time{})
		for ; err == nil; n, err = c.Read(buf) {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
	})
	stdout, stderr, code := muxbench(t, "load", "--target="+addr, "--conns=2", "--idle=3",
		"--warmup=100ms", "--duration=500ms", "--gen-cpus=none")
	if code != 1 {
		t.Errorf("exit %d, want 1; stderr %q", code, stderr)
	}
	var lines []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.Contains(l, "MISSING") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 || !strings.Contains(lines[0], "3 of the 5 connections") {
		t.Errorf("want one line naming 3 of 5 connections missing, stderr %q", stderr)
	}
	if !strings.Contains(stdout, "external") {
		t.Errorf("no table: %q", stdout)
	}
}
