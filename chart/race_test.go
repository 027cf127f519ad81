//go:build race

package chart

// Drawing is single-threaded and 20-50x slower under the race detector:
// draw fewer backends there.
func init() { backends = backends[:2] }
