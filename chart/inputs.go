package chart

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/muxbench/muxbench/report"
	"github.com/muxbench/muxbench/result"
)

// Failure says why a result is no data point, "" when it is one. A run
// whose echoes were wrong, whose connections failed or that did not hold
// the connections it claims measured a broken server, or another load,
// not a slow one: its figures must not reach a chart or a table.
func Failure(r *result.Result) string {
	if why, ok := r.Params.Extra[ExtraFailed]; ok {
		return Printable(why)
	}
	if e := r.Params.Extra[result.ExtraEmulation]; e != "" {
		return Printable("ran on " + e + ", not on the kernel's " + r.Params.Backend)
	}
	var why []string
	add := func(n uint64, one, many string) {
		switch {
		case n == 1:
			why = append(why, "1 "+one)
		case n > 1:
			why = append(why, fmt.Sprintf("%d %s", n, many))
		}
	}
	i := r.Integrity
	add(i.Mismatches, "integrity mismatch", "integrity mismatches")
	add(i.Resets, "connection reset", "connection resets")
	add(i.ConnFailures, "failed connection", "failed connections")
	add(i.Timeouts, "timed-out round trip", "timed-out round trips")
	add(i.MissingConns, "missing connection", "missing connections")
	if len(why) == 0 && i.Errors() > 0 {
		// A counter this list does not name yet still fails the run.
		why = append(why, fmt.Sprintf("%d integrity errors", i.Errors()))
	}
	return strings.Join(why, ", ")
}

// ExtraFailed is the params.extra key under which a result saved apart
// as failed keeps the reason.
const ExtraFailed = "failed"

// Split separates the results that are data points from the failed ones.
func Split(files []File) (ok, failed []File) {
	for _, f := range files {
		if Failure(f.Result) != "" {
			failed = append(failed, f)
		} else {
			ok = append(ok, f)
		}
	}
	return ok, failed
}

// ErrMixed marks results that should not be pooled: measured on other
// machines, by other muxbench versions, or with other parameters at one
// point. errors.Is(err, ErrInput) holds for it too.
var ErrMixed = errors.New("mixed results")

type mixedError struct{ msg string }

func (e mixedError) Error() string   { return e.msg }
func (e mixedError) Unwrap() []error { return []error{ErrMixed, ErrInput} }

// Machine names the machine a result was measured on, as captions do.
func Machine(e result.Env) string {
	host := orUnknown(e.Hostname)
	return fmt.Sprintf("%s (%s, %d cores, %s)", host, orUnknown(e.CPUModel), e.Cores, orUnknown(e.Kernel))
}

// PointName names a point in words, as diffs and messages do.
func PointName(k result.PointKey) string {
	s := fmt.Sprintf("%s %d conns", k.Server, k.Conns)
	if k.Idle > 0 {
		s += fmt.Sprintf(" + %d idle", k.Idle)
	}
	s += ", " + report.Bytes(float64(k.MsgSize))
	if k.SndBuf > 0 {
		s += ", sndbuf " + report.Bytes(float64(k.SndBuf))
	}
	switch {
	case k.Sweep != "":
		s += ", open loop (" + k.Sweep + ")"
	case k.Rate > 0:
		s += fmt.Sprintf(", open loop at %g rt/s", k.Rate)
	}
	if k.Loops > 1 {
		s += fmt.Sprintf(", %d loops", k.Loops)
		if k.Exclusive {
			s += " (" + result.AcceptExclusive + ")"
		}
	}
	return Printable(s)
}

// setup is everything else a run was asked for: repeats of a point must
// agree on all of it.
func setup(r *result.Result) string {
	p := r.Params
	s := fmt.Sprintf("window %gs, warm-up %gs, rate %g, rcvbuf %d, read buffer %d, %d generator loops, server CPUs %v, generator CPUs %v",
		p.DurationSec, p.WarmupSec, r.OfferedRate(), p.RcvBuf, p.ReadBufSize, p.GenLoops, p.ServerCPU, p.GenCPU)
	var extra []string
	for k, v := range p.Extra {
		// Each run's own: its server's pid, what its hosts and noise
		// were, why it failed.
		if k != "server_pid" && k != ExtraFailed && !strings.HasPrefix(k, "host.") && !strings.HasPrefix(k, "noise.") {
			extra = append(extra, k+"="+v)
		}
	}
	sort.Strings(extra)
	if r.Server != nil {
		o := r.Server.Options
		o.LoopAccepts = nil // measured, not asked for
		extra = append(extra, fmt.Sprintf("server options %+v", o))
	}
	if len(extra) > 0 {
		s += ", " + strings.Join(extra, ", ")
	}
	return s
}

// CheckMixed refuses to pool results that do not belong together: two
// machines, two muxbench versions, or one point measured with different
// settings. The error names a file of each kind.
func CheckMixed(files []File) error {
	if len(files) == 0 {
		return nil
	}
	first := files[0]
	points := map[result.PointKey]File{}
	for _, f := range files {
		if a, b := Machine(first.Env), Machine(f.Env); a != b {
			return mixedError{fmt.Sprintf("%s was measured on %s, %s on %s: pass --allow-mixed to pool them",
				Printable(f.Path), Printable(b), Printable(first.Path), Printable(a))}
		}
		if a, b := first.Env.Version, f.Env.Version; a != b {
			return mixedError{fmt.Sprintf("%s was made by muxbench %s, %s by %s: pass --allow-mixed to pool them",
				Printable(f.Path), Printable(orUnknown(b)), Printable(first.Path), Printable(orUnknown(a)))}
		}
		k := f.PointKey()
		if o, seen := points[k]; !seen {
			points[k] = f
		} else if a, b := setup(o.Result), setup(f.Result); a != b {
			return mixedError{fmt.Sprintf("%s and %s are one point (%s) measured differently: %s against %s: pass --allow-mixed to pool them",
				Printable(o.Path), Printable(f.Path), PointName(k), Printable(a), Printable(b))}
		}
	}
	return nil
}

// hostsAndVersions lists every machine and muxbench version present.
func hostsAndVersions(files []File) (machines, versions []string) {
	for _, f := range files {
		if m := Machine(f.Env); !slices.Contains(machines, m) {
			machines = append(machines, m)
		}
		if v := orUnknown(f.Env.Version); !slices.Contains(versions, v) {
			versions = append(versions, v)
		}
	}
	return machines, versions
}

// Printable replaces control characters (newlines, escapes) in a string
// from a result file with visible escapes, so that a hostile file cannot
// break a table's line or drive the terminal.
func Printable(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == unicode.ReplacementChar }) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == unicode.ReplacementChar:
			b.WriteString(`\ufffd`)
		case unicode.IsControl(r):
			q := fmt.Sprintf("%+q", string(r))
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
