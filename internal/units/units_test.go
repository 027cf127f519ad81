package units

import (
	"errors"
	"flag"
	"io"
	"testing"
)

func TestParseSize(t *testing.T) {
	good := map[string]int64{
		"0": 0, "64": 64, "64b": 64, "64B": 64,
		"4k": 4096, "4K": 4096, "4kb": 4096, "4KiB": 4096, "4kib": 4096,
		"1m": 1 << 20, "1MiB": 1 << 20, "1MB": 1 << 20,
		"2g": 2 << 30, "1GiB": 1 << 30, " 8k ": 8192, "8 k": 8192,
	}
	for in, want := range good {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "k", "-1", "-4k", "+4", "1.5k", "4x", "4kk", "0x10", "four", "99999999999999999999", "9999999999999g"} {
		if n, err := ParseSize(in); err == nil || !errors.Is(err, ErrSyntax) {
			t.Errorf("ParseSize(%q) = %d, %v; want ErrSyntax", in, n, err)
		}
	}
}

func TestFormatRoundTrip(t *testing.T) {
	for _, n := range []int64{0, 1, 64, 1000, 1024, 4096, 65536, 1 << 20, 3 << 30, 1<<20 + 1} {
		s := FormatSize(n)
		back, err := ParseSize(s)
		if err != nil || back != n {
			t.Errorf("FormatSize(%d) = %q, reads back %d, %v", n, s, back, err)
		}
	}
	if s := FormatSize(65536); s != "64k" {
		t.Errorf("FormatSize(65536) = %q, want 64k", s)
	}
}

func TestSizeFlag(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	s := Size(64)
	fs.Var(&s, "buf", "")
	if err := fs.Parse([]string{"--buf", "16KiB"}); err != nil {
		t.Fatal(err)
	}
	if s.Int() != 16384 || s.String() != "16k" {
		t.Errorf("got %d %q", s, s.String())
	}
	if err := fs.Parse([]string{"--buf", "-1"}); err == nil {
		t.Error("negative size accepted")
	}
}

func TestParseRate(t *testing.T) {
	good := map[string]float64{
		"0": 0, "1": 1, "500": 500, "10k": 10e3, "10K": 10e3, "2.5k": 2500, "1.5m": 1.5e6, "1M": 1e6,
		"1g": 1e9, "1e5": 1e5, " 7k ": 7e3, "1e-9": 1e-9,
	}
	for in, want := range good {
		got, err := ParseRate(in)
		if err != nil || got != want {
			t.Errorf("ParseRate(%q) = %g, %v; want %g", in, got, err, want)
		}
	}
	for _, in := range []string{"", "k", "-1", "-5k", "NaN", "nan", "Inf", "+Inf", "-Inf", "infinity", "0x10", "1p3", "10x", "1_000", "1e400", "1e300g"} {
		if v, err := ParseRate(in); err == nil || !errors.Is(err, ErrRateSyntax) {
			t.Errorf("ParseRate(%q) = %g, %v; want ErrRateSyntax", in, v, err)
		}
	}
	for _, v := range []float64{0, 1, 999, 10e3, 2500, 1.5e6, 1e8, 0.5} {
		s := FormatRate(v)
		if back, err := ParseRate(s); err != nil || back != v {
			t.Errorf("FormatRate(%g) = %q reads back as %g, %v", v, s, back, err)
		}
	}
}
