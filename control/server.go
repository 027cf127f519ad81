package control

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Defaults for Server's limits.
const (
	DefaultIdleTimeout       = 2 * time.Minute
	DefaultFirstLineTimeout  = 2 * time.Second
	DefaultWriteTimeout      = 5 * time.Second
	DefaultMaxConns          = 16
	DefaultMaxPending        = 64
	DefaultMaxPendingPerAddr = 8
)

// Server serves the control channel. The zero limits take the defaults;
// Serve(ln, token, h) is the short form.
//
// A connection is pending until its first request passes the token check,
// and authenticated from then on. The owner of the token always gets in:
//   - pending and authenticated connections have places of their own,
//     so no number of unauthenticated ones takes an authenticated place;
//   - a new connection is not refused for want of a pending place: it
//     takes that of the oldest pending connection from its own source
//     address (from the same /64 for IPv6) when that address holds
//     MaxPendingPerAddr, else that of the oldest pending connection of
//     all when MaxPending are pending. Only a connection whose request is
//     not yet in, silent or halfway through a line, is dropped so; one
//     whose request line is in is answered at once, and while every
//     connection in the way is such a one, the new one is let in beside
//     them, up to four times MaxPending;
//   - the token is checked as soon as a line is in, never after a wait
//     that others could lengthen: guessing is made hopeless by the
//     token's length (MinToken bytes, 128 random bits when generated),
//     not by slowing everyone down;
//   - any refused request closes its connection, so that a refused client
//     holds no place.
type Server struct {
	// Token, when not empty, must be sent with every request.
	Token   string
	Handler Handler
	// FirstLineTimeout bounds the wait for a new connection's first
	// request line.
	FirstLineTimeout time.Duration
	// IdleTimeout bounds the wait for each later request line, so that
	// a silent or trickling client cannot hold a connection forever.
	IdleTimeout time.Duration
	// WriteTimeout bounds writing a reply to a client that does not read.
	WriteTimeout time.Duration
	// MaxConns bounds concurrent authenticated connections, MaxPending
	// the connections not yet authenticated, MaxPendingPerAddr those of
	// them from one source address.
	MaxConns, MaxPending, MaxPendingPerAddr int

	refused atomic.Uint64
	mu      sync.Mutex
	conns   map[net.Conn]*peer
	pending int
	perAddr map[string]int // pending connections by source
	authed  int
	wg      sync.WaitGroup
}

// A connection's place.
const (
	pending = iota
	dropped // its pending place given to a newer connection
	authed
)

type peer struct {
	src   string
	since time.Time
	state int
}

// Serve answers control requests on ln for h until ln is closed, then
// closes the control connections still open and returns.
func Serve(ln net.Listener, token string, h Handler) {
	s := &Server{Token: token, Handler: h}
	s.Serve(ln)
}

// Refused is the number of requests and connections refused so far.
func (s *Server) Refused() uint64 { return s.refused.Load() }

// Serve accepts control connections until ln is closed; it returns the
// error that ended accepting, nil when ln was closed.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.conns == nil {
		s.conns = make(map[net.Conn]*peer)
		s.perAddr = make(map[string]int)
	}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	}()
	var delay time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded) || isTemporary(err) {
				// Out of descriptors and the like: back off as net/http does.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		p := s.track(c)
		if p == nil {
			s.refused.Add(1)
			s.send(c, reply{Error: "control: too many control connections"})
			c.Close()
			continue
		}
		s.wg.Add(1)
		go s.serveConn(c, p)
	}
}

func isTemporary(err error) bool {
	t, ok := err.(interface{ Temporary() bool })
	return ok && t.Temporary()
}

func limit(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}

// track admits a new connection as pending, in the place of an older
// pending one if need be (see Server); nil when no place can be had.
func (s *Server) track(c net.Conn) *peer {
	p := &peer{src: source(c.RemoteAddr()), since: time.Now()}
	s.mu.Lock()
	defer s.mu.Unlock()
	from := ""
	switch {
	case s.perAddr[p.src] >= limit(s.MaxPendingPerAddr, DefaultMaxPendingPerAddr):
		from = p.src
	case s.pending >= limit(s.MaxPending, DefaultMaxPending):
		from = "*"
	}
	if from != "" && !s.dropOldest(from) && s.pending >= hardPending*limit(s.MaxPending, DefaultMaxPending) {
		// Past the limits only while every connection in the way has a
		// request in, which is answered at once; not beyond this.
		return nil
	}
	s.pending++
	s.perAddr[p.src]++
	s.conns[c] = p
	return p
}

// hardPending times MaxPending is as many pending connections as are
// admitted while every older one has its request in.
const hardPending = 4

// dropOldest gives up the place of the oldest pending connection from
// src ("*": from anywhere) whose request is not in. Its reader wakes at
// once and closes it; a request line already read is still answered.
func (s *Server) dropOldest(src string) bool {
	var cands []net.Conn
	for c, p := range s.conns {
		if p.state == pending && (src == "*" || p.src == src) {
			cands = append(cands, c)
		}
	}
	slices.SortFunc(cands, func(a, b net.Conn) int { return s.conns[a].since.Compare(s.conns[b].since) })
	for _, c := range cands {
		if lineWaiting(c) {
			continue // a request waiting to be read: answered next
		}
		s.leave(s.conns[c])
		s.conns[c].state = dropped
		s.refused.Add(1)
		c.SetReadDeadline(time.Unix(1, 0))
		return true
	}
	return false
}

