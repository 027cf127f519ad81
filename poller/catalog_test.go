package poller

import (
	"errors"
	"fmt"
	"go/build"
	"maps"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// withCatalog replaces the registries for one test: level "lt", edge
// capable "et", an unavailable backend "gone", the engines stdlib and an
// unavailable "ring", the peers "fp" and an unavailable "fq". The
// platform's preferred backend is registered too, when there is one, so
// that Default can pick it.
func withCatalog(t *testing.T) {
	t.Helper()
	savedB, savedE, savedP := registry, engines, peers
	t.Cleanup(func() { registry, engines, peers = savedB, savedE, savedP })
	registry, engines, peers = map[string]Info{}, map[string]Engine{}, map[string]Peer{}
	newFake := func(Options) (Backend, error) { return &fakeBackend{}, nil }
	Register(Info{Name: "lt", New: newFake})
	Register(Info{Name: "et", Caps: Capabilities{EdgeTriggered: true}, New: newFake})
	Register(Info{Name: "gone", New: newFake, Available: func() error { return errors.New("no such syscall") }})
	if p := preferred(); p != "" {
		Register(Info{Name: p, Caps: Capabilities{EdgeTriggered: true}, New: newFake})
	}
	RegisterEngine(Engine{Name: Stdlib})
	RegisterEngine(Engine{Name: "ring", Available: func() error { return errors.New("io_uring disabled") }})
	RegisterPeer(Peer{Name: "fp", Multiplexer: "poll"})
	RegisterPeer(Peer{Name: "fq", Needs: "fq-dev", Available: func() error { return errors.New("needs fq-dev") }})
}

func TestCatalogNames(t *testing.T) {
	withCatalog(t)
	want := []string{"et", "et-et", "lt"}
	wantEdge := []string{"et", "et-et", "lt"}
	if p := preferred(); p != "" {
		want = []string{"epoll", "epoll-et", "et", "et-et", "lt"}
		if p == "kqueue" {
			want = []string{"et", "et-et", "kqueue", "kqueue-et", "lt"}
		}
		wantEdge = want
	}
	want = append(want, Stdlib)
	wantEdge = append(wantEdge, Stdlib)
	var noEdge []string
	for _, n := range want {
		if !strings.HasSuffix(n, EdgeSuffix) {
			noEdge = append(noEdge, n)
		}
	}
	if d := cmp.Diff(wantEdge, All(true)); d != "" {
		t.Errorf("All(true) (-want +got):\n%s", d)
	}
	if d := cmp.Diff(noEdge, All(false)); d != "" {
		t.Errorf("All(false) (-want +got):\n%s", d)
	}
	// The catalogue itself lists the unavailable too, with the reason.
	var gone, ring bool
	for _, e := range Catalog() {
		switch e.Name {
		case "gone":
			gone = errors.Is(e.Err, ErrUnavailable)
		case "ring":
			ring = e.Engine && errors.Is(e.Err, ErrUnavailable)
		}
	}
	if !gone || !ring {
		t.Errorf("unavailable entries missing from the catalogue: gone %v, ring %v", gone, ring)
	}
}

func TestResolve(t *testing.T) {
	withCatalog(t)
	for _, tc := range []struct {
		name string
		want Choice
	}{
		{"lt", Choice{Name: "lt", Backend: "lt"}},
		{"et-et", Choice{Name: "et-et", Backend: "et", Edge: true}},
		{Stdlib, Choice{Name: Stdlib, Backend: Stdlib, Engine: true}},
	} {
		got, err := Resolve(tc.name)
		if err != nil || got != tc.want {
			t.Errorf("Resolve(%q) = %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
	for _, tc := range []struct {
		name string
		is   error
		text string
	}{
		{"lt-et", ErrUnknown, `unknown backend "lt-et": lt is level-triggered only (available: `},
		{"carrier-pigeon", ErrUnknown, "stdlib)"},
		{"stdlib-et", ErrUnknown, "unknown"},
		{"gone", ErrUnavailable, "gone unavailable: no such syscall"},
		{"ring", ErrUnavailable, "ring unavailable: io_uring disabled"},
	} {
		_, err := Resolve(tc.name)
		if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("Resolve(%q) = %v; want %v containing %q", tc.name, err, tc.is, tc.text)
		}
	}
}

func TestWalkList(t *testing.T) {
	withCatalog(t)
	walk := func(v string, edge, peers bool) (names, skipped []string, all bool, err error) {
		skipped, all, err = WalkList(v, edge, peers, func(n string) error {
			if _, err := Resolve(n); err != nil {
				return err
			}
			names = append(names, n)
			return nil
		})
		return names, skipped, all, err
	}
	got, _, all, err := walk(" et-et, lt,stdlib,lt ", false, false)
	if err != nil || all {
		t.Fatal(all, err)
	}
	if d := cmp.Diff([]string{"et-et", "lt", Stdlib}, got); d != "" {
		t.Errorf("list (-want +got):\n%s", d)
	}
	for _, edge := range []bool{false, true} {
		got, skipped, all, err := walk("lt, all,all", edge, false)
		if err != nil || !all {
			t.Fatal(all, err)
		}
		want := append([]string{"lt"}, slices.DeleteFunc(All(edge), func(n string) bool { return n == "lt" })...)
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("all, edge %v (-want +got):\n%s", edge, d)
		}
		if d := cmp.Diff(Skipped(edge), skipped); d != "" {
			t.Errorf("skipped, edge %v (-want +got):\n%s", edge, d)
		}
	}
	for _, bad := range []string{"", " , ", "lt,nope", "gone", "peers", "fp"} {
		if _, _, _, err := walk(bad, true, false); err == nil {
			t.Errorf("WalkList(%q) accepted", bad)
		}
	}
	if _, _, _, err := walk(" , ", true, false); err == nil || strings.Contains(err.Error(), "fp") {
		t.Errorf("an empty list: %v; want the servers named, not the peers", err)
	}
}

func TestDefault(t *testing.T) {
	withCatalog(t)
	want := preferred()
	if want == "" {
		want = "et" // the first available, sorted
	}
	if got := Default(); got != want {
		t.Errorf("Default() = %q on %s, want %q", got, runtime.GOOS, want)
	}
	// Without the platform's own, the first available backend.
	delete(registry, preferred())
	if got := Default(); got != "et" {
		t.Errorf("Default() without %s = %q, want et", preferred(), got)
	}
	registry = map[string]Info{"gone": registry["gone"]}
	if got := Default(); got != "" {
		t.Errorf("Default() with nothing available = %q", got)
	}
}

func TestCheck(t *testing.T) {
	withCatalog(t)
	for _, tc := range []struct {
		name string
		opts Options
		is   error
	}{
		{"lt", Options{}, nil},
		{"lt", Options{EdgeTriggered: true}, ErrUnsupported},
		{"et", Options{EdgeTriggered: true}, nil},
		{Stdlib, Options{}, nil},
		{Stdlib, Options{EdgeTriggered: true}, ErrUnsupported},
		{"gone", Options{}, ErrUnavailable},
		{"ring", Options{}, ErrUnavailable},
		{"nope", Options{}, ErrUnknown},
	} {
		err := Check(tc.name, tc.opts)
		if tc.is == nil && err != nil || tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("Check(%q, %+v) = %v, want %v", tc.name, tc.opts, err, tc.is)
		}
	}
	// Open refuses what Check refuses.
	if _, err := Open("gone", Options{}); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Open(gone) = %v", err)
	}
	if _, err := Open(Stdlib, Options{}); !errors.Is(err, ErrUnknown) {
		t.Errorf("Open(stdlib), an engine = %v", err)
	}
}

