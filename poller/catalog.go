package poller

import (
	"errors"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/muxbench/muxbench/internal/suggest"
)

// The catalogue: every name a muxbench server can be asked to run, kept
// here so that run, serve, soak and compare accept the same names and
// lists. A name is a poller backend ("epoll"), a backend that can be
// edge-triggered run that way (its name and EdgeSuffix: "epoll-et"), or
// an engine: a server that does not sit on a Poller ("stdlib"), which the
// package implementing it registers with RegisterEngine. Peers, echo
// servers over other projects' event loops, are names of their own kind
// (RegisterPeer): run measures them, serve and soak refuse them.

// Stdlib names the baseline engine: Go's net package, one goroutine per
// connection over the runtime's own netpoller.
const Stdlib = "stdlib"

// EdgeSuffix turns a backend name into its edge-triggered variant.
const EdgeSuffix = "-et"

// ErrUnavailable is wrapped by the error for a name that is known but
// cannot run on this machine (a kernel without the facility, say).
var ErrUnavailable = errors.New("unavailable")

// Engine is a server that is not a Poller backend.
type Engine struct {
	Name string
	// Doc is one line for `muxbench backends`.
	Doc string
	// Available, if set, tells why the engine cannot run here; nil means
	// it can. It is called once.
	Available func() error
}

var engines = map[string]Engine{}

// RegisterEngine makes an engine a catalogue name; the package that
// implements it calls it from init.
func RegisterEngine(e Engine) {
	if _, dup := engines[e.Name]; dup {
		panic("poller: engine registered twice: " + e.Name)
	}
	if _, dup := registry[e.Name]; dup {
		panic("poller: engine named like a backend: " + e.Name)
	}
	if _, dup := peers[e.Name]; dup {
		panic("poller: engine named like a peer: " + e.Name)
	}
	if e.Available != nil {
		e.Available = sync.OnceValue(e.Available)
	}
	engines[e.Name] = e
}

// Choice is one catalogue name, resolved.
type Choice struct {
	// Name is as lists write it: "epoll", "epoll-et", "stdlib".
	Name string
	// Backend is the poller backend or the engine that serves it.
	Backend string
	// Edge asks for edge-triggered notification.
	Edge bool
	// Engine is set for a server that is not a Poller backend.
	Engine bool
	// Peer is set for another project's echo server (RegisterPeer).
	Peer bool
}

// Options are the poller options the choice implies.
func (c Choice) Options() Options { return Options{EdgeTriggered: c.Edge} }

// Entry is one line of the catalogue.
type Entry struct {
	Choice
	Doc string
	// Caps are the backend's; zero for an engine or a peer.
	Caps Capabilities
	// Multiplexer and Needs are a peer's (see Peer).
	Multiplexer, Needs string
	// Err, if not nil, says why the entry cannot run here.
	Err error
	// Emulation is the backend's Info.Emulation.
	Emulation string
}

// emulated says why "all" leaves an entry out though it can run.
func (e Entry) emulated() string {
	return "runs on " + e.Emulation + " here, not on the kernel's own " + e.Backend + ": named, never in all"
}

func availability(f func() error) error {
	if f == nil {
		return nil
	}
	if err := f(); err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return nil
}

// Catalog lists every registered name, available or not: each backend
// (sorted) followed by its edge-triggered variant where it has one, then
// the engines (sorted), then the peers (sorted). A peer's availability
// may take a moment to learn (see Peer.Available).
func Catalog() []Entry { return append(own(), Peers()...) }

// own is the catalogue of muxbench's own servers: backends and engines.
func own() []Entry {
	var out []Entry
	for _, i := range Backends() {
		err := availability(i.Available)
		out = append(out, Entry{Choice: Choice{Name: i.Name, Backend: i.Name}, Doc: i.Doc, Caps: i.Caps, Err: err, Emulation: i.Emulation})
		if i.Caps.EdgeTriggered {
			out = append(out, Entry{Choice: Choice{Name: i.Name + EdgeSuffix, Backend: i.Name, Edge: true},
				Doc: i.Name + ", edge-triggered", Caps: i.Caps, Err: err, Emulation: i.Emulation})
		}
	}
	names := make([]string, 0, len(engines))
	for n := range engines {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		e := engines[n]
		out = append(out, Entry{Choice: Choice{Name: n, Backend: n, Engine: true}, Doc: e.Doc, Err: availability(e.Available)})
	}
	return out
}

