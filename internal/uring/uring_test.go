//go:build linux

package uring

import (
	"errors"
	"os"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func need(t *testing.T) {
	t.Helper()
	if err := Check(); err != nil {
		t.Skipf("io_uring unavailable, skipping: %v", err)
	}
}

func newRing(t *testing.T, p Params) *Ring {
	t.Helper()
	r, err := New(p)
	if err != nil {
		t.Fatalf("New(%+v): %v", p, err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestLayout(t *testing.T) {
	if s := unsafe.Sizeof(SQE{}); s != 64 {
		t.Errorf("SQE is %d bytes, want 64", s)
	}
	if s := unsafe.Sizeof(CQE{}); s != 16 {
		t.Errorf("CQE is %d bytes, want 16", s)
	}
	if s := unsafe.Sizeof(params{}); s != 120 {
		t.Errorf("io_uring_params is %d bytes, want 120", s)
	}
	if o := unsafe.Offsetof(SQE{}.UserData); o != 32 {
		t.Errorf("user_data at %d, want 32", o)
	}
	if o := unsafe.Offsetof(SQE{}.BufIndex); o != 40 {
		t.Errorf("buf_index at %d, want 40", o)
	}
	if o := unsafe.Offsetof(SQE{}.Addr3); o != 48 {
		t.Errorf("addr3 at %d, want 48", o)
	}
}

// TestNops goes round the rings several times, so that index wrap-around
// and the completion order are exercised.
func TestNops(t *testing.T) {
	need(t)
	r := newRing(t, Params{Entries: 8})
	next := uint64(0)
	for round := 0; round < 20; round++ {
		for i := 0; i < r.SQEntries(); i++ {
			sqe := r.GetSQE()
			if sqe == nil {
				t.Fatalf("round %d: no SQE %d of %d", round, i, r.SQEntries())
			}
			sqe.Opcode = OpNop
			sqe.UserData = next + uint64(i)
		}
		if r.GetSQE() != nil {
			t.Fatal("GetSQE on a full queue returned an entry")
		}
		if r.Pending() != r.SQEntries() {
			t.Fatalf("Pending = %d, want %d", r.Pending(), r.SQEntries())
		}
		await(t, r, r.SQEntries())
		if r.Ready() != r.SQEntries() {
			t.Fatalf("Ready = %d, want %d", r.Ready(), r.SQEntries())
		}
		for i := 0; i < r.SQEntries(); i++ {
			c := r.Peek()
			if c == nil || c.UserData != next || c.Res != 0 {
				t.Fatalf("completion %d: %+v, want user data %d res 0", i, c, next)
			}
			next++
			r.Advance(1)
		}
		if r.Peek() != nil {
			t.Fatal("a completion left over")
		}
	}
}

// TestWaitTimeout: a wait with nothing in flight ends after its timeout,
// with no error and nothing ready; zero does not wait.
func TestWaitTimeout(t *testing.T) {
	need(t)
	r := newRing(t, Params{})
	start := time.Now()
	var interrupted uint64
	for {
		err := r.SubmitAndWait(1, 30*time.Millisecond)
		if errors.Is(err, unix.EINTR) { // a runtime signal; the caller resumes
			interrupted++
			continue
		}
		if err != nil {
			t.Fatalf("wait with timeout: %v", err)
		}
		break
	}
	if d := time.Since(start); d < 25*time.Millisecond {
		t.Fatalf("30ms wait returned after %v", d)
	}
	if err := r.SubmitAndWait(1, 0); err != nil {
		t.Fatalf("wait 0: %v", err)
	}
	if r.Ready() != 0 || r.Enters != 2+interrupted {
		t.Fatalf("Ready = %d, Enters = %d; want 0, %d", r.Ready(), r.Enters, 2+interrupted)
	}
}

// TestPollAndRemove: a poll completes when the pipe becomes readable; a
// second one, removed, completes with ECANCELED.
func TestPollAndRemove(t *testing.T) {
	need(t)
	r := newRing(t, Params{})
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	sqe := r.GetSQE()
	sqe.Opcode, sqe.Fd, sqe.OpFlags, sqe.UserData = OpPollAdd, int32(p[0]), unix.POLLIN, 1
	if err := r.SubmitAndWait(1, 20*time.Millisecond); err != nil || r.Ready() != 0 {
		t.Fatalf("empty pipe: err %v, %d ready", err, r.Ready())
	}
	unix.Write(p[1], []byte("x"))
	await(t, r, 1)
	c := r.Peek()
	if c == nil || c.UserData != 1 || c.Res&unix.POLLIN == 0 {
		t.Fatalf("poll completion %+v, want user data 1 with POLLIN", c)
	}
	r.Advance(1)

	sqe = r.GetSQE()
	sqe.Opcode, sqe.Fd, sqe.OpFlags, sqe.UserData = OpPollAdd, int32(p[1]), unix.POLLIN, 2 // never readable
	sqe = r.GetSQE()
	sqe.Opcode, sqe.Fd, sqe.Addr, sqe.UserData = OpPollRemove, -1, 2, 3
	await(t, r, 2)
	got := map[uint64]int32{}
	for c := r.Peek(); c != nil; c = r.Peek() {
		got[c.UserData] = c.Res
		r.Advance(1)
	}
	if got[2] != -int32(unix.ECANCELED) || got[3] != 0 {
		t.Fatalf("completions %v, want 2: -ECANCELED, 3: 0", got)
	}
}

func TestProbe(t *testing.T) {
	need(t)
	p := Supported()
	if p == nil || !p.Op(OpNop) || !p.Op(OpPollAdd) {
		t.Fatalf("probe says NOP or POLL_ADD is missing: %+v", p)
	}
	if err := p.Require("the test", []uint8{OpNop}, FeatSingleMmap); err != nil {
		t.Fatal(err)
	}
	var none Probe
	err := none.Require("the test", []uint8{OpRecv}, 0)
	if !errors.Is(err, ErrUnavailable) || err.Error() != "io_uring: this kernel lacks IORING_OP_RECV, which the test needs" {
		t.Fatalf("Require on an empty probe = %v", err)
	}
}

// TestBufRing: a recv with buffer selection lands in a provided buffer,
// whose id comes back in the completion's flags.
func TestBufRing(t *testing.T) {
	need(t)
	r := newRing(t, Params{})
	b, err := r.NewBufRing(7, 4, 128)
	if err != nil {
		t.Skipf("no provided-buffer rings (before 5.19?): %v", err)
	}
	defer b.Close()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	for round := 0; round < 10; round++ { // more rounds than buffers: recycling works
		msg := []byte{'m', byte('0' + round)}
		unix.Write(fds[1], msg)
		sqe := r.GetSQE()
		sqe.Opcode, sqe.Fd, sqe.Flags, sqe.BufIndex, sqe.UserData = OpRecv, int32(fds[0]), SQEBufferSelect, b.Group(), 9
		await(t, r, 1)
		c := r.Peek()
		if c == nil || c.Res != 2 || c.Flags&CQEFBuffer == 0 {
			t.Fatalf("round %d: recv completion %+v", round, c)
		}
		id := uint16(c.Flags >> CQEBufferShift)
		if got := b.Buf(id)[:2]; string(got) != string(msg) {
			t.Fatalf("round %d: buffer %d holds %q, want %q", round, id, got, msg)
		}
		r.Advance(1)
		b.Recycle(id)
		b.Publish()
	}
}

// TestRefusal simulates each refusal through the environment hook: New
// and the check fail with one line naming the reason.
func TestRefusal(t *testing.T) {
	for v, want := range map[string]string{
		"ENOSYS":   "io_uring is not in this kernel (io_uring_setup: ENOSYS)",
		"EPERM":    "io_uring is forbidden here (io_uring_setup: EPERM), typically by a container's seccomp profile",
		"disabled": "io_uring is disabled on this system (/proc/sys/kernel/io_uring_disabled = 2)",
	} {
		t.Run(v, func(t *testing.T) {
			t.Setenv(RefuseEnv, v)
			_, err := New(Params{})
			if !errors.Is(err, ErrUnavailable) || err.Error() != want {
				t.Fatalf("New with %s=%s: %v; want %q", RefuseEnv, v, err, want)
			}
			if _, err := check(); err == nil || err.Error() != want {
				t.Fatalf("check with %s=%s: %v", RefuseEnv, v, err)
			}
		})
	}
	t.Setenv(RefuseEnv, "bogus")
	if _, err := New(Params{}); err == nil {
		t.Fatal("a bogus refusal value was accepted")
	}
	os.Unsetenv(RefuseEnv)
}

// await submits what is prepared and waits, for at most a second, until
// want completions are ready. A wait that a runtime signal interrupts (EINTR,
// or a short return when the same call submitted) is resumed, as the
// engines resume theirs.
func await(t *testing.T, r *Ring, want int) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for r.Ready() < want {
		left := time.Until(deadline)
		if left <= 0 {
			t.Fatalf("%d completions ready after a second, want %d", r.Ready(), want)
		}
		if err := r.SubmitAndWait(uint32(want-r.Ready()), left); err != nil && !errors.Is(err, unix.EINTR) {
			t.Fatal(err)
		}
	}
}

// A raw wait, which the runtime does not see, still lets the garbage
// collector stop the world: its preemption signal ends the wait (EINTR).
func TestRawWaitInterruptible(t *testing.T) {
	need(t)
	r := newRing(t, Params{RawWait: true})
	started, ended := make(chan struct{}), make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		close(started)
		for {
			// No timeout and nothing in flight: only a signal ends it.
			err := r.SubmitAndWait(1, -1)
			if errors.Is(err, unix.EINTR) {
				ended <- err
				return
			}
			if err != nil {
				ended <- err
				return
			}
		}
	}()
	<-started
	time.Sleep(20 * time.Millisecond) // into the wait
	gc := make(chan struct{})
	go func() { runtime.GC(); close(gc) }()
	select {
	case <-gc:
	case <-time.After(10 * time.Second):
		t.Fatal("the garbage collector could not stop a goroutine in a raw wait")
	}
	select {
	case err := <-ended:
		if !errors.Is(err, unix.EINTR) {
			t.Fatalf("raw wait ended with %v, want EINTR", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the raw wait did not end on the runtime's signal")
	}
}
