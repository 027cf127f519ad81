package server

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/muxbench/muxbench/control"
	"github.com/muxbench/muxbench/internal/cli"

	// The serve sub-command offers every backend this platform has.
	_ "github.com/muxbench/muxbench/poller/all"
)

// TokenEnv is read when --token is not given, so that the token need not
// appear in the process list.
const TokenEnv = "MUXBENCH_CONTROL_TOKEN"

// Command is `muxbench serve`: it starts a server, prints its Ready line
// on stdout (or a JSON line with "error" when it cannot), and serves until SIGINT, SIGTERM, a control "stop" or (with
// --exit-on-stdin-eof) the end of stdin. A server reachable beyond
// loopback and given no token gets a new one, printed on stderr. It returns the exit status: 0
// after a clean stop, 2 for bad input (one line on stderr), 1 when the
// server fails.
func Command(args []string, stdout, stderr io.Writer) int {
	cfg, exitOnEOF, err := parseFlags(args, stdout)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			refusal(stdout, err, true)
		}
		return cli.Exit("muxbench serve", err, stderr)
	}
	made := false
	if d := cfg.Defaults(); cfg.Token == "" && control.RequireToken("", d.Listen, d.Control) != nil {
		// Reachable from elsewhere: never without a token.
		cfg.Token, made = control.NewToken(), true
	}
	srv, err := Start(cfg)
	if err != nil {
		var le *ListenError
		usage := errors.As(err, &le) || errors.Is(err, ErrConfig)
		err = startError(err)
		refusal(stdout, err, usage)
		fmt.Fprintf(stderr, "muxbench serve: %v\n", err)
		if usage {
			return 2
		}
		return 1
	}
	// Catch signals before anyone learns our ports: a parent may signal
	// as soon as it has read the ready line.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	if made {
		fmt.Fprintf(stderr, "muxbench serve: no --token given for a server reachable beyond loopback: its control token is %s (load --token, or $%s)\n", cfg.Token, TokenEnv)
	}
	line, _ := json.Marshal(srv.Ready())
	if _, err := fmt.Fprintf(stdout, "%s\n", line); err != nil {
		// Nobody learns our ports: there is no point in serving.
		srv.Stop()
		srv.Wait()
		fmt.Fprintf(stderr, "muxbench serve: writing the ready line: %v\n", err)
		return 1
	}

	eof := make(chan struct{})
	if exitOnEOF {
		// The parent holds our stdin open; if it dies, without having
		// been able to stop us, the pipe closes and so do we.
		go func() {
			io.Copy(io.Discard, os.Stdin)
			close(eof)
		}()
	}
	select {
	case <-sig:
	case <-eof:
	case <-srv.Done():
	}
	srv.Stop()
	if err := srv.Wait(); err != nil {
		fmt.Fprintf(stderr, "muxbench serve: %v\n", err)
		return 1
	}
	return 0
}

// refusal is the line printed on stdout instead of the ready line when the
// server will not start: a parent learns why from it, and that the flags
// were at fault (usage), without reading stderr or the exit status, which
// a crashing Go program shares with a refusal (2).
func refusal(stdout io.Writer, err error, usage bool) {
	line, _ := json.Marshal(struct {
		Error string `json:"error"`
		Usage bool   `json:"usage"`
	}{err.Error(), usage})
	fmt.Fprintf(stdout, "%s\n", line)
}

// startError names the flag behind a Start error.
func startError(err error) error {
	var le *ListenError
	if errors.As(err, &le) {
		return fmt.Errorf("--%s %s: %v", le.Flag, le.Addr, le.Err)
	}
	return err
}

func parseFlags(args []string, stdout io.Writer) (Config, bool, error) {
	fs := cli.NewFlagSet("serve", "usage: muxbench serve [--backend NAME] [--listen ADDR] [--control ADDR] [--token T] [flags]\n\nRuns one echo server and prints a JSON ready line with its ports.", stdout)
	f := AddFlags(fs, ServeScope)
	token := fs.String("token", "", fmt.Sprintf("control channel `token`, %d bytes or more (default $%s; beyond loopback, one is made and printed)", control.MinToken, TokenEnv))
	exitOnEOF := fs.Bool("exit-on-stdin-eof", false, "exit when stdin reaches end of file (the parent died)")
	if err := cli.ParseFlagsOnly(fs, args); err != nil {
		return Config{}, false, err
	}
	cfg, err := f.Config()
	if err != nil {
		return cfg, false, err
	}
	cfg.Token = *token
	if cfg.Token == "" {
		cfg.Token = os.Getenv(TokenEnv)
	}
	if err := cfg.Check(); err != nil {
		return cfg, false, cli.Usagef("%v", err)
	}
	return cfg, *exitOnEOF, nil
}
