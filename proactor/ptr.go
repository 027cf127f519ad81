//go:build linux

package proactor

import "unsafe"

// addr is the address of memory handed to the kernel: mapped memory, or
// heap memory kept referenced until the request completes (Go's
// collector never moves heap objects).
func addr(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }
