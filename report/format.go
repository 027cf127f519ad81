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
