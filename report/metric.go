package report

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/muxbench/muxbench/result"
)

// Metric is one figure of a run, the one place it is known: every view
// (the terminal table, summary.md, the results page, diff, merge and
// CSV) iterates Metrics and reads each figure through its descriptor.
type Metric struct {
	// Name heads its column in summary.md and on the page, and its rows
	// in diff.
	Name string
	// Key and Unit make its CSV column, Key_Unit ("p50_ns"), as the
	// result file's field names carry their units.
	Key, Unit string
	// Head is its column in the terminal table, two lines; none: the
	// table shows it in a note (Note) or not at all.
	Head [2]string
	// Doc says what it is, for the notes under the tables.
	Doc string
	// Get reads it from a run; false where the run lacks it.
	Get    func(*result.Result) (float64, bool)
	Format Format
	Better Direction
	// Spread: tables give the range over a point's runs beside the
	// median.
	Spread bool
	// Repeats is how a point's runs make its figure; Hosts how merge
	// makes it from the hosts' (see Hosts).
	Repeats Repeats
	Hosts   Hosts
	// Fails: a run with this figure above zero failed, so the tables of
	// data points, which leave failed runs out, leave it out too.
	Fails bool
	// Mark decorates the terminal table's cell (v is the figure, cell as
	// formatted) where a condition of the run makes it doubtful.
	Mark func(r *result.Result, v float64, cell string) string
	// Note is the terminal table's line for a metric without a column,
	// for a run whose figure is not zero.
	Note func(r *result.Result, v float64) string
	// Panel, if set, draws it against each table's points on the page.
	Panel *Panel
}

// Direction says which way a metric gets better.
type Direction int

const (
	// Neutral figures describe the run's conditions, not the server
	// (noise): diff shows them and judges nothing by them.
	Neutral Direction = iota
	LowerIsBetter
	HigherIsBetter
)

// Worse reports whether a change from old to neu goes the way m counts
// as worse.
func (m *Metric) Worse(old, neu float64) bool {
	switch m.Better {
	case LowerIsBetter:
		return neu > old
	case HigherIsBetter:
		return neu < old
	}
	return false
}

// Repeats is how the runs of one point make its figure.
type Repeats int

const (
	// Median over the runs (with its range where Spread).
	Median Repeats = iota
	// Most: the worst run speaks for the point (noise).
	Most
)

// Of is the point's figure from its runs' values.
func (a Repeats) Of(vals []float64) Stat {
	st := Summarize(vals)
	if a == Most && st.N > 0 {
		st.Med, st.Lo, st.Hi, st.CI = st.Max, st.Max, st.Max, false
	}
	return st
}

// Hosts is how a point measured from several load hosts against one
// server (muxbench merge) makes the merged figure from the hosts'.
type Hosts int

const (
	// Sum: each host's share adds up (throughput).
	Sum Hosts = iota
	// Server: the one server's own figure, which every host saw (short
	// writes per write): the first host's.
	Server
	// ServerPerRT: the one server's, over every host's round trips
	// (server CPU per round trip).
	ServerPerRT
	// ServerPerConn: the one server's, over every host's connections.
	ServerPerConn
	// Pooled: each host's own cost, pooled over every host's round trips
	// (generator CPU per round trip).
	Pooled
	// Histogram: read again from the hosts' histograms added (latency
	// percentiles); the hosts' figures alone cannot give it.
	Histogram
	// Worst: the highest host's figure speaks for the merge.
	Worst
)

var hostsWords = [...]string{Sum: "sum", Server: "the server's", ServerPerRT: "the server's, per round trip of all",
	ServerPerConn: "the server's, per connection of all", Pooled: "pooled", Histogram: "from the histograms added", Worst: "the highest"}

func (h Hosts) String() string { return hostsWords[h] }

// Merge is the merged figure from the hosts' figures vals, round trips
// rts and connections conns (idle ones included), in host order; false
// for Histogram.
func (h Hosts) Merge(vals, rts, conns []float64) (float64, bool) {
	sum := func(v []float64) float64 {
		t := 0.0
		for _, x := range v {
			t += x
		}
		return t
	}
	switch h {
	case Sum:
		return sum(vals), true
	case Server:
		return vals[0], true
	case ServerPerRT:
		return vals[0] * rts[0] / sum(rts), true
	case ServerPerConn:
		return vals[0] * conns[0] / sum(conns), true
	case Pooled:
		t := 0.0
		for i, v := range vals {
			t += v * rts[i]
		}
		return t / sum(rts), true
	case Worst:
		return slices.Max(vals), true
	}
	return 0, false
}

// Panel is how the page draws a metric against a table's points.
type Panel struct {
	Title  string
	YLabel string
	Scale  float64 // divides the figure for the axis; latency (Unit "ns") is by LatencyAxis
	LogY   bool
}

// Axis is the label of p's y axis and what divides m's figures for it,
// whose largest is top.
func (p *Panel) Axis(m *Metric, top float64) (label string, div float64) {
	label, div = p.YLabel, p.Scale
	if m.Unit == "ns" {
		label, div = LatencyAxis(top)
	}
	if p.LogY {
		label += " (log scale)"
	}
	return label, div
}

