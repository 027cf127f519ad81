package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"runtime/debug"
	"sync"
)

// Version names the build, so that results tell apart the code that made
// them, whatever directory it ran in: the module version (go install
// ...@v1.2.0, or the one go build derives from the checkout), else the
// VCS revision, with "+dirty" for uncommitted changes; where those do
// not name the source (a build with uncommitted changes, or with no VCS
// information: go run, go test, -buildvcs=false, a git worktree, which
// go does not read), "+sha256:" and the start of the executable's hash
// follow, or "devel" stands alone when the executable cannot be read.
var Version = sync.OnceValue(func() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = &debug.BuildInfo{}
	}
	return versionOf(bi, executableHash)
})

func versionOf(bi *debug.BuildInfo, hash func() (string, error)) string {
	var rev string
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	v := bi.Main.Version
	switch {
	case v != "" && v != "(devel)":
		// go build appends +dirty itself.
	case rev != "":
		v = rev
		if dirty {
			v += "+dirty"
		}
	default:
		v, dirty = "devel", true
	}
	if !dirty {
		return v
	}
	h, err := hash()
	if err != nil {
		return v
	}
	return v + "+sha256:" + h
}

// executableHash is the start of the SHA-256 of the running executable:
// twelve hex digits, which tell builds apart.
func executableHash() (string, error) {
	path, err := os.Executable()
	if err != nil {
		return "", err
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}
