package bench

import (
	"context"
	"errors"

	"github.com/muxbench/muxbench/internal/cli"
	"github.com/muxbench/muxbench/server"
)

// startChild starts the run's server; a server that refuses its flags
// (a port in use, a bad size) is the user's input, said in its own words.
func startChild(ctx context.Context, cfg *Config) (*server.Child, error) {
	ch, err := server.Spawn(ctx, server.SpawnConfig{Executable: cfg.Executable, Args: cfg.Server.Args(), Env: cfg.ServerEnv})
	var se *server.StartError
	if errors.As(err, &se) && se.Usage {
		return nil, cli.Usagef("%s", se.Reason)
	}
	return ch, err
}
