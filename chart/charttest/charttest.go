// Package charttest builds result files for tests of the code that reads
// them (charts, reports, merges), without running any load.
package charttest

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"path/filepath"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/muxbench/muxbench/result"
)

// Point is the shape of one synthetic run.
type Point struct {
	Backend              string
	Conns, Idle, MsgSize int
	SndBuf               int
	Rate                 float64
	Repeat               int
	// Target is the address of a server muxbench did not start, as from
	// load --target; "" makes a run that started its own, which listens
	// on a new port, with a new pid, every run.
	Target string
	// Latencies in nanoseconds; nil gives a seeded log-normal spread.
	Latencies []int64
	// Peer makes the run a peer's (another project's echo server), named
	// Backend.
	Peer *result.Peer
}

// Result builds a plausible, self-consistent result for p. Numbers are
// derived from the parameters and the seed so that tests can tell points
// apart; they are not measurements.
func Result(p Point) *result.Result {
	rng := rand.New(rand.NewPCG(seed(p), 42))
	h, rt := histogram(p, rng)
	window := 2.0 + 0.05*float64(p.Repeat%4) // repeats differ a little, as real ones do
	tp := float64(rt) / window
	perRT := 8 + float64(p.Idle)/1000*(1+float64(len(p.Backend)%3)) + rng.Float64()
	util := perRT * tp / 1e6
	if p.Backend == "busywait" {
		util = 1
	}
	writes := rt
	short := uint64(0)
	if p.SndBuf > 0 && p.MsgSize > 4096 {
		short = writes / 3
	}
	params := paramsOf(p, rng)
	start := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	peer, serverBackend := peerOf(p)
	return &result.Result{
		Schema:      result.Schema,
		Params:      params,
		Env:         result.Env{Start: start, Hostname: "testhost", Kernel: "6.1.0-test", OS: "linux", Arch: "amd64", CPUModel: "Test CPU @ 2.0GHz", Cores: 2, GoVersion: "go1.26", GOMAXPROCS: 2},
		WindowStart: start,
		WindowSec:   window,
		RoundTrips:  rt,
		Throughput:  tp,
		TargetRate:  p.Rate,
		Latency:     latencyOf(h),
		Peer:        peer,
		Server: &result.Server{
			Backend: serverBackend,
			Process: result.CPU{UserSec: util * window / 2, SysSec: util * window / 2, PerRTus: perRT, Utilization: util},
			IO:      result.IO{Writes: writes, ShortWrites: short, Reads: rt},
			Rates: result.Rates{
				ShortWritesPerWrite: float64(short) / float64(writes),
				WriteEAGAINPerWrite: float64(short) / float64(writes) / 2,
			},
			RSS: 10 << 20, RSSPerConn: float64(10<<20) / float64(p.Conns+p.Idle), Conns: p.Conns + p.Idle,
		},
		Generator: result.Generator{CPU: result.CPU{PerRTus: 9, Utilization: 0.8}},
	}
}

// seed is p's own: every point and repeat its own, since two runs with
// one histogram are one run, counted once.
func seed(p Point) uint64 {
	name := fnv.New64a()
	name.Write([]byte(p.Backend))
	return name.Sum64() + uint64(p.Conns)*31 + uint64(p.Idle)*17 + uint64(p.MsgSize) + uint64(p.SndBuf)*3 + uint64(p.Repeat) + math.Float64bits(p.Rate)
}

// histogram records p's latencies, or failing those a log-normal spread
// drawn from rng around a base that grows with the connections: the
// histogram, and how many round trips it was given.
func histogram(p Point, rng *rand.Rand) (*hdrhistogram.Histogram, uint64) {
	h := hdrhistogram.New(1, 60_000_000_000, 3)
	lat := p.Latencies
	if lat == nil {
		base := 20_000.0 + 50*float64(p.Conns) + 2*float64(p.Idle)
		for i := 0; i < 5000; i++ {
			lat = append(lat, int64(base*math.Exp(rng.NormFloat64()*0.5)))
		}
	}
	for _, v := range lat {
		h.RecordValue(v)
	}
	return h, uint64(len(lat))
}

// latencyOf is the latency block of h.
func latencyOf(h *hdrhistogram.Histogram) result.Latency {
	enc, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		panic(err)
	}
	return result.Latency{
		Count: h.TotalCount(), Min: h.Min(), Mean: h.Mean(), StdDev: h.StdDev(),
		P50: h.ValueAtQuantile(50), P90: h.ValueAtQuantile(90), P99: h.ValueAtQuantile(99),
		P999: h.ValueAtQuantile(99.9), P9999: h.ValueAtQuantile(99.99), Max: h.Max(),
		Histogram: string(enc),
	}
}

