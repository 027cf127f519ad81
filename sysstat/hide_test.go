package sysstat

import (
	"errors"
	"os"
	"runtime"
	"testing"
)

// Each figure HideEnv names is reported unavailable, as on a platform
// without it, and only that figure.
func TestHideEnv(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	checks := map[string]func() error{
		FigPin: func() error {
			if CanPin() {
				return errors.New("CanPin is true")
			}
			return PinThread([]int{0})
		},
		FigRSS: func() error { _, err := RSS(); return err },
		FigThread: func() error {
			_, err := Thread()
			return err
		},
		FigPID: func() error { _, err := ProcessByPID(os.Getpid()); return err },
		FigFDs: func() error {
			if n := OpenFDs(); n != -1 {
				return errors.New("OpenFDs counted")
			}
			return ErrUnavailable
		},
	}
	for fig, check := range checks {
		t.Run(fig, func(t *testing.T) {
			t.Setenv(HideEnv, "x, "+fig)
			if err := check(); !errors.Is(err, ErrUnavailable) {
				t.Errorf("hidden %s: %v, want ErrUnavailable", fig, err)
			}
			if _, err := Process(); err != nil {
				t.Errorf("hiding %s hid the process's own usage: %v", fig, err)
			}
		})
	}
	t.Run("all", func(t *testing.T) {
		t.Setenv(HideEnv, "all")
		for fig, check := range checks {
			if err := check(); !errors.Is(err, ErrUnavailable) {
				t.Errorf("all hidden, %s: %v", fig, err)
			}
		}
	})
	if runtime.GOOS == "linux" {
		t.Setenv(HideEnv, "")
		if !CanPin() {
			t.Error("CanPin is false on linux with nothing hidden")
		}
		if _, err := RSS(); err != nil {
			t.Errorf("RSS with nothing hidden: %v", err)
		}
	}
}
