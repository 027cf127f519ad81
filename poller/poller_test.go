package poller

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// fakeBackend records what the wrapper asks of it. Wait runs waitFn and
// reports the first n of ready.
type fakeBackend struct {
	calls    []string
	mods     []modCall
	removed  []Flags
	timeouts []time.Duration
	wakes    atomic.Int32
	waitFn   func(call int, timeout time.Duration) (int, error)
	ready    []Event // Token: a descriptor
	addErr   error
}

type modCall struct {
	fd       int
	old, new Flags
}

func (f *fakeBackend) Add(fd int, interest Flags) error {
	f.calls = append(f.calls, "add")
	return f.addErr
}

func (f *fakeBackend) Modify(fd int, old, interest Flags) error {
	f.calls = append(f.calls, "modify")
	f.mods = append(f.mods, modCall{fd, old, interest})
	return nil
}

func (f *fakeBackend) Remove(fd int, old Flags) error {
	f.calls = append(f.calls, "remove")
	f.removed = append(f.removed, old)
	return nil
}

func (f *fakeBackend) Wait(events []Event, timeout time.Duration) (int, error) {
	f.timeouts = append(f.timeouts, timeout)
	if f.waitFn == nil {
		return 0, nil
	}
	n, err := f.waitFn(len(f.timeouts)-1, timeout)
	copy(events[:n], f.ready)
	return n, err
}

func (f *fakeBackend) Wake() error {
	f.wakes.Add(1)
	return nil
}

func (f *fakeBackend) Close() error { return nil }

func newFake(maxFD int) (*Poller, *fakeBackend) {
	f := &fakeBackend{}
	return &Poller{name: "fake", caps: Capabilities{MaxFD: maxFD}, b: f}, f
}

func TestWaitRetriesEINTRWithRemainingTimeout(t *testing.T) {
	p, f := newFake(0)
	if err := p.Add(3, 30, Readable); err != nil {
		t.Fatal(err)
	}
	f.ready = []Event{{Token: 3, Flags: Readable}}
	const timeout = 300 * time.Millisecond
	f.waitFn = func(call int, _ time.Duration) (int, error) {
		if call < 3 {
			time.Sleep(20 * time.Millisecond)
			return 0, unix.EINTR
		}
		return 1, nil
	}
	n, err := p.Wait(make([]Event, 4), timeout)
	if n != 1 || err != nil {
		t.Fatalf("Wait = %d, %v; want 1, nil", n, err)
	}
	if len(f.timeouts) != 4 {
		t.Fatalf("backend waited %d times, want 4 (3 EINTR, then success)", len(f.timeouts))
	}
	if f.timeouts[0] != timeout {
		t.Errorf("first timeout %v, want %v", f.timeouts[0], timeout)
	}
	for i := 1; i < len(f.timeouts); i++ {
		// Each retry had at least the 20ms sleep taken off.
		if max := f.timeouts[i-1] - 20*time.Millisecond; f.timeouts[i] > max || f.timeouts[i] <= 0 {
			t.Errorf("retry %d timeout %v, want in (0, %v]", i, f.timeouts[i], max)
		}
	}
}

func TestWaitEINTRPastDeadlineTimesOut(t *testing.T) {
	p, f := newFake(0)
	f.waitFn = func(int, time.Duration) (int, error) {
		time.Sleep(30 * time.Millisecond)
		return 0, unix.EINTR
	}
	n, err := p.Wait(make([]Event, 4), 10*time.Millisecond)
	if n != 0 || err != nil {
		t.Fatalf("Wait = %d, %v; want 0, nil", n, err)
	}
	if len(f.timeouts) != 1 {
		t.Fatalf("backend waited %d times after its deadline passed, want 1", len(f.timeouts))
	}
}

func TestWaitEINTRKeepsInfiniteAndZeroTimeouts(t *testing.T) {
	for _, timeout := range []time.Duration{-1, 0} {
		p, f := newFake(0)
		f.waitFn = func(call int, _ time.Duration) (int, error) {
			if call < 2 {
				return 0, unix.EINTR
			}
			return 0, nil
		}
		if _, err := p.Wait(make([]Event, 1), timeout); err != nil {
			t.Fatalf("Wait(%v): %v", timeout, err)
		}
		want := []time.Duration{timeout, timeout, timeout}
		if d := cmp.Diff(want, f.timeouts); d != "" {
			t.Errorf("Wait(%v) backend timeouts (-want +got):\n%s", timeout, d)
		}
	}
}

func TestWaitReturnsOtherErrors(t *testing.T) {
	p, f := newFake(0)
	f.waitFn = func(int, time.Duration) (int, error) { return 3, unix.EBADF }
	n, err := p.Wait(make([]Event, 4), -1)
	if n != 0 || !errors.Is(err, unix.EBADF) {
		t.Fatalf("Wait = %d, %v; want 0, EBADF", n, err)
	}
}

func TestWakeCoalesces(t *testing.T) {
	p, f := newFake(0)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 250; i++ {
				if err := p.Wake(); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n := f.wakes.Load(); n != 1 {
		t.Fatalf("1000 Wakes made %d backend Wakes, want 1", n)
	}
	if _, err := p.Wait(make([]Event, 1), 0); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		p.Wake()
	}
	if n := f.wakes.Load(); n != 2 {
		t.Fatalf("Wakes after a Wait made %d backend Wakes in all, want 2", n)
	}
}

