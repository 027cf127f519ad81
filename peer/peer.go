// Package peer runs echo servers written over other projects' event
// loops (Twisted, asyncio, uvloop, libevent, libev, Node.js), so that a
// run measures them as it measures muxbench's own: as its server child,
// pinned, its CPU and memory read from /proc, every byte checked.
//
// Each is kept here (src/) in its library's own idiom: one event loop in
// one thread, echoing what arrives and leaving what a short write cannot
// take to the library's buffering. Each forces the multiplexer its name
// says, where the library lets it choose, and says when it starts which
// one runs and its library's version; one whose library runs another is
// refused. All take -a ADDR -p PORT, print the C floor's ready line,
//
//	{"listen":"127.0.0.1:PORT","pid":PID,"library":"…","loop":"…"}
//
// and exit when their stdin ends, so that none outlives its run.
package peer

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/muxbench/muxbench/poller"
	"github.com/muxbench/muxbench/server"
)

// Peer is one echo server muxbench can start: a catalogue entry (see
// Register), or a user's own command (Command).
type Peer struct {
	// Name is the catalogue's, "twisted-epoll", and the result's backend.
	Name string
	// Doc is one line for `muxbench backends`.
	Doc string
	// Multiplexer is what the peer forces its library onto, named as
	// muxbench's backends are ("epoll", "iouring"), or what the library
	// runs where nobody can choose; empty when unknown.
	Multiplexer string
	// Family is the library the peer runs, unversioned and the same
	// whatever multiplexer it is forced onto ("Twisted", "libevent"), and
	// Language what the server is written in ("Python", "C"): a figure
	// that sets runtimes side by side draws a line per family.
	Family, Language string
	// Reference: the peer is muxbench's own C floor, drawn beside
	// muxbench's backends as well as beside the peers.
	Reference bool
	// MaxConns, when set, is the most connections the peer can hold, and
	// Limit says why (select's FD_SETSIZE, as its library meets it):
	// compare skips the points that need more, with that reason.
	MaxConns int
	Limit    string
	// Needs is what to install for it: Debian packages, or a program.
	Needs string
	// Loop is what the library says it runs when it runs as forced (the
	// ready line's "loop", which Start checks); empty: not checked.
	Loop string
	// Program prepares the peer (a build, a script) and returns the
	// start of its command line; Args follow it, then -a HOST -p PORT.
	Program Program
	Args    []string
	// Available, if set, says why the peer cannot run here; nil means
	// it can. Register fills it in when it is nil.
	Available func() error

	// line is a user's command (Command), run as it is written.
	line []string
	// portGiven: line carries {port}, and the server prints nothing.
	portGiven bool
}

// Program is how a peer's source becomes a command line: an interpreter
// and a script, or a binary built from C. It does its work once.
type Program func() ([]string, error)

var registered = map[string]*Peer{}

// Register makes p a catalogue name (poller.RegisterPeer), from init.
// Without an Available of its own, p can run where its Program can be
// prepared and, with a Loop, where its command line with -n prints that
// loop: the library has the multiplexer and lets it be forced.
func Register(p *Peer) {
	if p.Available == nil {
		p.Available = p.check
	}
	registered[p.Name] = p
	poller.RegisterPeer(poller.Peer{Name: p.Name, Doc: p.Doc, Multiplexer: p.Multiplexer, Needs: p.Needs, Available: p.Available})
}

// Lookup finds a registered peer.
func Lookup(name string) (*Peer, bool) {
	p, ok := registered[name]
	return p, ok
}

// checkTimeout bounds a peer's -n run: an interpreter that imports a
// large library on a busy machine.
const checkTimeout = 30 * time.Second

// check is a registered peer's default Available.
func (p *Peer) check() error {
	if p.Multiplexer == "epoll" || p.Multiplexer == "iouring" {
		if runtime.GOOS != "linux" {
			return fmt.Errorf("%s is Linux's", p.Multiplexer)
		}
	}
	argv, err := p.Program()
	if err != nil {
		return err
	}
	if p.Loop == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), checkTimeout)
	defer cancel()
	args := append(append(append([]string(nil), argv[1:]...), p.Args...), "-n")
	out, err := exec.CommandContext(ctx, argv[0], args...).CombinedOutput()
	last := lastLine(out)
	switch {
	case err != nil && strings.Contains(last, "No module named"):
		return fmt.Errorf("needs %s (%s)", p.Needs, last)
	case err != nil:
		return fmt.Errorf("%s: %v %s", argv[len(argv)-1], err, last)
	case !strings.HasSuffix(last, " "+p.Loop):
		return fmt.Errorf("its library runs %q, not %s", last, p.Loop)
	}
	return nil
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// Command is a user's own echo server, NAME=COMMAND on the command line.
// COMMAND is split at spaces and run as it is written, without a shell.
// Where it holds {port} (and perhaps {host}), Start puts a free port
// there and waits for the port to listen; otherwise the server picks its
// port and prints the ready line on stdout, {"listen":"HOST:PORT"}, with
// "pid" when the process to measure is not the one started.
func Command(name, command string) (*Peer, error) {
	line := strings.Fields(command)
	if len(line) == 0 {
		return nil, fmt.Errorf("%s: no command", name)
	}
	if _, err := exec.LookPath(line[0]); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	return &Peer{Name: name, Doc: "your own server: " + command, line: line, portGiven: strings.Contains(command, "{port}")}, nil
}

