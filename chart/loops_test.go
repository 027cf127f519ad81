package chart

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/muxbench/muxbench/chart/charttest"
	"github.com/muxbench/muxbench/result"
)

// Runs with several server loops get a chart of their own, against the
// one-loop point at their connection count, and stay out of the
// one-loop sweeps; and a pair of repeats that spread differently over
// the loops is still one point.
func TestLoopsChart(t *testing.T) {
	in := suite(t, 2)
	for _, b := range backends[:2] {
		for _, n := range []int{2, 4} {
			for k := 1; k <= 2; k++ {
				r := charttest.Result(charttest.Point{Backend: b, Conns: 1000, MsgSize: 64, Repeat: k})
				r.Server.Options.Loops = n
				r.Server.Options.Accept = "reuseport"
				r.Server.Options.LoopAccepts = make([]uint64, n)
				r.Server.Options.LoopAccepts[0] = uint64(k)
				if err := result.WriteFile(filepath.Join(in, fmt.Sprintf("loops-%s-c1000-l%d-r%d.json", b, n, k)), r); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	// epoll's two loops sharing one listener: a point of its own.
	for k := 1; k <= 2; k++ {
		r := charttest.Result(charttest.Point{Backend: "epoll", Conns: 1000, MsgSize: 64, Repeat: k})
		r.Server.Options.Loops, r.Server.Options.Accept = 2, result.AcceptExclusive
		if err := result.WriteFile(filepath.Join(in, fmt.Sprintf("loops-epoll-c1000-l2-exclusive-r%d.json", k)), r); err != nil {
			t.Fatal(err)
		}
	}
	files, err := Load(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckMixed(files); err != nil {
		t.Errorf("CheckMixed: %v", err)
	}
	for _, sec := range Sections(files) {
		if one := []string{Active, Idle, MsgSize}; slices.Contains(one, sec.Name) &&
			slices.ContainsFunc(sec.Files, func(f File) bool { return f.ServerLoops() > 1 }) {
			t.Error("a multi-loop run in a one-loop sweep")
		}
	}
	out := t.TempDir()
	written, skipped, err := DrawAll(out, files)
	if err != nil {
		t.Fatal(err)
	}
	if len(skipped) != 0 || !slices.Contains(written, filepath.Join(out, Loops+".svg")) {
		t.Errorf("written %v, skipped %v", written, skipped)
	}
	checkPNG(t, filepath.Join(out, Loops+".png"))
	checkSVG(t, filepath.Join(out, Loops+".svg"))
	// The exclusive runs are a line of their own, from the one-loop point.
	if svg, _ := os.ReadFile(filepath.Join(out, Loops+".svg")); !strings.Contains(string(svg), ">epoll (exclusive)</text>") {
		t.Error("no legend entry for epoll's exclusive loops")
	}
	var loops *Section
	for _, sec := range Sections(files) {
		if sec.Name == Loops {
			loops = &sec
		}
	}
	if loops == nil {
		t.Fatal("no loops section")
	}
	fig, _, err := linesFigure(Loops, loops.Sweep.Figures[0].Lines, *loops)
	if err != nil || fig == nil {
		t.Fatalf("loops figure %v, err %v", fig, err)
	}
	if !slices.Contains(fig.backends, "epoll (exclusive)") || !slices.Contains(fig.backends, "epoll") {
		t.Errorf("lines %v", fig.backends)
	}
	if len(loops.Files) != 10 {
		t.Fatalf("loops section %+v", loops)
	}
	labels := map[string]int{}
	for _, f := range loops.Files {
		labels[loops.Label(f.Result)]++
	}
	if labels["2 loops, 1000 conns"] != 4 || labels["2 loops, one listener (exclusive), 1000 conns"] != 2 || labels["4 loops, 1000 conns"] != 4 {
		t.Errorf("loops section's points %v", labels)
	}
}
