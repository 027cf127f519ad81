package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/muxbench/muxbench/internal/cli"
	"github.com/muxbench/muxbench/internal/testserver"
	"github.com/muxbench/muxbench/poller"
)

// spawnEnv makes the test binary play `muxbench serve` for Spawn.
const spawnEnv = "MUXBENCH_SERVER_TEST_SPAWN"

func TestMain(m *testing.M) {
	testserver.Main(m, spawnEnv, func(mode string) {
		switch mode {
		case "fatal":
			// The runtime's fatal error, exit status 2.
			var mu sync.Mutex
			mu.Unlock()
		case "exit2":
			// A refusal on stderr alone is no refusal.
			fmt.Fprintln(os.Stderr, "muxbench serve: --backend: looks like bad input")
			os.Exit(2)
		}
	}, Command)
}

func spawn(args ...string) (*Child, error) {
	return spawnAs("1", args...)
}

func spawnAs(mode string, args ...string) (*Child, error) {
	return Spawn(context.Background(), SpawnConfig{Executable: os.Args[0], Args: args, Env: []string{spawnEnv + "=" + mode}})
}

func TestSpawnStop(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	c, err := spawn("--backend", poller.Stdlib)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Kill()
	if c.Ready.PID != c.cmd.Process.Pid || c.Ready.Backend != poller.Stdlib {
		t.Errorf("ready %+v, child pid %d", c.Ready, c.cmd.Process.Pid)
	}
	echo(t, dialN(t, c.Ready.Listen, 1), []byte("x"), 1)
	testserver.Stats(t, c.Control)
	if err := c.Alive(); err != nil {
		t.Fatal(err)
	}
	c.Stop()
	if c.Alive() == nil {
		t.Fatal("server alive after Stop")
	}
	if !c.cmd.ProcessState.Success() {
		t.Errorf("stopped server exited with %v", c.cmd.ProcessState)
	}
	c.Stop() // again: nothing left to do
}

func TestSpawnKill(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	c, err := spawn("--backend", poller.Stdlib)
	if err != nil {
		t.Fatal(err)
	}
	c.Kill()
	err = c.Alive()
	if err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("Alive after Kill = %v", err)
	}
}

// A server that refuses its flags says why, marked as the user's input.
func TestSpawnUsage(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	_, err := spawn("--backend", "nope")
	var se *StartError
	if !errors.As(err, &se) || !se.Usage || !strings.Contains(se.Reason, `"nope"`) {
		t.Fatalf("err = %#v, want a usage StartError naming the backend", err)
	}
	t.Log(err)
}

// A server that dies before its ready line without saying why on stdout
// crashed, whatever its exit status and its last words.
func TestSpawnCrashBeforeReady(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	for mode, want := range map[string]string{
		"fatal": "fatal error: sync: unlock of unlocked mutex",
		"exit2": "",
	} {
		_, err := spawnAs(mode)
		var ce *CrashError
		if !errors.As(err, &ce) || errors.Is(err, cli.ErrUsage) {
			t.Fatalf("%s: err = %v, want a CrashError", mode, err)
		}
		if ce.Status != "exit status 2" || ce.Headline != want || len(ce.Stderr) == 0 {
			t.Errorf("%s: status %q, headline %q, %d bytes of stderr", mode, ce.Status, ce.Headline, len(ce.Stderr))
		}
	}
}

// A server that crashes while it serves is a CrashError with its stderr,
// and Report saves that beside the result.
func TestSpawnCrashWhileServing(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	c, err := spawn("--backend", poller.Stdlib)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Kill()
	if c.Crash() != nil {
		t.Fatal("crash reported while serving")
	}
	// SIGQUIT makes the Go runtime dump its goroutines and exit 2.
	if err := c.cmd.Process.Signal(syscall.SIGQUIT); err != nil {
		t.Fatal(err)
	}
	<-c.done
	var ce *CrashError
	if err := c.Alive(); !errors.As(err, &ce) || ce != nil && ce.Headline != "SIGQUIT: quit" {
		t.Fatalf("Alive after SIGQUIT = %v, want a crash with the runtime's headline", err)
	}
	if c.Crash() == nil {
		t.Error("Crash is nil")
	}
	c.Stop() // a crash stays a crash after Stop
	if c.Crash() == nil {
		t.Error("Stop after the crash hid it")
	}

	path := filepath.Join(t.TempDir(), "run.json")
	var out bytes.Buffer
	ce.Report(&out, "muxbench run: ", path)
	saved, err := os.ReadFile(StderrPath(path))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(saved, []byte("goroutine ")) {
		t.Errorf("saved stderr has no goroutine dump:\n%s", saved)
	}
	msg := out.String()
	if !strings.HasPrefix(msg, "muxbench run: server crashed (exit status 2): SIGQUIT: quit\n") ||
		!strings.Contains(msg, StderrPath(path)) || strings.Count(msg, "\n") < 3 {
		t.Errorf("report:\n%s", msg)
	}
}

// A server stopped or killed on purpose did not crash.
func TestSpawnStopIsNoCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	c, err := spawn("--backend", poller.Stdlib)
	if err != nil {
		t.Fatal(err)
	}
	c.Kill()
	if ce := c.Crash(); ce != nil {
		t.Errorf("Kill reported as %v", ce)
	}
}

func TestStderrLogKeepsStartAndEnd(t *testing.T) {
	var l StderrLog
	l.Write([]byte("fatal error: first\n"))
	filler := bytes.Repeat([]byte("x"), 1000)
	for range 3 * stderrKeep / len(filler) {
		l.Write(filler)
	}
	l.Write([]byte("\nlast line\n"))
	b := l.Bytes()
	if len(b) > stderrKeep+100 || !bytes.HasPrefix(b, []byte("fatal error: first\n")) ||
		!bytes.HasSuffix(b, []byte("last line\n")) || !bytes.Contains(b, []byte("bytes left out")) {
		t.Errorf("kept %d bytes: %.40q ... %q", len(b), b, b[len(b)-20:])
	}
	if got := headline(b); got != "fatal error: first" {
		t.Errorf("headline %q", got)
	}
	if l.Last() != "last line" {
		t.Errorf("last %q", l.Last())
	}
}