// leave gives up p's pending place; s.mu is held.
func (s *Server) leave(p *peer) {
	s.pending--
	if s.perAddr[p.src]--; s.perAddr[p.src] <= 0 {
		delete(s.perAddr, p.src)
	}
}

// arm sets the deadline for c's next line, unless c lost its place.
func (s *Server) arm(c net.Conn, p *peer, d time.Duration) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.state == dropped {
		return false
	}
	c.SetReadDeadline(time.Now().Add(d))
	return true
}

// lost reports whether p's pending place went to a newer connection.
func (s *Server) lost(p *peer) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return p.state == dropped
}

// errDropped is the reply to a connection whose place went to a newer one.
const errDropped = "control: too many connections waiting to authenticate; send the request at once"

// promote moves a connection among the authenticated ones.
func (s *Server) promote(p *peer) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.authed >= limit(s.MaxConns, DefaultMaxConns) {
		return false
	}
	if p.state == pending {
		s.leave(p)
	}
	p.state = authed
	s.authed++
	return true
}

func (s *Server) untrack(c net.Conn) {
	s.mu.Lock()
	switch p := s.conns[c]; p.state {
	case authed:
		s.authed--
	case pending:
		s.leave(p)
	}
	delete(s.conns, c)
	s.mu.Unlock()
	c.Close()
}

// refuse answers a request with an error; the caller then closes the
// connection.
func (s *Server) refuse(c net.Conn, msg string) {
	s.refused.Add(1)
	s.send(c, reply{Error: msg})
}

func (s *Server) serveConn(c net.Conn, p *peer) {
	defer s.wg.Done()
	defer s.untrack(c)
	timeout := limitDur(s.FirstLineTimeout, DefaultFirstLineTimeout)
	authenticated := false
	// One byte over the limit leaves room for the newline.
	r := bufio.NewReaderSize(c, MaxRequest+1)
	for {
		if !s.arm(c, p, timeout) {
			s.send(c, reply{Error: errDropped})
			return
		}
		line, err := r.ReadSlice('\n')
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			s.refuse(c, fmt.Sprintf("control: request over %d bytes", MaxRequest))
			return
		case err != nil && s.lost(p):
			s.send(c, reply{Error: errDropped})
			return
		case err != nil:
			if len(line) > 0 || r.Buffered() > 0 {
				// Cut off or gone silent in the middle of a request.
				s.refused.Add(1)
			}
			return
		}
		req, err := decodeRequest(line)
		if err != nil {
			s.refuse(c, err.Error())
			return
		}
		if !tokenOK(s.Token, req.Token) {
			s.refuse(c, "control: wrong token")
			return
		}
		if !authenticated {
			if !s.promote(p) {
				s.refuse(c, "control: too many control connections")
				return
			}
			authenticated = true
			timeout = limitDur(s.IdleTimeout, DefaultIdleTimeout)
		}
		switch req.Op {
		case OpHello:
			if !s.send(c, reply{OK: true}) {
				return
			}
		case OpStats:
			st, err := s.Handler.Stats()
			var rep reply
			if err != nil {
				rep = reply{Error: "control: stats: " + err.Error()}
			} else {
				if st.Time.IsZero() {
					st.Time = time.Now()
				}
				st.ControlRefused = s.refused.Load()
				rep = reply{OK: true, Stats: &st}
			}
			if !s.send(c, rep) {
				return
			}
		case OpStop:
			// Reply first: the handler may take the process down.
			s.send(c, reply{OK: true})
			s.Handler.Stop()
			return
		}
	}
}

func limitDur(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func (s *Server) send(c net.Conn, rep reply) bool {
	data, err := json.Marshal(rep)
	if err != nil {
		data, _ = json.Marshal(reply{Error: "control: encoding reply: " + err.Error()})
	}
	c.SetWriteDeadline(time.Now().Add(limitDur(s.WriteTimeout, DefaultWriteTimeout)))
	_, err = c.Write(append(data, '\n'))
	return err == nil
}

// source is what the places per address count by: the IP address, or
// for IPv6 its /64, which one host commonly holds whole.
func source(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	if ta.IP.To4() == nil {
		return ta.IP.Mask(net.CIDRMask(64, 128)).String()
	}
	return ta.IP.String()
}

// lineWaiting reports whether a whole request line of c's is in its
// socket, not yet read: a request on its way to being answered, whose
// connection is not to be dropped. It peeks without taking the reader's
// lock.
func lineWaiting(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	var b [MaxRequest + 2]byte
	n := 0
	rc.Control(func(fd uintptr) {
		n, _, _ = unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
	})
	return n > 0 && bytes.IndexByte(b[:n], '\n') >= 0
}
