package compare

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/muxbench/muxbench/chart"
	"github.com/muxbench/muxbench/internal/cli"
	"github.com/muxbench/muxbench/report"
	"github.com/muxbench/muxbench/result"
)

// Merge combines results of one point measured from several load hosts
// against the same server into one result:
//
//   - latency histograms are decoded and added, and every percentile is
//     recomputed from the sum (never averaged);
//   - round trips, throughput, connections, target rates, generator I/O and
//     integrity counters are summed;
//   - generator CPU is summed over the hosts (utilisation in CPUs across all
//     of them, per_rt_us as total generator CPU per total round trip), and
//     each host's own figures are kept in params.extra as
//     "host.<i>.<hostname>.gen_cpu_util" and "...gen_cpu_per_rt_us";
//   - fault reports (soak runs) are not merged and are dropped;
//   - the server block is the first file's (every host watched the same
//     server process, so summing would count it once per host), with
//     per_rt_us recomputed against the summed round trips.
//
// All inputs must be distinct runs, each from its own load host, of the
// same point (backend, message size, socket buffers, window and warm-up,
// load kind) over windows that overlap; the error names the first file
// that is not (bad input). A failed run is never merged: that error is
// not bad input, but a failure.
func Merge(files []chart.File) (*result.Result, error) {
	if len(files) < 2 {
		return nil, chart.BadInput(errors.New("merge needs two or more result files"))
	}
	for _, f := range files {
		if why := chart.Failure(f.Result); why != "" {
			return nil, fmt.Errorf("%s: a failed run (%s) is never merged", chart.Printable(f.Path), why)
		}
	}
	if err := mergeable(files); err != nil {
		return nil, chart.BadInput(err)
	}
	first := files[0]
	out := mergeBase(first.Result)
	var hosts []string
	for i, f := range files {
		hosts = append(hosts, f.Env.Hostname)
		addHost(out, i, f)
	}
	out.Env.Hostname = strings.Join(hosts, "+")
	if out.RoundTrips > 0 {
		g := &out.Generator
		g.CPU.PerRTus = (g.CPU.UserSec + g.CPU.SysSec) * 1e6 / float64(out.RoundTrips)
		g.Rates = g.IO.Rates(out.RoundTrips)
	}
	if first.Server != nil {
		out.Server = mergeServer(*first.Server, out.RoundTrips, out.Params.Conns+out.Params.Idle)
	}
	if err := mergeLatencies(out, files); err != nil {
		return nil, err
	}
	// The hosts' windows are not aligned to the second: no series.
	out.Series = nil
	sort.Strings(out.Warnings)
	out.Schema = result.Schema
	return out, nil
}

// mergeBase is the merge before any host is added: a copy of the first
// host's result with the figures the hosts add up cleared.
func mergeBase(first *result.Result) *result.Result {
	out := *first
	out.Params.Extra = map[string]string{}
	for k, v := range first.Params.Extra {
		out.Params.Extra[k] = v
	}
	out.Warnings = nil
	out.Partial = false
	out.RoundTrips, out.Throughput, out.TargetRate = 0, 0, 0
	out.Params.Conns, out.Params.Idle, out.Params.Rate, out.Params.GenLoops = 0, 0, 0, 0
	out.WindowSec = 0
	out.Generator = result.Generator{}
	out.Integrity = result.Integrity{}
	out.Faults = nil
	out.Noise = nil
	out.SendLatenessFloor, out.SendLatenessFloorPaced = nil, nil
	return &out
}

