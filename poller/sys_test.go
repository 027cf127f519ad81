package poller_test

import (
	"runtime"

	"golang.org/x/sys/unix"
)

func readFD(fd int, buf []byte) (int, error) { return unix.Read(fd, buf) }

func closeFD(fd int) { unix.Close(fd) }

func setLingerZero(fd int) error {
	return unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
}

func lockThread()   { runtime.LockOSThread() }
func unlockThread() { runtime.UnlockOSThread() }
