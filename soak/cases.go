package soak

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/muxbench/muxbench/poller"
	"github.com/muxbench/muxbench/server"
)

// A soak case is a catalogue name, run with one event loop, or with
// modifiers after a "+": "+loops2" runs two loops on the port through
// SO_REUSEPORT listeners, "+loops2+exclusive" two loops sharing one
// listener (server.AcceptExclusive), so that churn, faults and hostile
// peers go through the multi-loop server too; "+kernelbufs" leaves the
// server's socket buffers to the kernel, which grows them to MiBs.
type soakCase struct {
	name       string
	choice     poller.Choice
	loops      int
	accept     string
	kernelBufs bool
}

// KernelBufs is the case modifier that leaves the server's socket
// buffers to the kernel.
const KernelBufs = "kernelbufs"

// loopsCases are the multi-loop cases "all" adds for backend, the
// platform's own: two loops each way it can share its port.
func loopsCases(backend string) []string {
	out := []string{backend + "+loops2"}
	if info, ok := poller.Lookup(backend); ok && info.Caps.Exclusive {
		out = append(out, backend+"+loops2+"+server.AcceptExclusive)
	}
	return out
}

// kernelBufsCases are the cases "all" adds among backends: the uring
// engine again with the kernel's socket buffers, under which its sends
// complete as fast as it receives, so that what bounds its memory then is
// its own output budget, not the small send buffer of the other cases.
func kernelBufsCases(backends []string) []string {
	if slices.Contains(backends, server.Uring) {
		return []string{server.Uring + "+" + KernelBufs}
	}
	return nil
}

// parseCase reads a case name; the server configuration it implies is
// checked as `serve` would check it.
func parseCase(name string) (soakCase, error) {
	parts := strings.Split(name, "+")
	c := soakCase{name: name}
	var err error
	if c.choice, err = poller.Resolve(parts[0]); err != nil {
		return c, err
	}
	for _, m := range parts[1:] {
		n, isLoops := strings.CutPrefix(m, "loops")
		switch {
		case m == server.AcceptExclusive && c.accept == "":
			c.accept = m
		case m == KernelBufs && !c.kernelBufs:
			c.kernelBufs = true
		case isLoops && c.loops == 0:
			if c.loops, err = strconv.Atoi(n); err != nil || c.loops < 2 || c.loops > server.MaxLoops {
				return c, fmt.Errorf("%q: want +loopsN with N from 2 to %d", m, server.MaxLoops)
			}
		default:
			return c, fmt.Errorf("%q: want +loopsN, +%s, +%s, or none", m, server.AcceptExclusive, KernelBufs)
		}
	}
	scfg := c.serverConfig()
	if err := scfg.Check(); err != nil {
		return c, err
	}
	return c, nil
}

// serverConfig is the case's server before the soak's own settings.
func (c soakCase) serverConfig() server.Config {
	return server.Config{Backend: c.choice.Backend, Poller: c.choice.Options(), Loops: c.loops, Accept: c.accept}
}

// soakServer is the case's server as the soak runs it: faults seeded,
// injected where asked, and a small send buffer, fixed (the kernel would
// grow it to MiBs), so that the echo to a peer that never reads backs up
// into the server's memory, where the soak can see whether it is
// bounded, not the kernel's.
func (c soakCase) soakServer(inject float64, injected bool) server.Config {
	scfg := c.serverConfig()
	scfg.Faults = server.Faults{Seed: server.DefaultSeed}
	if !c.kernelBufs {
		scfg.SndBuf = serverSndBuf
	}
	if injected {
		scfg.Faults.ShortWriteFrac = inject
		if c.choice.Backend != server.Uring {
			scfg.Faults.WriteEAGAINFrac, scfg.Faults.ReadEAGAINFrac = inject, inject
		}
	}
	return scfg
}

// base is the catalogue name a case name starts with.
func base(name string) string {
	b, _, _ := strings.Cut(name, "+")
	return b
}
