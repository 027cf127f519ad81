//go:build linux

package all

import _ "github.com/muxbench/muxbench/poller/iouring"
