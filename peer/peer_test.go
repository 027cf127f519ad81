package peer_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/muxbench/muxbench/bench"
	_ "github.com/muxbench/muxbench/cfloor" // the c-floor peer
	"github.com/muxbench/muxbench/internal/testserver"
	"github.com/muxbench/muxbench/peer"
	"github.com/muxbench/muxbench/poller"
	_ "github.com/muxbench/muxbench/poller/all" // the generator's poller
	"github.com/muxbench/muxbench/result"
	"github.com/muxbench/muxbench/server"
	"github.com/muxbench/muxbench/sysstat"
)

// helperEnv makes this test binary an echo server that misbehaves as it
// says (see serveHelper), for a user's --peer command.
const helperEnv = "MUXBENCH_PEER_TEST_SERVER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		serveHelper(mode, os.Args[len(os.Args)-1])
	}
	os.Exit(m.Run())
}

// serveHelper is an echo server: "corrupt" flips a bit of every byte it
// echoes, "noaccept" accepts two connections and no more, "crash" exits
// after its first echo, "port" listens on port and prints nothing. The
// others print the ready line. All exit when stdin ends.
func serveHelper(mode, port string) {
	ready := func(addr net.Addr) { fmt.Printf("{\"listen\":%q,\"pid\":%d}\n", addr, os.Getpid()) }
	if mode == "port" {
		ready = nil
	} else {
		port = "0"
	}
	handle := testserver.Echo
	switch mode {
	case "corrupt":
		handle = testserver.Corrupt(func(int) bool { return true })
	case "crash":
		handle = func(c net.Conn) {
			defer c.Close()
			buf := make([]byte, 64<<10)
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			if _, err := c.Write(buf[:n]); err != nil {
				return
			}
			fmt.Fprintln(os.Stderr, "helper: crashing on purpose")
			os.Exit(3)
		}
	}
	accepted := 0
	testserver.ServeChild(port, ready, func(c net.Conn) {
		go handle(c)
		if accepted++; mode == "noaccept" && accepted == 2 {
			select {} // the rest wait in the backlog
		}
	})
}

