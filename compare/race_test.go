//go:build race

package compare

// Drawing is single-threaded and 20-50x slower under the race detector:
// build smaller result sets there.
func init() { suiteRepeats = 1 }
