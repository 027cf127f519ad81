package result

import (
	"reflect"
	"testing"
)

// Every counter takes part in Add and Sub, new ones included.
func TestIOAddSub(t *testing.T) {
	var a, b IO
	av, bv := reflect.ValueOf(&a).Elem(), reflect.ValueOf(&b).Elem()
	for i := range av.NumField() {
		av.Field(i).SetUint(uint64(100 + i))
		bv.Field(i).SetUint(uint64(1 + i))
	}
	sum := a.Add(b)
	sv := reflect.ValueOf(sum)
	for i := range sv.NumField() {
		if got, want := sv.Field(i).Uint(), uint64(101+2*i); got != want {
			t.Errorf("Add: %s = %d, want %d", sv.Type().Field(i).Name, got, want)
		}
	}
	if got := sum.Sub(b); got != a {
		t.Errorf("Sub undoes Add: got %+v, want %+v", got, a)
	}
}

func TestIORates(t *testing.T) {
	r := IO{Writes: 200, ShortWrites: 50, WriteEAGAIN: 20, Waits: 40, Events: 80}.Rates(100)
	want := Rates{ShortWritesPerWrite: 0.25, ShortWritesPerRT: 0.5, WriteEAGAINPerWrite: 0.1, WriteEAGAINPerRT: 0.2, WaitsPerRT: 0.4, EventsPerWait: 2}
	if r != want {
		t.Errorf("Rates = %+v, want %+v", r, want)
	}
	if r := (IO{ShortWrites: 1}).Rates(0); r != (Rates{}) {
		t.Errorf("zero divisors give %+v, want zeros", r)
	}
}

func TestMinSamples(t *testing.T) {
	for p, want := range map[float64]int64{50: 2, 90: 10, 99: 100, 99.9: 1000, 99.99: 10000, 75: 4, 100: 1} {
		if got := MinSamples(p); got != want {
			t.Errorf("MinSamples(%g) = %d, want %d", p, got, want)
		}
	}
}
