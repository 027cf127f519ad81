package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/muxbench/muxbench/control"
	"github.com/muxbench/muxbench/internal/outfile"
	"github.com/muxbench/muxbench/sysstat"
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

	cmd      *exec.Cmd
	stdin    io.WriteCloser
	stderr   *StderrLog
	stopping atomic.Bool // Stop or Kill has begun
	done     chan struct{}
	err      error // the exit, once done is closed
	crashed  bool  // it exited with err before Stop or Kill, once done is closed
}

// StartError is a child server that refused to start and said why on
// its stdout (see Command).
type StartError struct {
	// Reason is the server's own message.
	Reason string
	// Usage is set when the server refused its flags: a port in use or a
	// bad size is the user's input, not a failure.
	Usage bool
}

func (e *StartError) Error() string { return "server did not start: " + e.Reason }

// CrashError is a child server that died without being asked to and
// without saying why on stdout: a Go fatal error or panic (both exit 2,
// which is why the exit status is never taken for a refusal), a signal,
// or any other failing exit.
type CrashError struct {
	// Status is how the process ended ("exit status 2", "signal: killed").
	Status string
	// Headline is the runtime's first line ("fatal error: out of
	// memory", "panic: ..."), when there is one.
	Headline string
	// Stderr is what the server wrote on stderr, its start and its end
	// when there was too much to keep.
	Stderr []byte
}

func (e *CrashError) Error() string {
	s := "server crashed (" + e.Status + ")"
	if e.Headline != "" {
		s += ": " + e.Headline
	}
	return s
}

// LastLines is the end of the server's stderr, at most n lines.
func (e *CrashError) LastLines(n int) []string {
	lines := strings.Split(strings.TrimRight(string(e.Stderr), "\n"), "\n")
	if len(lines) == 1 && lines[0] == "" {
		return nil
	}
	return lines[max(0, len(lines)-n):]
}

// StderrPath is where a crashed server's stderr is kept beside the
// result file resultPath.
func StderrPath(resultPath string) string {
	return strings.TrimSuffix(resultPath, filepath.Ext(resultPath)) + ".server-stderr.log"
}

// Report saves the server's stderr beside resultPath (a temporary file
// when it is empty) and writes what happened to w: the crash, where its
// stderr went, and its last lines, each line prefixed.
func (e *CrashError) Report(w io.Writer, prefix, resultPath string) {
	var where string
	if resultPath != "" {
		where = StderrPath(resultPath)
		if err := outfile.Write(where, func(w io.Writer) error { _, err := w.Write(e.Stderr); return err }); err != nil {
			where = ""
		}
	}
	if where == "" {
		if f, err := os.CreateTemp("", "muxbench-server-*.stderr.log"); err == nil {
			_, err = f.Write(e.Stderr)
			if f.Close() == nil && err == nil {
				where = f.Name()
			}
		}
	}
	fmt.Fprintf(w, "%s%v\n", prefix, e)
	if where != "" {
		fmt.Fprintf(w, "%sits stderr is in %s", prefix, where)
	} else {
		fmt.Fprintf(w, "%sits stderr could not be saved", prefix)
	}
	last := e.LastLines(crashLines)
	if len(last) == 0 {
		fmt.Fprintln(w, "; it was empty")
		return
	}
	fmt.Fprintln(w, "; it ends with:")
	for _, l := range last {
		fmt.Fprintf(w, "%s    %s\n", prefix, l)
	}
}

// crashLines is how much of a crashed server's stderr Report prints.
const crashLines = 6

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
	c := &Child{Token: control.NewToken(), stderr: &StderrLog{}, done: make(chan struct{})}
	c.cmd = exec.Command(exe, append([]string{"serve", "--exit-on-stdin-eof"}, cfg.Args...)...)
	// The token goes through the environment, not the process list.
	c.cmd.Env = append(os.Environ(), TokenEnv+"="+c.Token)
	c.cmd.Env = append(c.cmd.Env, cfg.Env...)
	c.cmd.Stderr = c.stderr
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	err = StartChild(c.cmd, nil, func(err error) {
		c.err = err
		c.crashed = c.err != nil && !c.stopping.Load()
		close(c.done)
	})
	if err != nil {
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
			if err := c.crash(); err != nil {
				return fail(err)
			}
			return fail(&StartError{Reason: "it exited without its ready line"})
		}
		// The ready line, or why the server would not start.
		var first struct {
			Ready
			Error string `json:"error"`
			Usage bool   `json:"usage"`
		}
		err := json.Unmarshal(line, &first)
		switch {
		case err == nil && first.Error != "":
			return fail(&StartError{Reason: first.Error, Usage: first.Usage})
		case err != nil || first.Listen == "" || first.Control == "":
			return fail(fmt.Errorf("server printed %q, not its ready line", bytes.TrimSpace(line)))
		}
		c.Ready = first.Ready
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

