package peer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Programs are prepared in a cache directory named after their content,
// so that a source, a compiler or flags that change make a new one, and
// concurrent muxbench processes each see a whole file or none. What is
// found there is run, so it is trusted only in a directory that no one
// else can write: the user's own, checked at every component.

// buildTimeout bounds one compilation.
const buildTimeout = 2 * time.Minute

// cacheDir is muxbench's peer cache, root: under the user's cache
// directory, or where there is none in a directory of the user's under
// the temporary directory. dirs are those muxbench makes and checks, the
// root last.
func cacheDir() (root string, dirs []string) {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "muxbench", "peer"), []string{filepath.Join(d, "muxbench"), filepath.Join(d, "muxbench", "peer")}
	}
	d := filepath.Join(os.TempDir(), fmt.Sprintf("muxbench-peer-%d", os.Geteuid()))
	return d, []string{d}
}

// errUntrusted is wrapped when the cache holds a path another user could
// have written.
var errUntrusted = errors.New("not this user's own")

// trusted checks that path is what this user made and no one else can
// change: not a link, owned by this user and writable by no group or
// other.
func trusted(path string, dir bool) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	mode := fi.Mode()
	st, ok := fi.Sys().(*syscall.Stat_t)
	why := ""
	switch {
	case dir && !mode.IsDir():
		why = "not a directory: " + mode.Type().String()
	case !dir && !mode.IsRegular():
		why = "not a plain file: " + mode.Type().String()
	case !ok:
		why = "its owner is unknown"
	case int(st.Uid) != os.Geteuid():
		why = fmt.Sprintf("owned by uid %d, not %d", st.Uid, os.Geteuid())
	case mode.Perm()&0o022 != 0:
		why = fmt.Sprintf("mode %v: others can write it", mode.Perm())
	default:
		return nil
	}
	return fmt.Errorf("%s: %w (%s): remove it, or set XDG_CACHE_HOME to a directory of your own", path, errUntrusted, why)
}

// privateDirs makes each of dirs, in order, as this user's own directory
// (mode 0700) where it is missing, and checks each (see trusted).
func privateDirs(dirs []string) error {
	for _, d := range dirs {
		if err := os.Mkdir(d, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			if err := os.MkdirAll(filepath.Dir(d), 0o755); err != nil {
				return err
			}
			if err := os.Mkdir(d, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
				return err
			}
		}
		if err := trusted(d, true); err != nil {
			return err
		}
	}
	return nil
}

// prepare returns the cache's KEY/name, where KEY hashes what the file
// is made from; if it is not there yet, build makes it in a fresh
// directory, which then takes KEY's place whole. The cache, KEY and the
// file must be this user's own (see trusted): anything else is refused,
// never run.
func prepare(name string, from [][]byte, build func(dir string) error) (string, error) {
	h := sha256.New()
	for _, b := range from {
		fmt.Fprintf(h, "%d:", len(b))
		h.Write(b)
	}
	root, dirs := cacheDir()
	if err := privateDirs(dirs); err != nil {
		return "", fmt.Errorf("peer cache: %w", err)
	}
	dir := filepath.Join(root, hex.EncodeToString(h.Sum(nil))[:16])
	path := filepath.Join(dir, name)
	if _, err := os.Lstat(dir); err == nil {
		return path, cached(dir, path)
	}
	tmp, err := os.MkdirTemp(root, "new-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	if err := build(tmp); err != nil {
		return "", err
	}
	if err := private(tmp); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Lstat(dir); serr != nil { // not another process's
			return "", err
		}
	}
	return path, cached(dir, path)
}

// private takes group and other write permission from what build made
// in dir, which a umask of 0 would leave.
func private(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			return err
		}
		if err := os.Chmod(filepath.Join(dir, e.Name()), fi.Mode().Perm()&^0o022); err != nil {
			return err
		}
	}
	return nil
}

