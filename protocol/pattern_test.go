package protocol

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

func TestPatternHeader(t *testing.T) {
	msg := make([]byte, 64)
	FillPattern(msg, 7, 42, 0)
	if got := binary.LittleEndian.Uint64(msg); got != 42 {
		t.Errorf("sequence word = %d, want 42", got)
	}
	if got := binary.LittleEndian.Uint64(msg[8:]); got != 7 {
		t.Errorf("connection word = %d, want 7", got)
	}
}

// Any slice of a message, at any offset, equals the same bytes of the
// whole message: senders and receivers work piece by piece.
func TestPatternPiecewise(t *testing.T) {
	for _, size := range []int{16, 17, 64, 1000, 70_000} {
		whole := make([]byte, size)
		FillPattern(whole, 3, 9, 0)
		r := rand.New(rand.NewPCG(1, uint64(size)))
		for off := 0; off < size; {
			n := min(1+r.IntN(300), size-off)
			piece := make([]byte, n)
			FillPattern(piece, 3, 9, off)
			if !bytes.Equal(piece, whole[off:off+n]) {
				t.Fatalf("size %d: piece [%d,%d) differs from the whole message", size, off, off+n)
			}
			if i := CheckPattern(whole[off:off+n], 3, 9, off, make([]byte, 7)); i != -1 {
				t.Fatalf("size %d: CheckPattern reports byte %d of a good piece at %d", size, i, off)
			}
			off += n
		}
	}
}

func TestPatternDiffersByConnAndSeq(t *testing.T) {
	a, b, c := make([]byte, 256), make([]byte, 256), make([]byte, 256)
	FillPattern(a, 1, 1, 0)
	FillPattern(b, 2, 1, 0)
	FillPattern(c, 1, 2, 0)
	// Past the header too: a message of another connection or sequence
	// must not pass for this one anywhere.
	for _, other := range [][]byte{b, c} {
		for k := 2; k < 32; k++ {
			if bytes.Equal(a[k*8:k*8+8], other[k*8:k*8+8]) {
				t.Errorf("word %d repeats across messages", k)
			}
		}
	}
}

// Every single-byte corruption, at every position, is found and located.
func TestCheckPatternFindsCorruption(t *testing.T) {
	const size = 300
	msg := make([]byte, size)
	FillPattern(msg, 5, 11, 0)
	scratch := make([]byte, 64)
	for pos := range size {
		bad := bytes.Clone(msg)
		bad[pos] ^= 0x20
		if i := CheckPattern(bad, 5, 11, 0, scratch); i != pos {
			t.Fatalf("corruption at %d reported at %d", pos, i)
		}
		// Checked as a piece starting before the bad byte.
		from := pos / 2
		if i := CheckPattern(bad[from:], 5, 11, from, scratch); i != pos-from {
			t.Fatalf("corruption at %d in piece from %d reported at %d", pos, from, i)
		}
	}
	// Bytes of the right pattern at the wrong offset (a duplicated or
	// dropped chunk) are caught too.
	if CheckPattern(msg[8:40], 5, 11, 0, scratch) == -1 {
		t.Error("shifted bytes pass")
	}
}
