package server

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
)

// spawnEnv makes the test binary play `muxbench serve` for Spawn.
const spawnEnv = "MUXBENCH_SERVER_TEST_SPAWN"

func TestMain(m *testing.M) {
	if os.Getenv(spawnEnv) == "1" && len(os.Args) > 1 && os.Args[1] == "serve" {
		os.Exit(Command(os.Args[2:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func spawn(args ...string) (*Child, error) {
	return Spawn(context.Background(), SpawnConfig{Executable: os.Args[0], Args: args, Env: []string{spawnEnv + "=1"}})
}

func TestSpawnStop(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	c, err := spawn("--backend", Stdlib)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Kill()
	if c.Ready.PID != c.cmd.Process.Pid || c.Ready.Backend != Stdlib {
		t.Errorf("ready %+v, child pid %d", c.Ready, c.cmd.Process.Pid)
	}
	echo(t, dialN(t, c.Ready.Listen, 1), []byte("x"), 1)
	if _, err := c.Control.Stats(); err != nil {
		t.Fatal(err)
	}
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
	c, err := spawn("--backend", Stdlib)
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