// addHost adds f, the (i+1)th host's result, to the merge out: its
// counts to the sums, and its generator's own figures to params.extra.
func addHost(out *result.Result, i int, f chart.File) {
	r := f.Result
	out.Partial = out.Partial || r.Partial
	for _, w := range r.Warnings {
		out.Warnings = append(out.Warnings, r.Env.Hostname+": "+w)
	}
	out.RoundTrips = result.SatAdd(out.RoundTrips, r.RoundTrips)
	out.Throughput += r.Throughput
	out.TargetRate += r.TargetRate
	out.Params.Conns += r.Params.Conns
	out.Params.Idle += r.Params.Idle
	out.Params.Rate += r.Params.Rate
	out.Params.GenLoops += r.Params.GenLoops
	out.WindowSec = math.Max(out.WindowSec, r.WindowSec)
	if r.WindowStart.Before(out.WindowStart) {
		out.WindowStart = r.WindowStart
	}
	if r.Noise != nil && (out.Noise == nil || r.Noise.ForeignCPU+r.Noise.StealCPU > out.Noise.ForeignCPU+out.Noise.StealCPU) {
		n := *r.Noise // the noisiest host speaks for the merge
		out.Noise = &n
	}
	g := &out.Generator
	g.CPU.UserSec += r.Generator.CPU.UserSec
	g.CPU.SysSec += r.Generator.CPU.SysSec
	g.CPU.Utilization += r.Generator.CPU.Utilization
	g.CPU.VolCtxSw += r.Generator.CPU.VolCtxSw
	g.CPU.InvolCtxSw += r.Generator.CPU.InvolCtxSw
	g.IO = g.IO.Add(r.Generator.IO)
	g.Saturated = g.Saturated || r.Generator.Saturated
	g.SendLate = g.SendLate || r.Generator.SendLate
	g.Spin = g.Spin || r.Generator.Spin
	g.BlockingRead = g.BlockingRead || r.Generator.BlockingRead
	// The worst host's floors speak for the merge.
	worstFloor(&out.SendLatenessFloor, r.SendLatenessFloor)
	worstFloor(&out.SendLatenessFloorPaced, r.SendLatenessFloorPaced)
	key := fmt.Sprintf("host.%d.%s.", i+1, r.Env.Hostname)
	out.Params.Extra[key+"gen_cpu_util"] = fmt.Sprintf("%.4f", r.Generator.CPU.Utilization)
	out.Params.Extra[key+"gen_cpu_per_rt_us"] = fmt.Sprintf("%.4f", r.Generator.CPU.PerRTus)
	out.Params.Extra[key+"file"] = f.Path
	out.Integrity = out.Integrity.Add(r.Integrity)
}

// mergeLatencies sets out's latency, and its uncorrected latency and
// send lateness where the first host's result has them, to the sum of
// every host's histograms.
func mergeLatencies(out *result.Result, files []chart.File) error {
	first := files[0]
	lat, err := mergeLatency(files, func(r *result.Result) *result.Latency { return &r.Latency })
	if err != nil {
		return err
	}
	out.Latency = *lat
	out.LatencyUncorrected = nil
	if first.LatencyUncorrected != nil {
		lu, err := mergeLatency(files, func(r *result.Result) *result.Latency { return r.LatencyUncorrected })
		if err != nil {
			return err
		}
		out.LatencyUncorrected = lu
	}
	out.SendLateness = nil
	if first.SendLateness != nil {
		sl, err := mergeLatency(files, func(r *result.Result) *result.Latency { return r.SendLateness })
		if err != nil {
			return err
		}
		out.SendLateness = sl
	}
	return nil
}

// mergeServer is the server block of a merge: the one server every host
// loaded, as the first host saw it, its figures per round trip and per
// connection taken over every host's.
func mergeServer(s result.Server, rts uint64, conns int) *result.Server {
	if rts > 0 {
		perRT := func(c *result.CPU) { c.PerRTus = (c.UserSec + c.SysSec) * 1e6 / float64(rts) }
		perRT(&s.Process)
		if s.LoopThread != nil {
			t := *s.LoopThread
			perRT(&t)
			s.LoopThread = &t
		}
		s.Rates = s.IO.Rates(rts)
	}
	if conns > 0 && s.RSSBase > 0 && s.RSS > s.RSSBase {
		s.RSSPerConn = float64(s.RSS-s.RSSBase) / float64(conns)
	}
	return &s
}

