package outfile

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// A character device at the output path (one made here, with /dev/null's
// numbers) is written into and stays that device.
func TestCharDeviceIsWrittenInPlace(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("making a device node needs root; not run")
	}
	dir := t.TempDir()
	dev := filepath.Join(dir, "null")
	rdev := unix.Mkdev(1, 3)
	if err := unix.Mknod(dev, unix.S_IFCHR|0o666, int(rdev)); err != nil {
		t.Skip("mknod:", err)
	}
	if f, err := os.OpenFile(dev, os.O_WRONLY, 0); err != nil {
		t.Skip("the device cannot be opened here (a nodev mount?):", err)
	} else {
		f.Close()
	}
	link := filepath.Join(dir, "stdout")
	if err := os.Symlink(dev, link); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{dev, link} {
		if err := Check(path); err != nil {
			t.Errorf("Check(%s): %v", path, err)
		}
		if err := Write(path, text(`{"schema":"x"}`)); err != nil {
			t.Fatal(err)
		}
		var st unix.Stat_t
		if err := unix.Lstat(dev, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || uint64(st.Rdev) != rdev {
			t.Fatalf("after writing %s the device node is mode %o rdev %x (%v)", path, st.Mode, st.Rdev, err)
		}
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("the link to the device is %v (%v)", st.Mode(), err)
	}
}
