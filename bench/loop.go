package bench

import (
	"container/heap"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muxbench/muxbench/poller"
	"github.com/muxbench/muxbench/protocol"
	"github.com/muxbench/muxbench/result"
	"github.com/muxbench/muxbench/sysstat"
)

// Loop phases, set by the coordinator and acted on by each loop at its
// next iteration.
const (
	phaseWarmup int32 = iota
	phaseMeasure
	phaseDrain // window over: finish messages in flight, send no more
	phaseAbort // stop at once (Ctrl-C, a fault)
)

const (
	ioBufSize     = 64 << 10
	eventsPerWait = 1024
	drainTimeout  = 5 * time.Second
	// timerToken marks the wake timer's events; connection tokens are
	// indices into the loop's conns.
	timerToken = ^uint64(0)
)

// The open loop blocks until a margin before a message is due, then
// spins (polls without blocking, so echoes are still read) for the rest:
// a thread woken from sleep arrives late, by 10 us usually and by over
// 100 us now and then on a virtual machine whose idle vCPU halts. The
// margin is the latest of the last wakeWindow wake-ups (about their 99th
// percentile), within these bounds: a mean plus deviations would follow
// the usual wake-up and miss the tail that sets the lateness p99.
const (
	minMargin   = 5_000
	initMargin  = 50_000
	maxMargin   = 200_000
	marginSlack = 2_000
	wakeWindow  = 64
)

// genPoller is what the loop needs of a poller: poller.Poller's methods,
// or the generator's own raw epoll set on Linux.
type genPoller interface {
	Add(fd int, token uint64, interest poller.Flags) error
	Modify(fd int, token uint64, interest poller.Flags) error
	Remove(fd int) error
	Wait(events []poller.Event, timeout time.Duration) (int, error)
	Wake() error
	Close() error
}

// openGenPoller prefers the raw epoll set where there is one.
func openGenPoller(backend string) (genPoller, error) {
	if backend == "epoll" {
		if p, err := newRawEpoll(); p != nil || err != nil {
			return p, err
		}
	}
	return poller.Open(backend, poller.Options{})
}

// genConn is one active connection of the generator: one message in
// flight at most, its bytes produced and checked from (id, seq).
type genConn struct {
	fd       int
	tok      uint64 // index in the loop's conns
	id       uint64 // global connection number: the pattern's conn id
	seq      uint64 // message in flight or next to send
	sendOff  int
	recvOff  int
	sentAt   int64 // actual send time, loop clock
	intended int64 // scheduled send time (open loop)
	due      int64 // timer (open loop)
	heapIdx  int   // position in the timer heap, -1 if none
	busy     bool
	writing  bool // registered for Writable
	dead     bool
}

// snapshot is a loop's counters at one edge of the window.
type snapshot struct {
	at    int64
	idle  int64 // time in polls (waits that do not block) that found nothing
	rts   uint64
	io    result.IO
	integ result.Integrity
	cpu   cpuTimes
}

// genLoop drives its share of the connections from one locked OS thread.
type genLoop struct {
	id      int
	p       genPoller
	conns   []*genConn
	events  []poller.Event
	rbuf    []byte
	wbuf    []byte
	scratch []byte
	msgSize int
	open    bool
	sched   schedule
	timers  timerHeap
	// spin makes every wait a non-blocking poll (--gen-spin).
	spin bool
	// direct is the loop's only connection when the loop waits for its
	// echoes in a blocking read (see waitDirect); nil otherwise.
	direct   *genConn
	pacer    // an open loop's
	idle     int64
	winStart int64
	slot     int64 // series interval in ns; 0 keeps no series
	series   []*latencyHist

	hist, histU *latencyHist
	late        *latencyHist // open loop: actual minus intended send time
	io          result.IO
	integ       result.Integrity
	rts         uint64
	inflight    int
	limit       uint64 // stop after this many measured round trips (benchmarks)
	base        uint64 // round trips before the window
	phase       int32
	record      bool
	errs        []string

	cmd     atomic.Int32
	pub     atomic.Uint64 // round trips so far, for progress
	acks    chan snapshot
	release chan struct{}
	exited  chan struct{} // closed when the loop has stopped; err says why
	err     error
	final   snapshot // taken as the loop stopped
}

