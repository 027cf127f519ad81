// Package all registers every poller backend this platform has. Import it
// for its side effect:
//
//	import _ "github.com/muxbench/muxbench/poller/all"
//
// Each backend is imported from a file of its own, build-tagged for the
// platforms it runs on.
package all
