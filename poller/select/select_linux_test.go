package selectpoll

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/poller"
)

// waitAll collects tokens over Waits with a small event buffer until want
// are seen or rounds run out.
func waitAll(t *testing.T, p *poller.Poller, bufLen, rounds int) map[uint64]poller.Flags {
	t.Helper()
	got := map[uint64]poller.Flags{}
	ev := make([]poller.Event, bufLen)
	for range rounds {
		n, err := p.Wait(ev, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ev[:n] {
			got[e.Token] |= e.Flags
		}
	}
	return got
}

// TestBeyondFDSetSize watches thousands of socket pairs, so descriptors far
// above 1023, which x/sys's FdSet cannot hold.
func TestBeyondFDSetSize(t *testing.T) {
	pairs := 2100
	if testing.Short() {
		pairs = 600
	}
	p, err := poller.Open("select", poller.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ends := make([][2]int, pairs)
	for i := range ends {
		a, b := socketpair(t)
		ends[i] = [2]int{a, b}
		if err := p.Add(a, uint64(i), poller.Readable); err != nil {
			t.Fatal(err)
		}
	}
	if hi := ends[pairs-1][0]; !testing.Short() && hi < 4000 {
		t.Fatalf("highest fd %d: expected thousands", hi)
	}
	// Nothing ready yet.
	ev := make([]poller.Event, 16)
	if n, err := p.Wait(ev, 0); err != nil || n != 0 {
		t.Fatalf("idle Wait = %d, %v", n, err)
	}
	// Make the highest, a middle and the lowest readable; watch one
	// high descriptor for writing too.
	ready := []int{pairs - 1, pairs / 2, 0}
	for _, i := range ready {
		if _, err := unix.Write(ends[i][1], []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	w := pairs - 2
	if err := p.Modify(ends[w][0], 1<<40, poller.Writable); err != nil {
		t.Fatal(err)
	}
	got := waitAll(t, p, 2, 2)
	want := map[uint64]poller.Flags{
		uint64(pairs - 1): poller.Readable,
		uint64(pairs / 2): poller.Readable,
		0:                 poller.Readable,
		1 << 40:           poller.Writable,
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for tok, f := range want {
		if got[tok] != f {
			t.Errorf("token %d: got %v, want %v", tok, got[tok], f)
		}
	}
}

func TestMaxFDRecomputed(t *testing.T) {
	bk, err := New(poller.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := bk.(*backend)
	defer b.Close()
	wake := b.wake.Fd()
	if b.maxfd != wake {
		t.Fatalf("maxfd %d, want the wake-up fd %d", b.maxfd, wake)
	}
	// Descriptors spread over several words.
	var fds []int
	for range 100 {
		a, _ := socketpair(t)
		fds = append(fds, a)
	}
	lo, mid, hi := fds[0], fds[50], fds[99]
	b.Add(lo, poller.Readable)
	b.Add(mid, poller.Writable)
	b.Add(hi, 0) // no interest: not in any set
	check := func(want int) {
		t.Helper()
		if b.maxfd != want {
			t.Fatalf("maxfd %d, want %d", b.maxfd, want)
		}
	}
	check(mid)
	b.Modify(hi, 0, poller.Readable|poller.Writable)
	check(hi)
	b.Remove(hi, poller.Readable|poller.Writable)
	check(mid)
	b.Remove(lo, poller.Readable) // not the max: unchanged
	check(mid)
	b.Modify(mid, poller.Writable, 0)
	check(wake)
	b.Remove(mid, 0)
	check(wake)
}
