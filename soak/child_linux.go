package soak

import (
	"os/exec"
	"syscall"
)

// childAttr kills the server with the thread that started it, and puts
// it in a process group of its own so that Ctrl-C reaches only us.
func childAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}
