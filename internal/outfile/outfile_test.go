package outfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func text(s string) func(io.Writer) error {
	return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// leftovers lists the directory's temporary files.
func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	names, _ := filepath.Glob(filepath.Join(dir, ".*.tmp"))
	return names
}

func TestReplacesARegularFileWhole(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.json")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Write(path, text("new")); err != nil {
		t.Fatal(err)
	}
	st, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := read(t, path); got != "new" || st.Mode() != 0o600 {
		t.Errorf("content %q, mode %v; want new, -rw-------", got, st.Mode())
	}
	// A failing writer leaves the old file, and no temporary one.
	boom := errors.New("boom")
	if err := Write(path, func(w io.Writer) error { io.WriteString(w, "half"); return boom }); !errors.Is(err, boom) {
		t.Errorf("err = %v, want the writer's", err)
	}
	if got := read(t, path); got != "new" {
		t.Errorf("after a failed write the file reads %q", got)
	}
	if l := leftovers(t, dir); len(l) > 0 {
		t.Errorf("temporary files left: %v", l)
	}
}

// A FIFO at the output path is written into and stays a FIFO.
func TestFIFOIsWrittenInPlace(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "out.json")
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("no FIFO here:", err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(fifo, link); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{fifo, link} {
		got := make(chan string, 1)
		go func() {
			f, err := os.Open(fifo)
			if err != nil {
				got <- err.Error()
				return
			}
			// Closed before the test goes on: a reader still open would
			// let the next Write's open return at once, and its bytes
			// go with this reader, leaving the next one waiting for a
			// writer that has come and gone.
			b, _ := io.ReadAll(f)
			f.Close()
			got <- string(b)
		}()
		if err := Check(path); err != nil {
			t.Errorf("Check(%s): %v", path, err)
		}
		if err := Write(path, text("through "+path)); err != nil {
			t.Fatal(err)
		}
		if s := <-got; s != "through "+path {
			t.Errorf("the reader got %q", s)
		}
		if st, err := os.Lstat(fifo); err != nil || st.Mode()&fs.ModeNamedPipe == 0 {
			t.Errorf("after writing through %s, the FIFO is %v (%v)", path, st.Mode(), err)
		}
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("the link to the FIFO is %v (%v)", st.Mode(), err)
	}
	if l := leftovers(t, dir); len(l) > 0 {
		t.Errorf("temporary files left: %v", l)
	}
}

// A symbolic link at the output path to a regular file is refused: the
// file stays as it is, and so does the link.
func TestLinkToAFileIsRefused(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "precious")
	if err := os.WriteFile(target, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "out.json")
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	for name, f := range map[string]func() error{"Check": func() error { return Check(path) }, "Write": func() error { return Write(path, text("x")) }} {
		err := f()
		if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "symbolic link to a regular file") || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: err = %v, want a refusal naming the path", name, err)
		}
	}
	if got := read(t, target); got != "keep" {
		t.Errorf("the link's target reads %q", got)
	}
	if st, err := os.Lstat(path); err != nil || st.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("the link is now %v (%v)", st.Mode(), err)
	}
	if err := Write(dir, text("x")); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "a directory") {
		t.Errorf("Write(a directory): %v, want a refusal", err)
	}
}

// Links planted at the temporary names the writer picks, the old fixed
// one included, leave their targets untouched: the writer passes over
// every name that exists.
func TestPlantedTemporaryNames(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.json")
	target := filepath.Join(dir, "precious")
	if err := os.WriteFile(target, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	absent := filepath.Join(dir, "absent") // a dangling link must not create it
	picks := []string{"aaaa", "bbbb", "cccc", "dddd"}
	for i, p := range picks[:3] {
		to := target
		if i == 2 {
			to = absent
		}
		if err := os.Symlink(to, filepath.Join(dir, ".out.json."+p+".tmp")); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(target, path+".tmp"); err != nil {
		t.Fatal(err)
	}
	defer func(r func() string) { random = r }(random)
	var n int
	random = func() string { n++; return picks[min(n, len(picks))-1] }

	if err := Write(path, text("result")); err != nil {
		t.Fatal(err)
	}
	if n != 4 {
		t.Errorf("%d names tried, want the three taken and a free one", n)
	}
	if got := read(t, target); got != "keep" {
		t.Errorf("a planted link's target now reads %q", got)
	}
	if _, err := os.Lstat(absent); err == nil {
		t.Error("a dangling planted link made its target")
	}
	if got := read(t, path); got != "result" {
		t.Errorf("the output reads %q", got)
	}
	if st, err := os.Lstat(path); err != nil || !st.Mode().IsRegular() {
		t.Errorf("the output is %v (%v)", st.Mode(), err)
	}
}
