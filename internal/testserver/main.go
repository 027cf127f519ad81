package testserver

import (
	"io"
	"os"
	"testing"
)

// Main is the TestMain of tests that start their own test binary as a
// server child, marked by env in its environment: the child plays
// `muxbench serve`, any other run runs m's tests. The child calls child
// (if not nil) with env's value, which names what the test asked for (a
// misbehaving server, a lower limit) and may end the process, then
// serve on the binary's arguments, a leading "serve" dropped, and exits
// with its status. serve is server.Command, passed in: package server's
// own tests use Main, so this package cannot import server.
func Main(m *testing.M, env string, child func(mode string), serve func(args []string, stdout, stderr io.Writer) int) {
	mode := os.Getenv(env)
	if mode == "" {
		os.Exit(m.Run())
	}
	if child != nil {
		child(mode)
	}
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "serve" {
		args = args[1:]
	}
	os.Exit(serve(args, os.Stdout, os.Stderr))
}
