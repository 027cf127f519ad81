package control

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for Server's limits.
const (
	DefaultIdleTimeout      = 2 * time.Minute
	DefaultFirstLineTimeout = 5 * time.Second
	DefaultWriteTimeout     = 5 * time.Second
	DefaultMaxConns         = 16
	DefaultMaxPending       = 16
)

// Token guessing backs off: each failure doubles the wait before the next
// token is compared, from minBackoff up to maxBackoff, and the wait is
// forgotten after backoffReset without a failure. With DefaultMaxPending
// connections guessing at once, that is at most 16 guesses a second.
const (
	minBackoff   = 10 * time.Millisecond
	maxBackoff   = time.Second
	backoffReset = 10 * time.Second
)

// Server serves the control channel. The zero limits take the defaults;
// Serve(ln, token, h) is the short form.
//
// A connection is pending until its first request passes the token check,
// and authenticated from then on. The two have limits of their own, so
// that connections which never authenticate cannot take the place of the
// one that did; and any refused request closes its connection, so that a
// refused client cannot hold a place either.
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
	// the connections not yet authenticated; more are refused.
	MaxConns, MaxPending int

	refused atomic.Uint64
	mu      sync.Mutex
	conns   map[net.Conn]bool // true once authenticated
	pending int
	authed  int
	wg      sync.WaitGroup

	guard backoff
	// pause waits d or until quit closes; tests replace it.
	pause func(d time.Duration, quit <-chan struct{})
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
		s.conns = make(map[net.Conn]bool)
	}
	s.mu.Unlock()
	// Closed when Serve returns: a token check waiting out the back-off
	// ends at once.
	quit := make(chan struct{})
	defer func() {
		close(quit)
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
		if !s.track(c) {
			s.refused.Add(1)
			s.send(c, reply{Error: "control: too many control connections"})
			c.Close()
			continue
		}
		s.wg.Add(1)
		go s.serveConn(c, quit)
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

// track admits a new connection as pending.
func (s *Server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending >= limit(s.MaxPending, DefaultMaxPending) {
		return false
	}
	s.pending++
	s.conns[c] = false
	return true
}

// promote moves a pending connection among the authenticated ones.
func (s *Server) promote(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.authed >= limit(s.MaxConns, DefaultMaxConns) {
		return false
	}
	s.pending--
	s.authed++
	s.conns[c] = true
	return true
}

func (s *Server) untrack(c net.Conn) {
	s.mu.Lock()
	if s.conns[c] {
		s.authed--
	} else {
		s.pending--
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

func (s *Server) serveConn(c net.Conn, quit <-chan struct{}) {
	defer s.wg.Done()
	defer s.untrack(c)
	timeout := limitDur(s.FirstLineTimeout, DefaultFirstLineTimeout)
	authed := false
	// One byte over the limit leaves room for the newline.
	r := bufio.NewReaderSize(c, MaxRequest+1)
	for {
		c.SetReadDeadline(time.Now().Add(timeout))
		line, err := r.ReadSlice('\n')
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			s.refuse(c, fmt.Sprintf("control: request over %d bytes", MaxRequest))
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
		if !authed && s.Token != "" {
			if d := s.guard.wait(time.Now()); d > 0 {
				pause := s.pause
				if pause == nil {
					pause = sleep
				}
				pause(d, quit)
			}
		}
		if !tokenOK(s.Token, req.Token) {
			s.guard.failed(time.Now())
			s.refuse(c, "control: wrong token")
			return
		}
		if !authed {
			if !s.promote(c) {
				s.refuse(c, "control: too many control connections")
				return
			}
			authed = true
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

func sleep(d time.Duration, quit <-chan struct{}) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-quit:
	}
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

// backoff is the server-wide wait before a token is compared, which
// grows with failed attempts.
type backoff struct {
	mu    sync.Mutex
	delay time.Duration
	last  time.Time // of the last failure
}

func (b *backoff) wait(now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.Sub(b.last) > backoffReset {
		b.delay = 0
	}
	return b.delay
}

func (b *backoff) failed(now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.Sub(b.last) > backoffReset {
		b.delay = 0
	}
	b.delay = min(max(2*b.delay, minBackoff), maxBackoff)
	b.last = now
}
