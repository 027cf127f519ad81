//go:build !linux

package bench

// lowerNoFile is Linux's only (see TestRunServerOutOfDescriptors).
func lowerNoFile() {}