func TestRegisterClash(t *testing.T) {
	withCatalog(t)
	saved := maps.Clone(engines)
	defer func() {
		if recover() == nil {
			t.Error("an engine named like a backend registered")
		}
		engines = saved
	}()
	RegisterEngine(Engine{Name: "lt"})
}

// Peers are catalogue names of their own kind: listed last, never in
// all, refused by Resolve (serve, soak), taken by ParseListWithPeers
// (run) by name or as "peers", which skips, saying why, those that
// cannot run.
func TestPeersInCatalogue(t *testing.T) {
	withCatalog(t)
	var names []string
	for _, e := range Catalog() {
		if e.Peer {
			names = append(names, e.Name)
			if e.Name == "fq" && !errors.Is(e.Err, ErrUnavailable) {
				t.Errorf("fq: %v, want unavailable", e.Err)
			}
		} else if names != nil {
			t.Errorf("%s listed after the peers", e.Name)
		}
	}
	if d := cmp.Diff([]string{"fp", "fq"}, names); d != "" {
		t.Errorf("peers in the catalogue (-want +got):\n%s", d)
	}
	for _, n := range All(true) {
		if n == "fp" || n == "fq" {
			t.Errorf("All lists the peer %s", n)
		}
	}
	if _, err := Resolve("fp"); !errors.Is(err, ErrPeer) || !strings.Contains(err.Error(), "fp is a peer") {
		t.Errorf("Resolve(fp) = %v, want a peer refused", err)
	}

	got, skipped, err := ParseListWithPeers("peers", false)
	if err != nil || !cmp.Equal([]Choice{{Name: "fp", Backend: "fp", Peer: true}}, got) ||
		len(skipped) != 1 || !strings.Contains(skipped[0], "fq: unavailable: needs fq-dev") {
		t.Errorf("peers: %+v, skipped %q, %v", got, skipped, err)
	}
	got, skipped, err = ParseListWithPeers("lt, fp,all,fp", false)
	want := []string{"lt", "fp"}
	for _, n := range All(false) {
		if n != "lt" {
			want = append(want, n)
		}
	}
	if err != nil || !cmp.Equal(want, ChoiceNames(got)) || !cmp.Equal(Skipped(false), skipped) {
		t.Errorf("lt,fp,all,fp: %q (want %q), skipped %q, %v", ChoiceNames(got), want, skipped, err)
	}
	for _, tc := range []struct {
		list string
		is   error
		text string
	}{
		{"fq", ErrUnavailable, "fq unavailable: needs fq-dev"},
		{"nope", ErrUnknown, "fp, fq"},
	} {
		if _, _, err := ParseListWithPeers(tc.list, false); !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("%s: %v, want %v saying %q", tc.list, err, tc.is, tc.text)
		}
	}
	if _, _, err := ParseListWithPeers("", false); err == nil {
		t.Error("an empty list accepted")
	}
	defer func() {
		if recover() == nil {
			t.Error("a peer named like a backend registered")
		}
	}()
	RegisterPeer(Peer{Name: "lt"})
}