func newGenLoop(id int, backend string, msgSize int, open bool, sched schedule) (*genLoop, error) {
	p, err := openGenPoller(backend)
	if err != nil {
		return nil, err
	}
	l := &genLoop{
		id: id, p: p, msgSize: msgSize, open: open, sched: sched,
		events:  make([]poller.Event, eventsPerWait),
		rbuf:    make([]byte, ioBufSize),
		wbuf:    make([]byte, ioBufSize),
		scratch: make([]byte, ioBufSize),
		hist:    newLatencyHist(),
		acks:    make(chan snapshot, 2),
		exited:  make(chan struct{}),
		release: make(chan struct{}),
		record:  true,
	}
	if open {
		l.histU = newLatencyHist()
		l.late = newLatencyHist()
		if l.pacer, err = newPacer(p); err != nil {
			p.Close()
			return nil, err
		}
	}
	return l, nil
}

// pacer gets a loop to each send's due time: it blocks, on the wake timer
// where there is one, until a margin before, then polls without blocking
// for the rest. The open loop paces its sends with it, and the paced
// timing floor a loop that sends nothing.
type pacer struct {
	// timer wakes the loop between milliseconds; nil where the platform
	// has none, and then the poller's timeout serves.
	timer  *wakeTimer
	margin int64
	wakes  [wakeWindow]int64 // lateness of the last wake-ups, a ring
	nwakes int
}

// newPacer adds its wake timer to p, reported under timerToken.
func newPacer(p genPoller) (pacer, error) {
	pc := pacer{margin: initMargin}
	t, err := newWakeTimer()
	if err != nil {
		return pc, fmt.Errorf("generator timer: %w", err)
	}
	if t != nil {
		if err := p.Add(t.fd, timerToken, poller.Readable); err != nil {
			t.close()
			return pc, fmt.Errorf("generator timer: %w", err)
		}
		pc.timer = t
	}
	return pc, nil
}

// close takes the wake timer out of p and closes it.
func (pc *pacer) close(p genPoller) {
	if pc.timer != nil {
		_ = p.Remove(pc.timer.fd)
		pc.timer.close()
		pc.timer = nil
	}
}

// add takes ownership of a connected non-blocking socket.
func (l *genLoop) add(fd int, id uint64) error {
	c := &genConn{fd: fd, id: id, tok: uint64(len(l.conns)), heapIdx: -1}
	if err := l.p.Add(fd, c.tok, poller.Readable); err != nil {
		return err
	}
	l.conns = append(l.conns, c)
	return nil
}

// setPhase asks the loop to move on; it answers on acks for the window
// edges.
func (l *genLoop) setPhase(ph int32) {
	l.cmd.Store(ph)
	_ = l.p.Wake()
}

func (l *genLoop) snap() snapshot {
	return snapshot{at: nanotime(), idle: l.idle, rts: l.rts, io: l.io, integ: l.integ, cpu: threadCPU()}
}

// run is the loop body; it locks and pins its thread.
func (l *genLoop) run(cpu int) {
	runtime.LockOSThread()
	// Unlock before returning so the thread goes back to the pool instead
	// of being destroyed with its goroutine.
	defer runtime.UnlockOSThread()
	if cpu >= 0 {
		_ = sysstat.PinThread([]int{cpu}) // best effort: PinProcess reported failures
	}
	l.err = l.loop()
	l.final = l.snap()
	close(l.exited)
	// Connections stay open until the coordinator has the server's
	// end-of-window figures, so that the server is not busy closing
	// them while it answers.
	<-l.release
	l.closeAll()
}

// ack waits for the loop's snapshot at a window edge.
func (l *genLoop) ack() (snapshot, error) {
	select {
	case s := <-l.acks:
		return s, nil
	case <-l.exited:
		select {
		case s := <-l.acks:
			return s, nil
		default:
		}
		return l.final, l.exitErr()
	}
}

// exitErr says why a loop ended before it was told to.
func (l *genLoop) exitErr() error {
	if l.err != nil {
		return l.err
	}
	return fmt.Errorf("generator loop %d stopped early", l.id)
}

