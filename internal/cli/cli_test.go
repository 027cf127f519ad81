package cli

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"time"

	"errors"
	"flag"
	"fmt"
	"github.com/muxbench/muxbench/internal/units"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
)

func newSet(help *bytes.Buffer) (*flag.FlagSet, *int) {
	fs := NewFlagSet("demo", "usage: muxbench demo [flags]", help)
	n := fs.Int("n", 1, "a `number`")
	fs.Duration("wait", 0, "a `duration`")
	fs.Duration("d", time.Second, "another `duration`")
	fs.Bool("v", false, "verbose")
	size := units.Size(0)
	fs.Var(&size, "size", "a `size`")
	fs.String("out", "x", "output `file`")
	Alias(fs, "o", "out")
	return fs, n
}

func TestParseHelp(t *testing.T) {
	var help, stderr bytes.Buffer
	fs, _ := newSet(&help)
	err := Parse(fs, []string{"--help"})
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err = %v, want flag.ErrHelp", err)
	}
	want := `usage: muxbench demo [flags]

Flags:
  -d duration
    	another duration (default 1s)
  -n number
    	a number (default 1)
  -o, --out file
    	output file (default "x")
  --size size
    	a size
  -v
    	verbose
  --wait duration
    	a duration
`
	if h := help.String(); h != want {
		t.Errorf("help:\n%s\nwant:\n%s", h, want)
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
		{[]string{"--bogus"}, false, "muxbench demo: unknown flag --bogus (see muxbench demo --help)\n"},
		{[]string{"-n", "x"}, true, "muxbench demo: -n x: want a whole number"},
		{[]string{"--d", "5"}, true, "muxbench demo: -d 5: a duration needs a unit: use 5s"},
		{[]string{"--wait", "5"}, true, "muxbench demo: --wait 5: a duration needs a unit: use 5s"},
		{[]string{"--wait", "soon"}, true, "--wait soon: want a duration"},
		{[]string{"--v=maybe"}, true, "demo: -v maybe: want true or false"},
		{[]string{"--size", "1.5k"}, true, "--size 1.5k: want a whole number of bytes"},
		{[]string{"--n"}, true, "demo: -n needs a value"},
		{[]string{"file", "--n"}, false, "demo: -n needs a value"},
		{[]string{"file", "--wait", "5"}, false, "--wait 5: a duration needs a unit"},
		{[]string{"--siez", "1k"}, false, "muxbench demo: unknown flag --siez: did you mean --size? (see muxbench demo --help)\n"},
		{[]string{"--outt=y"}, false, "unknown flag --outt: did you mean --out?"},
		{[]string{"--zzz"}, false, "unknown flag --zzz (see"},
		{[]string{"-n", "2", "file", "--", "other"}, true, `unexpected argument "file"`},
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

// Flags come before and after the arguments, until a "--".
func TestParseArgs(t *testing.T) {
	for _, c := range []struct {
		args     []string
		n        int
		out      string
		verbose  bool
		wantArgs []string
	}{
		{[]string{"-n", "3", "a", "b"}, 3, "x", false, []string{"a", "b"}},
		{[]string{"a", "-n", "3", "b"}, 3, "x", false, []string{"a", "b"}},
		{[]string{"res/json", "--v", "-o", "x.html"}, 1, "x.html", true, []string{"res/json"}},
		{[]string{"a", "--out=y", "b", "-v=false"}, 1, "y", false, []string{"a", "b"}},
		{[]string{"-v", "a", "--", "-n", "4", "--out"}, 1, "x", true, []string{"a", "-n", "4", "--out"}},
		{[]string{"-", "-n", "2"}, 2, "x", false, []string{"-"}},
		{[]string{"--out", "-", "a"}, 1, "-", false, []string{"a"}},
		{[]string{"--out", "--", "a"}, 1, "--", false, []string{"a"}}, // a value, as the flag package reads it
		{[]string{"--v"}, 1, "x", true, nil},
	} {
		var help bytes.Buffer
		fs, n := newSet(&help)
		err := Parse(fs, c.args)
		out := fs.Lookup("out").Value.String()
		verbose := fs.Lookup("v").Value.String() == "true"
		if err != nil || *n != c.n || out != c.out || verbose != c.verbose || !slices.Equal(fs.Args(), c.wantArgs) {
			t.Errorf("%q: err %v, -n %d, --out %q, -v %v, args %q; want -n %d, --out %q, -v %v, args %q",
				c.args, err, *n, out, verbose, fs.Args(), c.n, c.out, c.verbose, c.wantArgs)
		}
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

// A version names the source where the build says which it was, and
// adds the executable's hash where it does not.
func TestVersionOf(t *testing.T) {
	rev := func(modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.modified", Value: modified}}
	}
	devel := debug.Module{Version: "(devel)"}
	hash := func() (string, error) { return "0123456789ab", nil }
	noHash := func() (string, error) { return "", errors.New("no executable") }
	for _, c := range []struct {
		bi   debug.BuildInfo
		hash func() (string, error)
		want string
	}{
		{debug.BuildInfo{Main: debug.Module{Version: "v1.2.0"}}, hash, "v1.2.0"},
		{debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261207105906-22835229c437"}, Settings: rev("false")}, hash,
			"v0.0.0-20261207105906-22835229c437"},
		{debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261207105906-22835229c437+dirty"}, Settings: rev("true")}, hash,
			"v0.0.0-20261207105906-22835229c437+dirty+sha256:0123456789ab"},
		{debug.BuildInfo{Main: devel, Settings: rev("true")}, hash, "abc123+dirty+sha256:0123456789ab"},
		{debug.BuildInfo{Main: devel, Settings: rev("true")}, noHash, "abc123+dirty"},
		{debug.BuildInfo{Main: devel, Settings: rev("false")}, hash, "abc123"},
		{debug.BuildInfo{Main: devel}, hash, "devel+sha256:0123456789ab"},
		{debug.BuildInfo{}, hash, "devel+sha256:0123456789ab"},
		{debug.BuildInfo{Main: devel}, noHash, "devel"},
	} {
		if got := versionOf(&c.bi, c.hash); got != c.want {
			t.Errorf("versionOf(%+v) = %q, want %q", c.bi, got, c.want)
		}
	}
}

// The hash is of the executable's content.
func TestExecutableHash(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	b, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	got, err := executableHash()
	if want := hex.EncodeToString(sum[:])[:12]; err != nil || got != want {
		t.Errorf("executableHash() = %q, %v; want %q", got, err, want)
	}
}

func TestCheckOutputs(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{
		CheckFile("json", filepath.Join(file, "x.json")),
		CheckFile("json", filepath.Join(dir, "missing", "x.json")),
		CheckFile("json", dir),
		CheckDir("out", filepath.Join(file, "d")),
	} {
		if !errors.Is(err, ErrUsage) || !strings.HasPrefix(err.Error(), "--") {
			t.Errorf("err = %v, want a usage error naming the flag", err)
		}
	}
	for _, err := range []error{
		CheckFile("json", Stdout),
		CheckFile("json", file),
		CheckFile("json", filepath.Join(dir, "new.json")),
		CheckDir("out", filepath.Join(dir, "a", "b")),
	} {
		if err != nil {
			t.Error(err)
		}
	}
	if st, err := os.Stat(filepath.Join(dir, "a", "b")); err != nil || !st.IsDir() {
		t.Errorf("CheckDir did not make the directory: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp")); len(left) > 0 {
		t.Errorf("probe files left behind: %q", left)
	}
}

// Help wraps a long description within 80 columns (the tab counting 8),
// and names the flags set aside under their heading, at the end.
func TestHelpWrapsAndAsides(t *testing.T) {
	var help bytes.Buffer
	fs := NewFlagSet("demo", "usage: muxbench demo [flags]", &help)
	fs.String("long", "", "a `word` of description "+strings.Repeat("a word of description ", 11))
	fs.Int("loops", 1, "server `loops`")
	fs.Bool("edge", false, "edge-triggered")
	fs.Bool("verbose", false, "say more")
	Aside(fs, "Server flags (muxbench serve --help):", "loops", "edge")
	if err := Parse(fs, []string{"--help"}); !errors.Is(err, flag.ErrHelp) {
		t.Fatal(err)
	}
	want := `usage: muxbench demo [flags]

Flags:
  --long word
    	a word of description a word of description a word of description a word
    	of description a word of description a word of description a word of
    	description a word of description a word of description a word of
    	description a word of description a word of description
  --verbose
    	say more

Server flags (muxbench serve --help):
    --edge, --loops
`
	if h := help.String(); h != want {
		t.Errorf("help:\n%s\nwant:\n%s", h, want)
	}
	// Set aside, still flags.
	if err := Parse(fs, []string{"--loops", "3", "--edge"}); err != nil || fs.Lookup("loops").Value.String() != "3" {
		t.Errorf("err %v, --loops %s", err, fs.Lookup("loops").Value)
	}
}