// Value is m's figure of r, formatted in full, or "–" where r lacks it.
func (m *Metric) Value(r *result.Result) string {
	if v, ok := m.Get(r); ok {
		return m.Format.Full(v)
	}
	return "–"
}

// Column is m's CSV column.
func (m *Metric) Column() string {
	if m.Unit == "" {
		return m.Key
	}
	return m.Key + "_" + m.Unit
}

// The metrics. Their order is the columns' in every table.
var (
	Throughput = &Metric{
		Name: "round trips/s", Key: "round_trips", Unit: "per_sec", Head: [2]string{"rt/s", ""},
		Get: func(r *result.Result) (float64, bool) { return r.Throughput, true }, Format: Count,
		Better: HigherIsBetter, Spread: true, Hosts: Sum,
		Mark: func(r *result.Result, v float64, cell string) string {
			if Noisy(r) {
				// A figure the neighbours moved gets no decimal, and a mark.
				return rough(v) + "~"
			}
			return cell
		},
		Panel: &Panel{Title: "Throughput (higher is better)", YLabel: "thousand round trips per second", Scale: 1e3},
	}
	P50  = percentile("p50", 50, func(l result.Latency) int64 { return l.P50 }, true, &Panel{Title: "Median latency", LogY: true})
	P99  = percentile("p99", 99, func(l result.Latency) int64 { return l.P99 }, true, &Panel{Title: "99th percentile latency", LogY: true})
	P999 = percentile("p99.9", 99.9, func(l result.Latency) int64 { return l.P999 }, false, nil)
	Max  = &Metric{
		Name: "max", Key: "max", Unit: "ns", Head: [2]string{"max", ""},
		Get:    func(r *result.Result) (float64, bool) { return float64(r.Latency.Max), r.Latency.Max > 0 },
		Format: Latency, Better: LowerIsBetter, Hosts: Worst,
		Mark: func(r *result.Result, _ float64, cell string) string {
			if r.Latency.Overflow > 0 {
				return ">" + cell
			}
			return cell
		},
	}
	ServerCPU = &Metric{
		Name: "server CPU µs/rt", Key: "server_cpu", Unit: "us_per_rt", Head: [2]string{"server", "µs/rt"},
		Doc: "process/loop thread CPU per round trip",
		Get: server(func(s *result.Server) (float64, bool) { return s.Process.PerRTus, true }), Format: Micros,
		Better: LowerIsBetter, Spread: true, Hosts: ServerPerRT,
		Mark: func(r *result.Result, _ float64, cell string) string {
			if t := r.Server; t != nil && t.LoopThread != nil {
				return cell + "/" + Micros.Compact(t.LoopThread.PerRTus)
			}
			return cell
		},
		Panel: &Panel{Title: "Server CPU per round trip (lower is better)", YLabel: "CPU µs per round trip", Scale: 1},
	}
	GenCPU = &Metric{
		Name: "generator CPU µs/rt", Key: "generator_cpu", Unit: "us_per_rt", Head: [2]string{"gen", "µs/rt"},
		Get: func(r *result.Result) (float64, bool) {
			return r.Generator.CPU.PerRTus, !r.Lacks(result.UnavailableGenThreadCPU)
		},
		Format: Micros, Better: LowerIsBetter, Hosts: Pooled,
		Mark: func(r *result.Result, _ float64, cell string) string {
			switch {
			case r.Generator.Saturated:
				return cell + "!"
			case r.Generator.SendLate:
				// A saturated generator sends late anyway, and its row's
				// open-loop note says by how much.
				return cell + "?"
			}
			return cell
		},
	}
	ShortWrites = ofServer(Metric{Name: "short writes/write", Key: "short_writes", Unit: "per_write", Head: [2]string{"short", "/write"},
		Doc: "server side", Format: Share, Hosts: Server},
		func(s *result.Server) (float64, uint64) { return s.Rates.ShortWritesPerWrite, s.IO.Writes })
	EAGAIN = ofServer(Metric{Name: "EAGAIN/write", Key: "write_eagain", Unit: "per_write", Head: [2]string{"eagain", "/write"},
		Doc: "server side", Format: Share, Hosts: Server},
		func(s *result.Server) (float64, uint64) { return s.Rates.WriteEAGAINPerWrite, s.IO.Writes })
	Waits = ofServer(Metric{Name: "waits/rt", Key: "waits", Unit: "per_rt", Head: [2]string{"waits", "/rt"},
		Doc: "server side", Format: Ratio, Hosts: ServerPerRT},
		func(s *result.Server) (float64, uint64) { return s.Rates.WaitsPerRT, s.IO.Waits })
	Syscalls = ofServer(Metric{Name: "syscalls/rt", Key: "syscalls", Unit: "per_rt", Head: [2]string{"sys", "/rt"},
		Doc: "system calls per round trip, counted by the server's loop (waits, reads, writes, ring enters)", Format: Ratio, Hosts: ServerPerRT},
		func(s *result.Server) (float64, uint64) { return s.Rates.SyscallsPerRT, s.IO.Syscalls })
	RSS = &Metric{
		Name: "RSS/conn", Key: "rss_per_conn", Unit: "bytes", Head: [2]string{"rss", "/conn"},
		Doc: "server memory the connections added, per connection, idle ones included",
		Get: server(func(s *result.Server) (float64, bool) {
			// Zero is a finding (the connections added less than the
			// runtime gave back meanwhile); no base is no figure.
			return s.RSSPerConn, s.RSSBase > 0 && s.RSS > 0
		}),
		Format: Size, Better: LowerIsBetter, Hosts: ServerPerConn,
	}
	CtxSw = &Metric{
		Name: "context switches/rt", Key: "server_ctxsw", Unit: "per_rt", Head: [2]string{"ctxsw", "/rt"},
		Doc: "the server process's context switches, voluntary and involuntary, per round trip",
		Get: func(r *result.Result) (float64, bool) {
			if r.Server == nil || r.RoundTrips == 0 {
				return 0, false
			}
			n := r.Server.Process.VolCtxSw + r.Server.Process.InvolCtxSw
			return float64(n) / float64(r.RoundTrips), n > 0 // none: not counted
		},
		Format: Ratio, Better: LowerIsBetter, Hosts: ServerPerRT,
	}
	Integrity = &Metric{
		Name: "integrity errors", Key: "integrity_errors",
		Get:    func(r *result.Result) (float64, bool) { return float64(r.Integrity.Errors()), true },
		Format: Integer, Better: LowerIsBetter, Hosts: Sum, Fails: true,
		Note: func(r *result.Result, v float64) string {
			i := r.Integrity
			return fmt.Sprintf("%.0f integrity errors: %d mismatched, %d reset, %d failed connections, %d timed out, %d connections missing",
				v, i.Mismatches, i.Resets, i.ConnFailures, i.Timeouts, i.MissingConns)
		},
	}
	BudgetPauses = &Metric{
		Name: "budget pauses", Key: "budget_pauses",
		Doc: "times the server stopped reading, its write buffers together at the output budget",
		Get: server(func(s *result.Server) (float64, bool) {
			// Counted by a server that counts its I/O (Accepts with it).
			return float64(s.BudgetPauses), s.Accepts != nil || s.BudgetPauses > 0
		}),
		Format: Integer, Better: LowerIsBetter, Hosts: Server,
		Note: func(_ *result.Result, v float64) string {
			return fmt.Sprintf("server stopped reading %.0f times, its write buffers together at the output budget", v)
		},
	}
	Noise = &Metric{
		Name: "others' CPU", Key: "others_cpu", Unit: "cpus",
		Doc: "CPU that other processes and the hypervisor took during the window (the worst run's); above the noise threshold a run is noisy",
		Get: func(r *result.Result) (float64, bool) {
			if r.Noise == nil {
				return 0, false
			}
			return r.Noise.ForeignCPU + r.Noise.StealCPU, true
		},
		Format: CPUs, Better: Neutral, Repeats: Most, Hosts: Worst,
	}
)

