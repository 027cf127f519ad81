//go:build linux

package main

import (
	"strings"
	"testing"

	"github.com/muxbench/muxbench/internal/uring"
)

// TestIOUringRefused simulates each way a machine refuses io_uring: the
// backends list says why, naming either io_uring server is bad input
// (exit 2, one line with the reason), and "all" skips them, saying so.
func TestIOUringRefused(t *testing.T) {
	for v, reason := range map[string]string{
		"ENOSYS":   "io_uring is not in this kernel (io_uring_setup: ENOSYS)",
		"EPERM":    "io_uring is forbidden here (io_uring_setup: EPERM)",
		"disabled": "io_uring is disabled on this system (/proc/sys/kernel/io_uring_disabled = 2)",
	} {
		t.Run(v, func(t *testing.T) {
			t.Setenv(uring.RefuseEnv, v)
			out, _, code := muxbench(t, "backends")
			if code != 0 {
				t.Fatalf("backends: exit %d", code)
			}
			for _, name := range []string{"iouring", "iouring-et", "uring"} {
				line := lineOf(out, name)
				if !strings.Contains(line, "unavailable: "+reason) {
					t.Errorf("backends lists %s as %q, want the reason %q", name, line, reason)
				}
			}
			for _, name := range []string{"iouring", "uring"} {
				_, stderr, code := muxbench(t, "run", "--backend="+name, "--duration=1s")
				if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, reason) {
					t.Errorf("run --backend=%s: exit %d, stderr %q; want 2 and one line with %q", name, code, stderr, reason)
				}
			}
			_, stderr, code := muxbench(t, "compare", "--backend=all", "--quick", "--plan")
			if code != 0 || !strings.Contains(stderr, "skipping iouring: unavailable: "+reason) || !strings.Contains(stderr, "skipping uring: unavailable: "+reason) {
				t.Errorf("compare --backend=all --plan: exit %d, stderr %q", code, stderr)
			}
		})
	}
}

// lineOf is the line of out that starts with name and a space.
func lineOf(out, name string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, name+" ") {
			return l
		}
	}
	return ""
}
