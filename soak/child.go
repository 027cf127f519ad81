package soak

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/muxbench/muxbench/control"
	"github.com/muxbench/muxbench/server"
)

// readyTimeout bounds a server's start-up.
const readyTimeout = 15 * time.Second

// child is one `muxbench serve` process, as bench starts its servers: the
// same executable, the token in the environment, the ready line on
// stdout, and a process that dies with us (Pdeathsig where the platform
// has it, --exit-on-stdin-eof everywhere).
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	ready server.Ready
	token string
	ctl   *control.Client
	done  chan struct{}
	err   error // the exit, once done is closed
	tail  *tail
}

func startChild(ctx context.Context, args []string) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("cannot find own executable to start the server: %w", err)
	}
	var tok [16]byte
	_, _ = rand.Read(tok[:])
	c := &child{token: hex.EncodeToString(tok[:]), done: make(chan struct{}), tail: &tail{}}
	c.cmd = exec.Command(exe, append([]string{"serve", "--exit-on-stdin-eof"}, args...)...)
	c.cmd.Env = append(os.Environ(), server.TokenEnv+"="+c.token)
	c.cmd.Stderr = c.tail
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
	fail := func(err error) (*child, error) {
		c.kill()
		return nil, err
	}
	select {
	case line := <-lines:
		if err := json.Unmarshal(line, &c.ready); err != nil || c.ready.Listen == "" || c.ready.Control == "" {
			<-c.done
			return fail(fmt.Errorf("server did not start: %s", c.why()))
		}
	case <-time.After(readyTimeout):
		return fail(fmt.Errorf("server not ready after %v: %s", readyTimeout, c.why()))
	case <-ctx.Done():
		return fail(ctx.Err())
	}
	if c.ctl, err = control.Dial(c.ready.Control, c.token, 10*time.Second); err != nil {
		return fail(err)
	}
	return c, nil
}

// alive is nil while the server runs.
func (c *child) alive() error {
	select {
	case <-c.done:
		return fmt.Errorf("server exited: %s", c.why())
	default:
		return nil
	}
}

// why is the child's last word on stderr, or its exit status.
func (c *child) why() string {
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

// stop asks the server to exit and kills it if it will not.
func (c *child) stop() {
	if c.ctl != nil {
		_ = c.ctl.Stop()
		c.ctl.Close()
	}
	c.stdin.Close()
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		c.kill()
	}
}

func (c *child) kill() {
	_ = c.cmd.Process.Kill()
	c.stdin.Close()
	<-c.done
}

// tail keeps the end of the child's stderr.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 4096 {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-4096:]...)
	}
	return len(p), nil
}

func (t *tail) last() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := strings.Split(strings.TrimSpace(string(t.buf)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
