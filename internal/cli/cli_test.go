package cli

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"strings"
	"testing"
)

func newSet(help *bytes.Buffer) (*flag.FlagSet, *int) {
	fs := NewFlagSet("demo", "usage: muxbench demo [flags]", help)
	n := fs.Int("n", 1, "a `number`")
	return fs, n
}

func TestParseHelp(t *testing.T) {
	var help, stderr bytes.Buffer
	fs, _ := newSet(&help)
	err := Parse(fs, []string{"--help"})
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err = %v, want flag.ErrHelp", err)
	}
	if h := help.String(); !strings.HasPrefix(h, "usage: muxbench demo [flags]\n\nFlags:\n") || !strings.Contains(h, "-n number") {
		t.Errorf("help %q", h)
	}
	if code := Exit(fs.Name(), err, &stderr); code != 0 || stderr.Len() != 0 {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}

// A mistake is one line on stderr and status 2, never the usage.
func TestParseMistakes(t *testing.T) {
	for _, c := range []struct {
		args      []string
		flagsOnly bool
		want      string
	}{
		{[]string{"--bogus"}, false, "muxbench demo: flag provided but not defined: -bogus (see muxbench demo --help)\n"},
		{[]string{"-n", "x"}, true, `invalid value "x" for flag -n`},
		{[]string{"file"}, true, "muxbench demo: unexpected argument \"file\" (flags only; see muxbench demo --help)\n"},
	} {
		var help, stderr bytes.Buffer
		fs, _ := newSet(&help)
		parse := Parse
		if c.flagsOnly {
			parse = ParseFlagsOnly
		}
		err := parse(fs, c.args)
		if !errors.Is(err, ErrUsage) {
			t.Errorf("%q: err = %v, want a usage error", c.args, err)
		}
		code := Exit(fs.Name(), err, &stderr)
		msg := stderr.String()
		if code != 2 || strings.Count(msg, "\n") != 1 || !strings.Contains(msg, c.want) || help.Len() != 0 {
			t.Errorf("%q: exit %d, stderr %q, help %q; want 2 and one line with %q", c.args, code, msg, help.String(), c.want)
		}
	}
}

func TestParseArgs(t *testing.T) {
	var help bytes.Buffer
	fs, n := newSet(&help)
	if err := Parse(fs, []string{"-n", "3", "a", "b"}); err != nil || *n != 3 || fs.NArg() != 2 {
		t.Errorf("err %v, n %d, args %q", err, *n, fs.Args())
	}
}

func TestUsagef(t *testing.T) {
	err := fmt.Errorf("run: %w", Usagef("--conns %d: too many", 5))
	if !errors.Is(err, ErrUsage) || err.Error() != "run: --conns 5: too many" {
		t.Errorf("err = %v", err)
	}
	if errors.Is(errors.New("usage"), ErrUsage) {
		t.Error("a plain error counts as a usage error")
	}
}

// A flag set of the flag package's own, without Usage, prints the
// package's usage on --help.
func TestParseDefaultUsage(t *testing.T) {
	var out bytes.Buffer
	fs := flag.NewFlagSet("plain", flag.ContinueOnError)
	fs.SetOutput(&out)
	fs.Bool("v", false, "verbose")
	if err := Parse(fs, []string{"-h"}); !errors.Is(err, flag.ErrHelp) || !strings.Contains(out.String(), "Usage of plain:\n  -v\tverbose") {
		t.Errorf("err %v, output %q", err, out.String())
	}
	out.Reset()
	if err := Parse(fs, []string{"-x"}); !errors.Is(err, ErrUsage) || out.Len() != 0 {
		t.Errorf("err %v, output %q", err, out.String())
	}
}
