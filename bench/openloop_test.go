package bench

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/muxbench/muxbench/internal/testserver"
	"github.com/muxbench/muxbench/result"
)

// stallingEcho echoes, but stops once on every connection, after its
// 100th message, for stall.
func stallingEcho(stall time.Duration) func(net.Conn) {
	return func(c net.Conn) {
		buf := make([]byte, 64)
		for n := 0; ; n++ {
			if _, err := io.ReadFull(c, buf); err != nil {
				return
			}
			if n == 100 {
				time.Sleep(stall)
			}
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
	}
}

// In open loop a stalled server is charged for every message it held
// back: corrected p99 reaches the stall, while the uncorrected histogram,
// which sees one slow message per connection, stays well below it. The
// time series shows when it happened.
func TestRunOpenLoopStalledServer(t *testing.T) {
	const stall = 400 * time.Millisecond
	addr := testserver.Listen(t, stallingEcho(stall))
	cfg := quick(addr)
	cfg.Conns, cfg.Rate, cfg.Duration = 4, 1000, 1500*time.Millisecond
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Integrity.Errors() != 0 {
		t.Fatalf("integrity %+v: %q", res.Integrity, res.Warnings)
	}
	u := res.LatencyUncorrected
	if u == nil || res.TargetRate != 1000 {
		t.Fatalf("open loop not reported: target %v uncorrected %v", res.TargetRate, u)
	}
	if res.Latency.P99 < int64(stall/2) {
		t.Errorf("corrected p99 %v: the %v stall is hidden", time.Duration(res.Latency.P99), stall)
	}
	if u.P99 > int64(stall/3) {
		// Other processes holding the CPUs delay every message, which
		// neither histogram can tell from the server's doing: the test
		// judges the uncorrected tail only where they left the machine
		// to the run.
		if n := res.Noise; n != nil && n.Noisy {
			t.Logf("uncorrected p99 %v not judged: other processes took %.2f CPUs", time.Duration(u.P99), n.ForeignCPU+n.StealCPU)
		} else {
			t.Errorf("uncorrected p99 %v: want well below the %v stall (a few slow messages in %d)", time.Duration(u.P99), stall, u.Count)
		}
	}
	var sum uint64
	slowest := int64(0)
	for _, s := range res.Series {
		sum += s.RoundTrips
		slowest = max(slowest, s.Max)
	}
	if sum != uint64(res.Latency.Count) || len(res.Series) < 1 {
		t.Errorf("series of %d intervals holds %d samples, the window %d", len(res.Series), sum, res.Latency.Count)
	}
	if slowest < int64(stall/2) {
		t.Errorf("no interval of the series shows the stall: %+v", res.Series)
	}
}

// Every open-loop send is timed against its schedule, and a stall of the
// server is not charged to the generator: it sent what it could on time,
// and a message its late echo held back was sent at once. Charged from
// their due times, the messages held back would make over a tenth of the
// window's sends later than stall/2, so the p99 would be; sent on time,
// the p99 gets there only if the generator itself was held up for that
// long ten times over, which even a busy machine does not do. (The max
// would be a sharper test, but one preemption of the generator's thread
// on a loaded virtual machine can move it.)
func TestRunOpenLoopSendLateness(t *testing.T) {
	const stall = 400 * time.Millisecond
	addr := testserver.Listen(t, stallingEcho(stall))
	cfg := quick(addr)
	cfg.Conns, cfg.Rate, cfg.Duration = 4, 1000, 1500*time.Millisecond
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	l := res.SendLateness
	if l == nil || l.Count == 0 || l.Histogram == "" {
		t.Fatalf("send lateness not recorded: %+v", l)
	}
	// One lateness per message sent in the window, one latency per
	// message answered in it: they differ by the messages in flight at
	// its edges.
	if d := l.Count - res.Latency.Count; d < -int64(cfg.Conns) || d > int64(cfg.Conns) {
		t.Errorf("%d lateness samples for %d round trips", l.Count, res.Latency.Count)
	}
	// The window saw the stall, or it proves nothing.
	if res.Latency.Max < int64(stall/2) {
		t.Fatalf("latency max %v: the window missed the %v stall", time.Duration(res.Latency.Max), stall)
	}
	if l.P50 > res.Latency.P99 || l.P99 >= int64(stall/2) {
		t.Errorf("lateness p50 %v p99 %v max %v: the server's %v stall was charged to the generator",
			time.Duration(l.P50), time.Duration(l.P99), time.Duration(l.Max), stall)
	}
	closed, err := Run(context.Background(), quick(testserver.Listen(t, testserver.Echo)))
	if err != nil {
		t.Fatal(err)
	}
	if closed.SendLateness != nil || closed.Generator.SendLate {
		t.Errorf("closed loop has send lateness %+v", closed.SendLateness)
	}
}

// The loop blocks until a margin before a message is due, to the
// nanosecond, then polls: no millisecond rounding makes it late.
func TestUntilDueSubMillisecond(t *testing.T) {
	l, err := newGenLoop(0, GenBackend(), 64, true, schedule{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.closeAll()
	// Due in 20.3 ms: far enough that a loaded machine does not make it
	// overdue before the call, with a fraction of a millisecond that
	// rounding to milliseconds would lose.
	ahead := 20*time.Millisecond + 300*time.Microsecond
	due := nanotime() + int64(ahead)
	switch d := l.untilDue(due); {
	case l.timer != nil:
		if d != -1 || l.timer.armed != due-l.margin {
			t.Errorf("timeout %v, timer at %d: want to block on the timer at due-margin %d", d, l.timer.armed, due-l.margin)
		}
	default:
		if d <= 0 || d > ahead-time.Duration(l.margin) || d%time.Millisecond == 0 {
			t.Errorf("timeout %v: want under %v, not rounded to milliseconds", d, ahead-time.Duration(l.margin))
		}
	}
	if d := l.untilDue(nanotime() + l.margin/2); d != 0 {
		t.Errorf("timeout %v within the margin: want a poll (0)", d)
	}
	if l.timer == nil {
		return
	}
	// The timer wakes the loop, and its expiry is consumed.
	l.timer.arm(nanotime() + int64(100*time.Microsecond))
	var n int
	// A wait that a runtime signal interrupts returns nothing: wait again.
	for deadline := time.Now().Add(time.Second); n == 0 && time.Now().Before(deadline); {
		if n, err = l.p.Wait(l.events, time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if n != 1 || l.events[0].Token != timerToken {
		t.Fatalf("wait: %d events %v: want the timer's", n, l.events[:n])
	}
	l.onTimer()
	if n, _ := l.p.Wait(l.events, 0); n != 0 {
		t.Errorf("timer still reported after its expiry was consumed")
	}
	if l.margin < minMargin || l.margin > maxMargin {
		t.Errorf("margin %d outside [%d, %d]", l.margin, minMargin, maxMargin)
	}
}

// The margin covers the tail of recent wake-ups, not their mean: one late
// wake-up among usual ones holds it up for a window, then it falls back.
func TestMarginFollowsWakeTail(t *testing.T) {
	l := &pacer{margin: initMargin}
	for range wakeWindow {
		l.noteWake(10_000)
	}
	if l.margin != 10_000+marginSlack {
		t.Fatalf("margin %d after usual wake-ups of 10 us, want %d", l.margin, 10_000+marginSlack)
	}
	l.noteWake(120_000)
	for i := range wakeWindow - 1 {
		l.noteWake(10_000)
		if l.margin < 120_000 {
			t.Fatalf("margin %d, %d wake-ups after one 120 us late: the tail is forgotten", l.margin, i+1)
		}
	}
	l.noteWake(10_000)
	if l.margin != 10_000+marginSlack {
		t.Errorf("margin %d a window after the late wake-up, want %d", l.margin, 10_000+marginSlack)
	}
	l.noteWake(int64(time.Second)) // a preemption: capped, not a spinner
	if l.margin != maxMargin {
		t.Errorf("margin %d after a 1 s wake-up, want the cap %d", l.margin, maxMargin)
	}
	for range wakeWindow {
		l.noteWake(0)
	}
	if l.margin != minMargin {
		t.Errorf("margin %d after punctual wake-ups, want the floor %d", l.margin, minMargin)
	}
}

// A generator that sent late is flagged, in the result and its warnings.
// lateLoop is an open loop that measured 200 round trips of 100 us (90
// from the actual send), each sent late by late ns.
func lateLoop(t *testing.T, late int64) *genLoop {
	t.Helper()
	l, err := newGenLoop(0, GenBackend(), 64, true, schedule{})
	if err != nil {
		t.Fatal(err)
	}
	for range 200 {
		l.hist.record(100_000)
		l.histU.record(90_000)
		l.late.record(late)
	}
	return l
}

func TestCollectFlagsLateSends(t *testing.T) {
	for _, tc := range []struct {
		late int64
		flag bool
	}{{2_000, false}, {30_000, true}} {
		l := lateLoop(t, tc.late)
		res := &result.Result{TargetRate: 1000, WindowSec: 1}
		snaps := []snapshot{{cpu: cpuTimes{ok: true}}}
		collectLoops(res, []*genLoop{l}, snaps, snaps, nil)
		l.closeAll()
		if res.SendLateness == nil || res.SendLateness.P99 == 0 {
			t.Fatalf("no send lateness: %+v", res.SendLateness)
		}
		warned := strings.Contains(strings.Join(res.Warnings, "\n"), "sent late")
		if res.Generator.SendLate != tc.flag || warned != tc.flag {
			t.Errorf("lateness %d ns against p50 100 us: flagged %v, warnings %q", tc.late, res.Generator.SendLate, res.Warnings)
		}
	}
}

// --gen-spin polls without blocking and says so in the result.
func TestRunGenSpinRecorded(t *testing.T) {
	cfg := quick(testserver.Listen(t, testserver.Echo))
	cfg.GenSpin, cfg.Conns, cfg.Rate = true, 2, 2000
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Generator.Spin || res.Params.Extra["gen_spin"] != "true" {
		t.Errorf("spin not recorded: generator %+v, params %v", res.Generator, res.Params.Extra)
	}
	// At 2,000 rt/s a blocking loop waits about once per round trip; a
	// spinning one polls many times between messages.
	if w := res.Generator.IO.Waits; w < 3*res.RoundTrips || res.RoundTrips == 0 {
		t.Errorf("%d polls for %d round trips: not spinning", w, res.RoundTrips)
	}
	// Its CPU is all spent, but polls that found nothing are not work: at
	// 2,000 rt/s it is far from saturated.
	if res.Generator.Saturated {
		t.Errorf("spinning generator flagged saturated at 2000 rt/s (loop CPU %.2f)", res.Generator.CPU.Utilization)
	}
}

// A loop whose CPU went to polls that found nothing is not saturated; one
// whose CPU went to work is.
func TestCollectPollingIsNotSaturation(t *testing.T) {
	for _, idle := range []int64{0, 900e6} {
		l, err := newGenLoop(0, GenBackend(), 64, false, schedule{})
		if err != nil {
			t.Fatal(err)
		}
		l.spin = true
		start := snapshot{at: 1e9, cpu: cpuTimes{ok: true}}
		end := snapshot{at: 2e9, idle: idle, rts: 1000, cpu: cpuTimes{userNs: 1e9, ok: true}}
		res := &result.Result{WindowSec: 1}
		collectLoops(res, []*genLoop{l}, []snapshot{start}, []snapshot{end}, nil)
		l.closeAll()
		if want := idle == 0; res.Generator.Saturated != want {
			t.Errorf("a second of loop CPU, %v of it in empty polls: saturated %v, want %v", time.Duration(idle), res.Generator.Saturated, want)
		}
		if !res.Generator.Spin {
			t.Error("spin not recorded")
		}
	}
}
