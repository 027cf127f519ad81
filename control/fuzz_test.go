package control

import (
	"encoding/json"
	"testing"
)

// FuzzControlRequest feeds arbitrary lines to the request decoder: it must
// never panic, must accept only the three ops, and what it accepts must
// survive a round trip through the client's encoding.
func FuzzControlRequest(f *testing.F) {
	for _, s := range []string{
		`{"op":"stats"}`,
		`{"op":"stop","token":"abc"}`,
		`{"op":"shell"}`,
		`{"op":"stats","token":"\u0000\ud800"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		req, err := decodeRequest(line)
		if err != nil {
			return
		}
		if req.Op != OpHello && req.Op != OpStats && req.Op != OpStop {
			t.Fatalf("accepted op %q", req.Op)
		}
		if len(line) > MaxRequest+2 {
			t.Fatalf("accepted a %d-byte line", len(line))
		}
		enc, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		again, err := decodeRequest(enc)
		if err != nil || again != req {
			t.Fatalf("round trip of %q: %+v, %v", enc, again, err)
		}
	})
}
