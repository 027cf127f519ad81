// Package control is the channel between the load side and a benchmark
// server: the load generator asks the server for its own figures (CPU,
// memory, I/O counters) at the edges of the measured window and tells it
// to stop.
//
// The wire format is newline-delimited JSON over a stream (loopback TCP by
// default), one request and one reply per line:
//
//	-> {"op":"hello","token":"..."}
//	<- {"ok":true}
//	-> {"op":"stats","token":"..."}
//	<- {"ok":true,"stats":{...}}
//	-> {"op":"stop","token":"..."}
//	<- {"ok":true}
//	-> {"op":"shell"}
//	<- {"ok":false,"error":"control: unknown op \"shell\" (want hello, stats or stop)"}
//
// The server answers nothing but "hello" (a token check, which a client
// sends as soon as it connects), "stats" and "stop". It refuses, counts
// and closes the connection after a request line over MaxRequest bytes,
// malformed JSON, an unknown op or a wrong token; it drops clients that
// take more than a couple of seconds to send their first line, go silent
// in the middle of a request or hold a connection idle for too long, and
// gives the place of an unauthenticated client that has not sent its
// request to a newer one: whoever holds the token gets in (see Server).
package control

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/muxbench/muxbench/result"
)

// MaxRequest is the longest request line accepted, newline excluded.
// Real requests are a few dozen bytes; the limit keeps a hostile client
// from making the server buffer without bound.
const MaxRequest = 4096

// Ops the server answers.
const (
	OpHello = "hello"
	OpStats = "stats"
	OpStop  = "stop"
)

// Stats is a server's snapshot of its own costs. The load side takes one
// at each edge of the measured window and subtracts: every counter is
// cumulative since the server started.
type Stats struct {
	Time    time.Time `json:"time"`
	Backend string    `json:"backend"`
	// Options describe the server's setup, copied into the result as
	// they are; the socket buffer sizes are zero until a connection has
	// been accepted.
	Options result.ServerOptions `json:"options"`
	// Conns is the number of connections open now.
	Conns      int   `json:"conns"`
	ProcUserNs int64 `json:"proc_user_ns"`
	ProcSysNs  int64 `json:"proc_sys_ns"`
	// ThreadUserNs and ThreadSysNs are the event loop thread's CPU; -1
	// when the server has no loop thread (stdlib).
	ThreadUserNs int64 `json:"thread_user_ns"`
	ThreadSysNs  int64 `json:"thread_sys_ns"`
	VolCtxSw     int64 `json:"vol_ctxsw"`
	InvolCtxSw   int64 `json:"invol_ctxsw"`
	// MaxRSS and RSS are in bytes.
	MaxRSS int64 `json:"max_rss_bytes"`
	RSS    int64 `json:"rss_bytes"`
	// IO holds the server's I/O counters; a stdlib server fills only what
	// it can count (bytes, reads, writes, accepts).
	IO result.IO `json:"io"`
	// Accept counts accepts by outcome since the server started.
	Accept result.Accepts `json:"accept"`
	// BudgetPauses counts, since the server started, the times its write
	// buffers together reached the output budget and it stopped reading.
	BudgetPauses uint64 `json:"budget_pauses,omitempty"`
	// Injected counts injected faults by kind.
	Injected map[string]uint64 `json:"injected,omitempty"`
	// OpenFDs is the server process's open descriptors now, -1 where the
	// platform cannot count them: back at its starting count once every
	// connection has closed, or the server leaks.
	OpenFDs int `json:"open_fds"`
	// ControlRefused counts control requests refused: malformed,
	// oversized, unknown or unauthorised. Serve fills it in.
	ControlRefused uint64 `json:"control_refused"`
	// PID is the server's process id, for a load side on the same host
	// to read its CPU between stats calls.
	PID int `json:"pid,omitempty"`
}

