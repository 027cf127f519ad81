package result

import "testing"

// Repeats of a point share its key whatever differs between runs (a
// started server's port, the rate compare scaled for its own open-loop
// sweep); a change of what was measured makes another point.
func TestPointKey(t *testing.T) {
	run := func(edit func(r *Result)) PointKey {
		r := &Result{Params: Params{Backend: "epoll", Target: "127.0.0.1:40000", Conns: 100, MsgSize: 64}, Server: &Server{}}
		edit(r)
		return r.PointKey()
	}
	base := run(func(*Result) {})
	same := map[string]func(*Result){
		"another port":   func(r *Result) { r.Params.Target = "127.0.0.1:40001" },
		"another repeat": func(r *Result) { r.Params.Repeat = 3 },
		"one loop":       func(r *Result) { r.Server.Options.Loops = 1 },
		"no server":      func(r *Result) { r.Server = nil },
	}
	for name, edit := range same {
		if k := run(edit); k != base {
			t.Errorf("%s: key %+v, want %+v", name, k, base)
		}
	}
	differ := map[string]func(*Result){
		"idle":            func(r *Result) { r.Params.Idle = 1000 },
		"sndbuf":          func(r *Result) { r.Params.SndBuf = 4096 },
		"open loop":       func(r *Result) { r.Params.Rate = 5000 },
		"target rate":     func(r *Result) { r.TargetRate = 5000 },
		"two loops":       func(r *Result) { r.Server.Options.Loops = 2 },
		"external":        func(r *Result) { r.Params.Backend = External },
		"another backend": func(r *Result) { r.Params.Backend = "poll" },
	}
	for name, edit := range differ {
		if k := run(edit); k == base {
			t.Errorf("%s: the same key as the base point", name)
		}
	}
	rate := func(sweep string, rate float64) PointKey {
		return run(func(r *Result) { r.Params.Sweep, r.Params.Rate = sweep, rate })
	}
	if rate("latency", 5000) != rate("latency", 7000) {
		t.Error("one sweep's open-loop runs at two capacities' shares are two points")
	}
	if rate("latency", 5000) == rate("cost", 5000) || rate("", 5000) == rate("", 7000) {
		t.Error("open-loop runs of two sweeps, or at two rates outside a sweep, are one point")
	}
	if rate("active", 0) != base {
		t.Error("a closed-loop run's sweep changed its key")
	}
	ext := func(target string) PointKey {
		return run(func(r *Result) { r.Params.Backend, r.Params.Target = External, target })
	}
	if ext("10.0.0.1:7") == ext("10.0.0.2:7") {
		t.Error("two external servers are one point")
	}
	two := func(accept string) PointKey {
		return run(func(r *Result) { r.Server.Options.Loops, r.Server.Options.Accept = 2, accept })
	}
	if two(AcceptReusePort) == two(AcceptExclusive) || two(AcceptReusePort) != two("") {
		t.Error("an exclusive listener is not a point of its own, or reuseport is not the default")
	}
}
