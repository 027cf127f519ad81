// Package report is the one place a figure of a result is known: the
// metric descriptors (name, unit, getter, format, how it aggregates and
// which way is better), the formats and statistics every view shares, and
// the reporters that read them: the terminal table and CSV. Tables,
// charts, the results page, diff and merge iterate the same list.
package report

import (
	"fmt"
	"math"
	"strconv"
)

// Human prints a count short, as chart axes and tables do (1k, 2.5M).
func Human(v float64) string {
	av := math.Abs(v)
	switch {
	case av >= 1e6:
		return strconv.FormatFloat(v/1e6, 'g', 3, 64) + "M"
	case av >= 1e3:
		return strconv.FormatFloat(v/1e3, 'g', 3, 64) + "k"
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// Bytes prints a byte count in binary units (64 B, 4 KiB, 1 MiB).
func Bytes(v float64) string {
	switch {
	case v >= 1<<20:
		return strconv.FormatFloat(v/(1<<20), 'g', 3, 64) + " MiB"
	case v >= 1<<10:
		return strconv.FormatFloat(v/(1<<10), 'g', 3, 64) + " KiB"
	}
	return strconv.FormatFloat(v, 'g', 3, 64) + " B"
}

// Duration prints nanoseconds with three significant digits and the unit
// that keeps the number short (84.2 µs, 7.36 ms, 5.91 s).
func Duration(ns float64) string {
	v, unit := ns/1e3, "µs"
	switch {
	case ns >= 1e9:
		v, unit = ns/1e9, "s"
	case ns >= 1e6:
		v, unit = ns/1e6, "ms"
	}
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f %s", v, unit)
	case v >= 10:
		return fmt.Sprintf("%.1f %s", v, unit)
	}
	return fmt.Sprintf("%.2f %s", v, unit)
}

// LatencyAxis is the unit a latency axis up to maxNs nanoseconds reads
// best in, µs or, beyond 10,000 µs, ms, and what divides nanoseconds
// into it.
func LatencyAxis(maxNs float64) (unit string, div float64) {
	if maxNs > 10e6 {
		return "ms", 1e6
	}
	return "µs", 1e3
}

// Format prints a metric's figure: in full (summary.md, the page, diff,
// merge) and compactly for the terminal table's narrow columns, where
// None stands for a figure the run lacks.
type Format struct {
	Full, Compact func(float64) string
	None          string
}

// The formats of the metrics.
var (
	Count   = Format{Full: Human, Compact: compactCount, None: "n/a"}
	Latency = Format{Full: Duration, Compact: compactNs, None: "-"}
	Micros  = Format{Full: decimals(2), Compact: decimals(1), None: "n/a"}
	Share   = Format{Full: decimals(3), Compact: decimals(3), None: "n/a"}
	// Ratio keeps three decimals below 0.1, where two would hide it.
	Ratio   = Format{Full: ratio, Compact: ratio, None: "n/a"}
	Size    = Format{Full: Bytes, Compact: compactBytes, None: "n/a"}
	Integer = Format{Full: decimals(0), Compact: decimals(0), None: "n/a"}
	CPUs    = Format{Full: decimals(2), Compact: decimals(2), None: "n/a"}
)

func decimals(n int) func(float64) string {
	return func(v float64) string { return strconv.FormatFloat(v, 'f', n, 64) }
}

func ratio(v float64) string {
	if v < 0.1 {
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// compactNs prints a latency in at most five columns, with Duration's
// units.
func compactNs(v float64) string {
	ns := int64(v)
	switch {
	case ns <= 0:
		return "-"
	case ns < 1_000:
		return fmt.Sprintf("%dns", ns)
	case ns < 9_950:
		return fmt.Sprintf("%.1fµs", v/1e3)
	case ns < 999_500:
		return fmt.Sprintf("%.0fµs", v/1e3)
	case ns < 9_950_000:
		return fmt.Sprintf("%.1fms", v/1e6)
	case ns < 999_500_000:
		return fmt.Sprintf("%.0fms", v/1e6)
	case ns < 9_950_000_000:
		return fmt.Sprintf("%.1fs", v/1e9)
	default:
		return fmt.Sprintf("%.0fs", v/1e9)
	}
}

// rough is compactCount without the decimal of thousands.
func rough(v float64) string {
	if v >= 1e4 && v < 1e6 {
		return fmt.Sprintf("%.0fk", v/1e3)
	}
	return compactCount(v)
}

func compactCount(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.1fk", v/1e3)
	default:
		return fmt.Sprintf("%.0f", v)
	}
}

// compactBytes prints a size in binary units, as Bytes does, in at most
// seven characters.
func compactBytes(b float64) string {
	units := []string{"B", "KiB", "MiB", "GiB"}
	i := 0
	for b >= 1000 && i < len(units)-1 {
		b /= 1024
		i++
	}
	if i > 0 && b < 10 {
		return fmt.Sprintf("%.1f%s", b, units[i])
	}
	return fmt.Sprintf("%.0f%s", b, units[i])
}
