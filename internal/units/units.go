// Package units parses and prints the byte sizes muxbench flags take
// (--read-buf 64k, --sndbuf 4KiB, --msg 1m), so that the server and the
// load side accept exactly the same spellings.
//
// A size is a non-negative integer with an optional suffix, case-insensitive:
//
//	64        64 bytes ("b" or "B" may follow: 64b)
//	4k 4kb 4KiB    4 * 1024
//	1m 1mb 1MiB    1024 * 1024
//	1g 1gb 1GiB    1024 * 1024 * 1024
//
// Every suffix is a power of 1024: socket and read buffers are sized in
// pages, and nobody means 4000 when asking for a 4k buffer. Fractions
// ("1.5k") and negative sizes are refused.
package units

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ErrSyntax is wrapped by every parse error, for errors.Is.
var ErrSyntax = errors.New("invalid size")

var multipliers = []struct {
	suffix string
	mult   int64
}{
	// Longest first, so that "kib" is not read as "ki" + "b".
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30},
	{"kb", 1 << 10}, {"mb", 1 << 20}, {"gb", 1 << 30},
	{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30},
	{"b", 1},
}

// ParseSize reads a size in bytes. The error quotes the input and says what
// is accepted, so a flag error needs nothing added but the flag's name.
func ParseSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := int64(1)
	for _, m := range multipliers {
		if strings.HasSuffix(t, m.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, m.suffix)), m.mult
			break
		}
	}
	if t == "" || t[0] == '+' || t[0] == '-' {
		return 0, sizeErr(s)
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 {
		return 0, sizeErr(s)
	}
	if n > math.MaxInt64/mult {
		return 0, fmt.Errorf("%w %q: too large", ErrSyntax, s)
	}
	return n * mult, nil
}

func sizeErr(s string) error {
	return fmt.Errorf("%w %q: want a whole number of bytes with an optional suffix k, m, g (or KiB, MiB, GiB), e.g. 64, 4k, 1MiB", ErrSyntax, s)
}

// FormatSize prints n the short way ParseSize reads back: 65536 is "64k",
// 1000 stays "1000".
func FormatSize(n int64) string {
	switch {
	case n != 0 && n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + "g"
	case n != 0 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + "m"
	case n != 0 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + "k"
	}
	return strconv.FormatInt(n, 10)
}

// Size is a flag.Value holding a size in bytes:
//
//	var buf = units.Size(64 << 10)
//	fs.Var(&buf, "read-buf", "read buffer `size` (64, 4k, 1MiB)")
type Size int64

// String implements flag.Value.
func (s *Size) String() string {
	if s == nil {
		return "0"
	}
	return FormatSize(int64(*s))
}

// Set implements flag.Value.
func (s *Size) Set(v string) error {
	n, err := ParseSize(v)
	if err != nil {
		return err
	}
	*s = Size(n)
	return nil
}

// Int is the size as an int, for APIs that take one (buffer lengths,
// setsockopt). Sizes beyond int are capped, which only matters on 32-bit.
func (s Size) Int() int {
	if int64(s) > math.MaxInt {
		return math.MaxInt
	}
	return int(s)
}
