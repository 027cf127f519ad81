package control

import (
	"errors"
	"strings"
	"testing"
)

// FuzzControlRequest feeds arbitrary lines to the request decoder: it must
// never panic, must accept only the three ops, and what it accepts must
// survive a round trip through the client's encoding, which must never
// make a request the decoder refuses. The encoding may refuse a request
// only for its length, and only where the token holds a rune that no
// encoding can send in as few bytes as the line did: U+FFFD (which stands
// for each invalid byte), U+2028 or U+2029 (always escaped).
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
		enc, err := encodeRequest(req)
		if errors.Is(err, ErrRequestTooLarge) && strings.ContainsAny(req.Token, "\ufffd\u2028\u2029") {
			return
		}
		if err != nil {
			t.Fatalf("client refused to encode op %q, token %.40q (%d bytes), which arrived in %d bytes: %v", req.Op, req.Token, len(req.Token), len(line), err)
		}
		again, err := decodeRequest(enc)
		if err != nil || again != req {
			t.Fatalf("round trip of %q: %+v, %v", enc, again, err)
		}
	})
}
