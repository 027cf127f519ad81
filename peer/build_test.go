package peer

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A peer that cannot run says what to install, in one line.
func TestUnavailableSaysWhatToInstall(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	dir := t.TempDir()
	noTwisted := filepath.Join(dir, "python3")
	script := "#!/bin/sh\necho 'Traceback (most recent call last):' >&2\necho \"ModuleNotFoundError: No module named 'twisted'\" >&2\nexit 1\n"
	if err := os.WriteFile(noTwisted, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	py := &Peer{Name: "t", Needs: needTwisted, Loop: "EPollReactor", Args: []string{"--reactor", "epoll"},
		Program: Script("twisted_echo.py", twistedSource, func() (string, error) { return noTwisted, nil })}
	type outcome struct {
		what string
		err  error
		want string
	}
	cases := []outcome{{"python", py.check(), "needs python3-twisted (ModuleNotFoundError: No module named 'twisted')"}}
	if _, err := Compiler(); err == nil {
		_, err := C("t", []byte("#include <no_such_header.h>\nint main(void) { return 0; }\n"), "libno-dev", nil)()
		cases = append(cases, outcome{"C", err, "needs libno-dev (building t.c: exit status 1: "})
	}
	t.Setenv("PATH", dir)
	_, nodeErr := node()
	_, pcErr := pkgConfig("libevent", needLibevent)()
	cases = append(cases, outcome{"node", nodeErr, "needs nodejs (no node on the PATH)"},
		outcome{"pkg-config", pcErr, "needs libevent-dev, pkg-config (no pkg-config on the PATH)"})
	for _, c := range cases {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) || strings.Contains(c.err.Error(), "\n") {
			t.Errorf("%s: %v, want one line saying %q", c.what, c.err, c.want)
		}
	}
}

// The README and CI install the packages InstallCommand names, all of
// them: there is one list.
func TestInstallCommandDocumented(t *testing.T) {
	_, packages, _ := strings.Cut(InstallCommand, "install -y ")
	for _, f := range []string{"../README.md", "../.ci/run"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "install -y "+packages) && !strings.Contains(string(b), "install -y -qq "+packages) {
			t.Errorf("%s does not install %q", f, packages)
		}
	}
}

// The cache runs only what this user made: a directory or file another
// user owns or could write, or a link, is refused, never run. Where there
// is no user cache directory the cache is a directory named after the
// user under the temporary directory, which anyone could have made
// first, with a program of their own in it.
func TestCacheTrustsOnlyItsOwn(t *testing.T) {
	src := []byte("#!/bin/sh\necho built\n")
	build := func(dir string) error { return os.WriteFile(filepath.Join(dir, "p.sh"), src, 0o777) }
	from := [][]byte{src}
	prep := func(t *testing.T) (string, error) {
		t.Helper()
		path, err := prepare("p.sh", from, build)
		if err == nil {
			if e := cached(filepath.Dir(path), path); e != nil {
				t.Fatalf("prepare returned %s, which fails its own check: %v", path, e)
			}
		}
		return path, err
	}

	t.Run("own", func(t *testing.T) {
		t.Setenv("XDG_CACHE_HOME", t.TempDir())
		syscall.Umask(0)
		defer syscall.Umask(0o022)
		path, err := prep(t)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{path, filepath.Dir(path), filepath.Dir(filepath.Dir(path))} {
			if fi, err := os.Stat(p); err != nil || fi.Mode().Perm()&0o022 != 0 {
				t.Errorf("%s: %v %v: others can write it", p, fi.Mode(), err)
			}
		}
		if again, err := prep(t); err != nil || again != path {
			t.Errorf("second time: %s, %v; want %s from the cache", again, err, path)
		}
	})

	// Each case spoils a cache that prepare made, then asks again.
	spoil := []struct {
		name, why string
		root      bool // needs root: gives the file away
		do        func(path string) error
	}{
		{"writable dir", "others can write it", false, func(path string) error { return os.Chmod(filepath.Dir(path), 0o777) }},
		{"writable root", "others can write it", false, func(path string) error { return os.Chmod(filepath.Dir(filepath.Dir(path)), 0o777) }},
		{"writable file", "others can write it", false, func(path string) error { return os.Chmod(path, 0o757) }},
		{"link", "not a plain file", false, func(path string) error {
			planted := filepath.Join(t.TempDir(), "planted")
			if err := os.WriteFile(planted, []byte("#!/bin/sh\necho planted\n"), 0o755); err != nil {
				return err
			}
			os.Remove(path)
			return os.Symlink(planted, path)
		}},
		{"another's file", "owned by uid 65534", true, func(path string) error { return os.Chown(path, 65534, 65534) }},
		{"another's dir", "owned by uid 65534", true, func(path string) error { return os.Chown(filepath.Dir(path), 65534, 65534) }},
	}
	for _, c := range spoil {
		t.Run(c.name, func(t *testing.T) {
			if c.root && os.Geteuid() != 0 {
				t.Skip("giving a file to another user needs root")
			}
			t.Setenv("XDG_CACHE_HOME", t.TempDir())
			path, err := prep(t)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.do(path); err != nil {
				t.Fatal(err)
			}
			got, err := prep(t)
			if !errors.Is(err, errUntrusted) || !strings.Contains(err.Error(), c.why) {
				t.Errorf("prepare gave %q, %v; want it refused: %s", got, err, c.why)
			}
		})
	}

	t.Run("planted in the temporary directory", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("planting as another user needs root")
		}
		tmp := t.TempDir()
		t.Setenv("XDG_CACHE_HOME", "")
		t.Setenv("HOME", "")
		t.Setenv("TMPDIR", tmp)
		if _, err := os.UserCacheDir(); err == nil {
			t.Skip("this platform has a user cache directory without HOME")
		}
		// Another user makes the directory first, with what would be the
		// program's place in it.
		root, _ := cacheDir()
		h := sha256.New()
		fmt.Fprintf(h, "%d:", len(src))
		h.Write(src)
		planted := filepath.Join(root, hex.EncodeToString(h.Sum(nil))[:16], "p.sh")
		if err := os.MkdirAll(filepath.Dir(planted), 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(planted, []byte("#!/bin/sh\necho planted\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{root, filepath.Dir(planted), planted} {
			if err := os.Chown(p, 65534, 65534); err != nil {
				t.Fatal(err)
			}
		}
		got, err := prep(t)
		if !errors.Is(err, errUntrusted) || !strings.Contains(err.Error(), root) {
			t.Errorf("prepare gave %q, %v; want the planted directory refused", got, err)
		}
	})
}
