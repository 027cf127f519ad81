package chart

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/muxbench/muxbench/result"
)

// File is a result with the path it was read from, so that every message
// about bad data can name the file it came from.
type File struct {
	Path string
	*result.Result
}

// ErrInput marks a fault in what the user gave (a missing, empty,
// truncated or foreign file) as opposed to a failure to write output.
var ErrInput = errors.New("bad input")

type inputError struct{ err error }

func (e inputError) Error() string   { return e.err.Error() }
func (e inputError) Unwrap() []error { return []error{e.err, ErrInput} }

// BadInput wraps err so that errors.Is(err, ErrInput) holds.
func BadInput(err error) error { return inputError{err} }

// MaxLoad bounds the result files Load reads together, in bytes: what
// it holds in memory at once is of that size.
const MaxLoad = 1 << 30

// Load reads result files; a directory stands for every *.json below it.
// The first bad file stops it with an error that names the file, and so
// do files larger than MaxLoad together, before any is read.
func Load(paths ...string) ([]File, error) {
	if len(paths) == 0 {
		return nil, BadInput(errors.New("no result files given"))
	}
	var names []string
	var total int64
	for _, p := range paths {
		st, err := os.Stat(p)
		if pe := (*fs.PathError)(nil); errors.As(err, &pe) {
			return nil, BadInput(fmt.Errorf("%s: %w", p, pe.Err)) // not "stat p: ..."
		} else if err != nil {
			return nil, BadInput(err)
		}
		if !st.IsDir() {
			names = append(names, p)
			total += st.Size()
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasSuffix(d.Name(), ".json") {
				found = append(found, path)
				if info, err := d.Info(); err == nil {
					total += info.Size()
				}
			}
			return nil
		})
		if err != nil {
			return nil, BadInput(err)
		}
		if len(found) == 0 {
			return nil, BadInput(fmt.Errorf("%s: no .json result files in this directory", p))
		}
		sort.Strings(found)
		names = append(names, found...)
	}
	if total > MaxLoad {
		return nil, BadInput(fmt.Errorf("%d result files of %d MiB together, over the %d MiB read at once: give fewer", len(names), total>>20, MaxLoad>>20))
	}
	var files []File
	for _, n := range names {
		r, err := result.ReadFile(n)
		if err != nil {
			return nil, BadInput(err)
		}
		if err := checkHistograms(r); err != nil {
			return nil, BadInput(fmt.Errorf("%s: %w", n, err))
		}
		files = append(files, File{Path: n, Result: r})
	}
	return files, nil
}

// Once keeps each run once: a file given twice (by two paths, a link, a
// directory and a file in it) or a copy of a run (the same latency
// histogram and counts, whatever else it says) is dropped after its
// first. again says which were dropped, and why, for the user.
func Once(files []File) (once []File, again []string) {
	byFile, byRun := map[string]File{}, map[string]File{}
	for _, f := range files {
		id, run := fileID(f.Path), runID(f.Result)
		if g, ok := byFile[id]; ok {
			again = append(again, fmt.Sprintf("%s is %s again: counted once", Printable(f.Path), Printable(g.Path)))
			continue
		}
		byFile[id] = f
		if g, ok := byRun[run]; ok && run != "" {
			again = append(again, fmt.Sprintf("%s is the same run as %s (the same latency histogram and counts): counted once", Printable(f.Path), Printable(g.Path)))
			continue
		}
		byRun[run] = f
		once = append(once, f)
	}
	return once, again
}

// SameRun reports whether a and b are one run: the same latency
// histogram and counts. Two real runs never are; a copy, whatever else
// was changed in it, is.
func SameRun(a, b *result.Result) bool {
	ra := runID(a)
	return ra != "" && ra == runID(b)
}

// runID names a run by its latency histogram, decoded (two encodings of
// one histogram are one), and its counts; "" without a histogram.
func runID(r *result.Result) string {
	h, err := decodeHist(r.Latency.Histogram)
	if r.Latency.Histogram == "" || err != nil {
		return ""
	}
	s := h.Export()
	counts := s.Counts
	for len(counts) > 0 && counts[len(counts)-1] == 0 {
		counts = counts[:len(counts)-1]
	}
	sum := sha256.New()
	fmt.Fprint(sum, s.LowestTrackableValue, s.HighestTrackableValue, s.SignificantFigures, counts, r.RoundTrips, r.Latency.Count, r.Latency.Overflow)
	return string(sum.Sum(nil))
}

// fileID names the file at path: its device and inode where the system
// has them, else its absolute path.
func fileID(path string) string {
	if st, err := os.Stat(path); err == nil {
		if sys, ok := st.Sys().(*syscall.Stat_t); ok {
			return fmt.Sprint("inode ", sys.Dev, " ", sys.Ino)
		}
	}
	abs, _ := filepath.Abs(path)
	return abs
}

// checkHistograms decodes the encoded histograms up front, so a damaged
// one is refused before any chart is drawn.
func checkHistograms(r *result.Result) error {
	lats := map[string]*result.Latency{"latency": &r.Latency, "latency_uncorrected": r.LatencyUncorrected}
	for name, l := range lats {
		if l == nil || l.Histogram == "" {
			continue
		}
		if _, err := decodeHist(l.Histogram); err != nil {
			return fmt.Errorf("%s.histogram: cannot decode: %v", name, err)
		}
	}
	return nil
}
