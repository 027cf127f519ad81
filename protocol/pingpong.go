//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package protocol

import (
	"fmt"
	"io"

	"github.com/muxbench/muxbench/reactor"
)

// PingPong is the seed scenario's protocol: both sides write a message
// when connected and answer each message received with one of their own,
// until the side with a Maximum has received that many bytes and closes.
//
// Two messages are always in flight, so the closing side would usually
// close with unread bytes queued, and the kernel would answer with a
// reset. It closes gracefully instead: it shuts down its writing side,
// discards what still arrives, and closes on the peer's end of stream;
// the peer, seeing ours, flushes and closes. Both see ConnectionLost(nil).
type PingPong struct {
	// Identity names the side in Log lines.
	Identity string
	// Maximum is the number of bytes after which this side closes; zero
	// bounces forever.
	Maximum int
	// Message is what is written each time; default "*".
	Message []byte
	// Log, if set, gets one line per connection event.
	Log io.Writer
	// Lost, if set, is called from ConnectionLost.
	Lost func(p *PingPong, err error)

	// Received and Sent count bytes; Err is ConnectionLost's reason.
	Received, Sent int
	Err            error

	t       reactor.Conn
	partial int // bytes of the current incoming message so far
	done    bool
}

var star = []byte{'*'}

func (p *PingPong) msg() []byte {
	if len(p.Message) == 0 {
		return star
	}
	return p.Message
}

func (p *PingPong) logf(format string, args ...any) {
	if p.Log != nil {
		fmt.Fprintf(p.Log, "%s "+format+"\n", append([]any{p.Identity}, args...)...)
	}
}

// ConnectionMade serves first: both sides do, so two messages bounce.
func (p *PingPong) ConnectionMade(c reactor.Conn) {
	p.t = c
	p.send()
}

func (p *PingPong) send() {
	m := p.msg()
	p.t.Write(m)
	p.Sent += len(m)
}

// DataReceived answers every complete incoming message with one message,
// so a message larger than a read does not multiply.
func (p *PingPong) DataReceived(data []byte) {
	if p.done {
		return
	}
	p.Received += len(data)
	if p.Maximum > 0 && p.Received >= p.Maximum {
		p.logf("closing transport after %d bytes", p.Received)
		p.done = true
		p.t.LoseWriteConnection()
		return
	}
	p.partial += len(data)
	for size := len(p.msg()); p.partial >= size; p.partial -= size {
		p.send()
	}
}

// ReadConnectionLost: the peer finished; close once our writes are out.
func (p *PingPong) ReadConnectionLost() {
	p.done = true
	p.t.LoseConnection()
}

// ConnectionLost records err and calls Lost.
func (p *PingPong) ConnectionLost(err error) {
	p.Err = err
	p.logf("lost: %v", err)
	if p.Lost != nil {
		p.Lost(p, err)
	}
}
