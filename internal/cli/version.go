package cli

import (
	"runtime/debug"
	"sync"
)

// Version names the build, as the binary itself records it, so that a
// result names the code that produced it whatever directory it ran in:
// the module version (go install ...@v1.2.0, or the pseudo-version Go
// derives from the checkout), else the VCS revision with "+dirty" for
// uncommitted changes, else "devel" (go run, go test, -buildvcs=false).
var Version = sync.OnceValue(func() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	return versionOf(bi)
})

func versionOf(bi *debug.BuildInfo) string {
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch {
		case s.Key == "vcs.revision":
			rev = s.Value
		case s.Key == "vcs.modified" && s.Value == "true":
			dirty = "+dirty"
		}
	}
	if rev == "" {
		return "devel"
	}
	return rev + dirty
}