// paramsOf are p's parameters; a run whose server muxbench started gets
// a port and pid drawn from rng.
func paramsOf(p Point, rng *rand.Rand) result.Params {
	params := result.Params{
		Backend: p.Backend, Conns: p.Conns, Idle: p.Idle, MsgSize: p.MsgSize,
		SndBuf: p.SndBuf, DurationSec: 2, WarmupSec: 0.5, Rate: p.Rate, GenLoops: 1,
		Target: p.Target, Repeat: p.Repeat, Extra: map[string]string{},
	}
	if p.Target == "" {
		// As a server muxbench starts: a new port and pid every run.
		params.Target = fmt.Sprintf("127.0.0.1:%d", 40000+rng.IntN(20000))
		params.Extra["server_pid"] = fmt.Sprint(1000 + rng.IntN(30000))
	}
	return params
}

// peerOf is the peer record of p's run, nil for muxbench's own backend,
// and the loop its server ran.
func peerOf(p Point) (*result.Peer, string) {
	if p.Peer == nil {
		return nil, p.Backend
	}
	pr := *p.Peer
	pr.Name, pr.Command = p.Backend, "./"+p.Backend
	return &pr, pr.Loop
}

// Write saves Result(p) under dir with compare's file naming and returns
// the path.
func Write(dir string, sweep string, p Point) (string, error) {
	path := filepath.Join(dir, fmt.Sprintf("%s-%s-c%d-i%d-m%d-s%d-r%d.json", sweep, p.Backend, p.Conns, p.Idle, p.MsgSize, p.SndBuf, p.Repeat))
	return path, result.WriteFile(path, Result(p))
}

// Peers are peers as the catalogue's record themselves, one of each
// family, language and multiplexer, and the C floor.
var Peers = []result.Peer{
	{Name: "c-floor", Family: "c-floor", Language: "C", Multiplexer: "epoll", Reference: true},
	{Name: "libevent-select", Family: "libevent", Language: "C", Multiplexer: "select", Loop: "select"},
	{Name: "libev-poll", Family: "libev", Language: "C", Multiplexer: "poll", Loop: "poll"},
	{Name: "twisted-epoll", Family: "Twisted", Language: "Python", Multiplexer: "epoll", Loop: "EPollReactor"},
	{Name: "asyncio-select", Family: "asyncio", Language: "Python", Multiplexer: "select", Loop: "SelectSelector"},
	{Name: "node", Family: "Node.js", Language: "JavaScript", Multiplexer: "epoll", Loop: "libuv"},
}

// PeerSuite writes the sweeps compare runs the peers in, the active and
// idle, for peers, repeats times.
func PeerSuite(dir string, peers []result.Peer, repeats int) ([]string, error) {
	var paths []string
	for _, pr := range peers {
		for k := 1; k <= repeats; k++ {
			for _, p := range []struct {
				sweep       string
				conns, idle int
			}{{"active", 1, 0}, {"active", 10, 0}, {"active", 100, 0}, {"active", 1000, 0}, {"idle", 100, 1000}, {"idle", 100, 5000}} {
				path, err := Write(dir, p.sweep, Point{Backend: pr.Name, Conns: p.conns, Idle: p.idle, MsgSize: 64, Repeat: k, Peer: &pr})
				if err != nil {
					return nil, err
				}
				paths = append(paths, path)
			}
		}
	}
	return paths, nil
}

// Suite writes a small version of a full comparison: the active, idle,
// message-size and open-loop sweeps for the given backends, repeats times.
func Suite(dir string, backends []string, repeats int) ([]string, error) {
	var paths []string
	add := func(sweep string, p Point) error {
		for k := 1; k <= repeats; k++ {
			p.Repeat = k
			path, err := Write(dir, sweep, p)
			if err != nil {
				return err
			}
			paths = append(paths, path)
		}
		return nil
	}
	for _, b := range backends {
		for _, c := range []int{1, 10, 100, 1000} {
			if err := add("active", Point{Backend: b, Conns: c, MsgSize: 64}); err != nil {
				return nil, err
			}
		}
		for _, i := range []int{1000, 5000} {
			if err := add("idle", Point{Backend: b, Conns: 100, Idle: i, MsgSize: 64}); err != nil {
				return nil, err
			}
		}
		for _, buf := range []int{0, 4096} {
			for _, m := range []int{64, 4096, 65536, 1 << 20} {
				if m == 64 && buf == 0 {
					continue // the active sweep's point
				}
				if err := add("msgsize", Point{Backend: b, Conns: 10, MsgSize: m, SndBuf: buf}); err != nil {
					return nil, err
				}
			}
		}
		if err := add("latency", Point{Backend: b, Conns: 100, MsgSize: 64, Rate: 5000}); err != nil {
			return nil, err
		}
	}
	return paths, nil
}