// cached checks a prepared file and its directory before they are used.
func cached(dir, path string) error {
	for _, c := range []struct {
		path string
		dir  bool
	}{{dir, true}, {path, false}} {
		if err := trusted(c.path, c.dir); err != nil {
			return fmt.Errorf("peer cache: %w", err)
		}
	}
	return nil
}

// Script is a Program: the interpreter interp finds, running src, which
// is written to the cache as file.
func Script(file string, src []byte, interp func() (string, error)) Program {
	return sync.OnceValues(func() ([]string, error) {
		exe, err := interp()
		if err != nil {
			return nil, err
		}
		path, err := prepare(file, [][]byte{src}, func(dir string) error {
			return os.WriteFile(filepath.Join(dir, file), src, 0o644)
		})
		if err != nil {
			return nil, err
		}
		return []string{exe, path}, nil
	})
}

// C is a Program: src compiled with -O2 and the flags that flags
// returns, as the binary name; needs is what to install when it does
// not build.
func C(name string, src []byte, needs string, flags func() ([]string, error)) Program {
	return sync.OnceValues(func() ([]string, error) {
		cc, err := Compiler()
		if err != nil {
			return nil, err
		}
		var fl []string
		if flags != nil {
			if fl, err = flags(); err != nil {
				return nil, err
			}
		}
		from := [][]byte{src, []byte(cc), []byte(strings.Join(fl, " "))}
		path, err := prepare(name, from, func(dir string) error {
			ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
			defer cancel()
			return CompileC(ctx, filepath.Join(dir, name), src, fl...)
		})
		if err != nil {
			if needs != "" {
				return nil, fmt.Errorf("needs %s (%v)", needs, err)
			}
			return nil, err
		}
		return []string{path}, nil
	})
}

// CompileC writes src beside out, as out.c, and compiles it into out
// with -O2 and flags; its error holds the compiler's first error line.
func CompileC(ctx context.Context, out string, src []byte, flags ...string) error {
	cc, err := Compiler()
	if err != nil {
		return err
	}
	file := out + ".c"
	if err := os.WriteFile(file, src, 0o644); err != nil {
		return err
	}
	args := append([]string{"-O2", "-o", out, file}, flags...)
	if msg, err := exec.CommandContext(ctx, cc, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("building %s: %v: %s", filepath.Base(file), err, firstError(msg))
	}
	return nil
}

// firstError is the compiler's first line that says "error", or its
// last line.
func firstError(out []byte) string {
	for _, l := range strings.Split(string(out), "\n") {
		if strings.Contains(l, "error") {
			return strings.TrimSpace(l)
		}
	}
	return lastLine(out)
}

// pkgConfig is the flags that build against a library pkg-config knows.
func pkgConfig(lib, needs string) func() ([]string, error) {
	return func() ([]string, error) {
		if _, err := exec.LookPath("pkg-config"); err != nil {
			return nil, fmt.Errorf("needs %s (no pkg-config on the PATH)", needs)
		}
		out, err := exec.Command("pkg-config", "--cflags", "--libs", lib).CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("needs %s (pkg-config: %s)", needs, lastLine(out))
		}
		return strings.Fields(string(out)), nil
	}
}

// python is Debian's /usr/bin/python3, the one Debian's python3-twisted
// and python3-uvloop install for (a python3 earlier on the PATH, a
// virtualenv's or pyenv's, may lack them); elsewhere python3 on the PATH.
func python() (string, error) {
	const debian = "/usr/bin/python3"
	if _, err := os.Stat(debian); err == nil {
		return debian, nil
	}
	if p, err := exec.LookPath("python3"); err == nil {
		return p, nil
	}
	return "", errors.New("needs python3 (no python3 on the PATH)")
}

// node is Node.js: node, or nodejs as older Debian names it.
func node() (string, error) {
	for _, n := range []string{"node", "nodejs"} {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", errors.New("needs nodejs (no node on the PATH)")
}
