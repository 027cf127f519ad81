// Command pingpong runs the seed scenario on one reactor: a listener and
// one or more ping-pong clients bouncing messages until each client has
// received its maximum, then prints the loop's counters.
//
//	go run ./examples/pingpong --backend epoll --clients 4 --max 100
//	go run ./examples/pingpong --msg 256k --max 64m --sndbuf 4k
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/muxbench/muxbench/internal/units"
	"github.com/muxbench/muxbench/poller"
	_ "github.com/muxbench/muxbench/poller/all"
	"github.com/muxbench/muxbench/protocol"
	"github.com/muxbench/muxbench/reactor"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		// The flag package has already printed its own errors.
		if !errors.As(err, new(usageError)) {
			fmt.Fprintln(os.Stderr, "pingpong:", err)
		}
		os.Exit(2)
	}
}

// usageError is a command-line error the flag package has reported.
type usageError struct{ error }

// options are the command line's.
type options struct {
	backend                       string
	et, verbose                   bool
	clients                       int
	maxBytes, msg, sndbuf, rcvbuf units.Size
	readBuf                       units.Size
	faults                        reactor.Faults
}

// parseFlags reads and checks the command line.
func parseFlags(args []string) (options, error) {
	o := options{maxBytes: 100, msg: 1, readBuf: units.Size(reactor.DefaultReadBufSize)}
	fs := flag.NewFlagSet("pingpong", flag.ContinueOnError)
	fs.StringVar(&o.backend, "backend", poller.Default(), "poller backend: "+strings.Join(poller.Names(), ", "))
	fs.BoolVar(&o.et, "et", false, "edge-triggered (backends that support it)")
	fs.IntVar(&o.clients, "clients", 1, "ping-pong clients")
	fs.BoolVar(&o.verbose, "v", false, "log every connection event")
	fs.Var(&o.maxBytes, "max", "bytes each client receives before closing")
	fs.Var(&o.msg, "msg", "message size")
	fs.Var(&o.sndbuf, "sndbuf", "SO_SNDBUF of every socket (0: system default)")
	fs.Var(&o.rcvbuf, "rcvbuf", "SO_RCVBUF of every socket (0: system default)")
	fs.Var(&o.readBuf, "read-buf", "the loop's read buffer")
	fs.Float64Var(&o.faults.ShortWriteFrac, "fault-short", 0, "fraction of writes cut short on purpose")
	fs.Float64Var(&o.faults.WriteEAGAINFrac, "fault-weagain", 0, "fraction of writes failed with a fake EAGAIN")
	fs.Float64Var(&o.faults.ReadEAGAINFrac, "fault-reagain", 0, "fraction of reads failed with a fake EAGAIN")
	fs.Int64Var(&o.faults.Seed, "fault-seed", 1, "seed of the fault injector")
	if err := fs.Parse(args); err != nil {
		return o, usageError{err}
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if _, ok := poller.Lookup(o.backend); !ok {
		return o, fmt.Errorf("unknown backend %q (available: %s)", o.backend, strings.Join(poller.Names(), ", "))
	}
	if o.clients < 1 {
		return o, fmt.Errorf("--clients must be at least 1")
	}
	if o.msg < 1 || o.maxBytes < 1 {
		return o, fmt.Errorf("--msg and --max must be at least 1 byte")
	}
	return o, nil
}

// run bounces messages between the clients and a listener on one
// reactor until every connection is gone, then prints the bytes received
// and the loop's counters.
func run(args []string, stdout io.Writer) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	r, err := reactor.New(reactor.Config{
		Backend:     o.backend,
		Poller:      poller.Options{EdgeTriggered: o.et},
		ReadBufSize: o.readBuf.Int(),
		SndBuf:      o.sndbuf.Int(),
		RcvBuf:      o.rcvbuf.Int(),
		Faults:      o.faults,
	})
	if err != nil {
		return err
	}
	defer r.Close()

	message := make([]byte, o.msg.Int())
	for i := range message {
		message[i] = '*'
	}
	var log io.Writer
	if o.verbose {
		log = stdout
	}
	lost, want := 0, 2*o.clients
	var failures []string
	onLost := func(p *protocol.PingPong, err error) {
		lost++
		if err != nil {
			failures = append(failures, fmt.Sprintf("%s: %v", p.Identity, err))
		}
		if lost == want {
			r.Stop()
		}
	}
	newPP := func(id string, max int) *protocol.PingPong {
		p := &protocol.PingPong{Identity: id, Maximum: max, Message: message, Lost: onLost}
		if log != nil {
			p.Log = log
		}
		return p
	}
	server := 0
	l, err := r.Listen("tcp", "127.0.0.1:0", func() reactor.Protocol {
		server++
		return newPP(fmt.Sprintf("server%d", server), 0)
	})
	if err != nil {
		return err
	}
	var cs []*protocol.PingPong
	for i := range o.clients {
		c := newPP(fmt.Sprintf("client%d", i+1), o.maxBytes.Int())
		cs = append(cs, c)
		if err := r.Connect("tcp", l.Addr().String(), c); err != nil {
			return err
		}
	}
	start := time.Now()
	if err := r.Run(); err != nil {
		return err
	}
	elapsed := time.Since(start)
	got := 0
	for _, c := range cs {
		got += c.Received
	}
	fmt.Fprintf(stdout, "backend %s (edge-triggered %v): %d clients received %d bytes in %v\n",
		o.backend, o.et, o.clients, got, elapsed.Round(time.Microsecond))
	counters, _ := json.MarshalIndent(r.Counters(), "  ", "  ")
	fmt.Fprintf(stdout, "  %s\n", counters)
	if len(failures) > 0 {
		return fmt.Errorf("%d connections lost with an error, first: %s", len(failures), failures[0])
	}
	return nil
}
