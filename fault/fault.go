// Package fault drives the faults a real event loop meets against a
// running echo server, beside the normal load: connections that close and
// re-open all the time (churn), and hostile peers that reset in the middle
// of a message, never read, half-close, vanish, or never speak. They come
// from outside, over the network; the faults injected into the server's
// own system calls (short writes, EAGAIN) are reactor.Faults, set with
// serve's --inject-* flags.
//
// Every churned round trip is verified byte by byte with the message
// pattern the load generator uses too (protocol.FillPattern), which names
// its connection: an echo that carries a byte of a closed connection
// whose descriptor the server reused (a stale event or a stale buffer) is
// a mismatch, counted as an integrity error.
package fault

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/muxbench/muxbench/protocol"
	"github.com/muxbench/muxbench/result"
)

// Report is what the drivers did; it is the result file's fault section.
type Report = result.Faults

// Hostile peer kinds, in the order they are cycled.
const (
	ResetMidMessage = "reset_mid_message"
	NeverRead       = "never_read"
	HalfClose       = "half_close"
	SendAndVanish   = "send_and_vanish"
	Silent          = "connect_never_send"
)

// Kinds lists the hostile peer kinds in the order Run cycles them.
var Kinds = []string{ResetMidMessage, NeverRead, HalfClose, SendAndVanish, Silent}

// Defaults for Config's zero values.
const (
	DefaultChurnConns  = 16
	DefaultChurnMsgs   = 3
	DefaultMsgSize     = 512
	DefaultLargeMsg    = 256 << 10
	DefaultHostilePeer = 2
	DefaultTimeout     = 10 * time.Second
	// DefaultNeverReadLimit is how much a peer that never reads may push
	// before the server is said not to bound its memory: far above what
	// the socket buffers of both ends and a transport's high-water mark
	// can hold, far below what an unbounded buffer would swallow.
	DefaultNeverReadLimit = 256 << 20
	// DefaultNeverReaderBytes is 1.5 times the reactor's default high
	// water mark: enough to fill a transport's buffer, little enough
	// that hundreds of peers do not fill the kernel's.
	DefaultNeverReaderBytes = 3 << 19
)

// Config says which drivers run and how hard. Zero values take the
// defaults above.
type Config struct {
	// Target is the echo server, host:port.
	Target string
	// Churn is connections replaced per second; 0 turns churn off.
	Churn int
	// ChurnConns connections are kept open while churning.
	ChurnConns int
	// ChurnMsgs verified messages go over each churned connection before
	// it may be replaced.
	ChurnMsgs int
	// MsgSize is the size of a churned message (protocol.MinMsgSize or more).
	MsgSize int
	// Hostile turns the hostile peers on; HostilePeers of them run at a
	// time, each cycling through Kinds.
	Hostile      bool
	HostilePeers int
	// LargeMsg is the size of the hostile peers' messages (half of it is
	// sent before a reset; a quarter is half-closed after).
	LargeMsg int
	// NeverReadLimit is what a peer that never reads may push before the
	// server counts as not bounding its memory.
	NeverReadLimit int
	// NeverReaders peers connect at the start, push messages without
	// reading until the server stops taking them and stay connected to
	// the end, so that together they hold all the output the server lets
	// them (the report's NeverReadCrowd); 0 turns them off.
	NeverReaders int
	// NeverReaderBytes is the most each of them pushes: more than a
	// transport's high-water mark, so that a server without a bound on
	// all buffers together holds that much for each.
	NeverReaderBytes int
	// Timeout bounds connecting and each echo.
	Timeout time.Duration
}

func (cfg Config) withDefaults() (Config, error) {
	if cfg.Target == "" {
		return cfg, errors.New("fault: no target address")
	}
	if _, _, err := net.SplitHostPort(cfg.Target); err != nil {
		return cfg, fmt.Errorf("fault: target %q: want host:port", cfg.Target)
	}
	if cfg.Churn < 0 {
		return cfg, fmt.Errorf("fault: churn %d connections per second: want 0 or more", cfg.Churn)
	}
	if cfg.Churn == 0 && !cfg.Hostile && cfg.NeverReaders == 0 {
		return cfg, errors.New("fault: nothing to do: neither churn nor hostile peers asked")
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&cfg.ChurnConns, DefaultChurnConns)
	def(&cfg.ChurnMsgs, DefaultChurnMsgs)
	def(&cfg.MsgSize, DefaultMsgSize)
	def(&cfg.HostilePeers, DefaultHostilePeer)
	def(&cfg.LargeMsg, DefaultLargeMsg)
	def(&cfg.NeverReadLimit, DefaultNeverReadLimit)
	def(&cfg.NeverReaderBytes, DefaultNeverReaderBytes)
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	switch {
	case cfg.ChurnConns < 0 || cfg.ChurnMsgs < 0 || cfg.HostilePeers < 0 || cfg.NeverReaders < 0 || cfg.NeverReaderBytes < 0:
		return cfg, errors.New("fault: negative connection or message count")
	case cfg.MsgSize < protocol.MinMsgSize || cfg.MsgSize > protocol.MaxMsgSize:
		return cfg, fmt.Errorf("fault: message size %d outside %d..%d", cfg.MsgSize, protocol.MinMsgSize, protocol.MaxMsgSize)
	case cfg.LargeMsg < 4*protocol.MinMsgSize || cfg.LargeMsg > protocol.MaxMsgSize:
		return cfg, fmt.Errorf("fault: large message size %d outside %d..%d", cfg.LargeMsg, 4*protocol.MinMsgSize, protocol.MaxMsgSize)
	case cfg.NeverReadLimit < cfg.LargeMsg:
		return cfg, fmt.Errorf("fault: never-read limit %d below the large message size %d", cfg.NeverReadLimit, cfg.LargeMsg)
	}
	return cfg, nil
}

