package compare

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/muxbench/muxbench/chart/charttest"
	"github.com/muxbench/muxbench/internal/testserver"
	"github.com/muxbench/muxbench/peer"
	"github.com/muxbench/muxbench/poller"
	"github.com/muxbench/muxbench/result"
	"github.com/muxbench/muxbench/sweep"
)

// A peer whose package is missing, as some may be wherever the tests run:
// compare skips it with one line naming the package.
func init() {
	peer.Register(&peer.Peer{Name: "compare-test-missing", Needs: "libcompare-test-dev",
		Available: func() error { return errors.New("needs libcompare-test-dev (not installed)") }})
}

// catalogue finds the peers as compare does, the catalogue's.
var catalogue = Limits{Peer: func(b string) *peer.Peer {
	p, _ := peer.Lookup(b)
	return p
}}

// Peers, the C floor among them, run in the connection sweeps only: they
// take none of the settings the others vary.
func TestPlanPeersInConnectionSweeps(t *testing.T) {
	backends := []string{"epoll", CFloor, "twisted-epoll"}
	pl := NewPlan(tiny, backends, 1, 0, catalogue)
	per := map[string]map[string]int{}
	for _, p := range pl.Points {
		if per[p.Backend] == nil {
			per[p.Backend] = map[string]int{}
		}
		per[p.Backend][p.Sweep]++
	}
	for _, b := range backends[1:] {
		if got := per[b]; got[sweep.Active] != len(tiny.Active) || got[sweep.Idle] != len(tiny.Idle)-1 || len(got) != 2 {
			t.Errorf("%s: points per sweep %v, want the active and idle sweeps' only", b, got)
		}
	}
	if got := per["epoll"]; got[sweep.MsgSize] == 0 || got[sweep.Latency] == 0 {
		t.Errorf("epoll: points per sweep %v", got)
	}
	// A peer's run is planned with the time its start and stop take.
	for _, p := range pl.Points {
		own := p
		own.Peer = false
		if extra := pl.RunTime(p) - pl.RunTime(own); p.Peer != (p.Backend != "epoll") || p.Peer && extra != sweep.PeerOverhead {
			t.Errorf("%s %s: peer %v, planned %v more than muxbench's own", p.Backend, p.Param(), p.Peer, extra)
		}
	}
}

// A peer whose select stops at FD_SETSIZE is not planned past it: its
// points that need more connections are skipped, up front, each with
// the reason, and the rest run (1,000 active connections fit).
func TestPlanSkipsSelectPeersPastFDSetSize(t *testing.T) {
	s := tiny
	s.Active, s.Idle = []int{1, 100, 1000, 10000}, []int{0, 1000, 5000}
	backends := []string{"twisted-select", "asyncio-select", "libevent-select", "libev-select", "twisted-poll"}
	pl := NewPlan(s, backends, 1, 0, catalogue)
	planned := map[string][]string{}
	for _, p := range pl.Points {
		planned[p.Backend] = append(planned[p.Backend], p.Sweep+" "+p.Param())
	}
	for _, b := range backends[:3] {
		if want := []string{"active c1", "active c100", "active c1000"}; !slices.Equal(planned[b], want) {
			t.Errorf("%s planned %v, want %v", b, planned[b], want)
		}
		var skipped []string
		for _, line := range pl.Skipped {
			if strings.Contains(line, " "+b+" ") {
				skipped = append(skipped, line)
			}
		}
		if len(skipped) != 3 {
			t.Errorf("%s: skipped %q, want active c10000 and idle 1,000 and 5,000", b, skipped)
		}
		for _, line := range skipped {
			if !strings.Contains(line, "FD_SETSIZE (1024)") || !strings.Contains(line, b+" holds 1000 at most") {
				t.Errorf("skip line %q does not say why", line)
			}
		}
	}
	for _, b := range backends[3:] {
		if len(planned[b]) != 6 {
			t.Errorf("%s planned %v, want every point: it holds them all", b, planned[b])
		}
	}
	// The libevent line names what happens past FD_SETSIZE there.
	if !slices.ContainsFunc(pl.Skipped, func(l string) bool { return strings.Contains(l, "bit out of range") }) {
		t.Errorf("no skip line says what libevent does: %q", pl.Skipped)
	}
}