// argv is the command line that serves on host:port.
func (p *Peer) argv(host, port string) ([]string, error) {
	if p.line != nil {
		out := make([]string, len(p.line))
		for i, f := range p.line {
			out[i] = strings.NewReplacer("{host}", host, "{port}", port).Replace(f)
		}
		return out, nil
	}
	prog, err := p.Program()
	if err != nil {
		return nil, err
	}
	out := append(append([]string(nil), prog...), p.Args...)
	return append(out, "-a", host, "-p", port), nil
}

// startTimeout bounds a peer's start-up, an interpreter's imports
// included.
const startTimeout = 30 * time.Second

// Process is a running peer.
type Process struct {
	// Addr is where it listens; PID the process whose CPU and memory are
	// its own.
	Addr string
	PID  int
	// Library and Loop are what it said of itself: its library and
	// version, and the loop that runs.
	Library, Loop string
	// Command is its command line.
	Command []string
	// LoopTID is the thread that runs its event loop where that is
	// known: every peer kept here runs it on its main thread. Zero for
	// a user's own.
	LoopTID int

	cmd      *exec.Cmd
	stdin    io.Closer
	stderr   *server.StderrLog
	stopping atomic.Bool
	done     chan struct{}
	err      error // the exit, once done is closed
	killed   bool  // by Stop, after stopGrace
}

// Start runs the peer listening on addr (empty: 127.0.0.1:0), pinned to
// cpus (none: not pinned), and waits until it listens. Pinning is
// inherited: the process starts from a thread pinned to cpus, so every
// thread it ever has runs there. It ends with Stop, or with this process
// (its stdin ends; on Linux the kernel kills it when the starting thread
// goes).
func (p *Peer) Start(ctx context.Context, addr string, cpus []int) (*Process, error) {
	host, port, err := p.hostPort(addr)
	if err != nil {
		return nil, err
	}
	pr, stdout, err := p.launch(host, port, cpus)
	if err != nil {
		return nil, err
	}
	lines := make(chan []byte, 1)
	go func() {
		r := bufio.NewReader(stdout)
		if !p.portGiven {
			line, _ := r.ReadBytes('\n')
			lines <- line
		}
		_, _ = io.Copy(io.Discard, r)
	}()
	deadline := time.NewTimer(startTimeout)
	defer deadline.Stop()
	if p.portGiven {
		err = pr.awaitListen(ctx, net.JoinHostPort(host, port), deadline.C)
	} else {
		err = p.awaitReady(ctx, pr, lines, deadline.C)
	}
	if err != nil {
		pr.kill()
		if s := pr.stderr.Last(); s != "" {
			err = fmt.Errorf("%v: %s", err, s)
		}
		return nil, fmt.Errorf("peer %s did not start: %v", p.Name, err)
	}
	return pr, nil
}

// hostPort is where the peer is to listen: addr's host and port, by
// default 127.0.0.1 and a port the peer picks, or, for a command that
// must be given its port, a free one.
func (p *Peer) hostPort(addr string) (host, port string, err error) {
	host, port = "127.0.0.1", "0"
	if addr != "" {
		if host, port, err = net.SplitHostPort(addr); err != nil {
			return "", "", fmt.Errorf("peer %s: address %q: %v", p.Name, addr, err)
		}
	}
	if p.portGiven && port == "0" {
		if port, err = freePort(host); err != nil {
			return "", "", fmt.Errorf("peer %s: %v", p.Name, err)
		}
	}
	return host, port, nil
}

// launch starts the peer's process, serving on host:port and pinned to
// cpus, and returns its stdout for the caller to read.
func (p *Peer) launch(host, port string, cpus []int) (*Process, io.Reader, error) {
	argv, err := p.argv(host, port)
	if err != nil {
		return nil, nil, fmt.Errorf("peer %s: %v", p.Name, err)
	}
	pr := &Process{Command: argv, stderr: &server.StderrLog{}, done: make(chan struct{})}
	pr.cmd = exec.Command(argv[0], argv[1:]...)
	pr.cmd.Stderr = pr.stderr
	stdout, err := pr.cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	if pr.stdin, err = pr.cmd.StdinPipe(); err != nil {
		return nil, nil, err
	}
	err = server.StartChild(pr.cmd, cpus, func(err error) {
		pr.err = err
		close(pr.done)
	})
	if err != nil {
		pr.stdin.Close()
		return nil, nil, fmt.Errorf("peer %s: %v", p.Name, err)
	}
	return pr, stdout, nil
}

