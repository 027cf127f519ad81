//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package all

import _ "github.com/muxbench/muxbench/poller/busywait"
