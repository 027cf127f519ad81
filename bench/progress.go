package bench

import (
	"sync"
	"sync/atomic"
	"time"
)

// progressor calls Config.Progress about once a second.
type progressor struct {
	fn      func(Progress)
	backend string
	begin   time.Time
	cur     atomic.Value // string
	stopped chan struct{}
	once    sync.Once
	started bool
}

func newProgressor(cfg *Config) *progressor {
	p := &progressor{fn: cfg.Progress, backend: cfg.Name(), begin: time.Now(), stopped: make(chan struct{})}
	p.cur.Store("connect")
	return p
}

func (p *progressor) phase(s string) { p.cur.Store(s) }

func (p *progressor) start(loops []*genLoop) {
	if p.fn == nil {
		return
	}
	p.started = true
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		var lastRTs uint64
		last := time.Now()
		for {
			select {
			case <-p.stopped:
				return
			case now := <-t.C:
				var rts uint64
				for _, l := range loops {
					rts += l.pub.Load()
				}
				rate := float64(rts-lastRTs) / now.Sub(last).Seconds()
				lastRTs, last = rts, now
				p.fn(Progress{Backend: p.backend, Phase: p.cur.Load().(string), Elapsed: now.Sub(p.begin), RoundTrips: rts, Rate: rate})
			}
		}
	}()
}

func (p *progressor) stop() { p.once.Do(func() { close(p.stopped) }) }
