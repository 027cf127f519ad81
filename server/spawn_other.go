//go:build !linux

package server

import (
	"os/exec"
	"syscall"
)

// spawnAttr: without Pdeathsig the child relies on --exit-on-stdin-eof.
func spawnAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}