// A backend that runs on an emulation (libkqueue) runs when named, and
// "all" leaves it out, saying why.
func TestCatalogEmulation(t *testing.T) {
	withCatalog(t)
	Register(Info{Name: "emu", Caps: Capabilities{EdgeTriggered: true}, Emulation: "libemu",
		New: func(Options) (Backend, error) { return &fakeBackend{}, nil }})
	for _, edge := range []bool{false, true} {
		if all := All(edge); strings.Contains(strings.Join(all, ","), "emu") {
			t.Errorf("All(%v) = %v: the emulated backend is in it", edge, all)
		}
	}
	skipped := strings.Join(Skipped(true), "\n")
	if !strings.Contains(skipped, "emu: runs on libemu") || !strings.Contains(skipped, "emu-et: runs on libemu") {
		t.Errorf("Skipped(true) does not say why emu is left out:\n%s", skipped)
	}
	if strings.Contains(strings.Join(Skipped(false), "\n"), "emu-et") {
		t.Errorf("Skipped(false) names the edge-triggered variant")
	}
	for _, name := range []string{"emu", "emu-et"} {
		if c, err := Resolve(name); err != nil || c.Backend != "emu" {
			t.Errorf("Resolve(%s) = %+v, %v", name, c, err)
		}
	}
	if cs, _, err := ParseListWithPeers("emu,lt", false); err != nil || len(cs) != 2 {
		t.Errorf("ParseListWithPeers(emu,lt) = %v, %v", cs, err)
	}
}