// mergeReport writes each metric as every host measured it and as merged,
// with how the merge makes it.
func mergeReport(w io.Writer, files []chart.File, merged *result.Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := "metric"
	for _, f := range files {
		head += "\t" + chart.Printable(f.Env.Hostname)
	}
	fmt.Fprintln(tw, head+"\tmerged\thow")
	for _, m := range report.Metrics {
		line := m.Name
		for _, f := range files {
			line += "\t" + m.Value(f.Result)
		}
		fmt.Fprintln(tw, line+"\t"+m.Value(merged)+"\t"+m.Hosts.String())
	}
	return tw.Flush()
}

// mergeable checks that files are distinct runs from distinct hosts of
// one point, measured at the same time.
func mergeable(files []chart.File) error {
	first := files[0]
	for i, f := range files {
		for _, g := range files[:i] {
			if same(f.Path, g.Path) {
				return fmt.Errorf("%s is given twice (as %s too): merging a file with itself doubles its throughput", f.Path, g.Path)
			}
			if chart.SameRun(f.Result, g.Result) {
				return fmt.Errorf("%s and %s are the same run (the same latency histogram and counts), from hosts %q and %q: merging it with itself doubles its throughput",
					g.Path, f.Path, chart.Printable(g.Env.Hostname), chart.Printable(f.Env.Hostname))
			}
			if f.Env.Hostname == g.Env.Hostname {
				return fmt.Errorf("%s and %s are from the same load host (%q): merge takes one result per host", g.Path, f.Path, chart.Printable(f.Env.Hostname))
			}
		}
		if i == 0 {
			continue
		}
		a, b := first.Params, f.Params
		var diff string
		switch {
		case a.Backend != b.Backend:
			diff = fmt.Sprintf("backend %q, not %q", b.Backend, a.Backend)
		case a.Target != b.Target:
			diff = fmt.Sprintf("target %q, not %q", b.Target, a.Target)
		case a.MsgSize != b.MsgSize:
			diff = fmt.Sprintf("message size %d, not %d", b.MsgSize, a.MsgSize)
		case a.SndBuf != b.SndBuf || a.RcvBuf != b.RcvBuf:
			diff = "other socket buffer sizes"
		case a.DurationSec != b.DurationSec || a.WarmupSec != b.WarmupSec:
			diff = fmt.Sprintf("window %gs after %gs warm-up, not %gs after %gs", b.DurationSec, b.WarmupSec, a.DurationSec, a.WarmupSec)
		case (a.Rate > 0) != (b.Rate > 0):
			diff = "another load kind (open vs closed loop)"
		}
		if diff != "" {
			return fmt.Errorf("%s: not the same point as %s: %s", f.Path, first.Path, chart.Printable(diff))
		}
	}
	// The hosts loaded one server together only if their windows share
	// a stretch of time.
	var latestStart, earliestEnd time.Time
	var startFile, endFile string
	for _, f := range files {
		if f.WindowStart.IsZero() || f.WindowSec <= 0 {
			return fmt.Errorf("%s: no measurement window recorded, cannot tell whether it overlaps the others", f.Path)
		}
		end := f.WindowStart.Add(time.Duration(f.WindowSec * float64(time.Second)))
		if latestStart.IsZero() || f.WindowStart.After(latestStart) {
			latestStart, startFile = f.WindowStart, f.Path
		}
		if earliestEnd.IsZero() || end.Before(earliestEnd) {
			earliestEnd, endFile = end, f.Path
		}
	}
	if !latestStart.Before(earliestEnd) {
		return fmt.Errorf("%s's window starts at %s, after %s's ended at %s: the windows do not overlap, so the hosts did not load the server together",
			startFile, latestStart.UTC().Format(time.RFC3339Nano), endFile, earliestEnd.UTC().Format(time.RFC3339Nano))
	}
	return nil
}