// loop is the generator's hot loop: it waits for events, reads and checks
// echoes and sends the next messages until the drain or an abort ends it.
func (l *genLoop) loop() error {
	l.start()
	var drainUntil int64 // read in phaseDrain only, which sets it
	for {
		if ph := l.cmd.Load(); ph != l.phase {
			drainUntil = l.enterPhase(ph)
		}
		if l.phase == phaseAbort || (l.phase == phaseDrain && l.inflight == 0) {
			return nil
		}
		timeout := time.Duration(-1)
		if l.phase == phaseDrain {
			left := drainUntil - nanotime()
			if left <= 0 {
				l.timeOut()
				return nil
			}
			timeout = time.Duration(left)
		} else if l.open && len(l.timers) > 0 && !l.spin {
			timeout = l.untilDue(l.timers[0].due)
		}
		if l.spin {
			timeout = 0
		}
		if c := l.direct; c != nil && c.busy && !c.writing {
			l.waitDirect(c)
			l.pub.Store(l.rts)
			continue
		}
		var t0 int64
		if timeout == 0 {
			t0 = nanotime()
		}
		n, err := l.p.Wait(l.events, timeout)
		if err != nil {
			return fmt.Errorf("generator loop %d: wait: %w", l.id, err)
		}
		l.io.Waits++
		l.io.Events += uint64(n)
		if timeout == 0 && n == 0 {
			// A poll that found nothing, before a send is due: the CPU
			// it took was spent waiting, not working.
			if t := nanotime(); len(l.timers) == 0 || l.timers[0].due > t {
				l.idle += t - t0
			}
		}
		for i := range l.events[:n] {
			ev := l.events[i]
			if ev.Token == timerToken {
				l.onTimer()
				continue
			}
			c := l.conns[ev.Token]
			if c.dead {
				continue
			}
			l.io.Dispatches++
			if ev.Flags&(poller.Readable|poller.HangUp|poller.Error) != 0 {
				l.onReadable(c)
			}
			if !c.dead && c.writing && ev.Flags&poller.Writable != 0 {
				l.write(c)
			}
			// A send that fell due while this batch was handled goes
			// now, not after the rest of the batch.
			if l.open && len(l.timers) > 0 && l.phase < phaseDrain && l.timers[0].due <= nanotime() {
				l.fire()
			}
		}
		if l.open && l.phase < phaseDrain {
			l.fire()
		}
		l.pub.Store(l.rts)
	}
}

// start sends each connection's first message, or in an open loop arms
// its timer for the schedule's first.
func (l *genLoop) start() {
	now := nanotime()
	for _, c := range l.conns {
		if l.open {
			l.arm(c, l.sched.intended(int(c.id), 0))
		} else {
			l.send(c, now, now)
		}
	}
}

// enterPhase moves the loop to phase ph, as the coordinator asked: at the
// window's start it clears the histograms, at its end it stops recording,
// and at either edge it answers with a snapshot on acks. Leaving the
// window, it returns the time by which the drain must end.
func (l *genLoop) enterPhase(ph int32) (drainUntil int64) {
	switch ph {
	case phaseMeasure:
		l.hist.reset()
		if l.open {
			l.histU.reset()
			l.late.reset()
		}
		s := l.snap()
		l.winStart, l.series, l.base = s.at, nil, l.rts
		l.acks <- s
	case phaseDrain, phaseAbort:
		if l.phase < phaseDrain {
			l.record = false
			l.acks <- l.snap()
		}
		drainUntil = nanotime() + int64(drainTimeout)
	}
	l.phase = ph
	return drainUntil
}

// useDirect makes a closed loop that owns one connection wait for its
// echoes in a blocking read, as a blocking ping-pong client does: one
// system call per echo where the poller needs two (a wait, then the
// read), which at one connection is several percent of the round trip.
// Whenever the connection also waits to write, the poller serves.
func (l *genLoop) useDirect() bool {
	if l.open || l.spin || len(l.conns) != 1 || makeDirect(l.conns[0].fd) != nil {
		return false
	}
	l.direct = l.conns[0]
	return true
}

// waitDirect blocks in a read on the direct connection, for at most
// directTimeout. Each call counts as a wait, and as a read when it
// returns data or fails.
func (l *genLoop) waitDirect(c *genConn) {
	n, err := blockingRead(c.fd, l.rbuf)
	l.io.Waits++
	switch err {
	case nil:
	case unix.EAGAIN, unix.EINTR: // the timeout, or a signal: look at the phase
		return
	default:
		l.io.Reads++
		l.fail(c, &l.integ.Resets, fmt.Sprintf("read: %v", err))
		return
	}
	l.io.Reads++
	if n == 0 {
		l.fail(c, &l.integ.Resets, "closed by the server")
		return
	}
	l.io.Events++
	l.io.Dispatches++
	l.io.BytesIn += uint64(n)
	l.consume(c, l.rbuf[:n])
}

