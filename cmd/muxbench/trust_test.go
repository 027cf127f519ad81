package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
)

// A server out of descriptors takes only some of the connections: its
// own count fails the run, exit 1 and one line naming the count; its
// EMFILE and pauses are in the table's notes.
func TestServerOutOfDescriptorsFailsRun(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("lowers the server's descriptor limit with the shell's ulimit")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// ulimit -n sets the hard limit too, so the Go runtime cannot raise it.
	srv := exec.CommandContext(ctx, "sh", "-c", `ulimit -n 48 && exec "$0" serve --backend=epoll --token=tok-0123456789abcdef`, binary)
	stdout, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Skip("no shell:", err)
	}
	defer func() { cancel(); srv.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("no ready line: %v", err)
	}
	var ready struct{ Listen, Control string }
	if err := json.Unmarshal([]byte(line), &ready); err != nil {
		t.Fatalf("ready line %q: %v", line, err)
	}
	out, stderr, code := muxbench(t, "load", "--target="+ready.Listen, "--control="+ready.Control, "--token=tok-0123456789abcdef",
		"--conns=4", "--idle=60", "--warmup=100ms", "--duration=300ms", "--gen-cpus=none")
	if code != 1 {
		t.Errorf("exit %d, want 1; stderr %q", code, stderr)
	}
	var missing []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.Contains(l, "MISSING") {
			missing = append(missing, l)
		}
	}
	if len(missing) != 1 || !strings.Contains(missing[0], "of the 64 connections") {
		t.Errorf("want one line naming the connections missing of 64, stderr %q", stderr)
	}
	if !strings.Contains(out, "EMFILE") || !strings.Contains(out, "pauses") {
		t.Errorf("the table does not show the accept failures:\n%s", out)
	}
}
