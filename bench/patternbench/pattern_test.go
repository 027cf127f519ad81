// Package patternbench times the generator's integrity check on its own,
// apart from bench's backend benchmarks, so that `benchstat -col /backend`
// over those compares backends and nothing else.
package patternbench

import (
	"testing"

	"github.com/muxbench/muxbench/bench"
)

func BenchmarkCheckPattern64(b *testing.B) {
	msg := make([]byte, 64)
	bench.FillPattern(msg, 1, 1, 0)
	scratch := make([]byte, 64<<10)
	b.SetBytes(64)
	for b.Loop() {
		bench.CheckPattern(msg, 1, 1, 0, scratch)
	}
}
