package wakepipe

import "golang.org/x/sys/unix"

// wakeMsg is the 8-byte counter increment an eventfd requires.
var wakeMsg = [8]byte{1}

// New opens an eventfd.
func New() (*Pipe, error) {
	fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, err
	}
	return &Pipe{r: fd, w: fd}, nil
}
