package loopcall

import (
	"slices"
	"sync"
	"testing"
)

// loop runs q the way an event loop does: woken through a channel, it
// runs what is queued until want functions have run.
func loop(q *Queue, wake <-chan struct{}, ran *int, want int, afters *int) {
	for *ran < want {
		if !q.Pending() {
			<-wake
		}
		q.Run(func() { *afters++ })
	}
}

// Concurrent callers: every function runs exactly once, on the loop's
// goroutine (the counters are plain ints, which -race checks), each
// caller's in the order it added them, each followed by after.
func TestQueueConcurrent(t *testing.T) {
	const callers, each = 8, 2000
	var q Queue
	wake := make(chan struct{}, 1)
	var ran, afters int
	seen := make([][]int, callers)
	var wg sync.WaitGroup
	for c := range callers {
		wg.Go(func() {
			for i := range each {
				q.Add(func() {
					ran++
					seen[c] = append(seen[c], i)
				})
				select {
				case wake <- struct{}{}:
				default:
				}
			}
		})
	}
	loop(&q, wake, &ran, callers*each, &afters)
	wg.Wait()
	if ran != callers*each || afters != ran {
		t.Fatalf("%d functions ran, %d afters; want %d each", ran, afters, callers*each)
	}
	for c, s := range seen {
		if len(s) != each || !slices.IsSorted(s) {
			t.Errorf("caller %d: %d functions ran, in order %v", c, len(s), slices.IsSorted(s))
		}
	}
	if q.Pending() {
		t.Error("pending after everything ran")
	}
}

// A function added by a running one waits for the next Run, so that a
// function that re-queues itself cannot keep the loop from its I/O.
func TestQueueAddedDuringRun(t *testing.T) {
	var q Queue
	var order []string
	q.Add(func() {
		order = append(order, "first")
		q.Add(func() { order = append(order, "second") })
	})
	q.Run(nil)
	if !slices.Equal(order, []string{"first"}) || !q.Pending() {
		t.Fatalf("after the first Run: ran %v, pending %v", order, q.Pending())
	}
	q.Run(nil)
	if !slices.Equal(order, []string{"first", "second"}) || q.Pending() {
		t.Fatalf("after the second Run: ran %v, pending %v", order, q.Pending())
	}
	q.Run(nil) // nothing queued: no call
}

// Once warm, adding and running reuse the two slices: a loop that is
// called every round allocates nothing for it.
func TestQueueReusesSlices(t *testing.T) {
	var q Queue
	n := 0
	fn := func() { n++ }
	allocs := testing.AllocsPerRun(100, func() {
		q.Add(fn)
		q.Add(fn)
		q.Run(nil)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per Add, Add, Run", allocs)
	}
	if n != 202 { // AllocsPerRun runs once more to warm up
		t.Errorf("%d functions ran, want 202", n)
	}
}

// Later runs what is added while it runs, in order, and is empty after.
func TestLater(t *testing.T) {
	var l Later[int]
	var got []int
	l.Add(1)
	l.Add(2)
	l.Run(func(v int) {
		got = append(got, v)
		if v == 1 {
			l.Add(3) // closing one connection closes another
		}
	})
	if !slices.Equal(got, []int{1, 2, 3}) || l.Len() != 0 {
		t.Fatalf("ran %v, %d left", got, l.Len())
	}
	l.Run(func(v int) { t.Errorf("ran %d from an empty list", v) })
}
