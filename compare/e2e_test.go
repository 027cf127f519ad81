package compare

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/muxbench/muxbench/bench"
	"github.com/muxbench/muxbench/result"
	"github.com/muxbench/muxbench/sweep"
)

// echoServer serves TCP echo on loopback until the test ends; corrupt
// flips one byte in every 4 KiB echoed, as a broken server would.
func echoServer(t *testing.T, corrupt bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				buf := make([]byte, 4096)
				total := 0
				for {
					n, err := c.Read(buf)
					if n > 0 {
						for i := range n {
							if corrupt && (total+i)%4096 == 100 {
								buf[i] ^= 0x20
							}
						}
						total += n
						if _, err := c.Write(buf[:n]); err != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// End to end: a point whose server corrupts echoes is caught by the
// generator, saved apart, and `muxbench compare` exits 1.
func TestCommandExitsOneOnAFailingPoint(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the load generator")
	}
	good, bad := echoServer(t, false), echoServer(t, true)
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
