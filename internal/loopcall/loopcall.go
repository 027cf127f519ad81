// Package loopcall holds the two lists of work an event loop keeps for
// later, shared by the reactor and the io_uring proactor: Queue, the
// functions other goroutines hand it to run on its own goroutine, and
// Later, what its handlers postpone until they have returned (closing a
// connection whose handler is still running).
package loopcall

import (
	"sync"
	"sync/atomic"
)

// Queue is the functions waiting to run on the loop. The zero value is
// ready. Add is for any goroutine, Run for the loop's alone.
type Queue struct {
	mu    sync.Mutex
	calls []func()
	spare []func() // the last batch's slice, reused for the next
	has   atomic.Bool
}

// Add queues fn. The caller then wakes the loop, which may be blocked
// waiting for I/O.
func (q *Queue) Add(fn func()) {
	q.mu.Lock()
	q.calls = append(q.calls, fn)
	q.has.Store(true)
	q.mu.Unlock()
}

// Pending reports whether functions are queued, without taking the lock:
// the loop asks before it blocks, and a function added after the answer
// comes with a wake-up.
func (q *Queue) Pending() bool { return q.has.Load() }

// Run runs the functions queued so far in the order they were added,
// calling after, if not nil, after each one. Functions added meanwhile,
// by them or by other goroutines, wait for the next Run.
func (q *Queue) Run(after func()) {
	if !q.has.Load() {
		return
	}
	q.mu.Lock()
	calls := q.calls
	q.calls = q.spare[:0]
	q.has.Store(false)
	q.mu.Unlock()
	for i, fn := range calls {
		fn()
		if after != nil {
			after()
		}
		calls[i] = nil // let what fn holds go
	}
	q.spare = calls[:0]
}

// Later is what the loop's handlers put off until they have returned.
// The zero value is ready; the loop's goroutine alone uses it.
type Later[T any] struct {
	list []T
}

// Add puts v off.
func (l *Later[T]) Add(v T) { l.list = append(l.list, v) }

// Len is how many values wait.
func (l *Later[T]) Len() int { return len(l.list) }

// Run calls fn on each value in the order added, including those that fn
// adds meanwhile (closing one connection may close another), and empties
// the list.
func (l *Later[T]) Run(fn func(T)) {
	var zero T
	for i := 0; i < len(l.list); i++ {
		v := l.list[i]
		l.list[i] = zero
		fn(v)
	}
	l.list = l.list[:0]
}
