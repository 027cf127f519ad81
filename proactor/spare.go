//go:build linux

package proactor

import "math/bits"

// spares are buffers kept for reuse, by capacity class: class k holds
// capacities from 1<<k up to 1<<(k+1).
type spares struct {
	class [bits.UintSize][][]byte
	bytes int // their capacity together
}

// put keeps b, emptied, within limit bytes: larger spares give way to
// it, so that buffers of a size no longer asked for do not keep out
// those that are.
func (s *spares) put(b []byte, limit int) {
	c := cap(b)
	k := bits.Len(uint(c)) - 1
	for top := len(s.class) - 1; s.bytes+c > limit && top > k; top-- {
		for n := len(s.class[top]); n > 0 && s.bytes+c > limit; n-- {
			s.bytes -= cap(s.class[top][n-1])
			s.class[top][n-1] = nil
			s.class[top] = s.class[top][:n-1]
		}
	}
	if s.bytes+c <= limit {
		s.class[k] = append(s.class[k], b[:0])
		s.bytes += c
	}
}

// spareReach is how many classes above the smallest that fits take may
// look in: a buffer a few times larger than asked for is memory the
// budget counts all the same.
const spareReach = 2

// take returns a buffer of capacity n or more, not much more, or nil.
func (s *spares) take(n int) []byte {
	k0 := bits.Len(uint(max(n, 1) - 1)) // 1<<k0 >= n
	for k := k0; k <= k0+spareReach && k < len(s.class); k++ {
		if c := s.class[k]; len(c) > 0 {
			b := c[len(c)-1]
			c[len(c)-1] = nil
			s.class[k] = c[:len(c)-1]
			s.bytes -= cap(b)
			return b
		}
	}
	return nil
}

// spareDiv: the spares take at most OutputBudget/spareDiv.
const spareDiv = 4

// spareBuf keeps b for the next connection that needs a buffer, unless
// the spares are full. A send copies what it sends into memory the kernel
// reads later, so every message needs a buffer, and a connection's grows
// with what it keeps: reused, they are not garbage, which the collector
// lets grow as large as what is live before it runs. The spares do not
// count towards the budget: they are what the connections may take up
// again.
func (l *Loop) spareBuf(b []byte) {
	if cap(b) > 0 {
		l.spare.put(b, l.cfg.OutputBudget/spareDiv)
	}
}

// appendBuf is append(b, p...) that grows b into a spare buffer where
// one fits, and spares b's memory when it grows: b must be memory the
// kernel does not read (not a buffer a send is in flight from).
func (l *Loop) appendBuf(b, p []byte) []byte {
	n := len(b) + len(p)
	if n <= cap(b) {
		return append(b, p...)
	}
	nb := l.spare.take(n)
	if nb == nil {
		// A power of two, as the spares are sorted: one that fits is
		// then found in the first class looked at.
		nb = make([]byte, 0, 1<<bits.Len(uint(n-1)))
	}
	nb = append(append(nb, b...), p...)
	l.spareBuf(b)
	return nb
}
