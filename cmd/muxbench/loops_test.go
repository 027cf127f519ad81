package main

import (
	"strings"
	"testing"

	"github.com/muxbench/muxbench/poller"
	"github.com/muxbench/muxbench/result"
)

// Two server loops sharing one listener, end to end: every connection
// accepted by one of them, every byte checked, and the mode and the
// spread in the result and under the table.
func TestRunLoopsExclusive(t *testing.T) {
	if info, ok := poller.Lookup("epoll"); !ok || !info.Caps.Exclusive {
		t.Skip("no epoll here")
	}
	const conns = 8
	out, stderr, code := muxbench(t, "--backend=epoll", "--server-loops=2", "--accept=exclusive", "--conns=8",
		"--duration=1s", "--warmup=100ms", "--server-cpus=none", "--gen-cpus=none", "--json=-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	res, err := result.Decode(strings.NewReader(out))
	if err != nil {
		t.Fatalf("stdout is not a result: %v\n%s", err, out)
	}
	o := res.Server.Options
	if o.Loops != 2 || o.Accept != "exclusive" || len(o.LoopAccepts) != 2 || o.LoopAccepts[0]+o.LoopAccepts[1] != conns {
		t.Errorf("server options %+v: want 2 loops sharing one listener, %d connections between them", o, conns)
	}
	if res.RoundTrips == 0 || res.Integrity.Errors() != 0 {
		t.Errorf("%d round trips, integrity %+v", res.RoundTrips, res.Integrity)
	}
	if !strings.Contains(stderr, "epoll: loops 2 (exclusive), connections per loop ") {
		t.Errorf("no spread under the table:\n%s", stderr)
	}
}