// send starts message c.seq.
func (l *genLoop) send(c *genConn, now, intended int64) {
	c.busy = true
	c.sentAt, c.intended = now, intended
	c.sendOff, c.recvOff = 0, 0
	l.inflight++
	l.write(c)
}

func (l *genLoop) write(c *genConn) {
	for c.sendOff < l.msgSize {
		buf := l.wbuf[:min(l.msgSize-c.sendOff, len(l.wbuf))]
		protocol.FillPattern(buf, c.id, c.seq, c.sendOff)
		n, err := l.writeTo(c.fd, buf)
		l.io.Writes++
		if err != nil {
			switch err {
			case unix.EAGAIN:
				l.io.WriteEAGAIN++
				l.want(c, true)
				return
			case unix.EINTR:
				continue
			}
			l.fail(c, &l.integ.Resets, fmt.Sprintf("write: %v", err))
			return
		}
		l.io.BytesOut += uint64(n)
		c.sendOff += n
		if n < len(buf) {
			// The send buffer is full: the next write would only say
			// EAGAIN, so wait for room.
			l.io.ShortWrites++
			l.want(c, true)
			return
		}
	}
	l.want(c, false)
}

func (l *genLoop) want(c *genConn, w bool) {
	if c.writing == w {
		return
	}
	f := poller.Readable
	if w {
		f |= poller.Writable
	}
	if err := l.p.Modify(c.fd, c.tok, f); err != nil {
		l.fail(c, &l.integ.ConnFailures, fmt.Sprintf("poller modify: %v", err))
		return
	}
	c.writing = w
}

func (l *genLoop) onReadable(c *genConn) {
	for {
		n, err := l.read(c.fd, l.rbuf)
		l.io.Reads++
		if err != nil {
			switch err {
			case unix.EAGAIN:
				l.io.ReadEAGAIN++
				return
			case unix.EINTR:
				continue
			}
			l.fail(c, &l.integ.Resets, fmt.Sprintf("read: %v", err))
			return
		}
		if n == 0 {
			l.fail(c, &l.integ.Resets, "closed by the server")
			return
		}
		l.io.BytesIn += uint64(n)
		if !l.consume(c, l.rbuf[:n]) || n < len(l.rbuf) {
			return
		}
	}
}

// consume checks echoed bytes against the pattern as they arrive.
func (l *genLoop) consume(c *genConn, b []byte) bool {
	if !c.busy || c.recvOff+len(b) > c.sendOff {
		l.fail(c, &l.integ.Mismatches, fmt.Sprintf("%d bytes more than were sent (message %d, %d of %d bytes echoed)",
			c.recvOff+len(b)-c.sendOff, c.seq, c.recvOff, l.msgSize))
		return false
	}
	if i := protocol.CheckPattern(b, c.id, c.seq, c.recvOff, l.scratch); i >= 0 {
		l.fail(c, &l.integ.Mismatches, fmt.Sprintf("message %d byte %d differs", c.seq, c.recvOff+i))
		return false
	}
	c.recvOff += len(b)
	if c.recvOff == l.msgSize {
		l.complete(c)
	}
	return true
}

func (l *genLoop) complete(c *genConn) {
	now := nanotime()
	l.rts++
	l.inflight--
	if l.limit > 0 && l.phase == phaseMeasure && l.rts-l.base >= l.limit {
		l.cmd.Store(phaseDrain) // acted on, like the coordinator's, next round
	}
	c.busy = false
	if l.record {
		lat := now - c.sentAt
		if l.open {
			lat = now - c.intended
			l.histU.record(now - c.sentAt)
		}
		l.hist.record(lat)
		if l.slot > 0 {
			l.recordSeries(now, lat)
		}
	}
	c.seq++
	if l.phase >= phaseDrain {
		return
	}
	if !l.open {
		// A fresh clock read: the recording above is not the next
		// round trip's latency.
		t := nanotime()
		l.send(c, t, t)
		return
	}
	// Open loop: the next message keeps its place in the schedule; if it
	// is already due (the last one came back late), it goes now and its
	// wait counts in the corrected latency.
	if due := l.sched.intended(int(c.id), c.seq); due <= now {
		// Held back by its late echo, not by the generator: sent at
		// once, it is late only by the time the generator took to send
		// it after the echo.
		t := nanotime()
		if l.record {
			l.late.record(max(t-now, 1))
		}
		l.send(c, t, due)
	} else {
		l.arm(c, due)
	}
}

