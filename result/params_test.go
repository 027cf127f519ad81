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
