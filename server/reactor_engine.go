package server

import "errors"

func newReactorEngine(cfg Config) (engine, error) {
	return nil, errors.New("server: poller backends are not available in this build")
}
