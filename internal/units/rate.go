package units

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ParseRate reads a rate in events per second: a number with an optional
// decimal suffix k (thousand), m (million) or g (billion), as --rate 10k
// or --rate 2.5m. Rates are counted, not sized, so the suffixes are
// powers of 1000 here, unlike sizes. NaN, infinities and negative rates
// are refused; whether a rate is in range is the caller's to say.
func ParseRate(s string) (float64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := 1.0
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'k':
			mult = 1e3
		case 'm':
			mult = 1e6
		case 'g':
			mult = 1e9
		}
		if mult != 1 {
			t = strings.TrimSpace(t[:n-1])
		}
	}
	// ParseFloat also reads "nan", "inf" and hexadecimal: none is a rate
	// (t is lower case).
	if t == "" || strings.ContainsAny(t, "nixp_") {
		return 0, rateErr(s)
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v*mult, 0) || v < 0 {
		return 0, rateErr(s)
	}
	return v * mult, nil
}

// ErrRateSyntax is wrapped by every ParseRate error, for errors.Is.
var ErrRateSyntax = errors.New("invalid rate")

func rateErr(s string) error {
	return fmt.Errorf("%w %q: want a number per second with an optional suffix k, m, g (thousand, million, billion), e.g. 500, 10k, 1.5m", ErrRateSyntax, s)
}

// FormatRate prints v the short way ParseRate reads back: 10000 is "10k".
func FormatRate(v float64) string {
	for _, u := range []struct {
		suffix string
		mult   float64
	}{{"g", 1e9}, {"m", 1e6}, {"k", 1e3}} {
		if v >= u.mult && math.Mod(v, u.mult/1000) == 0 {
			return strconv.FormatFloat(v/u.mult, 'f', -1, 64) + u.suffix
		}
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// Rate is a flag.Value holding a rate per second:
//
//	var rate units.Rate
//	fs.Var(&rate, "rate", "round trips per `second` (10k, 1.5m)")
type Rate float64

// String implements flag.Value.
func (r *Rate) String() string {
	if r == nil {
		return "0"
	}
	return FormatRate(float64(*r))
}

// Set implements flag.Value.
func (r *Rate) Set(v string) error {
	f, err := ParseRate(v)
	if err != nil {
		return err
	}
	*r = Rate(f)
	return nil
}
