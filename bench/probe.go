package bench

import (
	"fmt"

	"github.com/muxbench/muxbench/control"
	"github.com/muxbench/muxbench/peer"
	"github.com/muxbench/muxbench/result"
	"github.com/muxbench/muxbench/server"
	"github.com/muxbench/muxbench/sysstat"
)

// serverSample is a server's cumulative figures at one instant.
type serverSample struct {
	backend     string
	options     result.ServerOptions
	proc        cpuTimes
	thread      cpuTimes
	io          result.IO
	hasIO       bool
	rss, maxRSS int64
	// conns is the connections the server holds, when it can be told
	// (countsConns): its own count over the control channel, or a peer's
	// sockets. accept comes with the control channel (hasIO).
	conns       int
	countsConns bool
	accept      result.Accepts
	paused      uint64 // output budget pauses
	pid         int    // the server's own word, 0 if unknown
}

// serverProbe reads a server's figures: over its control channel, or
// from /proc for a foreign server on this host.
type serverProbe interface {
	sample() (serverSample, error)
	alive() error
}

type controlProbe struct {
	c     *control.Client
	pid   int
	child *server.Child
}

func (p *controlProbe) sample() (serverSample, error) {
	st, err := p.c.Stats()
	if err != nil {
		return serverSample{}, err
	}
	s := serverSample{
		backend: st.Backend, options: st.Options,
		proc: cpuTimes{userNs: st.ProcUserNs, sysNs: st.ProcSysNs, volCS: st.VolCtxSw, involCS: st.InvolCtxSw, ok: true},
		io:   st.IO, hasIO: true, rss: st.RSS, maxRSS: st.MaxRSS, conns: st.Conns, countsConns: true, accept: st.Accept, paused: st.BudgetPauses, pid: st.PID,
	}
	if st.ThreadUserNs >= 0 {
		s.thread = cpuTimes{userNs: st.ThreadUserNs, sysNs: st.ThreadSysNs, ok: true}
	}
	return s, nil
}

func (p *controlProbe) alive() error {
	if p.child != nil {
		if err := p.child.Alive(); err != nil {
			return fmt.Errorf("server exited during the run: %w", err)
		}
	}
	return nil
}

type pidProbe struct{ pid int }

func (p *pidProbe) sample() (serverSample, error) {
	t, err := pidCPU(p.pid)
	if err != nil {
		return serverSample{}, err
	}
	rss, _ := sysstat.RSSByPID(p.pid) // 0: unknown
	return serverSample{backend: External, proc: t, rss: rss, maxRSS: t.maxRSS}, nil
}

func (p *pidProbe) alive() error { return nil }

// peerProbe reads a peer from /proc: its CPU and memory as pidProbe
// does, its loop thread's CPU, and its connections as the sockets it
// holds beyond those it held at the first sample, before the first
// connection.
type peerProbe struct {
	pidProbe
	p *peer.Process
	// base is the sockets at the first sample; -1 once a count failed.
	base    int
	sampled bool
}

func (p *peerProbe) sample() (serverSample, error) {
	s, err := p.pidProbe.sample()
	if err != nil {
		return s, err
	}
	if p.p.Loop != "" {
		s.backend = p.p.Loop
	}
	if p.p.LoopTID > 0 {
		s.thread = fromUsage(sysstat.ThreadByPID(p.pid, p.p.LoopTID))
	}
	switch n, err := sysstat.SocketsByPID(p.pid); {
	case err != nil:
		p.base = -1
	case !p.sampled:
		p.base = n
	case p.base >= 0:
		s.conns, s.countsConns = n-p.base, true
	}
	p.sampled = true
	return s, nil
}

func (p *peerProbe) alive() error {
	if err := p.p.Alive(); err != nil {
		return fmt.Errorf("server exited during the run: %w", err)
	}
	return nil
}
