package compare

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/muxbench/muxbench/internal/cli"
	"github.com/muxbench/muxbench/peer"
	"github.com/muxbench/muxbench/poller"
	_ "github.com/muxbench/muxbench/poller/all" // every backend this platform has
	"github.com/muxbench/muxbench/sweep"
	"golang.org/x/sys/unix"
)

// limits are this process's: the descriptor limit, each backend's own
// ceiling, and the peers among the backends (the catalogue's, and users'
// own).
func limits(own peer.Flags) Limits {
	l := Limits{CPUs: runtime.NumCPU(), Exclusive: func(b string) bool {
		info, ok := poller.Lookup(b)
		return ok && info.Caps.Exclusive
	}, MaxFD: func(b string) int {
		if info, ok := poller.Lookup(b); ok {
			return info.Caps.MaxFD
		}
		return 0
	}, Peer: func(b string) *peer.Peer {
		for _, p := range own {
			if p.Name == b {
				return p
			}
		}
		p, _ := peer.Lookup(b)
		return p
	}}
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err == nil && rl.Cur < 1<<31 {
		l.FDs = int(rl.Cur)
	}
	return l
}

const compareUsage = `usage: muxbench compare [--backend LIST] [--peers] [--peer NAME=COMMAND] [--quick] [--repeat N] [--out DIR] [--resume] [--plan]

Runs every backend over the active, idle, message-size and open-loop
sweeps, and the peers (other projects' event loops: the full profile's,
or --peers) over the active and idle sweeps, saving each run as it
completes, then draws the charts and the summary table. Progress goes
to stderr, the table to stdout.`

// maxRepeats bounds --repeat: the plan multiplies it by its points.
const maxRepeats = 1000

// drawCharts is false in tests that check a comparison's verdict, not its
// charts (drawing is slow under the race detector).
var drawCharts = true

// Command is `muxbench compare`. Exit status: 0 all runs saved, 1 some run
// failed or the comparison was interrupted, 2 bad usage.
func Command(args []string, stdout, stderr io.Writer) int {
	fs := cli.NewFlagSet("compare", compareUsage, stdout)
	f := newCompareFlags(fs)
	if err := cli.ParseFlagsOnly(fs, args); err != nil {
		return cli.Exit(fs.Name(), err, stderr)
	}
	fail := func(err error) int { return cli.Exit(fs.Name(), err, stderr) }
	if err := f.check(); err != nil {
		return fail(err)
	}
	given := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { given[fl.Name] = true })
	// The full profile is the reference: every server, peers included,
	// unless the servers are chosen.
	list, skips, err := serverList(f.backends, f.peers || !f.quick && !given["peers"] && !given["backend"])
	if err != nil {
		return fail(err)
	}
	for _, p := range f.userPeers {
		list = append(list, p.Name)
	}
	// What all and peers leave out is said once the input is known good:
	// a bad flag's error stays one line.
	for _, s := range skips {
		fmt.Fprintln(stderr, "muxbench compare: skipping", s)
	}
	o := f.options(list, args)
	if f.planOnly {
		writePlan(stdout, o)
		return 0
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := Run(ctx, o, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "muxbench compare:", err)
		if errors.Is(err, ErrInterrupted) {
			return 130
		}
		return 1
	}
	return 0
}

// compareFlags are compare's flags, as given.
type compareFlags struct {
	backends, out                                                string
	peers, quick, resume, planOnly, verbose, allowMixed, noRerun bool
	userPeers                                                    peer.Flags
	repeat                                                       int
	quietWait                                                    time.Duration
}

// newCompareFlags defines compare's flags on fs.
func newCompareFlags(fs *flag.FlagSet) *compareFlags {
	f := &compareFlags{}
	fs.StringVar(&f.backends, "backend", "all", "`backends` to compare: all (muxbench's own, and "+CFloor+" where a C compiler exists), "+poller.PeersKeyword+
		" (every peer available here), or a comma-separated list of "+strings.Join(poller.All(false), ", ")+" and the peers "+strings.Join(poller.PeerNames(), ", "))
	fs.BoolVar(&f.peers, "peers", false, "also every peer available here (other projects' event loops) in the active and idle sweeps; the full profile runs them with the default --backend unless --peers=false")
	fs.Var(&f.userPeers, "peer", peer.FlagUsage+"; run in the active and idle sweeps")
	fs.BoolVar(&f.quick, "quick", false, "fewer points and shorter runs (--quick --plan: how long they take here)")
	fs.IntVar(&f.repeat, "repeat", 0, fmt.Sprintf("`runs` per point (default: %d or as many more as fit in %s, up to %d; 1 with --quick)", sweep.Full.MinRepeat, FullBudget, maxRepeat))
	fs.StringVar(&f.out, "out", "results", "`directory` for json/, the charts and summary.md")
	cli.Alias(fs, "o", "out")
	fs.BoolVar(&f.resume, "resume", false, "skip runs whose result file already exists")
	fs.BoolVar(&f.planOnly, "plan", false, "print the plan, each run's planned time and the whole's, and run nothing")
	fs.BoolVar(&f.verbose, "v", false, "show the load generator's own progress lines")
	fs.BoolVar(&f.allowMixed, "allow-mixed", false, "chart results of other machines or muxbench versions found in the output directory")
	fs.BoolVar(&f.noRerun, "no-rerun", false, "keep a noisy run (busy machine) instead of running it again")
	fs.DurationVar(&f.quietWait, "quiet-wait", DefaultQuietWait, "longest `wait` for a quiet machine before each run (0: no wait)")
	return f
}