// helper is this test binary as a user's peer in mode.
func helper(t *testing.T, mode string) *peer.Peer {
	t.Helper()
	t.Setenv(helperEnv, mode)
	arg := "x"
	if mode == "port" {
		arg = "{port}"
	}
	p, err := peer.Command(mode, os.Args[0]+" -test.run=^$ "+arg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// short is a run small enough for a test, unpinned.
func short(p *peer.Peer, conns, idle, size int) bench.Config {
	return bench.Config{Peer: p, Conns: conns, Idle: idle, MsgSize: size,
		Duration: 300 * time.Millisecond, Warmup: 100 * time.Millisecond, NoPin: true}
}

// Every peer the catalogue has passes a closed-loop run with messages
// larger than a socket buffer (every byte checked, short writes the
// rule) and a run with
// idle connections held through the window, and says which loop and
// library ran. A peer that cannot run here is skipped, naming what it
// needs.
func TestPeers(t *testing.T) {
	entries := poller.Peers()
	if len(entries) < 13 {
		t.Errorf("%d peers registered, want every one of them: %v", len(entries), poller.PeerNames())
	}
	figs := byPID()
	for _, e := range entries {
		t.Run(e.Name, func(t *testing.T) {
			if e.Err != nil {
				t.Skipf("%s: %v", e.Name, e.Err)
			}
			p, ok := peer.Lookup(e.Name)
			if !ok {
				t.Fatal("in the catalogue, not in package peer")
			}
			// A 100 KB round trip takes a few dozen wake-ups of each side,
			// which a loaded machine can make 10 ms apart: a second's
			// window then still holds some.
			large := short(p, 3, 0, 100_000)
			large.Duration = time.Second
			for _, c := range []bench.Config{large, short(p, 2, 200, 64)} {
				res, err := bench.Run(context.Background(), c)
				if err != nil {
					t.Fatalf("conns %d idle %d size %d: %v", c.Conns, c.Idle, c.MsgSize, err)
				}
				want := c.Conns + c.Idle
				if res.RoundTrips == 0 || res.Integrity.Errors() != 0 || res.Partial {
					t.Errorf("conns %d idle %d size %d: %d round trips, integrity %+v, partial %v: %q",
						c.Conns, c.Idle, c.MsgSize, res.RoundTrips, res.Integrity, res.Partial, res.Warnings)
				}
				if s := res.Server; s == nil || s.Conns != want && figs.sockets || s.RSS <= 0 && figs.rss || s.LoopThread == nil && figs.thread {
					t.Errorf("server figures %+v, want %d connections counted, RSS and loop thread CPU where %+v", s, want, figs)
				}
				if res.Params.Backend != e.Name || res.Peer == nil || res.Peer.Name != e.Name || res.Peer.Multiplexer != e.Multiplexer ||
					(p.Loop != "" && (res.Peer.Loop != p.Loop || res.Peer.Library == "")) {
					t.Errorf("backend %q, peer %+v", res.Params.Backend, res.Peer)
				}
			}
		})
	}
}

// pidFigures says which of another process's figures sysstat gives here
// (none on darwin and the BSDs, or where MUXBENCH_SYSSTAT_HIDE hides
// them), asked of this process.
type pidFigures struct{ sockets, rss, thread bool }

func byPID() pidFigures {
	pid := os.Getpid()
	_, serr := sysstat.SocketsByPID(pid)
	_, rerr := sysstat.RSSByPID(pid)
	_, terr := sysstat.ThreadByPID(pid, pid)
	return pidFigures{sockets: serr == nil, rss: rerr == nil, thread: terr == nil}
}

// Python's select takes descriptors below 1024 only: the select peers
// over it close the connections beyond, and their run fails.
func TestPythonSelectFDSetSize(t *testing.T) {
	if testing.Short() {
		t.Skip("1,100 connections")
	}
	for _, name := range []string{"asyncio-select", "twisted-select"} {
		t.Run(name, func(t *testing.T) {
			p, _ := peer.Lookup(name)
			if err := p.Available(); err != nil {
				t.Skipf("%s: %v", name, err)
			}
			res, err := bench.Run(context.Background(), short(p, 2, 1100, 64))
			if err != nil {
				t.Fatal(err)
			}
			// 1,102 connections and the peer's own descriptors (stdio,
			// listener, its loop's) pass 1,023 by some 80 or more.
			if m := res.Integrity.MissingConns; m < 50 || m > 200 {
				t.Errorf("%d connections missing, want those past FD_SETSIZE: %q", m, res.Warnings)
			}
		})
	}
}

// A peer fails its run as any server does: one that corrupts its echoes,
// one that does not accept every connection (its sockets, counted, say
// so), and one that dies (its stderr kept). One that is given its port
// runs as any other.
func TestUserPeers(t *testing.T) {
	run := func(t *testing.T, mode string, conns, idle int) (*result.Result, error) {
		return bench.Run(context.Background(), short(helper(t, mode), conns, idle, 64))
	}
	t.Run("corrupt", func(t *testing.T) {
		res, err := run(t, "corrupt", 2, 0)
		if err != nil || res.Integrity.Mismatches == 0 {
			t.Errorf("err %v, integrity %+v", err, res.Integrity)
		}
	})
	t.Run("noaccept", func(t *testing.T) {
		if !byPID().sockets {
			t.Skip("connections a peer never accepted are found by counting its sockets, which cannot be counted here")
		}
		res, err := run(t, "noaccept", 2, 3)
		if err != nil || res.Integrity.MissingConns != 3 {
			t.Errorf("err %v, integrity %+v, warnings %q", err, res.Integrity, res.Warnings)
		}
	})
	t.Run("crash", func(t *testing.T) {
		res, err := run(t, "crash", 2, 0)
		var ce *server.CrashError
		if !errors.As(err, &ce) || !strings.Contains(string(ce.Stderr), "crashing on purpose") {
			t.Fatalf("err %v, want the crash with its stderr", err)
		}
		if res != nil && !res.Partial {
			t.Error("a crashed peer's result is not marked partial")
		}
	})
	t.Run("port", func(t *testing.T) {
		res, err := run(t, "port", 2, 2)
		if err != nil || res.RoundTrips == 0 || res.Integrity.Errors() != 0 || res.Server == nil || res.Server.Conns != 4 && byPID().sockets {
			t.Fatalf("err %v, %+v", err, res)
		}
		if res.Peer.Name != "port" || !strings.HasSuffix(res.Peer.Command, " -test.run=^$ "+portOf(res.Params.Target)) {
			t.Errorf("peer %+v, target %s", res.Peer, res.Params.Target)
		}
	})
}

func portOf(addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	return port
}

// A peer started on a CPU runs there with every thread it has: it
// inherits the CPU from the thread that started it, before it makes any.
// Node.js, with its runtime's threads, is the one to try, where it runs.
func TestStartPinsEveryThread(t *testing.T) {
	if !sysstat.CanPin() || runtime.NumCPU() < 2 {
		t.Skip("no pinning here")
	}
	var p *peer.Peer
	for _, e := range poller.Peers() {
		if e.Err == nil && (p == nil || e.Name == "node") {
			p, _ = peer.Lookup(e.Name)
		}
	}
	if p == nil {
		t.Skip("no peer can run here")
	}
	cpu := runtime.NumCPU() - 1
	pr, err := p.Start(context.Background(), "", []int{cpu})
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Stop()
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pr.PID))
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		tid, _ := strconv.Atoi(task.Name())
		if got, err := sysstat.ThreadAffinity(tid); err != nil || !slices.Equal(got, []int{cpu}) {
			t.Errorf("%s: thread %d of %d runs on %v (%v), want CPU %d", p.Name, tid, len(tasks), got, err, cpu)
		}
	}
	t.Logf("%s: %d threads on CPU %d", p.Name, len(tasks), cpu)
}