func (l *genLoop) arm(c *genConn, due int64) {
	c.due = due
	heap.Push(&l.timers, c)
}

// fire sends what is due. Each send reads the clock afresh: a message
// sent after another's write is that much later.
func (l *genLoop) fire() {
	for len(l.timers) > 0 {
		now := nanotime()
		if l.timers[0].due > now {
			return
		}
		c := heap.Pop(&l.timers).(*genConn)
		if !c.dead && !c.busy {
			if l.record {
				// At least 1 ns, the histogram's resolution: a zero
				// percentile would read as one without enough samples.
				l.late.record(max(now-c.due, 1))
			}
			l.send(c, now, c.due)
		}
	}
}

// untilDue is the poller timeout that gets the loop to due on time:
// block (on the wake timer if there is one) until the margin before it,
// then poll without blocking.
func (pc *pacer) untilDue(due int64) time.Duration {
	left := due - nanotime()
	if left <= pc.margin {
		return 0
	}
	if pc.timer != nil {
		if err := pc.timer.arm(due - pc.margin); err == nil {
			return -1
		}
		pc.timer = nil // the poller's timeout serves from now on
	}
	return time.Duration(left - pc.margin)
}

// onTimer consumes the wake timer's expiry and notes how late it woke.
func (pc *pacer) onTimer() {
	armed := pc.timer.armed
	pc.timer.expired()
	if armed != 0 {
		pc.noteWake(nanotime() - armed)
	}
}

// noteWake moves the margin to the latest of the recent wake-ups: enough
// to absorb their tail, within maxMargin (a preemption's milliseconds
// would otherwise turn the loop into a spinner).
func (pc *pacer) noteWake(late int64) {
	pc.wakes[pc.nwakes%wakeWindow] = late
	pc.nwakes++
	worst := int64(0)
	for _, x := range pc.wakes[:min(pc.nwakes, wakeWindow)] {
		worst = max(worst, x)
	}
	pc.margin = min(max(worst+marginSlack, minMargin), maxMargin)
}

// recordSeries puts a latency into its interval of the window.
func (l *genLoop) recordSeries(now, lat int64) {
	i := int((now - l.winStart) / l.slot)
	if i < 0 {
		return
	}
	for len(l.series) <= i {
		l.series = append(l.series, nil)
	}
	if l.series[i] == nil {
		l.series[i] = newSeriesHist()
	}
	l.series[i].record(lat)
}

// timeOut counts messages still unanswered when the drain gives up.
func (l *genLoop) timeOut() {
	for _, c := range l.conns {
		if c.busy && !c.dead {
			l.fail(c, &l.integ.Timeouts, fmt.Sprintf("message %d unanswered %v after the window", c.seq, drainTimeout))
		}
	}
}

// fail counts an integrity error and drops the connection: after a bad
// byte the stream cannot be trusted again.
func (l *genLoop) fail(c *genConn, counter *uint64, what string) {
	*counter++
	if len(l.errs) < 5 {
		l.errs = append(l.errs, fmt.Sprintf("conn %d: %s", c.id, what))
	}
	if c.busy {
		l.inflight--
		c.busy = false
	}
	c.dead = true
	if c.heapIdx >= 0 {
		heap.Remove(&l.timers, c.heapIdx)
	}
	_ = l.p.Remove(c.fd)
	unix.Close(c.fd)
}

func (l *genLoop) closeAll() {
	for _, c := range l.conns {
		if !c.dead {
			c.dead = true
			_ = l.p.Remove(c.fd)
			unix.Close(c.fd)
		}
	}
	l.pacer.close(l.p)
	_ = l.p.Close()
}

// timerHeap orders connections by their next due time.
type timerHeap []*genConn

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].due < h[j].due }
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx, h[j].heapIdx = i, j
}
func (h *timerHeap) Push(x any) {
	c := x.(*genConn)
	c.heapIdx = len(*h)
	*h = append(*h, c)
}
func (h *timerHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	c.heapIdx = -1
	return c
}
