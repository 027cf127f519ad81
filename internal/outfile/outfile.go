// Package outfile writes muxbench's output files (results, charts,
// summaries, pages) without damaging what is already at their paths.
//
//   - A new file, or one that replaces a regular file, is written under a
//     temporary name in the same directory and renamed over the path once
//     complete: an interrupted run leaves the old file or the new one,
//     never half of one. The temporary file is created exclusively
//     (O_EXCL, which follows no symbolic link) under an unpredictable
//     name, so that nothing planted in the directory can divert the
//     write.
//   - An existing output that is a character device or a FIFO
//     (/dev/null, a terminal, a pipe) is written in place and stays what
//     it was.
//   - A symbolic link at the path is followed only to such a device or
//     FIFO (/dev/stdout is one), which the kernel opens, applying its own
//     rules for links in shared directories (fs.protected_symlinks). A
//     link to anything else is refused: replacing the file a link points
//     to would let whoever placed the link choose what muxbench
//     overwrites, and replacing the link would quietly undo it.
//
// Block devices, sockets and directories are refused.
package outfile

import (
	"bufio"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// ErrRefused marks a path that Write will not write, whatever the
// permissions: a link to a regular file, a directory, a block device.
// The error is an *fs.PathError naming the path.
var ErrRefused = errors.New("not written")

type refusal string

func (r refusal) Error() string        { return string(r) }
func (r refusal) Is(target error) bool { return target == ErrRefused }

func refuse(path, format string, a ...any) error {
	return &fs.PathError{Op: "write", Path: path, Err: refusal(fmt.Sprintf(format, a...))}
}

// Write writes what fill produces to path, as the package comment says.
// fill's writer is buffered; an error from fill leaves path as it was
// (for a regular file or a new one) and is returned.
func Write(path string, fill func(w io.Writer) error) error {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return replace(path, nil, fill)
	case err != nil:
		return err
	}
	inPlace, err := kind(path, fi)
	if err != nil {
		return err
	}
	if !inPlace {
		return replace(path, fi, fill)
	}
	flags := os.O_WRONLY
	if fi.Mode()&fs.ModeSymlink == 0 {
		flags |= unix.O_NOFOLLOW // it was no link a moment ago
	}
	f, err := os.OpenFile(path, flags, 0)
	if err != nil {
		return err
	}
	if st, err := f.Stat(); err != nil || !special(st.Mode()) {
		f.Close()
		if err == nil {
			err = refuse(path, "replaced by %s while being opened", Kind(st.Mode()))
		}
		return err
	}
	err = fillBuffered(f, fill)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Check tells, before any work, whether Write could write path: the path
// is one it accepts, and there the directory takes a new file or the
// device or FIFO is writable. Only trying tells whether a read-only
// mount, a full quota or permissions will refuse a file.
func Check(path string) error {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return CheckDir(filepath.Dir(path))
	case err != nil:
		return err
	}
	inPlace, err := kind(path, fi)
	switch {
	case err != nil:
		return err
	case inPlace:
		if err := unix.Access(path, unix.W_OK); err != nil {
			return &fs.PathError{Op: "access", Path: path, Err: err}
		}
		return nil
	}
	return CheckDir(filepath.Dir(path))
}

// CheckDir tells whether dir takes a new file, as Check does for a path
// in it.
func CheckDir(dir string) error { return probe(dir) }

// kind says whether path, whose Lstat is fi, is written in place (true)
// or replaced (false), or refused.
func kind(path string, fi fs.FileInfo) (inPlace bool, err error) {
	m := fi.Mode()
	if m&fs.ModeSymlink != 0 {
		st, err := os.Stat(path)
		if err != nil {
			return false, refuse(path, "a symbolic link that leads nowhere")
		}
		if special(st.Mode()) {
			return true, nil
		}
		return false, refuse(path, "a symbolic link to %s: muxbench replaces nothing a link points to; name the file itself", Kind(st.Mode()))
	}
	switch {
	case m.IsRegular():
		return false, nil
	case special(m):
		return true, nil
	}
	return false, refuse(path, "%s", Kind(m))
}

// special is what is written in place: a character device or a FIFO.
func special(m fs.FileMode) bool {
	return m&fs.ModeNamedPipe != 0 || m&fs.ModeCharDevice != 0
}

// Kind names a file's type for a message: "a FIFO", "a directory".
func Kind(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m.IsDir():
		return "a directory"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "not a regular file (" + m.Type().String() + ")"
}

// replace writes a temporary file beside path and renames it over path;
// old is what was there (nil: nothing), whose permissions the new file
// keeps.
func replace(path string, old fs.FileInfo, fill func(io.Writer) error) error {
	f, err := create(filepath.Dir(path), filepath.Base(path))
	if err != nil {
		return err
	}
	tmp := f.Name()
	if old != nil {
		err = f.Chmod(old.Mode().Perm())
	}
	if err == nil {
		err = fillBuffered(f, fill)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// random names a temporary file; tests replace it.
var random = func() string { return rand.Text()[:16] }

// create makes a new file in dir for base's content: exclusively, so
// that a name taken by anything, a symbolic link included, is passed
// over rather than followed or truncated.
func create(dir, base string) (*os.File, error) {
	if len(base) > 200 {
		base = base[:200] // the name must stay within NAME_MAX
	}
	var err error
	for range 100 {
		name := filepath.Join(dir, "."+base+"."+random()+".tmp")
		var f *os.File
		f, err = os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
	}
	return nil, fmt.Errorf("%s: no free temporary name: %w", dir, err)
}

// probe creates and removes a temporary file in dir.
func probe(dir string) error {
	f, err := create(dir, "muxbench-probe")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}

func fillBuffered(f *os.File, fill func(io.Writer) error) error {
	w := bufio.NewWriterSize(f, 64<<10)
	if err := fill(w); err != nil {
		return err
	}
	return w.Flush()
}
