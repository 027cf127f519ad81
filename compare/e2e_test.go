package compare

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/muxbench/muxbench/bench"
	"github.com/muxbench/muxbench/internal/testserver"
	"github.com/muxbench/muxbench/result"
	"github.com/muxbench/muxbench/sweep"
)

// End to end: a point whose server corrupts echoes is caught by the
// generator, saved apart, and `muxbench compare` exits 1.
func TestCommandExitsOneOnAFailingPoint(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the load generator")
	}
	// The bad server flips a bit in every 4 KiB it echoes.
	good := testserver.Listen(t, testserver.Echo)
	bad := testserver.Listen(t, testserver.Corrupt(func(off int) bool { return off%4096 == 100 }))
	defer func(q sweep.Settings, r Runner) { sweep.Quick, DefaultRunner, drawCharts = q, r, true }(sweep.Quick, DefaultRunner)
	drawCharts = false
	sweep.Quick = sweep.Settings{Active: []int{1, 4}, BaseMsg: 64, Duration: 300 * time.Millisecond, Warmup: 50 * time.Millisecond}
	DefaultRunner = func(ctx context.Context, s RunSpec, progress func(string)) (*result.Result, error) {
		target := good
		if s.Backend == "select" && s.Conns == 4 {
			target = bad
		}
		return bench.Run(ctx, bench.Config{Target: target, Conns: s.Conns, MsgSize: s.MsgSize,
			Duration: s.Duration, Warmup: s.Warmup})
	}
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := Command([]string{"--quick", "--backend", "epoll,select", "--out", out, "--quiet-wait", "0"}, &stdout, &stderr)
	if code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stderr.String(), "1 of 4 runs failed") {
		t.Errorf("stderr %q", stderr.String())
	}
	failed, _ := filepath.Glob(filepath.Join(out, "json", "failed", "*.json"))
	kept, _ := filepath.Glob(filepath.Join(out, "json", "*.json"))
	if len(failed) != 1 || !strings.Contains(failed[0], "active-select-c4") || len(kept) != 3 {
		t.Errorf("failed %v, kept %v", failed, kept)
	}
	r, err := result.ReadFile(failed[0])
	if err != nil {
		t.Fatal(err)
	}
	if r.Integrity.Mismatches == 0 {
		t.Errorf("the corrupting server's run shows no mismatch: %+v", r.Integrity)
	}
	sum, _ := os.ReadFile(filepath.Join(out, "summary.md"))
	if !strings.Contains(string(sum), "### Failed runs (1,") || strings.Contains(string(sum), "| 4 conns | select |") {
		t.Errorf("summary.md:\n%s", sum)
	}
}