// check refuses the values out of bounds, and an output that cannot be
// written now, not after the runs, nor after asking every peer whether
// it can run.
func (f *compareFlags) check() error {
	if f.repeat < 0 || f.repeat > maxRepeats {
		return fmt.Errorf("--repeat %d: want 1 to %d, or 0 for as many as fit", f.repeat, maxRepeats)
	}
	if f.quietWait < 0 {
		return fmt.Errorf("--quiet-wait %v: want 0 (no wait) or a positive duration, e.g. 20s", f.quietWait)
	}
	if !f.planOnly {
		return cli.CheckDir("out", filepath.Join(f.out, "json"))
	}
	return nil
}

// options are the comparison of the servers in list that the flags ask
// for; args are the command's, recorded in summary.md.
func (f *compareFlags) options(list, args []string) Options {
	o := Options{
		Backends: list, Sweeps: sweep.Full, Budget: FullBudget, Repeat: f.repeat,
		Out: f.out, Resume: f.resume, Limits: limits(f.userPeers), Runner: DefaultRunner, Verbose: f.verbose,
		Command:    "muxbench compare " + strings.Join(args, " "),
		AllowMixed: f.allowMixed,
		Busy:       machineBusy, QuietBelow: DefaultQuietBelow, QuietWait: f.quietWait,
		Reruns: DefaultReruns,
		noDraw: !drawCharts,
	}
	if f.noRerun {
		o.Reruns = 0
	}
	if f.quietWait <= 0 {
		o.Busy = nil
	}
	if f.quick {
		o.Sweeps, o.Budget = sweep.Quick, QuickBudget
		if o.Repeat == 0 {
			o.Repeat = 1
		}
	}
	return o
}

// writePlan prints o's plan, running nothing: the points it skips, each
// run with its planned time, and the whole's.
func writePlan(w io.Writer, o Options) {
	pl := o.plan()
	for _, s := range pl.Skipped {
		fmt.Fprintln(w, "skip", s)
	}
	if pl.Note != "" {
		fmt.Fprintln(w, "note", pl.Note)
	}
	for _, p := range pl.Points {
		fmt.Fprintf(w, "%-44s %s\n", p.File(), pl.RunTime(p).Round(100e6))
	}
	fmt.Fprintf(w, "%d runs (%d repeats), %s\n", len(pl.Points), pl.Repeat, o.planned(pl))
}

// serverList reads --backend, and with peers every peer available here:
// the servers to compare, and one line for each that all or peers left
// out, saying why. all is muxbench's own backends and the C floor, a
// reference line, where it can run.
func serverList(backends string, peers bool) (list, skips []string, err error) {
	names := strings.Split(backends, ",")
	for i := range names {
		names[i] = strings.TrimSpace(names[i])
	}
	if slices.Contains(names, "all") && !slices.Contains(names, CFloor) {
		if p, ok := peer.Lookup(CFloor); ok {
			if err := p.Available(); err != nil {
				skips = append(skips, fmt.Sprintf("%s: %v", CFloor, err))
			} else {
				names = append(names, CFloor)
			}
		}
	}
	if peers {
		names = append(names, poller.PeersKeyword)
	}
	choices, skipped, err := poller.ParseListWithPeers(strings.Join(names, ","), false)
	if err != nil {
		return nil, nil, fmt.Errorf("--backend %q: %v", backends, err)
	}
	for _, c := range choices {
		if c.Peer {
			continue
		}
		if info, _ := poller.Lookup(c.Backend); info.Emulation != "" {
			return nil, nil, fmt.Errorf("--backend %s: %s runs on %s here: its figures are not %s's, and no chart takes them; measure it with run", c.Name, c.Backend, info.Emulation, c.Backend)
		}
		if c.Edge {
			// The charts draw one series per backend.
			return nil, nil, fmt.Errorf("--backend %s: compare runs every backend level-triggered; measure %s with run", c.Name, c.Name)
		}
	}
	return poller.ChoiceNames(choices), append(skips, skipped...), nil
}
