//go:build !linux

package server

import "errors"

var errNoUring = errors.New("io_uring is Linux only")

func uringAvailable() error { return errNoUring }

func newUringEngine(Config) (engine, error) { return nil, badConfig{errNoUring} }
