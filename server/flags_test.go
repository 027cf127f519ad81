package server

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/muxbench/muxbench/internal/cli"
	"github.com/muxbench/muxbench/sysstat"
)

// parseScope reads args as the flags of scope declare them.
func parseScope(scope Scope, args ...string) (Config, *Flags, error) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := AddFlags(fs, scope)
	if err := fs.Parse(args); err != nil {
		return Config{}, f, err
	}
	c, err := f.Config()
	return c, f, err
}

// A run's server CPUs and GOMAXPROCS are server flags, read and checked
// with the others: --server-cpus and --server-gomaxprocs, which its help
// describes. serve names them --cpus and --gomaxprocs, as Args writes
// them, and takes no other names.
func TestRunScopeCPUsAndGOMAXPROCS(t *testing.T) {
	online, err := sysstat.OnlineCPUs()
	if err != nil || len(online) == 0 {
		t.Skipf("no online CPUs to name: %v", err)
	}
	cpu := online[len(online)-1]
	c, f, err := parseScope(RunScope, "--server-cpus", sysstat.FormatCPUList([]int{cpu}), "--server-gomaxprocs=3")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.CPUs, []int{cpu}) || c.GOMAXPROCS != 3 || f.NoPin() {
		t.Errorf("CPUs %v, GOMAXPROCS %d, NoPin %v: want [%d], 3, false", c.CPUs, c.GOMAXPROCS, f.NoPin(), cpu)
	}
	c, f, err = parseScope(RunScope, "--server-cpus=none")
	if err != nil || c.CPUs != nil || !f.NoPin() {
		t.Errorf("--server-cpus=none: CPUs %v, NoPin %v, err %v: want none, true, nil", c.CPUs, f.NoPin(), err)
	}
	for _, tc := range []struct {
		arg, want string
	}{
		{"--server-cpus=x", `--server-cpus "x": want CPU numbers like 1 or 0,1 or 0-3, or none`},
		{"--server-cpus=65535", "--server-cpus 65535: CPU 65535 does not exist"},
		{"--server-gomaxprocs=-1", "--server-gomaxprocs -1: want 0 or more"},
	} {
		if _, _, err := parseScope(RunScope, tc.arg); !errors.Is(err, cli.ErrUsage) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want a usage error saying %q", tc.arg, err, tc.want)
		}
	}
	for _, arg := range []string{"--server-cpus=0", "--server-gomaxprocs=1"} {
		if _, _, err := parseScope(ServeScope, arg); err == nil || !strings.Contains(err.Error(), "not defined") {
			t.Errorf("serve %s: %v, want an undefined flag", arg, err)
		}
	}

	// Described in a run's help, not named among the flags serve's help
	// describes: serve's --cpus has no none and no default.
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	AddFlags(fs, RunScope)
	var help bytes.Buffer
	cli.PrintFlags(&help, fs)
	described, aside, _ := strings.Cut(help.String(), "\nServer flags")
	for _, want := range []string{"--server-cpus CPU", "none: no pinning", "--server-gomaxprocs procs", "one per server CPU"} {
		if !strings.Contains(described, want) {
			t.Errorf("run's help does not describe %q:\n%s", want, described)
		}
	}
	if strings.Contains(aside, "--server-cpus") || strings.Contains(aside, "--server-gomaxprocs") {
		t.Errorf("run's help names --server-cpus or --server-gomaxprocs among serve's flags:\n%s", aside)
	}
}
