//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package all

import _ "github.com/muxbench/muxbench/poller/kqueue"
