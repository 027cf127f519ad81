package bench

import (
	"fmt"

	"github.com/muxbench/muxbench/control"
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
	// conns and accept come with the control channel (hasIO).
	conns  int
	accept result.Accepts
	paused uint64 // output budget pauses
	pid    int    // the server's own word, 0 if unknown
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
		io:   st.IO, hasIO: true, rss: st.RSS, maxRSS: st.MaxRSS, conns: st.Conns, accept: st.Accept, paused: st.BudgetPauses, pid: st.PID,
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
