//go:build dragonfly || freebsd || linux || netbsd || openbsd

package sysstat

// ru_maxrss is in KiB on Linux and the BSDs.
const maxRSSUnit = 1024
