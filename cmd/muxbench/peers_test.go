package main

import (
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/muxbench/muxbench/poller"
	"github.com/muxbench/muxbench/result"
	"github.com/muxbench/muxbench/server"
	"github.com/muxbench/muxbench/sysstat"
)

// backends lists every peer, each with the multiplexer it forces or why
// it cannot run here.
func TestBackendsListsPeers(t *testing.T) {
	out, _, code := muxbench(t, "backends")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	_, peers, _ := strings.Cut(out, "\nPeers:")
	for _, e := range poller.Peers() {
		want := e.Name + " " + e.Multiplexer
		if e.Err != nil {
			want = e.Err.Error()
		}
		if !strings.Contains(strings.Join(strings.Fields(peers), " "), want) {
			t.Errorf("the peers' list lacks %q:\n%s", want, peers)
		}
	}
}

// Bad peers are refused before anything runs: exit 2, one line naming
// the flag.
func TestBadPeers(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--peer=noequals"}, "--peer"},
		{[]string{"run", "--peer=epoll=/bin/cat"}, `name "epoll" is taken`},
		{[]string{"run", "--peer=c-floor=/bin/cat"}, `name "c-floor" is taken`},
		{[]string{"run", "--peer=a b=/bin/cat"}, `name "a b"`},
		{[]string{"run", "--peer=x="}, "no command"},
		{[]string{"run", "--peer=x=/nonexistent/echo {port}"}, "/nonexistent/echo"},
		{[]string{"run", "--peer=x=/bin/cat", "--sndbuf=64k"}, "--sndbuf: applies to muxbench's own servers"},
		{[]string{"run", "--peer=x=/bin/cat", "--server-gomaxprocs=2"}, "--server-gomaxprocs"},
		{[]string{"run", "--backend=nosuch"}, "c-floor"},
		{[]string{"serve", "--backend=c-floor"}, "c-floor is a peer"},
		{[]string{"soak", "--backend=c-floor"}, "c-floor is a peer"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, stderr, code := muxbench(t, tc.args...)
			if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q: want 2 and one line saying %q", code, stderr, tc.want)
			}
		})
	}
}

// A peer is bound by --listen and pinned, whole, by --server-cpus; every
// other server flag of a run is for muxbench's own servers.
func TestPeerFlags(t *testing.T) {
	for _, tc := range []struct {
		arg string
		ok  bool
	}{
		{"--server-cpus=none", true}, {"--listen=127.0.0.1:0", true}, {"--conns=4", true},
		{"--server-gomaxprocs=2", false}, {"--server-loops=2", false}, {"--sndbuf=64k", false},
	} {
		fs := flag.NewFlagSet("run", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var lf loadFlags
		lf.register(fs)
		server.AddFlags(fs, server.RunScope)
		if err := fs.Parse([]string{tc.arg}); err != nil {
			t.Fatalf("%s: %v", tc.arg, err)
		}
		if err := peerFlags(fs); (err == nil) != tc.ok {
			t.Errorf("%s with a peer: %v, want accepted %v", tc.arg, err, tc.ok)
		}
	}
}

// Your own servers, one given its port and one that prints it (here
// muxbench's serve, both), and the C floor run as peers: a row and a
// result each, under the names given.
func TestRunPeers(t *testing.T) {
	dir := t.TempDir() + "/"
	serve := binary + " serve --backend=poll --exit-on-stdin-eof"
	args := []string{"run", "--peer=given=" + serve + " --listen={host}:{port}", "--peer=printed=" + serve,
		"--conns=4", "--idle=4", "--duration=500ms", "--warmup=100ms", "--json=" + dir}
	names := []string{"given", "printed"}
	if _, err := exec.LookPath("cc"); err == nil {
		args = append(args, "--backend=c-floor")
		names = append(names, "c-floor")
	}
	out, stderr, code := muxbench(t, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// Connections are counted as the peer's sockets, where they can be.
	_, sockets := sysstat.SocketsByPID(os.Getpid())
	for _, n := range names {
		if !strings.Contains(out, "\n"+n+" ") {
			t.Errorf("no row for %s:\n%s", n, out)
		}
		res, err := result.ReadFile(filepath.Join(dir, n+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if res.Params.Backend != n || res.Peer == nil || res.Peer.Name != n || res.RoundTrips == 0 ||
			res.Integrity.Errors() != 0 || res.Server == nil || res.Server.Conns != 8 && sockets == nil {
			t.Errorf("%s: backend %q, peer %+v, %d round trips, integrity %+v, server %+v",
				n, res.Params.Backend, res.Peer, res.RoundTrips, res.Integrity, res.Server)
		}
	}
}
