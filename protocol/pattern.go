package protocol

import (
	"encoding/binary"
)

// Sizes of a patterned message: the 16-byte header (sequence number and
// connection id) is the smallest message that still names itself; the
// load generator and the fault drivers send no more than 16 MiB.
const (
	MinMsgSize = 16
	MaxMsgSize = 16 << 20
)

// Every message is a run of 8-byte little-endian words: word 0 is the
// sequence number, word 1 the connection id, and the rest a mix of both,
// so an echo that swaps, repeats, shifts or corrupts any byte, or mixes two
// connections up, is seen. The content is a pure function of (conn, seq,
// offset): senders regenerate what a short write left unsent and receivers
// compare bytes as they arrive, without keeping a copy of the message.

// mix64 is splitmix64's finaliser: cheap and without short cycles.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

func patternKey(conn, seq uint64) uint64 {
	return mix64(conn*0x9e3779b97f4a7c15 ^ mix64(seq+0x632be59bd9b4e019))
}

func patternWord(key, conn, seq uint64, k int) uint64 {
	switch k {
	case 0:
		return seq
	case 1:
		return conn
	}
	return mix64(key + uint64(k)*0x9e3779b97f4a7c15)
}

// FillPattern writes bytes [off, off+len(dst)) of message (conn, seq).
func FillPattern(dst []byte, conn, seq uint64, off int) {
	if len(dst) == 0 {
		return
	}
	key := patternKey(conn, seq)
	k := off / 8
	// Unaligned head.
	if r := off % 8; r != 0 {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], patternWord(key, conn, seq, k))
		n := copy(dst, w[r:])
		dst = dst[n:]
		k++
	}
	for len(dst) >= 8 {
		binary.LittleEndian.PutUint64(dst, patternWord(key, conn, seq, k))
		dst = dst[8:]
		k++
	}
	if len(dst) > 0 {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], patternWord(key, conn, seq, k))
		copy(dst, w[:])
	}
}

// CheckPattern compares got with bytes [off, off+len(got)) of message
// (conn, seq) and returns the index in got of the first wrong byte, or -1.
// scratch is working space; any length above zero works, 64 KiB is quick.
func CheckPattern(got []byte, conn, seq uint64, off int, scratch []byte) int {
	done := 0
	for done < len(got) {
		n := min(len(got)-done, len(scratch))
		want := scratch[:n]
		FillPattern(want, conn, seq, off+done)
		g := got[done : done+n]
		if string(g) != string(want) {
			for i := range g {
				if g[i] != want[i] {
					return done + i
				}
			}
		}
		done += n
	}
	return -1
}
