package busywait

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The Go runtime preempts a goroutine that has run for 10 ms by sending
// its thread a signal; a nap must survive such signals and last as long
// as asked. The test signals the sleeping thread itself, so it does not
// depend on when the runtime would.
func TestNapSurvivesSignals(t *testing.T) {
	for _, d := range []time.Duration{800 * time.Microsecond, 60 * time.Millisecond} {
		runtime.LockOSThread()
		tid := unix.Gettid()
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var sent atomic.Int64
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if unix.Tgkill(unix.Getpid(), tid, unix.SIGURG) == nil {
					sent.Add(1)
				}
				// time.Sleep would wait a millisecond, longer than
				// the short nap.
				for t0 := time.Now(); time.Since(t0) < 20*time.Microsecond; {
				}
			}
		})
		// Let the signals start: a busy machine may run the sender late.
		for deadline := time.Now().Add(10 * time.Second); sent.Load() == 0 && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		start := time.Now()
		sleepThread(d)
		slept := time.Since(start)
		close(stop)
		wg.Wait()
		runtime.UnlockOSThread()
		if sent.Load() == 0 {
			t.Fatal("no signal sent")
		}
		if slept < d {
			t.Errorf("sleepThread(%v) returned after %v, cut short by signals", d, slept)
		}
	}
}
