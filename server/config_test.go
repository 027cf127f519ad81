package server

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/muxbench/muxbench/poller"
	"github.com/muxbench/muxbench/sysstat"
)

// Args writes what ParseArgs reads: a Config survives the trip to a
// child's command line whole, and so does every Config the flags make.
func TestArgsRoundTrip(t *testing.T) {
	backend := poller.Default()
	full := Config{
		Backend: backend,
		Poller:  poller.Options{EdgeTriggered: true},
		Listen:  "127.0.0.1:0", Control: "127.0.0.1:0",
		CPUs: []int{0}, GOMAXPROCS: 3, Loops: 3, ReadBufSize: 16 << 10,
		SndBuf: 4096, RcvBuf: 8192, HighWater: 1 << 20, LowWater: 1 << 18, OutputBudget: 32 << 20,
		Faults: Faults{ShortWriteFrac: 0.25, WriteEAGAINFrac: 0.125, ReadEAGAINFrac: 0.1, Seed: 0},
	}
	pin := []string{"--cpus", "0"}
	if !sysstat.CanPin() {
		full.CPUs, pin = nil, nil
	}
	if info, _ := poller.Lookup(backend); !info.Caps.EdgeTriggered {
		full.Poller.EdgeTriggered = false
	}
	if info, _ := poller.Lookup(backend); info.Caps.Exclusive {
		full.Accept = AcceptExclusive
	}
	configs := []Config{full, Config{Backend: poller.Stdlib}.Defaults(), Config{Backend: backend}.Defaults()}
	// Configs made from command lines, including the edge-triggered name.
	for _, args := range [][]string{
		{"--backend", poller.Stdlib, "--sndbuf", "4k", "--read-buf", "1MiB"},
		{"--backend", "poll", "--inject-eagain", "0.5", "--seed", "-3", "--listen", ":7000", "--loops", "2"},
		{"--backend", poller.Stdlib, "--loops", "4"},
		{"--backend", "epoll", "--loops", "2", "--accept", "exclusive"},
		{"--backend", "poll", "--loops", "2", "--accept", "reuseport"},
		append([]string{"--backend", backend + poller.EdgeSuffix}, pin...),
		{"--backend", "busywait", "--spin-sleep", "150us"},
	} {
		c, err := ParseArgs(args)
		if err != nil {
			if strings.Contains(err.Error(), "unknown backend") {
				continue // a platform without it
			}
			t.Fatalf("%v: %v", args, err)
		}
		configs = append(configs, c)
	}
	for _, c := range configs {
		got, err := ParseArgs(c.Args())
		if err != nil {
			t.Errorf("%v: %v", c.Args(), err)
			continue
		}
		if d := cmp.Diff(c, got); d != "" {
			t.Errorf("%v (-wrote +read):\n%s", c.Args(), d)
		}
	}
}

// The edge-triggered name is the backend with --edge.
func TestParseArgsEdgeName(t *testing.T) {
	b := poller.Default()
	if info, ok := poller.Lookup(b); !ok || !info.Caps.EdgeTriggered {
		t.Skipf("no edge-triggered default backend here (%q)", b)
	}
	c, err := ParseArgs([]string{"--backend", b + poller.EdgeSuffix})
	if err != nil {
		t.Fatal(err)
	}
	if c.Backend != b || !c.Poller.EdgeTriggered {
		t.Errorf("%+v", c)
	}
	if d := cmp.Diff([]string{"--backend=" + b, "--listen=127.0.0.1:0", "--control=127.0.0.1:0", "--edge"}, c.Args()); d != "" {
		t.Errorf("args (-want +got):\n%s", d)
	}
}

func TestCheckNamesFlags(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, "--backend"},
		{Config{Backend: "nope"}, `--backend "nope": unknown backend`},
		{Config{Backend: "poll", Poller: poller.Options{EdgeTriggered: true}}, "--edge"},
		{Config{Backend: poller.Stdlib, Poller: poller.Options{SpinSleep: time.Millisecond}}, "--spin-sleep"},
		{Config{Backend: "busywait", Poller: poller.Options{SpinSleep: -1}}, "--spin-sleep -1ns"},
		{Config{Backend: "poll", Poller: poller.Options{SpinSleep: time.Millisecond}}, "--spin-sleep: poller: option not supported by this backend: poll does not busy-wait"},
		{Config{Backend: poller.Default(), Poller: poller.Options{EdgeTriggered: true, SpinSleep: time.Millisecond}}, "--spin-sleep: poller: option not supported by this backend: " + poller.Default() + " does not busy-wait"},
		{Config{Backend: "poll", ReadBufSize: -1}, "--read-buf -1"},
		{Config{Backend: "poll", GOMAXPROCS: -1}, "--gomaxprocs -1"},
		{Config{Backend: "poll", Loops: -1}, "--loops -1"},
		{Config{Backend: "poll", Loops: MaxLoops + 1}, "--loops 1025: want 0 (the default) to 1024"},
		{Config{Backend: poller.Stdlib, Loops: 2, GOMAXPROCS: 3}, "--gomaxprocs 3 contradicts --loops 2"},
		{Config{Backend: "poll", Faults: Faults{ReadEAGAINFrac: 1}}, "--inject-read-eagain 1: outside [0, 1)"},
		{Config{Backend: poller.Stdlib, Faults: Faults{ShortWriteFrac: 0.1}}, "--inject-short-writes: fault injection needs a poller backend"},
		{Config{Backend: poller.Stdlib, OutputBudget: 1 << 20}, "--output-budget: applies to the reactor"},
		{Config{Backend: "poll", Accept: "shared"}, `--accept "shared": want reuseport or exclusive`},
		{Config{Backend: "poll", Loops: 2, Accept: AcceptExclusive}, "--accept exclusive: poll cannot wake one loop of several"},
		{Config{Backend: poller.Stdlib, Accept: AcceptExclusive}, "--accept exclusive: stdlib cannot"},
	} {
		err := tc.cfg.Check()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.cfg, err, tc.want)
		}
	}
	if c := (Config{Backend: "poll"}).Defaults(); c.Check() != nil {
		err := c.Check()
		t.Errorf("defaults: %v", err)
	}
}
