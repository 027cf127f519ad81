package chart

import (
	"errors"
	"strings"
	"testing"

	"github.com/muxbench/muxbench/chart/charttest"
)

// Two runs of one sweep's open-loop point are one point whatever their
// rates, so rates that disagree are a point measured differently; runs
// outside a sweep at two rates are two points.
func TestCheckMixedOpenLoopRates(t *testing.T) {
	run := func(sweep string, rate float64, repeat int) File {
		r := charttest.Result(charttest.Point{Backend: "epoll", Conns: 100, MsgSize: 64, Rate: rate, Repeat: repeat})
		r.Params.Sweep = sweep
		return File{Path: sweep + ".json", Result: r}
	}
	err := CheckMixed([]File{run("latency", 5000, 1), run("latency", 7000, 2)})
	if !errors.Is(err, ErrMixed) || !strings.Contains(err.Error(), "rate 5000") || !strings.Contains(err.Error(), "open loop (latency)") {
		t.Errorf("one sweep's point at two rates: %v", err)
	}
	if err := CheckMixed([]File{run("", 5000, 1), run("", 7000, 2)}); err != nil {
		t.Errorf("two rates outside a sweep: %v", err)
	}
	if err := CheckMixed([]File{run("latency", 5000, 1), run("latency", 5000, 2)}); err != nil {
		t.Errorf("repeats at one rate: %v", err)
	}
}