// StartChild starts cmd as a server child: in a process group of its
// own, from a thread locked for the child's lifetime, so that on Linux
// the kernel kills the child when that thread ends (Pdeathsig), and
// pinned first to cpus, if any, so that every thread the child ever has
// inherits them. exited gets the child's exit once it is reaped.
func StartChild(cmd *exec.Cmd, cpus []int, exited func(error)) error {
	spawnAttr(cmd)
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		if len(cpus) > 0 {
			if err := sysstat.PinThread(cpus); err != nil {
				started <- err
				return
			}
		}
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		exited(cmd.Wait())
	}()
	return <-started
}

// Alive is nil while the server runs, and says why once it has exited:
// a *CrashError when it died on its own.
func (c *Child) Alive() error {
	select {
	case <-c.done:
		if err := c.crash(); err != nil {
			return err
		}
		return fmt.Errorf("server exited: %s", c.Reason())
	default:
		return nil
	}
}

// Done is closed once the server has exited.
func (c *Child) Done() <-chan struct{} { return c.done }

// Crash is the server's crash, nil while it runs, after a clean exit or
// when Stop or Kill ended it.
func (c *Child) Crash() *CrashError {
	select {
	case <-c.done:
		return c.crash()
	default:
		return nil
	}
}

// crash is called once done is closed.
func (c *Child) crash() *CrashError {
	if !c.crashed {
		return nil
	}
	stderr := c.stderr.Bytes()
	return &CrashError{Status: c.err.Error(), Headline: headline(stderr), Stderr: stderr}
}

// headline finds the Go runtime's first line of a crash.
func headline(stderr []byte) string {
	for _, l := range strings.Split(string(stderr), "\n") {
		for _, p := range []string{"fatal error: ", "panic: ", "SIG"} {
			if strings.HasPrefix(l, p) {
				return strings.TrimSpace(l)
			}
		}
	}
	return ""
}

// Reason is the server's last word on stderr, or its exit status.
func (c *Child) Reason() string {
	if s := c.stderr.Last(); s != "" {
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
	c.stopping.Store(true)
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
	c.stopping.Store(true)
	_ = c.cmd.Process.Kill()
	c.stdin.Close()
	<-c.done
}

// StderrLog keeps a child's stderr: all of it up to stderrKeep bytes,
// beyond that its start and its end, where a Go crash puts its headline
// and the goroutine that crashed, and the last lines. Package peer keeps
// its servers' stderr in one too, for a CrashError.
type StderrLog struct {
	mu   sync.Mutex
	head []byte
	tail []byte // the last stderrKeep/2 bytes once head is full
	cut  int64  // bytes dropped between head and tail
}

const stderrKeep = 1 << 20

func (l *StderrLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(p)
	if room := stderrKeep/2 - len(l.head); room > 0 {
		k := min(room, len(p))
		l.head = append(l.head, p[:k]...)
		p = p[k:]
	}
	l.tail = append(l.tail, p...)
	if over := len(l.tail) - stderrKeep/2; over > 0 {
		l.cut += int64(over)
		l.tail = append(l.tail[:0], l.tail[over:]...)
	}
	return n, nil
}

// Bytes is what was kept.
func (l *StderrLog) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := append([]byte(nil), l.head...)
	if l.cut > 0 {
		b = fmt.Appendf(b, "\n[... %d bytes left out ...]\n", l.cut)
	}
	return append(b, l.tail...)
}

// Last is the last non-empty line.
func (l *StderrLog) Last() string {
	lines := strings.Split(strings.TrimSpace(string(l.Bytes())), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
