package result

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// FuzzDecode feeds arbitrary files to the decoder: it must never panic,
// and whatever it accepts must encode and decode again to the same value,
// so that a merge or a re-saved result loses nothing.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"schema":"muxbench/result/v1","params":{"backend":"epoll"},"window_sec":1}`))
	f.Add([]byte(`{"schema":"muxbench/result/v1","params":{"backend":"epoll","conns":-10},"window_sec":1}`))
	f.Add([]byte(`{"schema":"muxbench/result/v0","params":{"backend":"epoll"}}`))
	f.Add([]byte(`{"schema":"muxbench/result/v1","params":{"backend":"poll","extra":{}},"warnings":[],"window_start":"2026-01-02T03:04:05.123+01:00","window_sec":2,"round_trips":10,"round_trips_per_sec":5}`))
	f.Add([]byte(`{"schema":"muxbench/result/v1","params":{"backend":"select"},"window_sec":1,"faults":{"churned":3,"hostile":[{"kind":"half_close","attempted":1,"expected":1}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Decode(bytes.NewReader(data))
		if err != nil {
			if res != nil {
				t.Fatalf("error %v with a result", err)
			}
			return
		}
		if res.Schema != Schema || res.Params.Backend == "" {
			t.Fatalf("accepted schema %q backend %q", res.Schema, res.Params.Backend)
		}
		enc, err := json.Marshal(res)
		if err != nil {
			t.Fatalf("re-encoding an accepted result: %v", err)
		}
		again, err := Decode(bytes.NewReader(enc))
		if err != nil {
			t.Fatalf("decoding the re-encoded result: %v\n%s", err, enc)
		}
		// Empty and absent lists and maps are the same thing in a file
		// (omitempty drops them); times compare as instants.
		if d := cmp.Diff(res, again, cmpopts.EquateEmpty()); d != "" {
			t.Fatalf("round trip changed the result (-first +again):\n%s", d)
		}
	})
}
