//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package poll

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/internal/testserver"
	"github.com/muxbench/muxbench/poller"
)

var (
	socketpair = testserver.Pair
	rawPair    = testserver.Raw
)

// checkIndex verifies that the array and the fd index agree with the
// model of what is registered.
func checkIndex(t *testing.T, b *backend, model map[int]poller.Flags) {
	t.Helper()
	if len(b.fds) != len(model)+1 {
		t.Fatalf("%d entries, want %d", len(b.fds), len(model)+1)
	}
	if int(b.fds[0].Fd) != b.wake.Fd() {
		t.Fatalf("entry 0 is fd %d, not the wake-up fd", b.fds[0].Fd)
	}
	for i := 1; i < len(b.fds); i++ {
		fd := int(b.fds[i].Fd)
		interest, ok := model[fd]
		if !ok {
			t.Fatalf("entry %d: fd %d is not registered", i, fd)
		}
		if b.fds[i].Events != events(interest) {
			t.Fatalf("entry %d: fd %d events %#x, want %#x", i, fd, b.fds[i].Events, events(interest))
		}
		if int(b.index[fd]) != i {
			t.Fatalf("index[%d] = %d, want %d", fd, b.index[fd], i)
		}
	}
	for fd, i := range b.index {
		if _, ok := model[fd]; !ok && i != 0 {
			t.Fatalf("index[%d] = %d for an unregistered fd", fd, i)
		}
	}
}

func TestSwapRemove(t *testing.T) {
	bk, err := New(poller.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := bk.(*backend)
	defer b.Close()
	var fds []int
	for range 40 {
		a, _ := socketpair(t)
		fds = append(fds, a)
	}
	model := map[int]poller.Flags{}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		fd := fds[rng.IntN(len(fds))]
		if old, ok := model[fd]; ok {
			if rng.IntN(3) == 0 {
				b.Modify(fd, old, old^poller.Interest)
				model[fd] = old ^ poller.Interest
			} else {
				b.Remove(fd, old)
				delete(model, fd)
			}
		} else {
			b.Add(fd, poller.Readable)
			model[fd] = poller.Readable
		}
		checkIndex(t, b, model)
	}
	// Removing the first, a middle and the last entry explicitly.
	for _, pos := range []int{1, len(b.fds) / 2, len(b.fds) - 1} {
		if pos < 1 || pos >= len(b.fds) {
			continue
		}
		fd := int(b.fds[pos].Fd)
		b.Remove(fd, model[fd])
		delete(model, fd)
		checkIndex(t, b, model)
	}
}

// TestSwapRemoveEvents checks that after swaps each event still carries
// the token of the descriptor that is ready.
func TestSwapRemoveEvents(t *testing.T) {
	p, err := poller.Open("poll", poller.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var a, peer []int
	for i := range 6 {
		x, y := socketpair(t)
		a, peer = append(a, x), append(peer, y)
		if err := p.Add(x, uint64(100+i), poller.Readable); err != nil {
			t.Fatal(err)
		}
	}
	p.Remove(a[0]) // last entry moves to the front
	p.Remove(a[3]) // and again into the middle
	for _, i := range []int{1, 4, 5} {
		unix.Write(peer[i], []byte("x"))
	}
	ev := make([]poller.Event, 8)
	n, err := p.Wait(ev, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	got := map[uint64]bool{}
	for _, e := range ev[:n] {
		if e.Flags != poller.Readable {
			t.Errorf("token %d: flags %v", e.Token, e.Flags)
		}
		got[e.Token] = true
	}
	if len(got) != 3 || !got[101] || !got[104] || !got[105] {
		t.Fatalf("got tokens %v, want 101, 104, 105", got)
	}
}

func TestHangUp(t *testing.T) {
	p, err := poller.Open("poll", poller.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var pr [2]int
	pr[0], pr[1] = rawPair(t)
	defer unix.Close(pr[0])
	// Watched with no interest: hang-up is reported anyway.
	if err := p.Add(pr[0], 7, 0); err != nil {
		t.Fatal(err)
	}
	unix.Close(pr[1])
	ev := make([]poller.Event, 4)
	n, err := p.Wait(ev, time.Second)
	if err != nil || n != 1 || ev[0].Token != 7 || ev[0].Flags&poller.HangUp == 0 {
		t.Fatalf("Wait = %d, %v, %v; want token 7 with HUP", n, err, ev[:n])
	}
}

// TestArrayLimit gives the backend darwin's kind of limit, made small: the
// descriptor past it is refused at Add, by name, and those within it still
// wait without error.
func TestArrayLimit(t *testing.T) {
	bk, err := New(poller.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := bk.(*backend)
	defer b.Close()
	if b.limit != maxEntries {
		t.Fatalf("limit %d, want the platform's %d", b.limit, maxEntries)
	}
	b.limit = 3 // the wake-up pipe and two descriptors
	x, _ := socketpair(t)
	y, _ := socketpair(t)
	z, _ := socketpair(t)
	for _, fd := range []int{x, y} {
		if err := b.Add(fd, poller.Writable); err != nil {
			t.Fatalf("Add(%d) within the limit: %v", fd, err)
		}
	}
	err = b.Add(z, poller.Writable)
	if !errors.Is(err, poller.ErrFDRange) || !strings.Contains(err.Error(), "at most 3") {
		t.Fatalf("Add past the limit: %v, want ErrFDRange naming the limit", err)
	}
	evs := make([]poller.Event, 4)
	if n, err := b.Wait(evs, 0); err != nil || n != 2 {
		t.Fatalf("Wait = %d, %v; want the two writable descriptors", n, err)
	}
	b.Remove(x, poller.Writable)
	if err := b.Add(z, poller.Writable); err != nil {
		t.Errorf("Add after a Remove made room: %v", err)
	}
}
