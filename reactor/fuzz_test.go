//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package reactor

import (
	"bytes"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// fuzzWriter writes its data in the given chunk sizes, one chunk per loop
// round (through Call), then closes.
type fuzzWriter struct {
	t      *Transport
	data   []byte
	sizes  []int
	i, off int
	err    error
	lostN  int
	done   func()
}

func (w *fuzzWriter) ConnectionMade(c Conn) { w.t = c.(*Transport); w.next() }

func (w *fuzzWriter) next() {
	if w.t.Fd() < 0 {
		return
	}
	if w.off >= len(w.data) {
		w.t.LoseConnection()
		return
	}
	// A few chunks a round: some land on an empty buffer, some behind
	// kept bytes.
	for k := 0; k < 4 && w.off < len(w.data); k++ {
		n := len(w.data) - w.off
		if len(w.sizes) > 0 {
			n = min(n, w.sizes[w.i%len(w.sizes)])
			w.i++
		}
		w.t.Write(w.data[w.off : w.off+n])
		w.off += n
	}
	w.t.r.Call(w.next)
}

func (w *fuzzWriter) DataReceived([]byte)      {}
func (w *fuzzWriter) ConnectionLost(err error) { w.lostN++; w.err = err; w.done() }

type collector struct {
	got   []byte
	err   error
	lostN int
	done  func()
}

func (c *collector) ConnectionMade(Conn)      {}
func (c *collector) DataReceived(d []byte)    { c.got = append(c.got, d...) }
func (c *collector) ConnectionLost(err error) { c.lostN++; c.err = err; c.done() }

// FuzzTransportBuffer drives the write buffer and the read path through
// random chunkings, injected short writes and EAGAINs, small socket
// buffers and small read buffers: what arrives must be what was written.
func FuzzTransportBuffer(f *testing.F) {
	f.Add([]byte("hello, world"), []byte{0, 1, 2}, uint64(1), uint8(80), uint8(80), uint8(80), uint8(0), uint8(0))
	f.Add([]byte("x"), []byte{}, uint64(2), uint8(0), uint8(0), uint8(0), uint8(1), uint8(255))
	f.Fuzz(func(t *testing.T, unit, chunks []byte, seed uint64, short, weagain, reagain, modeSel, repeat uint8) {
		ms := modes()
		m := ms[int(modeSel)%len(ms)]
		// Repeat the unit so that inputs of a few bytes still overflow
		// the socket buffers (up to 64 KiB).
		data := bytes.Repeat(unit, 1+int(repeat)*int(repeat))
		if len(data) > 64<<10 {
			data = data[:64<<10]
		}
		var sizes []int
		for _, c := range chunks {
			sizes = append(sizes, 1+int(c)*int(c))
		}
		frac := func(b uint8) float64 { return float64(b%200) / 256 }
		r := newReactor(t, m, Config{
			ReadBufSize: 16 + int(seed%8192),
			Faults: Faults{
				ShortWriteFrac:  frac(short),
				WriteEAGAINFrac: frac(weagain),
				ReadEAGAINFrac:  frac(reagain),
				Seed:            int64(seed),
			},
		})
		defer r.Close()
		a, b := socketpair(t)
		unix.SetsockoptInt(a, unix.SOL_SOCKET, unix.SO_SNDBUF, 4096)
		unix.SetsockoptInt(b, unix.SOL_SOCKET, unix.SO_RCVBUF, 4096)
		lost := 0
		done := func() {
			if lost++; lost == 2 {
				r.Stop()
			}
		}
		w := &fuzzWriter{data: data, sizes: sizes, done: done}
		c := &collector{done: done}
		if _, err := r.Adopt(b, c); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Adopt(a, w); err != nil {
			t.Fatal(err)
		}
		stuck := time.AfterFunc(20*time.Second, r.Stop)
		err := r.Run()
		stuck.Stop()
		if err != nil {
			t.Fatal(err)
		}
		if lost != 2 {
			t.Fatalf("%s: stalled: %d of %d bytes arrived", m.name, len(c.got), len(data))
		}
		if w.err != nil || c.err != nil || w.lostN != 1 || c.lostN != 1 {
			t.Fatalf("%s: writer lost %d times (%v), reader %d times (%v)", m.name, w.lostN, w.err, c.lostN, c.err)
		}
		if i := firstDiff(c.got, data); i >= 0 {
			t.Fatalf("%s: %d bytes arrived of %d, first difference at %d", m.name, len(c.got), len(data), i)
		}
	})
}
