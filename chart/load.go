package chart

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

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

// Load reads result files; a directory stands for every *.json below it.
// The first bad file stops it with an error that names the file.
func Load(paths ...string) ([]File, error) {
	if len(paths) == 0 {
		return nil, BadInput(errors.New("no result files given"))
	}
	var files []File
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, BadInput(err)
		}
		names := []string{p}
		if st.IsDir() {
			names = nil
			err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if !d.IsDir() && strings.HasSuffix(d.Name(), ".json") {
					names = append(names, path)
				}
				return nil
			})
			if err != nil {
				return nil, BadInput(err)
			}
			if len(names) == 0 {
				return nil, BadInput(fmt.Errorf("%s: no .json result files in this directory", p))
			}
			sort.Strings(names)
		}
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
	}
	return files, nil
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