// A backend of muxbench's built for other systems only is known by name:
// refused as unavailable here, saying which systems it is built for,
// never as unknown; a name nobody knows gets the nearest known one.
func TestNamesElsewhere(t *testing.T) {
	withCatalog(t)
	var other string
	for _, n := range slices.Sorted(maps.Keys(builtFor)) {
		if !slices.Contains(builtFor[n], runtime.GOOS) {
			other = n
			break
		}
	}
	if other == "" {
		t.Skipf("every backend is built for %s", runtime.GOOS)
	}
	want := fmt.Sprintf("%s is not available on %s (it is built for %s)", other, runtime.GOOS, strings.Join(Platforms(other), ", "))
	check := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrUnknown) || err.Error() != want {
			t.Errorf("%s: %v; want ErrUnavailable saying %q", what, err, want)
		}
	}
	_, err := Resolve(other)
	check("Resolve", err)
	check("Check", Check(other, Options{}))
	_, err = Open(other, Options{})
	check("Open", err)
	_, _, err = ParseListWithPeers("lt,"+other, false)
	check("ParseListWithPeers", err)
	if _, err := Resolve(other + EdgeSuffix); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Resolve(%s%s) = %v, want unavailable", other, EdgeSuffix, err)
	}
	var listed []string
	for _, e := range Elsewhere() {
		listed = append(listed, e.Name)
		if !errors.Is(e.Err, ErrUnavailable) {
			t.Errorf("Elsewhere: %s: %v", e.Name, e.Err)
		}
	}
	if !slices.Contains(listed, other) {
		t.Errorf("Elsewhere() = %q, want %s among them", listed, other)
	}

	for _, tc := range []struct{ name, want string }{
		{"ltt", `unknown backend "ltt": did you mean lt? (available: `},
		{"stdlb", "did you mean stdlib?"},
		{"carrier-pigeon", `unknown backend "carrier-pigeon" (available: `},
	} {
		_, err := Resolve(tc.name)
		if !errors.Is(err, ErrUnknown) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Resolve(%q) = %v; want ErrUnknown saying %q", tc.name, err, tc.want)
		}
	}
	if _, _, err := ParseListWithPeers("fpp", false); !errors.Is(err, ErrUnknown) || !strings.Contains(err.Error(), "did you mean fp?") {
		t.Errorf("ParseListWithPeers(fpp) = %v; want a peer suggested", err)
	}
}

// builtFor says what poller/all's build tags say: for each system
// muxbench builds for, the backend packages built there.
func TestBuiltForMatchesBuildTags(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("all", "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("poller/all: %v, %d files", err, len(files))
	}
	pkgs := map[string]bool{}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".go")
		if name == "all" {
			continue
		}
		pkgs[name] = true
		for _, goos := range append(slices.Clone(unixes), "windows") {
			ctx := build.Default
			ctx.GOOS, ctx.BuildTags, ctx.CgoEnabled = goos, nil, false
			built, err := ctx.MatchFile("all", filepath.Base(f))
			if err != nil {
				t.Fatal(err)
			}
			if want := slices.Contains(builtFor[name], goos); built != want {
				t.Errorf("%s on %s: built %v, the catalogue says %v", name, goos, built, want)
			}
		}
	}
	for n, where := range builtFor {
		// busywait-sleep is registered by busywait's package.
		pkg, _, _ := strings.Cut(n, "-")
		if !pkgs[pkg] || !slices.Equal(where, builtFor[pkg]) {
			t.Errorf("%s: no package in poller/all builds it where the catalogue says (%v)", n, where)
		}
	}
}