func TestModifyWithoutChangeMakesNoCall(t *testing.T) {
	p, f := newFake(0)
	if err := p.Add(5, 1, Readable); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		token uint64
		f     Flags
	}{
		{1, Readable},
		{1, Readable | HangUp}, // only interest bits count
		{2, Readable},
		{2, Writable},
		{2, Writable},
	} {
		if err := p.Modify(5, c.token, c.f); err != nil {
			t.Fatalf("Modify(5, %d, %v): %v", c.token, c.f, err)
		}
	}
	want := []modCall{{5, Readable, Writable}}
	if d := cmp.Diff(want, f.mods, cmp.AllowUnexported(modCall{})); d != "" {
		t.Fatalf("backend Modify calls (-want +got):\n%s", d)
	}
	if n := p.Syscalls(); n != 2 {
		t.Errorf("%d calls counted for an Add and one change of interest, want 2", n)
	}
}

// Backends report descriptors; the caller gets its tokens, as last set,
// and nothing for a descriptor it has not registered.
func TestWaitReportsTokens(t *testing.T) {
	p, f := newFake(0)
	for fd, tok := range map[int]uint64{3: 30, 7: 70, 9: 90} {
		if err := p.Add(fd, tok, Readable); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Modify(7, 71, Readable); err != nil {
		t.Fatal(err)
	}
	if err := p.Remove(9); err != nil {
		t.Fatal(err)
	}
	f.ready = []Event{{Token: 3, Flags: Readable}, {Token: 9, Flags: Readable}, {Token: 7, Flags: Readable | HangUp}, {Token: 1000, Flags: Error}}
	f.waitFn = func(int, time.Duration) (int, error) { return len(f.ready), nil }
	ev := make([]Event, 8)
	n, err := p.Wait(ev, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []Event{{Token: 30, Flags: Readable}, {Token: 71, Flags: Readable | HangUp}}
	if d := cmp.Diff(want, ev[:n]); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
}

func TestRegistration(t *testing.T) {
	p, f := newFake(64)
	if err := p.Add(3, 30, Readable|Writable|Error); err != nil {
		t.Fatal(err)
	}
	if err := p.Add(10, 100, 0); err != nil {
		t.Fatal(err)
	}
	if p.Len() != 2 {
		t.Fatalf("Len = %d, want 2", p.Len())
	}
	if i, ok := p.Interest(3); !ok || i != Readable|Writable {
		t.Fatalf("Interest(3) = %v, %v; want R|W, true", i, ok)
	}
	if i, ok := p.Interest(10); !ok || i != 0 {
		t.Fatalf("Interest(10) = %v, %v; want none, true", i, ok)
	}
	for _, fd := range []int{-1, 4, 11, 1000} {
		if _, ok := p.Interest(fd); ok {
			t.Fatalf("Interest(%d) says registered", fd)
		}
	}

	calls := len(f.calls)
	if err := p.Add(3, 1, Readable); !errors.Is(err, ErrRegistered) {
		t.Errorf("Add twice = %v, want ErrRegistered", err)
	}
	if err := p.Modify(4, 1, Readable); !errors.Is(err, ErrNotRegistered) {
		t.Errorf("Modify unknown = %v, want ErrNotRegistered", err)
	}
	if err := p.Remove(63); !errors.Is(err, ErrNotRegistered) {
		t.Errorf("Remove unknown = %v, want ErrNotRegistered", err)
	}
	if err := p.Add(64, 1, Readable); !errors.Is(err, ErrFDRange) {
		t.Errorf("Add(MaxFD) = %v, want ErrFDRange", err)
	}
	if err := p.Add(-2, 1, Readable); !errors.Is(err, unix.EBADF) {
		t.Errorf("Add(-2) = %v, want EBADF", err)
	}
	if len(f.calls) != calls {
		t.Errorf("rejected calls reached the backend: %v", f.calls[calls:])
	}

	f.addErr = unix.EPERM
	if err := p.Add(7, 1, Readable); !errors.Is(err, unix.EPERM) {
		t.Errorf("Add with backend failure = %v, want EPERM", err)
	}
	if _, ok := p.Interest(7); ok || p.Len() != 2 {
		t.Errorf("failed Add left fd 7 registered (Len %d)", p.Len())
	}
	f.addErr = nil

	if err := p.Remove(3); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]Flags{Readable | Writable}, f.removed); d != "" {
		t.Errorf("Remove passed old interest (-want +got):\n%s", d)
	}
	if _, ok := p.Interest(3); ok || p.Len() != 1 {
		t.Errorf("after Remove: fd 3 registered or Len %d != 1", p.Len())
	}
	if err := p.Add(3, 31, Writable); err != nil {
		t.Fatalf("Add after Remove: %v", err)
	}
	if i, _ := p.Interest(3); i != Writable || p.Len() != 2 {
		t.Errorf("re-added: Interest %v, Len %d; want W, 2", i, p.Len())
	}
}

func TestClosedPoller(t *testing.T) {
	p, f := newFake(0)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
	if _, err := p.Wait(make([]Event, 1), 0); !errors.Is(err, ErrClosed) {
		t.Errorf("Wait after Close = %v, want ErrClosed", err)
	}
	if len(f.timeouts) != 0 {
		t.Errorf("Wait after Close reached the backend")
	}
}
