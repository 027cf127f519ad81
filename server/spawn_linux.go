package server

import (
	"os/exec"
	"syscall"
)

// spawnAttr makes the kernel kill the child when the thread that started
// it dies (StartChild locks that thread for the child's lifetime), and puts
// the child in its own process group so that a terminal's Ctrl-C reaches
// only the parent, which then stops the child itself.
func spawnAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}