// Run drives the faults cfg asks for against cfg.Target until ctx ends,
// then closes every connection it opened and reports. The error is for a
// Config that cannot work or a target that cannot be reached at all, or,
// beside the report, for connections this process had no descriptor for;
// failures during the run are counted in the report.
func Run(parent context.Context, cfg Config) (*Report, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	c, err := dial(parent, cfg.Target, cfg.Timeout)
	if err != nil {
		return nil, fmt.Errorf("fault: target %s: %w", cfg.Target, err)
	}
	c.Close()

	// Drivers stop on cancellation only: under the parent's deadline, a
	// dial or a read could time out a moment before the parent reports
	// its end, and be counted as a failure.
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	defer context.AfterFunc(parent, cancel)()
	defer cancel()

	st := &state{cfg: cfg, hostile: make(map[string]*result.HostileKind)}
	start := time.Now()
	var wg sync.WaitGroup
	if cfg.Churn > 0 {
		tickets := make(chan struct{}, cfg.ChurnConns)
		wg.Add(1)
		go func() { defer wg.Done(); issueTickets(ctx, cfg.Churn, tickets) }()
		for i := range cfg.ChurnConns {
			wg.Add(1)
			go func() { defer wg.Done(); st.churn(ctx, i, tickets) }()
		}
	}
	if cfg.Hostile {
		for i := range cfg.HostilePeers {
			wg.Add(1)
			go func() { defer wg.Done(); st.hostileLoop(ctx, i) }()
		}
	}
	if cfg.NeverReaders > 0 {
		wg.Go(func() { st.crowd(ctx, cfg.NeverReaders) })
	}
	wg.Wait()

	rep := st.rep
	rep.DurationSec = time.Since(start).Seconds()
	if cfg.Churn > 0 {
		rep.ChurnConns = cfg.ChurnConns
		rep.ChurnRate = float64(cfg.Churn)
	}
	var kinds []string
	if cfg.Hostile {
		kinds = Kinds
	}
	if cfg.NeverReaders > 0 {
		kinds = append(slices.Clip(kinds), NeverReadCrowd)
	}
	for _, k := range kinds {
		h := result.HostileKind{Kind: k}
		if p := st.hostile[k]; p != nil {
			h = *p
		}
		rep.Hostile = append(rep.Hostile, h)
	}
	if st.short > 0 {
		return &rep, fmt.Errorf("fault: this process ran out of descriptors, not the server: %d of its connections could not be opened (%v); lower the counts or raise `ulimit -n`",
			st.short, st.shortErr)
	}
	return &rep, nil
}

// maxErrors bounds the failures kept in words.
const maxErrors = 10

// state is shared by the drivers; every count goes through mu, which is
// taken once per connection or round trip, not per byte.
type state struct {
	cfg     Config
	mu      sync.Mutex
	rep     Report
	hostile map[string]*result.HostileKind
	// short counts the connections this process could not open for
	// want of descriptors: its own shortage, which no server causes, so
	// it counts against no peer and Run reports it as its error.
	short    int
	shortErr error // the first
}

func (s *state) errorf(format string, a ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.rep.Errors) < maxErrors {
		s.rep.Errors = append(s.rep.Errors, fmt.Sprintf(format, a...))
	}
}

// tally counts a peer of kind that ended as expected (why nil) or not,
// and keeps why in words.
func (s *state) tally(kind string, why error) {
	s.mu.Lock()
	h := s.hostile[kind]
	if h == nil {
		h = &result.HostileKind{Kind: kind}
		s.hostile[kind] = h
	}
	h.Attempted++
	if why == nil {
		h.Expected++
	} else {
		h.Unexpected++
	}
	s.mu.Unlock()
	if why != nil {
		s.errorf("%s: %v", kind, why)
	}
}

func (s *state) count(f func(r *Report)) {
	s.mu.Lock()
	f(&s.rep)
	s.mu.Unlock()
}

// dial connects with a bound on the time taken.
func dial(ctx context.Context, target string, timeout time.Duration) (*net.TCPConn, error) {
	d := net.Dialer{Timeout: timeout}
	c, err := d.DialContext(ctx, "tcp", target)
	if err != nil {
		return nil, err
	}
	return c.(*net.TCPConn), nil
}

// errShort marks a connection this process had no descriptor for.
var errShort = errors.New("out of descriptors")

// dial connects to the target; a failure for want of descriptors on this
// side is counted apart and comes back wrapping errShort.
func (s *state) dial(ctx context.Context) (*net.TCPConn, error) {
	c, err := dial(ctx, s.cfg.Target, s.cfg.Timeout)
	if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
		s.mu.Lock()
		if s.short++; s.shortErr == nil {
			s.shortErr = err
		}
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: %w", errShort, err)
	}
	return c, err
}

// interruptible makes ctx's end cut c's blocked reads and writes short,
// so that every driver stops at once; stop undoes it.
func interruptible(ctx context.Context, c net.Conn) (stop func() bool) {
	return context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
}

// reset closes c with SO_LINGER 0: the peer gets an RST at once and our
// side skips TIME_WAIT, so its descriptor and port come back right away.
func reset(c *net.TCPConn) {
	c.SetLinger(0)
	c.Close()
}