// CPUSince is the CPU the server used from snapshot a to s, as fractions
// of one CPU: its event loops' (its whole process's where it has no loop
// thread: stdlib), and its whole process's.
func (s Stats) CPUSince(a Stats) (loops, proc float64, err error) {
	wall := float64(s.Time.Sub(a.Time))
	if wall <= 0 {
		return -1, -1, fmt.Errorf("the server's clock gave a window of %v", s.Time.Sub(a.Time))
	}
	proc = float64((s.ProcUserNs+s.ProcSysNs)-(a.ProcUserNs+a.ProcSysNs)) / wall
	loops = proc
	if a.ThreadUserNs >= 0 && s.ThreadUserNs >= 0 {
		loops = float64((s.ThreadUserNs+s.ThreadSysNs)-(a.ThreadUserNs+a.ThreadSysNs)) / wall
	}
	return loops, proc, nil
}

// Handler is the server behind the channel. Stats may be called from
// several control connections at once; Stop may be called more than once
// and should return promptly (the server shuts down after it returns or
// in the background).
type Handler interface {
	Stats() (Stats, error)
	Stop()
}

// ErrRefused wraps every error reply from a server, so that callers can
// tell a refusal (wrong token, unknown op) from a broken connection.
var ErrRefused = errors.New("control: server refused")

type request struct {
	Op    string `json:"op"`
	Token string `json:"token,omitempty"`
}

type reply struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	Stats *Stats `json:"stats,omitempty"`
}

// decodeRequest parses one request line (the newline may be present). It
// checks the shape only, not the token.
func decodeRequest(line []byte) (request, error) {
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if len(line) > MaxRequest {
		return request{}, fmt.Errorf("control: request over %d bytes", MaxRequest)
	}
	if len(bytes.TrimSpace(line)) == 0 {
		return request{}, errors.New("control: empty request")
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	var req request
	if err := dec.Decode(&req); err != nil {
		return request{}, fmt.Errorf("control: malformed request: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return request{}, errors.New("control: malformed request: data after the JSON object")
	}
	switch req.Op {
	case OpHello, OpStats, OpStop:
		return req, nil
	case "":
		return request{}, errors.New(`control: request has no "op" (want hello, stats or stop)`)
	}
	return request{}, fmt.Errorf("control: unknown op %q (want hello, stats or stop)", truncate(req.Op, 32))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// tokenOK compares in constant time; hashing first hides the length too.
func tokenOK(want, got string) bool {
	if want == "" {
		return true
	}
	a, b := sha256.Sum256([]byte(want)), sha256.Sum256([]byte(got))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// MinToken is the shortest token accepted: the checks do not slow down
// after wrong guesses (that would let anyone delay the token holder), so
// a token must be too long to guess.
const MinToken = 16

// CheckToken refuses a token shorter than MinToken bytes; none passes.
func CheckToken(token string) error {
	if token != "" && len(token) < MinToken {
		return fmt.Errorf("a token of %d bytes: want at least %d, too long to guess", len(token), MinToken)
	}
	return nil
}

// NewToken is a token for a server given none: 128 random bits in hex.
func NewToken() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ErrNoToken is RequireToken's error, wrapped with the address.
var ErrNoToken = errors.New("not a loopback address: pass --token to protect the control channel")

// RequireToken refuses an empty token when any of addrs (listen addresses,
// host:port) is reachable from outside this machine: the control channel
// would let anyone on the network stop the server.
func RequireToken(token string, addrs ...string) error {
	if token != "" {
		return nil
	}
	for _, a := range addrs {
		if !IsLoopback(a) {
			return fmt.Errorf("%s: %w", a, ErrNoToken)
		}
	}
	return nil
}

// IsLoopback reports whether a listen address (host:port or a bare host)
// binds only to loopback. An empty or unspecified host (":8080",
// "0.0.0.0:1") binds to every interface, so it is not loopback.
func IsLoopback(addr string) bool {
	host := addr
	if h, _, err := net.SplitHostPort(addr); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
