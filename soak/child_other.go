//go:build !linux

package soak

import (
	"os/exec"
	"syscall"
)

// childAttr: without Pdeathsig the server relies on --exit-on-stdin-eof.
func childAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}
