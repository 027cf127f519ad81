package bench

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
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/muxbench/muxbench/control"
)

// ready is the line `muxbench serve` prints once it listens.
type ready struct {
	Listen  string `json:"listen"`
	Control string `json:"control"`
	PID     int    `json:"pid"`
	Backend string `json:"backend"`
}

// child is the server process of one run.
type child struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *tailBuffer
	ready  ready
	token  string
	done   chan error // the child's exit
	exited bool
	ctl    *control.Client
}

// tokenEnv is where `muxbench serve` looks for its control token.
const tokenEnv = "MUXBENCH_CONTROL_TOKEN"

// readyTimeout bounds a server's start-up.
const readyTimeout = 15 * time.Second

// serveArgs is the child's command line after the executable.
func serveArgs(cfg *Config) []string {
	a := []string{"serve",
		"--backend=" + cfg.Backend,
		"--listen=" + cfg.Listen,
		"--control=127.0.0.1:0",
		"--exit-on-stdin-eof",
	}
	if len(cfg.ServerCPUs) > 0 {
		a = append(a, "--cpus="+joinInts(cfg.ServerCPUs))
	}
	if cfg.ServerGOMAXPROCS > 0 {
		a = append(a, "--gomaxprocs="+strconv.Itoa(cfg.ServerGOMAXPROCS))
	}
	if cfg.ReadBuf > 0 {
		a = append(a, "--read-buf="+strconv.Itoa(cfg.ReadBuf))
	}
	if cfg.SndBuf > 0 {
		a = append(a, "--sndbuf="+strconv.Itoa(cfg.SndBuf))
	}
	if cfg.RcvBuf > 0 {
		a = append(a, "--rcvbuf="+strconv.Itoa(cfg.RcvBuf))
	}
	if cfg.Edge {
		a = append(a, "--edge")
	}
	if cfg.SpinSleep > 0 {
		a = append(a, "--spin-sleep="+cfg.SpinSleep.String())
	}
	return append(a, cfg.ServerArgs...)
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

// startChild re-executes the server and waits for its ready line. The
// child dies with us: Pdeathsig on the thread that started it (locked for
// the child's lifetime, so that Go never retires it early) and
// --exit-on-stdin-eof where Pdeathsig does not exist.
func startChild(ctx context.Context, cfg *Config) (*child, error) {
	exe := cfg.Executable
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("cannot find own executable to start the server: %w", err)
		}
	}
	var tok [16]byte
	_, _ = rand.Read(tok[:])
	c := &child{token: hex.EncodeToString(tok[:]), stderr: &tailBuffer{max: 4096}, done: make(chan error, 1)}
	c.cmd = exec.Command(exe, serveArgs(cfg)...)
	// The token goes through the environment, not the process list.
	c.cmd.Env = append(os.Environ(), tokenEnv+"="+c.token)
	c.cmd.Env = append(c.cmd.Env, cfg.ServerEnv...)
	c.cmd.Stderr = c.stderr
	childAttr(c.cmd)
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: see above
		if err := c.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		c.done <- c.cmd.Wait()
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
	fail := func(err error) (*child, error) {
		c.kill()
		return nil, err
	}
	select {
	case line := <-lines:
		if len(line) == 0 {
			err := <-c.done
			c.exited = true
			var ee *exec.ExitError
			if errors.As(err, &ee) && ee.ExitCode() == 2 {
				// The server refused its flags (a port in use, a bad
				// size): the user's input, said in its own words.
				return fail(usagef("%s", c.reason(err)))
			}
			return fail(fmt.Errorf("server did not start: %s", c.reason(err)))
		}
		if err := json.Unmarshal(line, &c.ready); err != nil || c.ready.Listen == "" {
			return fail(fmt.Errorf("server printed %q, not its ready line", bytes.TrimSpace(line)))
		}
	case <-time.After(readyTimeout):
		return fail(fmt.Errorf("server not ready after %v: %s", readyTimeout, c.stderr.last()))
	case <-ctx.Done():
		return fail(ctx.Err())
	}
	if c.ready.Control != "" {
		if c.ctl, err = control.Dial(c.ready.Control, c.token, 10*time.Second); err != nil {
			return fail(err)
		}
	}
	return c, nil
}

// reason explains a child's exit from its last stderr line.
func (c *child) reason(err error) string {
	if s := c.stderr.last(); s != "" {
		return s
	}
	if err != nil {
		return err.Error()
	}
	return "it exited without a word"
}

// alive reports whether the child still runs, and why not.
func (c *child) alive() error {
	if c.exited {
		return errors.New("server exited")
	}
	select {
	case err := <-c.done:
		c.exited = true
		return fmt.Errorf("server exited during the run: %s", c.reason(err))
	default:
		return nil
	}
}

// stop asks the child to exit and waits; it kills it if it will not.
func (c *child) stop() {
	if c.exited {
		return
	}
	if c.ctl != nil {
		_ = c.ctl.Stop()
	}
	c.stdin.Close()
	select {
	case <-c.done:
		c.exited = true
	case <-time.After(5 * time.Second):
		c.kill()
	}
}

func (c *child) kill() {
	if c.exited {
		return
	}
	_ = c.cmd.Process.Kill()
	c.stdin.Close()
	<-c.done
	c.exited = true
}

// tailBuffer keeps the end of what the child wrote on stderr.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

// last is the last non-empty line.
func (t *tailBuffer) last() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := strings.Split(strings.TrimSpace(string(t.buf)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// all is everything kept.
func (t *tailBuffer) all() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
