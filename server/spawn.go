package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/muxbench/muxbench/control"
)

// spawnReadyTimeout bounds a child server's start-up.
const spawnReadyTimeout = 15 * time.Second

// SpawnConfig is a `muxbench serve` child process.
type SpawnConfig struct {
	// Executable is the muxbench binary; empty means this process's own.
	Executable string
	// Args are serve's flags; --exit-on-stdin-eof is always added.
	Args []string
	// Env is added to this process's environment, after the token.
	Env []string
}

// Child is a server in a process of its own, so that its CPU time and
// memory are not mixed with its parent's. It dies with its parent:
// Pdeathsig where the platform has it, --exit-on-stdin-eof everywhere.
type Child struct {
	// Ready is the line the server printed once it listened.
	Ready Ready
	// Token authenticates on the control channel.
	Token string
	// Control is connected to the server's control channel.
	Control *control.Client

	cmd   *exec.Cmd
	stdin io.WriteCloser
	tail  *stderrTail
	done  chan struct{}
	err   error // the exit, once done is closed
}

// StartError is a child server that exited before its ready line.
type StartError struct {
	// Reason is the server's last word on stderr, or its exit status.
	Reason string
	// Usage is set when the server refused its flags (exit status 2): a
	// port in use or a bad size is the user's input, not a failure.
	Usage bool
}

func (e *StartError) Error() string { return "server did not start: " + e.Reason }

// Spawn starts a child server and waits for its ready line and control
// channel. On any failure the child is killed before Spawn returns.
func Spawn(ctx context.Context, cfg SpawnConfig) (*Child, error) {
	exe := cfg.Executable
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("cannot find own executable to start the server: %w", err)
		}
	}
	var tok [16]byte
	_, _ = rand.Read(tok[:])
	c := &Child{Token: hex.EncodeToString(tok[:]), tail: &stderrTail{}, done: make(chan struct{})}
	c.cmd = exec.Command(exe, append([]string{"serve", "--exit-on-stdin-eof"}, cfg.Args...)...)
	// The token goes through the environment, not the process list.
	c.cmd.Env = append(os.Environ(), TokenEnv+"="+c.Token)
	c.cmd.Env = append(c.cmd.Env, cfg.Env...)
	c.cmd.Stderr = c.tail
	spawnAttr(c.cmd)
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	started := make(chan error, 1)
	go func() {
		// Pdeathsig fires when the starting thread ends: keep it for the
		// child's lifetime (the goroutine never unlocks).
		runtime.LockOSThread()
		if err := c.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		c.err = c.cmd.Wait()
		close(c.done)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("start server: %w", err)
	}
	lines := make(chan []byte, 1)
	go func() {
		r := bufio.NewReader(stdout)
		line, _ := r.ReadBytes('\n')
		lines <- line
		_, _ = io.Copy(io.Discard, r)
	}()
	fail := func(err error) (*Child, error) {
		c.Kill()
		return nil, err
	}
	select {
	case line := <-lines:
		if len(line) == 0 {
			<-c.done
			var ee *exec.ExitError
			return fail(&StartError{Reason: c.Reason(), Usage: errors.As(c.err, &ee) && ee.ExitCode() == 2})
		}
		if err := json.Unmarshal(line, &c.Ready); err != nil || c.Ready.Listen == "" || c.Ready.Control == "" {
			return fail(fmt.Errorf("server printed %q, not its ready line", bytes.TrimSpace(line)))
		}
	case <-time.After(spawnReadyTimeout):
		return fail(fmt.Errorf("server not ready after %v: %s", spawnReadyTimeout, c.Reason()))
	case <-ctx.Done():
		return fail(ctx.Err())
	}
	if c.Control, err = control.Dial(c.Ready.Control, c.Token, 10*time.Second); err != nil {
		return fail(err)
	}
	return c, nil
}

// Alive is nil while the server runs, and says why once it has exited.
func (c *Child) Alive() error {
	select {
	case <-c.done:
		return fmt.Errorf("server exited: %s", c.Reason())
	default:
		return nil
	}
}

// Reason is the server's last word on stderr, or its exit status.
func (c *Child) Reason() string {
	if s := c.tail.last(); s != "" {
		return s
	}
	select {
	case <-c.done:
		if c.err != nil {
			return c.err.Error()
		}
		return "it exited without a word"
	default:
		return "no word on stderr"
	}
}

// Stop asks the server to exit and waits; it kills the server if it will
// not.
func (c *Child) Stop() {
	if c.Control != nil {
		select {
		case <-c.done:
		default:
			_ = c.Control.Stop()
		}
		c.Control.Close()
	}
	c.stdin.Close()
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		c.Kill()
	}
}

// Kill ends the server at once and waits for its exit.
func (c *Child) Kill() {
	select {
	case <-c.done:
		return
	default:
	}
	_ = c.cmd.Process.Kill()
	c.stdin.Close()
	<-c.done
}

// stderrTail keeps the end of a child's stderr.
type stderrTail struct {
	mu  sync.Mutex
	buf []byte
}

const stderrTailMax = 4096

func (t *stderrTail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > stderrTailMax {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-stderrTailMax:]...)
	}
	return len(p), nil
}

// last is the last non-empty line.
func (t *stderrTail) last() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := strings.Split(strings.TrimSpace(string(t.buf)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
