package sysstat

import (
	"os"
	"runtime"
	"testing"
)

func TestOpenFDs(t *testing.T) {
	before := OpenFDs()
	if before == -1 && (hidden(FigFDs) || runtime.GOOS != "linux" && runtime.GOOS != "darwin" && runtime.GOOS != "freebsd") {
		t.Skip("no complete descriptor count on " + runtime.GOOS)
	}
	if before < 3 {
		t.Fatalf("OpenFDs = %d, want at least stdin, stdout and stderr", before)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	if got := OpenFDs(); got != before+2 {
		t.Errorf("with a pipe open: OpenFDs = %d, want %d", got, before+2)
	}
	r.Close()
	w.Close()
	if got := OpenFDs(); got != before {
		t.Errorf("after closing the pipe: OpenFDs = %d, want %d", got, before)
	}
}
