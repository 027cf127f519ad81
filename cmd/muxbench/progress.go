package main

import (
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/muxbench/muxbench/bench"
)

// progressLine shows a run's progress on stderr: one line rewritten in
// place on a terminal, plain lines otherwise (logs, pipes).
type progressLine struct {
	mu   sync.Mutex
	w    io.Writer
	tty  bool
	open bool
}

func newProgressLine(w io.Writer) *progressLine {
	p := &progressLine{w: w}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progressLine) update(pr bench.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	line := fmt.Sprintf("%-8s %-7s %5.1fs %10d rt %10.0f rt/s", pr.Backend, pr.Phase, pr.Elapsed.Seconds(), pr.RoundTrips, pr.Rate)
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		p.open = true
		return
	}
	fmt.Fprintln(p.w, line)
}

// done ends an in-place line so that what follows starts on its own.
func (p *progressLine) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.open {
		fmt.Fprint(p.w, "\r\033[K")
		p.open = false
	}
}
