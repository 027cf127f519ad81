package bench

import (
	"os/exec"
	"strings"
	"testing"
)

func TestModulePath(t *testing.T) {
	for in, want := range map[string]string{
		"module github.com/muxbench/muxbench\n\ngo 1.26\n":   "github.com/muxbench/muxbench",
		"// a comment\nmodule \"example.com/q\" // quoted\n": "example.com/q",
		"\tmodule\texample.com/tab\n":                        "example.com/tab",
		"modules example.com/no\n":                           "",
		"go 1.26\n":                                          "",
	} {
		if got := modulePath([]byte(in)); got != want {
			t.Errorf("modulePath(%q) = %q, want %q", in, got, want)
		}
	}
}

// Built with -buildvcs=false inside this checkout, a result still names
// its commit; another module's checkout is not taken for ours.
func TestVersionFromCheckout(t *testing.T) {
	want, err := exec.Command("git", "describe", "--always", "--dirty").Output()
	if err != nil {
		t.Skipf("not in a git checkout: %v", err)
	}
	if got := describeCheckout("github.com/muxbench/muxbench"); got != strings.TrimSpace(string(want)) {
		t.Errorf("describeCheckout = %q, git describe says %q", got, want)
	}
	if got := describeCheckout("example.com/other"); got != "" {
		t.Errorf("another module's checkout described as %q", got)
	}
	if v := version(); v == "" || v == "devel" {
		t.Errorf("version() = %q in a checkout", v)
	}
}
