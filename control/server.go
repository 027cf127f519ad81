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
	DefaultIdleTimeout  = 2 * time.Minute
	DefaultWriteTimeout = 5 * time.Second
	DefaultMaxConns     = 16
)

// Server serves the control channel. The zero limits take the defaults;
// Serve(ln, token, h) is the short form.
type Server struct {
	// Token, when not empty, must be sent with every request.
	Token   string
	Handler Handler
	// IdleTimeout bounds the wait for a whole request line, so that a
	// silent or trickling client cannot hold a connection forever.
	IdleTimeout time.Duration
	// WriteTimeout bounds writing a reply to a client that does not read.
	WriteTimeout time.Duration
	// MaxConns bounds concurrent control connections; more are refused.
	MaxConns int

	refused atomic.Uint64
	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	wg      sync.WaitGroup
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
		s.conns = make(map[net.Conn]struct{})
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
		if !s.track(c) {
			s.refused.Add(1)
			s.send(c, reply{Error: "control: too many control connections"})
			c.Close()
			continue
		}
		s.wg.Add(1)
		go s.serveConn(c)
	}
}

func isTemporary(err error) bool {
	t, ok := err.(interface{ Temporary() bool })
	return ok && t.Temporary()
}

func (s *Server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	limit := s.MaxConns
	if limit <= 0 {
		limit = DefaultMaxConns
	}
	if len(s.conns) >= limit {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrack(c net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	c.Close()
}

func (s *Server) serveConn(c net.Conn) {
	defer s.wg.Done()
	defer s.untrack(c)
	idle := s.IdleTimeout
	if idle <= 0 {
		idle = DefaultIdleTimeout
	}
	// One byte over the limit leaves room for the newline.
	r := bufio.NewReaderSize(c, MaxRequest+1)
	for {
		c.SetReadDeadline(time.Now().Add(idle))
		line, err := r.ReadSlice('\n')
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			s.refused.Add(1)
			s.send(c, reply{Error: fmt.Sprintf("control: request over %d bytes", MaxRequest)})
			return // the rest of the line cannot be skipped safely
		case err != nil:
			if len(line) > 0 || r.Buffered() > 0 {
				// Cut off or gone silent in the middle of a request.
				s.refused.Add(1)
			}
			return
		}
		req, err := decodeRequest(line)
		if err != nil {
			s.refused.Add(1)
			if !s.send(c, reply{Error: err.Error()}) {
				return
			}
			continue
		}
		if !tokenOK(s.Token, req.Token) {
			s.refused.Add(1)
			s.send(c, reply{Error: "control: wrong token"})
			return
		}
		switch req.Op {
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

func (s *Server) send(c net.Conn, rep reply) bool {
	data, err := json.Marshal(rep)
	if err != nil {
		data, _ = json.Marshal(reply{Error: "control: encoding reply: " + err.Error()})
	}
	wt := s.WriteTimeout
	if wt <= 0 {
		wt = DefaultWriteTimeout
	}
	c.SetWriteDeadline(time.Now().Add(wt))
	_, err = c.Write(append(data, '\n'))
	return err == nil
}
