package testserver

import (
	"bytes"
	"errors"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"testing/iotest"
	"time"
)

// The damage lands at the offsets asked for, counted over the stream
// whatever the reads' sizes, and nowhere else.
func TestCorruptCopy(t *testing.T) {
	in := bytes.Repeat([]byte("0123456789"), 10_000)
	var out bytes.Buffer
	CorruptCopy(&out, iotest.HalfReader(bytes.NewReader(in)), func(off int) bool { return off%5000 == 4999 })
	got := out.Bytes()
	if len(got) != len(in) {
		t.Fatalf("%d bytes copied of %d", len(got), len(in))
	}
	for i := range in {
		if want := i%5000 == 4999; (got[i] != in[i]) != want || want && got[i] != in[i]^1 {
			t.Fatalf("byte %d: %q, sent %q", i, got[i], in[i])
		}
	}
}

// An honest echo on a listener of Listen's; a closed address refuses.
func TestListenEchoAndClosedAddr(t *testing.T) {
	c, err := net.DialTimeout("tcp", Listen(t, Echo), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	msg := bytes.Repeat([]byte("echo"), 1<<14)
	go c.Write(msg)
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("echo: %v, same bytes %v", err, bytes.Equal(got, msg))
	}
	if _, err := net.DialTimeout("tcp", ClosedAddr(t), 5*time.Second); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial a closed address: %v, want refused", err)
	}
}

// Tests only: a package that is not a test's does not import this one.
func TestOnlyTestsImport(t *testing.T) {
	root, self := filepath.Join("..", ".."), "github.com/muxbench/muxbench/internal/testserver"
	var users []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == self {
				users = append(users, path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 0 {
		t.Errorf("imported by code that is not a test's: %v", users)
	}
}
