//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package protocol

import "github.com/muxbench/muxbench/reactor"

// Echo writes back exactly what it reads, whatever the sizes and framing.
// When the peer shuts down its side the transport flushes what Echo owes
// and then closes.
type Echo struct {
	t reactor.Conn
}

// NewEcho is a factory for Reactor.Listen.
func NewEcho() reactor.Protocol { return &Echo{} }

// ConnectionMade keeps the transport to answer on.
func (e *Echo) ConnectionMade(c reactor.Conn) { e.t = c }

// DataReceived relies on Write copying only what the socket does not take.
func (e *Echo) DataReceived(data []byte) { e.t.Write(data) }

// ConnectionLost drops the transport; Echo has nothing to report.
func (e *Echo) ConnectionLost(error) { e.t = nil }
