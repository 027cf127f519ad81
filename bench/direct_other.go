//go:build !linux

package bench

import (
	"errors"

	"github.com/muxbench/muxbench/internal/rawio"
)

// makeDirect: blocking reads are only offered on Linux, where the read is
// a raw system call that keeps the loop's P (see direct_linux.go).
func makeDirect(fd int) error { return errors.ErrUnsupported }

func blockingRead(fd int, p []byte) (int, error) { return 0, errors.ErrUnsupported }

func (l *genLoop) read(fd int, p []byte) (int, error) { return rawio.Read(fd, p) }

func (l *genLoop) writeTo(fd int, p []byte) (int, error) { return rawio.Write(fd, p) }
