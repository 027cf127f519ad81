//go:build darwin || dragonfly || freebsd || netbsd || openbsd || (linux && libkqueue)

package all

import _ "github.com/muxbench/muxbench/poller/kqueue"
