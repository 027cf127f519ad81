package poller

import (
	"errors"
	"maps"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// withCatalog replaces the registries for one test: level "lt", edge
// capable "et", an unavailable backend "gone", the engines stdlib and an
// unavailable "ring". The platform's preferred backend is registered
// too, when there is one, so that Default can pick it.
func withCatalog(t *testing.T) {
	t.Helper()
	savedB, savedE := registry, engines
	t.Cleanup(func() { registry, engines = savedB, savedE })
	registry, engines = map[string]Info{}, map[string]Engine{}
	newFake := func(Options) (Backend, error) { return &fakeBackend{}, nil }
	Register(Info{Name: "lt", New: newFake})
	Register(Info{Name: "et", Caps: Capabilities{EdgeTriggered: true}, New: newFake})
	Register(Info{Name: "gone", New: newFake, Available: func() error { return errors.New("no such syscall") }})
	if p := preferred(); p != "" {
		Register(Info{Name: p, Caps: Capabilities{EdgeTriggered: true}, New: newFake})
	}
	RegisterEngine(Engine{Name: Stdlib})
	RegisterEngine(Engine{Name: "ring", Available: func() error { return errors.New("io_uring disabled") }})
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
		{"lt-et", ErrUnknown, `unknown backend "lt-et" (available: `},
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

func TestParseList(t *testing.T) {
	withCatalog(t)
	got, err := ParseList(" et-et, lt,stdlib,lt ", false)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"et-et", "lt", Stdlib}, ChoiceNames(got)); d != "" {
		t.Errorf("list (-want +got):\n%s", d)
	}
	for _, edge := range []bool{false, true} {
		all, err := ParseList("all", edge)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(All(edge), ChoiceNames(all)); d != "" {
			t.Errorf("all, edge %v (-want +got):\n%s", edge, d)
		}
	}
	for _, bad := range []string{"", " , ", "lt,nope", "gone"} {
		if _, err := ParseList(bad, true); err == nil {
			t.Errorf("ParseList(%q) accepted", bad)
		}
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
