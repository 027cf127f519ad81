package bench

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/muxbench/muxbench/internal/cli"
	"github.com/muxbench/muxbench/server"
)

// serveArgs are the child's flags after `serve`.
func serveArgs(cfg *Config) []string {
	a := []string{
		"--backend=" + cfg.Backend,
		"--listen=" + cfg.Listen,
		"--control=127.0.0.1:0",
	}
	if len(cfg.ServerCPUs) > 0 {
		a = append(a, "--cpus="+joinInts(cfg.ServerCPUs))
	}
	if cfg.ServerGOMAXPROCS > 0 {
		a = append(a, "--gomaxprocs="+strconv.Itoa(cfg.ServerGOMAXPROCS))
	}
	if cfg.ReadBuf > 0 {
		a = append(a, "--read-buf="+strconv.Itoa(cfg.ReadBuf))
	}
	if cfg.SndBuf > 0 {
		a = append(a, "--sndbuf="+strconv.Itoa(cfg.SndBuf))
	}
	if cfg.RcvBuf > 0 {
		a = append(a, "--rcvbuf="+strconv.Itoa(cfg.RcvBuf))
	}
	if cfg.Edge {
		a = append(a, "--edge")
	}
	if cfg.SpinSleep > 0 {
		a = append(a, "--spin-sleep="+cfg.SpinSleep.String())
	}
	return append(a, cfg.ServerArgs...)
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

// startChild starts the run's server; a server that refuses its flags
// (a port in use, a bad size) is the user's input, said in its own words.
func startChild(ctx context.Context, cfg *Config) (*server.Child, error) {
	ch, err := server.Spawn(ctx, server.SpawnConfig{Executable: cfg.Executable, Args: serveArgs(cfg), Env: cfg.ServerEnv})
	var se *server.StartError
	if errors.As(err, &se) && se.Usage {
		return nil, cli.Usagef("%s", se.Reason)
	}
	return ch, err
}