// All lists the names that can run here: every backend and engine, and
// with edge also the edge-triggered variants. Without them it is the
// comparable set, every server in its default mode. An emulated backend
// is left out: it measures another mechanism.
func All(edge bool) []string {
	var out []string
	for _, e := range own() {
		if e.Err == nil && e.Emulation == "" && (edge || !e.Edge) {
			out = append(out, e.Name)
		}
	}
	return out
}

// Skipped says, one line per name, what All(edge) leaves out on this
// machine and why, for commands to print when asked for "all".
func Skipped(edge bool) []string {
	var out []string
	for _, e := range own() {
		switch {
		case !edge && e.Edge:
		case e.Err != nil:
			out = append(out, e.Name+": "+e.Err.Error())
		case e.Emulation != "":
			out = append(out, e.Name+": "+e.emulated())
		}
	}
	return out
}

// Resolve looks up the name of one of muxbench's own servers. Its error
// wraps ErrUnknown, naming what there is, ErrUnavailable, saying why not,
// or ErrPeer.
func Resolve(name string) (Choice, error) {
	if _, ok := peers[name]; ok {
		return Choice{}, fmt.Errorf("%s is %w", name, ErrPeer)
	}
	for _, e := range own() {
		if e.Name != name {
			continue
		}
		if e.Err != nil {
			return e.Choice, fmt.Errorf("%s %w", name, e.Err)
		}
		return e.Choice, nil
	}
	return Choice{}, unknown(name, All(true))
}

// WalkList reads a comma-separated list of names, as --backend takes it
// in every command, and hands each name to add, which resolves it as its
// command does: blanks and repeats are dropped, "all" stands for
// All(edge) and, with peers, "peers" for every peer available here; a
// command without peers refuses "peers". skipped says, one line each,
// what those left out here and why, and all whether the list said "all"
// (to which a command may add cases of its own). WalkList stops at add's
// first error; a list with no name in it is an error naming what there
// is.
func WalkList(v string, edge, peers bool, add func(name string) error) (skipped []string, all bool, err error) {
	seen := map[string]bool{} // names and keywords
	named := 0
	each := func(names ...string) error {
		for _, n := range names {
			if seen[n] {
				continue
			}
			seen[n] = true
			named++
			if err := add(n); err != nil {
				return err
			}
		}
		return nil
	}
	for _, n := range strings.Split(v, ",") {
		n = strings.TrimSpace(n)
		if n == "" || seen[n] {
			continue
		}
		switch {
		case n == "all":
			seen[n], all = true, true
			skipped = append(skipped, Skipped(edge)...)
			err = each(All(edge)...)
		case n == PeersKeyword && peers:
			seen[n] = true
			var avail []string
			for _, e := range Peers() {
				if e.Err != nil {
					skipped = append(skipped, e.Name+": "+e.Err.Error())
				} else {
					avail = append(avail, e.Name)
				}
			}
			err = each(avail...)
		case n == PeersKeyword:
			err = fmt.Errorf("%s: other projects' echo servers, which only run measures", n)
		default:
			err = each(n)
		}
		if err != nil {
			return nil, false, err
		}
	}
	if named == 0 {
		want, avail := "all", All(true)
		if peers {
			want, avail = "all, "+PeersKeyword+",", append(avail, PeerNames()...)
		}
		return skipped, all, fmt.Errorf("nothing to run in %q (want %s or a list of: %s)", v, want, strings.Join(avail, ", "))
	}
	return skipped, all, nil
}

// Names of a list of choices, as lists write them.
func ChoiceNames(cs []Choice) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	return out
}

// preferred is the platform's own scalable mechanism.
func preferred() string {
	switch {
	case runtime.GOOS == "linux":
		return "epoll"
	case slices.Contains(bsds, runtime.GOOS):
		return "kqueue"
	}
	return ""
}

// Default is the backend to use when none is named: the platform's own
// (epoll on Linux, kqueue on the BSDs and macOS) if registered and
// available, else the first backend that is, else "".
func Default() string {
	best := ""
	for _, i := range Backends() {
		if availability(i.Available) != nil {
			continue
		}
		if i.Name == preferred() {
			return i.Name
		}
		if best == "" {
			best = i.Name
		}
	}
	return best
}

