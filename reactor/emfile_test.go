//go:build linux

package reactor

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// emfileEnv names the mode the re-executed test binary runs the helper in.
const emfileEnv = "MUXBENCH_REACTOR_EMFILE_HELPER"

// TestAcceptEMFILE runs each mode in a child process with a low
// descriptor limit (the limit is per process: lowering ours would starve
// the other tests).
func TestAcceptEMFILE(t *testing.T) {
	if m := os.Getenv(emfileEnv); m != "" {
		emfileHelper(t, m)
		return
	}
	for _, m := range modes() {
		for _, sc := range []string{"pause", "drop"} {
			t.Run(m.name+"/"+sc, func(t *testing.T) {
				t.Parallel() // the children mostly sleep
				runEMFILEHelper(t, m.name+"/"+sc)
			})
		}
	}
}

func runEMFILEHelper(t *testing.T, arg string) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestAcceptEMFILE$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), emfileEnv+"="+arg)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "emfile helper ok") {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "emfile:") {
			t.Log(strings.TrimSpace(line))
		}
	}
}

func emfileHelper(t *testing.T, arg string) {
	name, scenario, _ := strings.Cut(arg, "/")
	if scenario == "drop" {
		emfileDrop(t, name)
		return
	}
	var m mode
	for _, c := range modes() {
		if c.name == name {
			m = c
		}
	}
	if m.backend == "" {
		t.Fatalf("no mode %q", name)
	}
	const clients = 60
	// Room for the clients and about 20 accepted connections, whatever
	// the test binary inherited.
	limit := uint64(openFds() + clients + 20)
	r := newReactor(t, m, Config{})
	accepted := 0
	l, err := r.Listen("tcp", "127.0.0.1:0", func() Protocol {
		accepted++
		return newEchoRec()
	})
	if err != nil {
		t.Fatal(err)
	}
	sa, _, err := sockaddr("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	// The runtime opens its own epoll instance lazily, for timers: make it
	// do so now, or it dies of EMFILE later.
	time.Sleep(time.Millisecond)
	lim := unix.Rlimit{Cur: limit, Max: limit}
	var old unix.Rlimit
	unix.Getrlimit(unix.RLIMIT_NOFILE, &old)
	lim.Max = old.Max
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	// Connected before the loop accepts: they wait in the backlog, more of
	// them than the descriptors left for the server.
	var cfds []int
	for range clients {
		fd, err := rawSocket(unix.AF_INET)
		if err != nil {
			t.Fatalf("client socket %d: %v", len(cfds), err)
		}
		if err := unix.Connect(fd, sa); err != nil {
			t.Fatalf("client connect %d: %v", len(cfds), err)
		}
		cfds = append(cfds, fd)
	}
	start(t, r)
	waitFor(t, r, "EMFILE on accept", 10*time.Second, func() bool { return r.c.AcceptEMFILE > 0 })
	c0 := counters(t, r)
	time.Sleep(time.Second)
	c1 := counters(t, r)
	waits := c1.Waits - c0.Waits
	fmt.Printf("emfile: %s accepted %d of %d, then %d waits and %d accept calls in 1 s\n",
		name, c1.Accepts, clients, waits, c1.Accepts+c1.AcceptEMFILE+c1.AcceptErrors-c0.Accepts-c0.AcceptEMFILE-c0.AcceptErrors)
	if waits > 1000 {
		t.Errorf("%d waits in 1 s while out of descriptors: a busy loop", waits)
	}
	if c1.Accepts >= clients {
		t.Fatalf("all %d accepted: the limit did not bite", clients)
	}
	// Free descriptors: every client closes, the server sees end of stream
	// on those it accepted, and accepts (and closes) the rest.
	for _, fd := range cfds {
		unix.Close(fd)
	}
	waitFor(t, r, "every client accepted and closed", 10*time.Second, func() bool {
		return r.c.Accepts == clients && r.conns == 0
	})
	c2 := counters(t, r)
	if c2.AcceptPauses == 0 {
		t.Errorf("no accept pause counted")
	}
	fmt.Printf("emfile: %s accepts %d, EMFILE %d, pauses %d, dropped %d\n",
		name, c2.Accepts, c2.AcceptEMFILE, c2.AcceptPauses, c2.AcceptDropped)
	fmt.Println("emfile helper ok")
}

func findMode(t *testing.T, name string) mode {
	for _, c := range modes() {
		if c.name == name {
			return c
		}
	}
	t.Fatalf("no mode %q", name)
	return mode{}
}

// emfileDrop: every descriptor is taken before the server accepts one
// connection, so it has none of its own to close and must drain the
// backlog through its spare descriptor instead of spinning.
func emfileDrop(t *testing.T, name string) {
	m := findMode(t, name)
	r := newReactor(t, m, Config{})
	l, err := r.Listen("tcp", "127.0.0.1:0", func() Protocol { return newEchoRec() })
	if err != nil {
		t.Fatal(err)
	}
	sa, _, err := sockaddr("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Millisecond) // see emfileHelper
	var old unix.Rlimit
	unix.Getrlimit(unix.RLIMIT_NOFILE, &old)
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: uint64(openFds() + 40), Max: old.Max}); err != nil {
		t.Fatal(err)
	}
	var cfds []int
	for len(cfds) < 100 {
		fd, err := rawSocket(unix.AF_INET)
		if err == unix.EMFILE {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := unix.Connect(fd, sa); err != nil {
			t.Fatal(err)
		}
		cfds = append(cfds, fd)
	}
	if len(cfds) < 10 {
		t.Fatalf("only %d clients fit", len(cfds))
	}
	start(t, r)
	want := uint64(len(cfds))
	waitFor(t, r, "every client dropped", 10*time.Second, func() bool { return r.c.AcceptDropped == want })
	c0 := counters(t, r)
	time.Sleep(200 * time.Millisecond)
	c1 := counters(t, r)
	fmt.Printf("emfile: %s dropped %d of %d with no descriptor free, %d waits in all, %d in the 200 ms after\n",
		name, c1.AcceptDropped, want, c1.Waits, c1.Waits-c0.Waits)
	if c1.Waits > 1000 || c1.AcceptEMFILE > 4*want {
		t.Errorf("%d waits, %d EMFILE: a busy loop", c1.Waits, c1.AcceptEMFILE)
	}
	var b [1]byte
	if n, err := unix.Read(cfds[0], b[:]); n > 0 || (err != nil && err != unix.ECONNRESET) {
		t.Errorf("dropped client read %d, %v; want end of stream or reset", n, err)
	}
	fmt.Println("emfile helper ok")
}

// openFds counts this process's open descriptors below 4096.
func openFds() int {
	n := 0
	for fd := 0; fd < 4096; fd++ {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil {
			n++
		}
	}
	return n
}
