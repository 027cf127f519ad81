package server

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/muxbench/muxbench/control"
	"github.com/muxbench/muxbench/result"
	"golang.org/x/sys/unix"
)

// stdEngine is the echo every Go programmer writes first: one goroutine
// per connection, blocking reads and writes, the runtime's netpoller
// underneath. Go's Write loops until everything is written, so short
// writes and EAGAIN are invisible here; only bytes, calls and accepts are
// counted.
type stdEngine struct {
	cfg Config
	ln  net.Listener

	mu      sync.Mutex
	conns   map[*stdConn]struct{}
	retired result.IO // counters of closed connections
	closing bool

	accepts, acceptErrs atomic.Uint64
	acceptEMFILE        atomic.Uint64
	acceptENFILE        atomic.Uint64
	sndBuf, rcvBuf      atomic.Int64 // the first accepted connection's
	wg                  sync.WaitGroup
	quit                chan struct{}
	quitOnce            sync.Once
}

// stdConn counters are written by their own goroutine only, so they do
// not bounce a shared cache line between cores; Stats sums them.
type stdConn struct {
	c                                net.Conn
	bytesIn, bytesOut, reads, writes atomic.Uint64
}

func newStdEngine(cfg Config) *stdEngine {
	return &stdEngine{cfg: cfg, conns: map[*stdConn]struct{}{}, quit: make(chan struct{})}
}

func (e *stdEngine) listen(addr string) (string, error) {
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		// Set on the listener, the buffer sizes are inherited by every
		// accepted socket before its handshake ends, which is when the
		// TCP window scale is chosen.
		var serr error
		err := rc.Control(func(fd uintptr) {
			if e.cfg.SndBuf > 0 {
				serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUF, e.cfg.SndBuf)
			}
			if serr == nil && e.cfg.RcvBuf > 0 {
				serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, e.cfg.RcvBuf)
			}
		})
		if err != nil {
			return err
		}
		return serr
	}}
	ln, err := lc.Listen(context.Background(), "tcp", addr)
	if err != nil {
		return "", err
	}
	e.ln = ln
	return ln.Addr().String(), nil
}

func (e *stdEngine) run() error {
	defer e.shutdown()
	var delay time.Duration
	for {
		c, err := e.ln.Accept()
		if err != nil {
			select {
			case <-e.quit:
				return nil
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			// EMFILE and friends: count, back off, keep serving.
			switch {
			case errors.Is(err, unix.EMFILE):
				e.acceptEMFILE.Add(1)
			case errors.Is(err, unix.ENFILE):
				e.acceptENFILE.Add(1)
			default:
				e.acceptErrs.Add(1)
			}
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			select {
			case <-time.After(delay):
			case <-e.quit:
				return nil
			}
			continue
		}
		delay = 0
		if e.accepts.Add(1) == 1 {
			e.readBufs(c)
		}
		sc := &stdConn{c: c}
		e.mu.Lock()
		if e.closing {
			e.mu.Unlock()
			c.Close()
			return nil
		}
		e.conns[sc] = struct{}{}
		e.wg.Add(1)
		e.mu.Unlock()
		go e.echo(sc)
	}
}

// readBufs records the socket buffer sizes the kernel gave c.
func (e *stdEngine) readBufs(c net.Conn) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		if v, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUF); err == nil {
			e.sndBuf.Store(int64(v))
		}
		if v, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF); err == nil {
			e.rcvBuf.Store(int64(v))
		}
	})
}

func (e *stdEngine) echo(sc *stdConn) {
	defer e.wg.Done()
	defer e.retire(sc)
	buf := make([]byte, e.cfg.ReadBufSize)
	for {
		n, err := sc.c.Read(buf)
		sc.reads.Add(1)
		if n > 0 {
			sc.bytesIn.Add(uint64(n))
			m, werr := sc.c.Write(buf[:n])
			sc.writes.Add(1)
			sc.bytesOut.Add(uint64(m))
			if werr != nil {
				return
			}
		}
		if err != nil {
			return // io.EOF: the peer closed; anything else: a reset
		}
	}
}

func (sc *stdConn) io() result.IO {
	return result.IO{
		BytesIn:  sc.bytesIn.Load(),
		BytesOut: sc.bytesOut.Load(),
		Reads:    sc.reads.Load(),
		Writes:   sc.writes.Load(),
	}
}

func (e *stdEngine) retire(sc *stdConn) {
	sc.c.Close()
	e.mu.Lock()
	delete(e.conns, sc)
	e.retired = e.retired.Add(sc.io())
	e.mu.Unlock()
}

func (e *stdEngine) stop() {
	e.quitOnce.Do(func() {
		close(e.quit)
		if e.ln != nil {
			e.ln.Close()
		}
	})
}

// shutdown closes every connection and waits for their goroutines.
func (e *stdEngine) shutdown() {
	e.mu.Lock()
	e.closing = true
	for sc := range e.conns {
		sc.c.Close()
	}
	e.mu.Unlock()
	e.wg.Wait()
}

func (e *stdEngine) fill(st *control.Stats) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	st.IO = e.retired
	for sc := range e.conns {
		st.IO = st.IO.Add(sc.io())
	}
	st.IO.Accepts = e.accepts.Load()
	st.IO.AcceptErrs = e.acceptErrs.Load()
	st.Conns = len(e.conns)
	st.Accept = result.Accepts{
		Accepted: e.accepts.Load(),
		EMFILE:   e.acceptEMFILE.Load(),
		ENFILE:   e.acceptENFILE.Load(),
		Errors:   e.acceptErrs.Load(),
	}
	st.Options.SndBuf, st.Options.RcvBuf = int(e.sndBuf.Load()), int(e.rcvBuf.Load())
	return nil
}
