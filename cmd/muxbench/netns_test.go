//go:build linux

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/muxbench/muxbench/result"
)

// skipOrRequire skips a test whose setup this machine cannot do, unless
// MUXBENCH_REQUIRE_NETNS is set (CI sets it), where that is a failure.
func skipOrRequire(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("MUXBENCH_REQUIRE_NETNS") != "" {
		t.Fatalf("MUXBENCH_REQUIRE_NETNS is set: "+format, args...)
	}
	t.Skipf(format, args...)
}

// TestNetnsVeth runs `serve --listen` and `load --target` in two network
// namespaces joined by a veth pair: the generator drives a server over a
// real link, not loopback. The namespaces, and with them the link, are
// always deleted.
func TestNetnsVeth(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode")
	}
	ipCmd, err := exec.LookPath("ip")
	if err != nil {
		skipOrRequire(t, "ip (iproute2) not installed: cannot create network namespaces")
	}
	id := fmt.Sprintf("%d", os.Getpid()%100000)
	nsA, nsB := "mbsrv"+id, "mbgen"+id
	ip := func(args ...string) error {
		out, err := exec.Command(ipCmd, args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
		return nil
	}
	if err := ip("netns", "add", nsA); err != nil {
		skipOrRequire(t, "network namespaces not permitted here: %v", err)
	}
	t.Cleanup(func() { ip("netns", "del", nsA) })
	if err := ip("netns", "add", nsB); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ip("netns", "del", nsB) })
	const srvIP, genIP = "10.201.0.1", "10.201.0.2"
	for _, step := range [][]string{
		{"link", "add", "mbv" + id + "a", "netns", nsA, "type", "veth", "peer", "name", "mbv" + id + "b", "netns", nsB},
		{"-n", nsA, "addr", "add", srvIP + "/24", "dev", "mbv" + id + "a"},
		{"-n", nsB, "addr", "add", genIP + "/24", "dev", "mbv" + id + "b"},
		{"-n", nsA, "link", "set", "mbv" + id + "a", "up"},
		{"-n", nsB, "link", "set", "mbv" + id + "b", "up"},
		{"-n", nsA, "link", "set", "lo", "up"},
		{"-n", nsB, "link", "set", "lo", "up"},
	} {
		if err := ip(step...); err != nil {
			skipOrRequire(t, "cannot set up the veth link: %v", err)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const token = "veth-test-token-16"
	srv := exec.CommandContext(ctx, ipCmd, "netns", "exec", nsA, binary, "serve",
		"--backend="+firstBackend(), "--listen="+srvIP+":0", "--control="+srvIP+":0", "--token="+token)
	stdout, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var srvErr strings.Builder
	srv.Stderr = &srvErr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		srv.Process.Kill()
		srv.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("no ready line from the server: %v: %s", err, srvErr.String())
	}
	var ready struct{ Listen, Control string }
	if err := json.Unmarshal([]byte(line), &ready); err != nil {
		t.Fatalf("ready line %q: %v", line, err)
	}
	if !strings.HasPrefix(ready.Listen, srvIP+":") {
		t.Fatalf("server listens on %s, want %s", ready.Listen, srvIP)
	}

	file := filepath.Join(t.TempDir(), "veth.json")
	load := exec.CommandContext(ctx, ipCmd, "netns", "exec", nsB, binary, "load",
		"--target="+ready.Listen, "--control="+ready.Control, "--token="+token,
		"--conns=8", "--duration=1s", "--warmup=200ms", "--gen-cpus=none", "--json="+file)
	out, err := load.CombinedOutput()
	if err != nil {
		t.Fatalf("load over veth: %v\n%s", err, out)
	}
	res, err := result.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if res.RoundTrips == 0 || res.Integrity.Errors() != 0 {
		t.Errorf("%d round trips, integrity %+v", res.RoundTrips, res.Integrity)
	}
	if res.Server == nil || res.Server.Conns < 8 || res.Server.IO.BytesIn == 0 {
		t.Errorf("server figures over the control channel: %+v", res.Server)
	}
	if res.Params.Target != ready.Listen {
		t.Errorf("target recorded as %q", res.Params.Target)
	}
}