// Metrics are every metric, in column order.
var Metrics = []*Metric{Throughput, P50, P99, P999, Max, ServerCPU, GenCPU, ShortWrites, EAGAIN, Waits, Syscalls, RSS, CtxSw, Integrity, BudgetPauses, Noise}

// Percentile is the metric of latency percentile p (0-100) of a
// --percentiles list.
func Percentile(p float64) *Metric {
	name := "p" + strconv.FormatFloat(p, 'f', -1, 64)
	return percentile(name, p, func(l result.Latency) int64 {
		for _, q := range l.Percentiles {
			if q.Percent == p {
				return q.Value
			}
		}
		return 0
	}, false, nil)
}

// percentile is a latency percentile; a percentile the run's samples
// cannot support is zero in the file and no figure here.
func percentile(name string, p float64, get func(result.Latency) int64, spread bool, panel *Panel) *Metric {
	return &Metric{
		Name: name, Key: strings.ReplaceAll(name, ".", "_"), Unit: "ns", Head: [2]string{name, ""},
		Get: func(r *result.Result) (float64, bool) {
			v := get(r.Latency)
			return float64(v), v > 0
		},
		Format: Latency, Better: LowerIsBetter, Spread: spread, Hosts: Histogram, Panel: panel,
	}
}

// server reads a figure of the server's, which a run without a control
// channel lacks.
func server(get func(*result.Server) (float64, bool)) func(*result.Result) (float64, bool) {
	return func(r *result.Result) (float64, bool) {
		if r.Server == nil {
			return 0, false
		}
		return get(r.Server)
	}
}

// ofServer makes m a ratio of the server's counters, which lower is
// better: a figure where the server counted what it is per (count > 0).
func ofServer(m Metric, get func(*result.Server) (v float64, count uint64)) *Metric {
	m.Get = server(func(s *result.Server) (float64, bool) {
		v, n := get(s)
		return v, n > 0
	})
	m.Better = LowerIsBetter
	return &m
}

// Noisy reports whether r was measured while other processes kept the
// machine busy.
func Noisy(r *result.Result) bool { return r.Noise != nil && r.Noise.Noisy }