// Check tells whether name can run with opts: a known, available
// backend with the capabilities opts ask for, or an engine, which takes
// no poller options.
func Check(name string, opts Options) error {
	if info, ok := registry[name]; ok {
		if err := availability(info.Available); err != nil {
			return fmt.Errorf("%s %w", name, err)
		}
		if opts.EdgeTriggered && !info.Caps.EdgeTriggered {
			return fmt.Errorf("%w: %s is level-triggered only", ErrUnsupported, name)
		}
		if opts.SpinSleep != 0 && !info.Caps.Spins {
			return fmt.Errorf("%w: %s does not busy-wait, so it has no rounds to sleep after", ErrUnsupported, name)
		}
		return nil
	}
	if e, ok := engines[name]; ok {
		if err := availability(e.Available); err != nil {
			return fmt.Errorf("%s %w", name, err)
		}
		if opts != (Options{}) {
			return fmt.Errorf("%w: poller options (edge-triggered, spin sleep) do not apply to %s", ErrUnsupported, name)
		}
		return nil
	}
	return unknown(name, All(false))
}

// The systems the backends are built for, as poller/all's build tags
// say (a test holds the two together).
var (
	bsds   = []string{"darwin", "dragonfly", "freebsd", "netbsd", "openbsd"}
	unixes = append([]string{"linux"}, bsds...)
)

// builtFor lists every poller backend muxbench has, built here or not,
// with the systems it is built for: a name of another system's backend
// is then refused as such ("kqueue is not available on linux"), not as
// a name nobody knows.
var builtFor = map[string][]string{
	"busywait":       unixes,
	"busywait-sleep": unixes,
	"epoll":          {"linux"},
	"iouring":        {"linux"},
	"kqueue":         bsds,
	"poll":           unixes,
	"select":         unixes,
}

// Platforms lists the systems (GOOS) the backend called name is built
// for, whether or not this one is among them; nil for a name that is no
// backend of muxbench's.
func Platforms(name string) []string {
	return builtFor[strings.TrimSuffix(name, EdgeSuffix)]
}

// Elsewhere lists, sorted, the backends of muxbench's that are not
// built for this system, each with the error that says which systems
// they are built for.
func Elsewhere() []Entry {
	var out []Entry
	for _, n := range slices.Sorted(maps.Keys(builtFor)) {
		if _, here := registry[n]; here {
			continue
		}
		if err := unknown(n, nil); errors.Is(err, ErrUnavailable) {
			out = append(out, Entry{Choice: Choice{Name: n, Backend: n}, Err: err})
		}
	}
	return out
}

// unknownError reads without the package prefix: it is shown to users
// after the flag that named the backend.
// why, if set, is what the name was taken for.
type unknownError struct{ name, why, avail string }

func (e *unknownError) Error() string {
	if e.why != "" {
		return fmt.Sprintf("unknown backend %q: %s (available: %s)", e.name, e.why, e.avail)
	}
	return fmt.Sprintf("unknown backend %q (available: %s)", e.name, e.avail)
}
func (e *unknownError) Unwrap() error { return ErrUnknown }

// elsewhereError is a backend of muxbench's that is not built for this
// system.
type elsewhereError struct {
	name  string
	where []string
}

func (e *elsewhereError) Error() string {
	return fmt.Sprintf("%s is not available on %s (it is built for %s)", e.name, runtime.GOOS, strings.Join(e.where, ", "))
}
func (e *elsewhereError) Unwrap() error { return ErrUnavailable }

// unknown is the error for a name not registered here: a backend of
// another system's (ErrUnavailable), or a name nobody knows (ErrUnknown),
// saying what it was likely meant to be: a level-triggered backend's
// edge-triggered variant, or the nearest of avail where one is close.
func unknown(name string, avail []string) error {
	if where := Platforms(name); where != nil && !slices.Contains(where, runtime.GOOS) {
		return &elsewhereError{name, where}
	}
	why := ""
	base, edge := strings.CutSuffix(name, EdgeSuffix)
	if info, ok := registry[base]; edge && ok && !info.Caps.EdgeTriggered {
		why = base + " is level-triggered only"
	} else if near := suggest.Nearest(name, avail); near != "" {
		why = "did you mean " + near + "?"
	}
	return &unknownError{name, why, strings.Join(avail, ", ")}
}
