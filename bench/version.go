package bench

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"
)

// version names the build a result came from: the revision Go stamped
// into the binary, else the module version, else what git says of the
// checkout in the working directory (builds with -buildvcs=false carry no
// revision), else "devel".
var version = sync.OnceValue(func() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && s.Value != "" {
			return s.Value
		}
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	if v := describeCheckout(bi.Main.Path); v != "" {
		return v
	}
	return "devel"
})

// describeCheckout is `git describe --always --dirty` of the working
// directory's checkout, if that checkout is of module; "" otherwise, so
// that a run started in another repository does not take its commit.
func describeCheckout(module string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	top, err := exec.CommandContext(ctx, "git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		return ""
	}
	mod, err := os.ReadFile(filepath.Join(string(bytes.TrimSpace(top)), "go.mod"))
	if err != nil || module == "" || modulePath(mod) != module {
		return ""
	}
	out, err := exec.CommandContext(ctx, "git", "describe", "--always", "--dirty").Output()
	if err != nil {
		return ""
	}
	return string(bytes.TrimSpace(out))
}

// modulePath is the path a go.mod declares on its module line.
func modulePath(gomod []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		if p, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module"); ok && p != "" && (p[0] == ' ' || p[0] == '\t') {
			p, _, _ = strings.Cut(p, "//")
			return strings.Trim(strings.TrimSpace(p), `"`)
		}
	}
	return ""
}
