package cfloor_test

import (
	"bufio"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/muxbench/muxbench/bench"
	"github.com/muxbench/muxbench/cfloor"
	"github.com/muxbench/muxbench/internal/testserver"
	"github.com/muxbench/muxbench/peer"
	"github.com/muxbench/muxbench/result"
)

var built struct {
	sync.Once
	dir, echo, ping string
	err             error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// build compiles the floor once for all tests, skipping where it cannot
// be built.
func build(t *testing.T) (echo, ping string) {
	t.Helper()
	built.Do(func() {
		dir, err := os.MkdirTemp("", "cfloor-test")
		if err != nil {
			built.err = err
			return
		}
		built.dir = dir
		built.echo, built.ping, built.err = cfloor.Build(context.Background(), dir)
	})
	if errors.Is(built.err, cfloor.ErrUnavailable) {
		t.Skip(built.err)
	}
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.echo, built.ping
}

// The C floor builds, echoes what the blocking client sends (checked byte
// by byte, small and large messages), and the load generator drives it
// through --target, its CPU read by pid. It is started as the peer
// c-floor, as run and compare start it.
func TestFloor(t *testing.T) {
	_, ping := build(t)
	p, ok := peer.Lookup(cfloor.Name)
	if !ok {
		t.Fatal("no c-floor peer")
	}
	s, err := p.Start(context.Background(), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	_, port, _ := strings.Cut(s.Addr, ":")
	for _, size := range []string{"64", "300000"} {
		out, err := exec.Command(ping, "-p", port, "-s", size, "-n", "200").Output()
		if err != nil {
			t.Fatalf("ping -s %s: %v %s", size, err, out)
		}
		fields := map[string]string{}
		for _, f := range strings.Fields(string(out)) {
			k, v, _ := strings.Cut(f, "=")
			fields[k] = v
		}
		if fields["round_trips"] != "200" {
			t.Errorf("ping -s %s: %q", size, out)
		}
		if p50, err := strconv.ParseFloat(fields["p50_us"], 64); err != nil || p50 <= 0 {
			t.Errorf("ping -s %s: p50 %q", size, fields["p50_us"])
		}
	}

	res, err := bench.Run(context.Background(), bench.Config{Target: s.Addr, ServerPID: s.PID, Conns: 8, Idle: 8,
		Duration: 500 * time.Millisecond, Warmup: 100 * time.Millisecond, NoPin: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.RoundTrips == 0 || res.Integrity.Errors() != 0 {
		t.Fatalf("%d round trips, integrity %+v: %q", res.RoundTrips, res.Integrity, res.Warnings)
	}
	// Read by pid from /proc (CPU in 10 ms ticks: too coarse to require
	// a non-zero figure from a short, light run).
	if res.Server == nil || res.Server.MaxRSS <= 0 || res.Lacks(result.UnavailableServerCPU) {
		t.Errorf("no server figures read by pid: %+v, unavailable %q", res.Server, res.Unavailable)
	}
}

// A client whose peer answers wrong bytes fails with exit status 1: the
// floor's own integrity check can fail.
func TestPingDetectsCorruption(t *testing.T) {
	_, ping := build(t)
	_, port, _ := net.SplitHostPort(testserver.Listen(t, testserver.Corrupt(func(int) bool { return true })))
	err := exec.Command(ping, "-p", port, "-n", "10").Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Errorf("ping against a corrupting server: %v, want exit status 1", err)
	}
}

// With -e the server ends when its stdin does: a driver that dies, of
// whatever cause, leaves no server behind.
func TestEchoEndsWithStdin(t *testing.T) {
	echo, _ := build(t)
	cmd := exec.Command(echo, "-e")
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := bufio.NewReader(out).ReadString('\n'); err != nil {
		cmd.Process.Kill()
		t.Fatalf("no ready line: %v", err)
	}
	in.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit: %v", err)
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("still serving 10 s after its stdin closed")
	}
}
