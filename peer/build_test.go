package peer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A peer that cannot run says what to install, in one line.
func TestUnavailableSaysWhatToInstall(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	dir := t.TempDir()
	noTwisted := filepath.Join(dir, "python3")
	script := "#!/bin/sh\necho 'Traceback (most recent call last):' >&2\necho \"ModuleNotFoundError: No module named 'twisted'\" >&2\nexit 1\n"
	if err := os.WriteFile(noTwisted, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	py := &Peer{Name: "t", Needs: needTwisted, Loop: "EPollReactor", Args: []string{"--reactor", "epoll"},
		Program: Script("twisted_echo.py", twistedSource, func() (string, error) { return noTwisted, nil })}
	type outcome struct {
		what string
		err  error
		want string
	}
	cases := []outcome{{"python", py.check(), "needs python3-twisted (ModuleNotFoundError: No module named 'twisted')"}}
	if _, err := Compiler(); err == nil {
		_, err := C("t", []byte("#include <no_such_header.h>\nint main(void) { return 0; }\n"), "libno-dev", nil)()
		cases = append(cases, outcome{"C", err, "needs libno-dev (building t.c: exit status 1: "})
	}
	t.Setenv("PATH", dir)
	_, nodeErr := node()
	_, pcErr := pkgConfig("libevent", needLibevent)()
	cases = append(cases, outcome{"node", nodeErr, "needs nodejs (no node on the PATH)"},
		outcome{"pkg-config", pcErr, "needs libevent-dev, pkg-config (no pkg-config on the PATH)"})
	for _, c := range cases {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) || strings.Contains(c.err.Error(), "\n") {
			t.Errorf("%s: %v, want one line saying %q", c.what, c.err, c.want)
		}
	}
}

// The README and CI install the packages InstallCommand names, all of
// them: there is one list.
func TestInstallCommandDocumented(t *testing.T) {
	_, packages, _ := strings.Cut(InstallCommand, "install -y ")
	for _, f := range []string{"../README.md", "../.ci/run"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "install -y "+packages) && !strings.Contains(string(b), "install -y -qq "+packages) {
			t.Errorf("%s does not install %q", f, packages)
		}
	}
}
