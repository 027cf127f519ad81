//go:build linux && libkqueue && !cgo

package kevent

// The libkqueue build calls the library through cgo: this names what is
// missing where CGO_ENABLED=0 would otherwise leave undefined names.
var _ = the_libkqueue_tag_needs_cgo_enabled