// The open-loop sweeps' rate is a share of the capacity of the servers
// they run: a peer in the active sweep, slow or fast, moves it not.
func TestCapacityLeavesPeersOut(t *testing.T) {
	out := t.TempDir()
	pl := NewPlan(tiny, []string{"epoll", "poll", "twisted-epoll"}, 1, 0, catalogue)
	write := func(backend string, tp float64) {
		r := charttest.Result(charttest.Point{Backend: backend, Conns: tiny.LatencyConns, MsgSize: tiny.BaseMsg, Repeat: 1})
		r.RoundTrips, r.Throughput = uint64(tp*r.WindowSec), tp
		p := sweep.Point{Sweep: sweep.Active, Backend: backend, Conns: tiny.LatencyConns, Repeat: 1}
		if err := os.MkdirAll(filepath.Join(out, "json"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := result.WriteFile(filepath.Join(out, p.File()), r); err != nil {
			t.Fatal(err)
		}
	}
	write("epoll", 100_000)
	write("poll", 90_000)
	write("twisted-epoll", 8_000)
	var at sweep.Point
	for _, p := range pl.Points {
		if p.Sweep == sweep.Latency {
			at = p
		}
	}
	got, err := Capacity(out, pl, at)
	if err != nil || got < 89_000 || got > 91_000 {
		t.Errorf("capacity %g, %v: want poll's, about 90k, the least of the sweep's servers", got, err)
	}
}

// A peer runs as the server child through bench.Config.Peer, as run
// starts it: pinned, measured from /proc, the result naming the peer,
// its family, language and multiplexer. The C floor is one.
func TestRunnerStartsPeers(t *testing.T) {
	p, _ := peer.Lookup(CFloor)
	if err := p.Available(); err != nil {
		t.Skip(err)
	}
	spec := RunSpec{Point: sweep.Point{Sweep: sweep.Idle, Backend: CFloor, Conns: 4, Idle: 16, MsgSize: 64, Repeat: 1},
		Peer: p, Duration: 400 * time.Millisecond, Warmup: 100 * time.Millisecond}
	res, err := DefaultRunner(context.Background(), spec, func(string) {})
	if err != nil {
		t.Fatal(err)
	}
	if res.Params.Backend != CFloor || res.Params.Idle != 16 || res.RoundTrips == 0 || res.Integrity.Errors() != 0 {
		t.Errorf("backend %q, idle %d, %d round trips, integrity %+v", res.Params.Backend, res.Params.Idle, res.RoundTrips, res.Integrity)
	}
	if pr := res.Peer; pr == nil || pr.Name != CFloor || pr.Multiplexer != "epoll" || pr.Language != "C" || !pr.Reference {
		t.Errorf("peer %+v: want the C floor, epoll, C, a reference", res.Peer)
	}
	// Read by pid from /proc (CPU in 10 ms ticks: too coarse to require
	// a non-zero figure from a short, light run).
	if res.Server == nil || res.Server.MaxRSS <= 0 || res.Lacks(result.UnavailableServerCPU) {
		t.Errorf("no server figures read by pid: %+v, unavailable %q", res.Server, res.Unavailable)
	}
}

// End to end, on loopback: compare --peers runs every peer available
// here, and a user's own server, in the active and idle sweeps, each as
// the server child; every one is a row of summary.md; a peer that cannot
// run is skipped with one line naming what to install.
func TestCommandPeers(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every peer")
	}
	var avail, missing []string
	for _, e := range poller.Peers() {
		if e.Err == nil {
			avail = append(avail, e.Name)
		} else {
			missing = append(missing, e.Name)
		}
	}
	defer func(q sweep.Settings) { sweep.Quick, drawCharts = q, true }(sweep.Quick)
	drawCharts = false
	sweep.Quick = sweep.Settings{Active: []int{2}, IdleActive: 2, Idle: []int{0, 20}, BaseMsg: 64,
		Duration: 200 * time.Millisecond, Warmup: 50 * time.Millisecond}
	out := t.TempDir()
	mine := os.Args[0] + " -test.run=^$ " + echoArg + " {port}"
	// Peers only: muxbench's own servers would be this test binary.
	backend := CFloor
	if !slices.Contains(avail, CFloor) {
		if len(avail) == 0 {
			t.Skip("no peer can run here")
		}
		backend = poller.PeersKeyword
	}
	args := []string{"--quick", "--peers", "--backend", backend, "--peer", "mine=" + mine, "--out", out, "--quiet-wait", "0", "--no-rerun"}

	var plan, plog bytes.Buffer
	if code := Command(append(args, "--plan"), &plan, &plog); code != 0 {
		t.Fatalf("--plan: exit %d\n%s%s", code, plan.String(), plog.String())
	}
	servers := append([]string{"mine"}, avail...)
	for _, b := range servers {
		for _, f := range []string{"active-" + b + "-c2-r1.json", "idle-" + b + "-c2-i20-r1.json"} {
			if !strings.Contains(plan.String(), f) {
				t.Errorf("--plan lacks %s:\n%s", f, plan.String())
			}
		}
	}

	var stdout, stderr bytes.Buffer
	if code := Command(args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	if !slices.Contains(missing, "compare-test-missing") {
		t.Fatalf("missing %v", missing)
	}
	for _, m := range missing {
		var lines []string
		for _, l := range strings.Split(stderr.String(), "\n") {
			if strings.Contains(l, "skipping "+m+": ") {
				lines = append(lines, l)
			}
		}
		if len(lines) != 1 || !strings.Contains(lines[0], "needs ") {
			t.Errorf("%s skipped in %q, want one line naming what it needs", m, lines)
		}
	}
	sum, err := os.ReadFile(filepath.Join(out, "summary.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range servers {
		for _, point := range []string{"2 conns", "20 idle"} {
			if !strings.Contains(string(sum), "| "+point+" | "+b+" |") {
				t.Errorf("summary.md has no row for %s at %s", b, point)
			}
		}
		r, err := result.ReadFile(filepath.Join(out, "json", "idle-"+b+"-c2-i20-r1.json"))
		if err != nil {
			t.Fatal(err)
		}
		if r.Peer == nil || r.Peer.Name != b || r.Params.Sweep != sweep.Idle || r.Integrity.Errors() != 0 || r.Server == nil {
			t.Errorf("%s: peer %+v, sweep %q, integrity %+v", b, r.Peer, r.Params.Sweep, r.Integrity)
		}
		if r.Peer != nil && b != "mine" && (r.Peer.Multiplexer == "" || r.Peer.Family == "" || r.Peer.Language == "") {
			t.Errorf("%s: its peer record lacks multiplexer, family or language: %+v", b, r.Peer)
		}
	}
	// Only the connection sweeps: no message-size or open-loop run.
	others, _ := filepath.Glob(filepath.Join(out, "json", "[ml]*.json"))
	if len(others) != 0 {
		t.Errorf("runs beyond the connection sweeps: %v", others)
	}
}

// echoArg before a port makes this test binary a user's own echo server,
// for --peer. An argument, not the environment, which the servers the
// test starts from this binary would inherit.
const echoArg = "compare-test-echo"

func TestMain(m *testing.M) {
	if n := len(os.Args); n >= 2 && os.Args[n-2] == echoArg {
		testserver.ServeChild(os.Args[n-1], nil, func(c net.Conn) { go testserver.Echo(c) })
	}
	os.Exit(m.Run())
}
