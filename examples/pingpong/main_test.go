//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package main

import (
	"io"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	var out strings.Builder
	if err := run([]string{"--backend", "poll", "--clients", "2", "--max", "1k", "--msg", "16"}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"2 clients received", "BytesIn", `"Closed": 4`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestRunFlagErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--backend", "nope"}, "available: "},
		{[]string{"--clients", "0"}, "--clients"},
		{[]string{"--msg", "0"}, "--msg"},
		{[]string{"--backend", "select", "--et"}, "level-triggered only"},
		{[]string{"--fault-short", "1.5"}, "outside [0, 1)"},
		{[]string{"extra"}, "unexpected argument"},
	} {
		err := run(c.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("run(%q) = %v, want one line containing %q", c.args, err, c.want)
		}
	}
}
