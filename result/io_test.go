package result

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Every counter takes part in Add and Sub, new ones included.
func TestIOAddSub(t *testing.T) {
	var a, b IO
	av, bv := reflect.ValueOf(&a).Elem(), reflect.ValueOf(&b).Elem()
	for i := range av.NumField() {
		av.Field(i).SetUint(uint64(100 + i))
		bv.Field(i).SetUint(uint64(1 + i))
	}
	sum := a.Add(b)
	sv := reflect.ValueOf(sum)
	for i := range sv.NumField() {
		if got, want := sv.Field(i).Uint(), uint64(101+2*i); got != want {
			t.Errorf("Add: %s = %d, want %d", sv.Type().Field(i).Name, got, want)
		}
	}
	if got := sum.Sub(b); got != a {
		t.Errorf("Sub undoes Add: got %+v, want %+v", got, a)
	}
}

func TestIORates(t *testing.T) {
	r := IO{Writes: 200, ShortWrites: 50, WriteEAGAIN: 20, Waits: 40, Events: 80}.Rates(100)
	want := Rates{ShortWritesPerWrite: 0.25, ShortWritesPerRT: 0.5, WriteEAGAINPerWrite: 0.1, WriteEAGAINPerRT: 0.2, WaitsPerRT: 0.4, EventsPerWait: 2}
	if r != want {
		t.Errorf("Rates = %+v, want %+v", r, want)
	}
	if r := (IO{ShortWrites: 1}).Rates(0); r != (Rates{}) {
		t.Errorf("zero divisors give %+v, want zeros", r)
	}
}

func TestMinSamples(t *testing.T) {
	for p, want := range map[float64]int64{50: 2, 90: 10, 99: 100, 99.9: 1000, 99.99: 10000, 75: 4, 100: 1} {
		if got := MinSamples(p); got != want {
			t.Errorf("MinSamples(%g) = %d, want %d", p, got, want)
		}
	}
}

func TestSatAdd(t *testing.T) {
	const top = math.MaxUint64
	if got := (Integrity{Mismatches: top, Resets: 1}).Errors(); got != top {
		t.Errorf("Errors wraps to %d", got)
	}
	if got := (Integrity{Resets: top}).Add(Integrity{Resets: 2, Timeouts: 3}); got.Resets != top || got.Timeouts != 3 {
		t.Errorf("Integrity.Add = %+v", got)
	}
	if got := (IO{Writes: top - 1}).Add(IO{Writes: 5}); got.Writes != top {
		t.Errorf("IO.Add wraps to %d", got.Writes)
	}
	if SatAdd(2, 3) != 5 {
		t.Error("SatAdd(2, 3) != 5")
	}
}

// Only regular files of a bounded size are read: /dev/zero would never
// end and a FIFO would block.
func TestReadFileRefusesNonRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "x.json")
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	big := filepath.Join(dir, "big.json")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(MaxFileSize + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for path, want := range map[string]string{
		fifo:        "not a regular file (a FIFO)",
		"/dev/zero": "not a regular file (a character device)",
		dir:         "not a regular file (a directory)",
		big:         "larger than 64 MiB",
	} {
		done := make(chan error, 1)
		go func() { _, err := ReadFile(path); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
				t.Errorf("%s: err = %v, want %q naming the file", path, err, want)
			}
		case <-time.After(time.Minute):
			t.Fatalf("%s: ReadFile blocks", path)
		}
	}
}

// A link planted at the old fixed temporary name, PATH.tmp, leaves its
// target untouched: WriteFile picks names no one can foresee, and takes
// none that exists.
func TestWriteFileLeavesPlantedLinks(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "precious")
	if err := os.WriteFile(target, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "r.json")
	if err := os.Symlink(target, path+".tmp"); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, &Result{Params: Params{Backend: "epoll"}, WindowSec: 1}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(target); string(b) != "keep" {
		t.Errorf("the planted link's target now reads %q", b)
	}
	if _, err := ReadFile(path); err != nil {
		t.Error(err)
	}
}
