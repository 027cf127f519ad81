package compare

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/muxbench/muxbench/chart/charttest"
	"github.com/muxbench/muxbench/result"
	"golang.org/x/sys/unix"
)

// outputCommands writes to out with each command that takes an output
// file: report's Markdown and page, and merge.
func outputCommands(t *testing.T) map[string]func(out string) (int, string) {
	dir := t.TempDir()
	var files []string
	for i, host := range []string{"gen1", "gen2"} {
		r := charttest.Result(charttest.Point{Backend: "epoll", Conns: 10, MsgSize: 64, Target: "127.0.0.1:9000", Repeat: i})
		r.Env.Hostname = host
		p := filepath.Join(dir, host+".json")
		if err := result.WriteFile(p, r); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	run := func(cmd func([]string, io.Writer, io.Writer) int, args ...string) func(string) (int, string) {
		return func(out string) (int, string) {
			var stdout, stderr bytes.Buffer
			code := cmd(append(append([]string(nil), args...), append([]string{"-o", out}, files...)...), &stdout, &stderr)
			return code, stderr.String()
		}
	}
	return map[string]func(string) (int, string){
		"report":        run(ReportCommand, "--allow-mixed"),
		"report --html": run(ReportCommand, "--allow-mixed", "--html"),
		"merge":         run(MergeCommand),
	}
}

// A FIFO at an output path is written into, and stays a FIFO.
func TestOutputToAFIFO(t *testing.T) {
	for name, write := range outputCommands(t) {
		fifo := filepath.Join(t.TempDir(), "out")
		if err := unix.Mkfifo(fifo, 0o644); err != nil {
			t.Skip("no FIFO here:", err)
		}
		// Through a second name for the FIFO the reader is let go even if
		// the path no longer leads to it.
		keep := fifo + ".keep"
		if err := os.Link(fifo, keep); err != nil {
			t.Fatal(err)
		}
		got := make(chan int, 1)
		go func() {
			f, err := os.Open(fifo)
			if err != nil {
				got <- -1
				return
			}
			defer f.Close()
			n, _ := io.Copy(io.Discard, f)
			got <- int(n)
		}()
		if code, stderr := write(fifo); code != 0 {
			t.Errorf("%s: exit %d: %s", name, code, stderr)
		}
		if f, err := os.OpenFile(keep, os.O_WRONLY|unix.O_NONBLOCK, 0); err == nil {
			f.Close() // a reader still waits: let it go
		}
		if n := <-got; n <= 0 {
			t.Errorf("%s: the FIFO's reader got %d bytes", name, n)
		}
		if st, err := os.Lstat(fifo); err != nil || st.Mode()&fs.ModeNamedPipe == 0 {
			t.Errorf("%s: the FIFO is now %v (%v)", name, st.Mode(), err)
		}
	}
}

// A link at an output path to a regular file is refused before any work
// (one line naming the flag, exit 2), and the file it points to is left
// as it was.
func TestOutputThroughALinkRefused(t *testing.T) {
	dir := t.TempDir()
	target, link := filepath.Join(dir, "precious"), filepath.Join(dir, "out")
	os.WriteFile(target, []byte("keep"), 0o644)
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	for name, write := range outputCommands(t) {
		code, stderr := write(link)
		if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "--out "+link) || !strings.Contains(stderr, "symbolic link") {
			t.Errorf("%s: exit %d, stderr %q", name, code, stderr)
		}
		if b, _ := os.ReadFile(target); string(b) != "keep" {
			t.Errorf("%s: the link's target now reads %q", name, b)
		}
	}
}