// same reports whether two paths name one file.
func same(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	if err1 != nil || err2 != nil {
		return filepath.Clean(a) == filepath.Clean(b)
	}
	return os.SameFile(sa, sb)
}

func mergeLatency(files []chart.File, get func(*result.Result) *result.Latency) (*result.Latency, error) {
	var sum *hdrhistogram.Histogram
	out := result.Latency{}
	for _, f := range files {
		l := get(f.Result)
		if l == nil || l.Histogram == "" {
			return nil, chart.BadInput(fmt.Errorf("%s: no latency histogram to merge", f.Path))
		}
		h, err := hdrhistogram.Decode([]byte(l.Histogram))
		if err != nil {
			return nil, chart.BadInput(fmt.Errorf("%s: latency histogram: %v", f.Path, err))
		}
		if sum == nil {
			sum = h
		} else if dropped := sum.Merge(h); dropped > 0 {
			// Samples past the first histogram's range stay counted.
			out.Overflow += dropped
		}
		out.Overflow += l.Overflow
		out.Max = max(out.Max, l.Max)
		if l.Count > 0 && (out.Min == 0 || l.Min < out.Min) {
			out.Min = l.Min
		}
	}
	enc, err := sum.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		return nil, err
	}
	out.Histogram = string(enc)
	out.Count = sum.TotalCount()
	out.Mean, out.StdDev = sum.Mean(), sum.StdDev()
	out.P50, out.P90, out.P99 = sum.ValueAtQuantile(50), sum.ValueAtQuantile(90), sum.ValueAtQuantile(99)
	out.P999, out.P9999 = sum.ValueAtQuantile(99.9), sum.ValueAtQuantile(99.99)
	if hm := sum.Max(); hm > out.Max {
		out.Max = hm
	}
	if l := get(files[0].Result); l != nil {
		for _, p := range l.Percentiles {
			out.Percentiles = append(out.Percentiles, result.Percentile{Percent: p.Percent, Value: sum.ValueAtQuantile(p.Percent)})
		}
	}
	out.Gate()
	return &out, nil
}

const mergeUsage = `usage: muxbench merge -o OUT FILES...

Merges results of one point measured from several load hosts: round
trips and counters summed, latency histograms added.`

// MergeCommand is `muxbench merge -o OUT FILES...`.
func MergeCommand(args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("merge", mergeUsage, stdout)
	out := fs.String("out", "", "merged result `file` to write (required; - for stdout)")
	cli.Alias(fs, "o", "out")
	if err := cli.Parse(fs, args); err != nil {
		return cli.Exit(fs.Name(), err, stderr)
	}
	if *out == "" {
		return cli.Exit(fs.Name(), cli.Usagef("--out FILE is required (usage: muxbench merge -o OUT FILES...)"), stderr)
	}
	if err := cli.CheckFile("out", *out); err != nil {
		return cli.Exit(fs.Name(), err, stderr)
	}
	files, err := chart.Load(fs.Args()...)
	if err == nil {
		var res *result.Result
		if res, err = Merge(files); err == nil {
			if *out == cli.Stdout {
				err = result.Write(stdout, res)
			} else {
				err = result.WriteFile(*out, res)
			}
			if err == nil {
				fmt.Fprintf(stderr, "wrote %s: %d files, %d round trips, %.0f round trips/s\n", *out, len(files), res.RoundTrips, res.Throughput)
				if err := mergeReport(stderr, files, res); err != nil {
					return 1
				}
				return 0
			}
		}
	}
	fmt.Fprintln(stderr, "muxbench merge:", err)
	if errors.Is(err, chart.ErrInput) {
		return 2
	}
	return 1
}

// worstFloor keeps in *dst a copy of f if it is the higher floor.
func worstFloor(dst **result.TimingFloor, f *result.TimingFloor) {
	if f != nil && (*dst == nil || f.P99 > (*dst).P99) {
		fl := *f
		*dst = &fl
	}
}