// awaitListen waits until a command given its port listens on addr.
func (pr *Process) awaitListen(ctx context.Context, addr string, deadline <-chan time.Time) error {
	pr.Addr, pr.PID = addr, pr.cmd.Process.Pid
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !listening(pr.Addr) {
		select {
		case <-pr.done:
			return fmt.Errorf("it exited (%v) before %s listened", pr.err, pr.Addr)
		case <-deadline:
			return fmt.Errorf("nothing listened on %s within %v", pr.Addr, startTimeout)
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}

// awaitReady waits for the ready line, the first of lines, and takes
// from it where pr listens and what it runs, which must be the loop p
// forces.
func (p *Peer) awaitReady(ctx context.Context, pr *Process, lines <-chan []byte, deadline <-chan time.Time) error {
	select {
	case line := <-lines:
		var r struct {
			Listen, Library, Loop string
			PID                   int
		}
		if len(line) == 0 {
			select { // its exit status, and its last words on stderr
			case <-pr.done:
				return fmt.Errorf("it exited (%v) without its ready line", pr.err)
			case <-time.After(time.Second):
			}
		}
		if err := json.Unmarshal(line, &r); err != nil || r.Listen == "" {
			return fmt.Errorf("no ready line on its stdout (%q)", strings.TrimSpace(string(line)))
		}
		pr.Addr, pr.PID, pr.Library, pr.Loop = r.Listen, r.PID, r.Library, r.Loop
		if pr.PID == 0 {
			pr.PID = pr.cmd.Process.Pid
		}
		if p.line == nil {
			pr.LoopTID = pr.PID
		}
	case <-deadline:
		return fmt.Errorf("no ready line within %v", startTimeout)
	case <-ctx.Done():
		return ctx.Err()
	}
	if p.Loop != "" && pr.Loop != p.Loop {
		return fmt.Errorf("its library runs %q, not %s", pr.Loop, p.Loop)
	}
	return nil
}

// freePort is a port nothing listens on at host, for a command that is
// given its port (a race with any other process that binds one meanwhile).
func freePort(host string) (string, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", err
	}
	defer ln.Close()
	_, port, err := net.SplitHostPort(ln.Addr().String())
	return port, err
}

// Alive is nil while the peer runs; once it has exited, it says how.
func (pr *Process) Alive() error {
	if c := pr.Crash(); c != nil {
		return c
	}
	return nil
}

// Done is closed once the peer has exited.
func (pr *Process) Done() <-chan struct{} { return pr.done }

// Crash is the peer's exit when it ended on its own, with its stderr:
// nil while it runs, or when Stop ended it. A peer exits only when told
// to, so a clean exit is a crash too.
func (pr *Process) Crash() *server.CrashError {
	select {
	case <-pr.done:
	default:
		return nil
	}
	if pr.stopping.Load() {
		return nil
	}
	status := "exited"
	if pr.err != nil {
		status = pr.err.Error()
	}
	return &server.CrashError{Status: status, Stderr: pr.stderr.Bytes()}
}

// stopGrace is how long a peer has to exit once its stdin ends.
const stopGrace = 3 * time.Second

// Stop ends the peer: its stdin ends, then, if it is still there, its
// process group is killed. Stop waits for its exit.
func (pr *Process) Stop() {
	pr.stopping.Store(true)
	pr.stdin.Close()
	select {
	case <-pr.done:
		// What it started, if anything, goes with it.
		_ = syscall.Kill(-pr.cmd.Process.Pid, syscall.SIGKILL)
	case <-time.After(stopGrace):
		pr.killed = true
		pr.kill()
	}
}

// kill ends the peer's process group at once and waits for its exit.
func (pr *Process) kill() {
	pr.stopping.Store(true)
	_ = syscall.Kill(-pr.cmd.Process.Pid, syscall.SIGKILL)
	pr.stdin.Close()
	<-pr.done
}

// errNoCompiler is wrapped when no C compiler is found.
var errNoCompiler = errors.New("no C compiler")

// Compiler is the C compiler to use: $CC, or cc on the PATH.
func Compiler() (string, error) {
	name := os.Getenv("CC")
	if name == "" {
		name = "cc"
	}
	fields := strings.Fields(name)
	if len(fields) == 0 {
		return "", fmt.Errorf("%w: $CC is blank", errNoCompiler)
	}
	path, err := exec.LookPath(fields[0])
	if err != nil {
		return "", fmt.Errorf("%w (%s not found; install gcc or set CC)", errNoCompiler, fields[0])
	}
	return path, nil
}
