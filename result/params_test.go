package result

import (
	"strings"
	"testing"
)

// Files written before the sweep and the repeat were typed still read,
// into the typed fields, and a repeat that is no run number is refused.
func TestParamsLegacySweep(t *testing.T) {
	const file = `{"schema":"muxbench/result/v1","window_sec":1,"params":{"backend":"epoll","conns":100,
	"extra":{"sweep":"idle","repeat":"3","server_pid":"42"}}}`
	res, err := Decode(strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	p := res.Params
	if p.Sweep != "idle" || p.Repeat != 3 || p.Conns != 100 || len(p.Extra) != 1 || p.Extra["server_pid"] != "42" {
		t.Errorf("params %+v: want sweep idle, repeat 3 and only server_pid left in extra", p)
	}
	typed := `{"schema":"muxbench/result/v1","window_sec":1,"params":{"backend":"epoll","sweep":"active","repeat":2}}`
	if res, err := Decode(strings.NewReader(typed)); err != nil || res.Params.Sweep != "active" || res.Params.Repeat != 2 || res.Params.Extra != nil {
		t.Errorf("typed params: %+v, %v", res, err)
	}
	for _, bad := range []string{`{"extra":{"repeat":"two"}}`, `{"extra":{"repeat":"0"}}`, `{"backend":"epoll","colour":"blue"}`} {
		var p Params
		if err := p.UnmarshalJSON([]byte(bad)); err == nil {
			t.Errorf("%s accepted as %+v", bad, p)
		}
	}
}

// Results written in a row are NDJSON: a line each, each a result.
func TestWriteNDJSON(t *testing.T) {
	var b strings.Builder
	for _, backend := range []string{"epoll", "poll"} {
		if err := Write(&b, &Result{Params: Params{Backend: backend}, WindowSec: 1}); err != nil {
			t.Fatal(err)
		}
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want one per result:\n%s", len(lines), b.String())
	}
	for i, want := range []string{"epoll", "poll"} {
		if r, err := Decode(strings.NewReader(lines[i])); err != nil || r.Params.Backend != want {
			t.Errorf("line %d: %v, %v", i+1, r, err)
		}
	}
}
