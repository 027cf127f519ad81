//go:build linux

package iouring

import "unsafe"

// uintptrOf is the address of mapped memory handed to the kernel; mapped
// memory never moves.
func uintptrOf(b []byte) uintptr { return uintptr(unsafe.Pointer(&b[0])) }
