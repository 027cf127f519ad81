package control

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/muxbench/muxbench/result"
)

type fakeHandler struct {
	calls atomic.Int64
	stops atomic.Int64
	fail  atomic.Bool
}

func (h *fakeHandler) Stats() (Stats, error) {
	n := h.calls.Add(1)
	if h.fail.Load() {
		return Stats{}, errors.New("loop not running")
	}
	return Stats{
		Time:       time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC),
		Backend:    "epoll",
		Options:    result.ServerOptions{EdgeTriggered: true, SpinSleepNs: 100e3, SndBuf: 8192},
		Conns:      int(n),
		ProcUserNs: 1, ProcSysNs: 2,
		ThreadUserNs: 3, ThreadSysNs: -1,
		VolCtxSw: 5, InvolCtxSw: 6,
		MaxRSS: 7 << 20, RSS: 8 << 20,
		IO:       result.IO{BytesIn: 9, BytesOut: 10, ShortWrites: 11},
		Injected: map[string]uint64{"short_write": 12},
	}, nil
}

func (h *fakeHandler) Stop() { h.stops.Add(1) }

// start serves s on a loopback port and stops it when the test ends.
func start(t *testing.T, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		ln.Close()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return after its listener closed")
		}
	})
	return ln.Addr().String()
}

func TestStatsAndStop(t *testing.T) {
	h := &fakeHandler{}
	addr := start(t, &Server{Token: "s3cret", Handler: h})
	c, err := Dial(addr, "s3cret", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	want, _ := (&fakeHandler{}).Stats()
	for i := 1; i <= 3; i++ {
		got, err := c.Stats()
		if err != nil {
			t.Fatal(err)
		}
		want.Conns = i
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("stats %d differ (-want +got):\n%s", i, d)
		}
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	// The reply goes out before the handler runs.
	for deadline := time.Now().Add(10 * time.Second); h.stops.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if h.stops.Load() != 1 {
		t.Errorf("Stop called %d times, want 1", h.stops.Load())
	}
}

func TestHandlerError(t *testing.T) {
	h := &fakeHandler{}
	h.fail.Store(true)
	c, err := Dial(start(t, &Server{Handler: h}), "", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Stats(); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "loop not running") {
		t.Fatalf("got %v, want the handler's error", err)
	}
	h.fail.Store(false)
	if _, err := c.Stats(); err != nil {
		t.Fatalf("after a handler error: %v", err)
	}
}

// rawConn sends lines by hand, as a hostile or broken client would.
type rawConn struct {
	t *testing.T
	net.Conn
	r *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return &rawConn{t, c, bufio.NewReader(c)}
}

func (c *rawConn) ask(line string) string {
	c.t.Helper()
	if _, err := c.Write([]byte(line)); err != nil {
		c.t.Fatal(err)
	}
	rep, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("reply to %.40q: %v", line, err)
	}
	return rep
}

// closedByServer reads until the server closes the connection, for at
// most the deadline dialRaw set.
func (c *rawConn) closedByServer() bool {
	_, err := io.Copy(io.Discard, c.r)
	// A close with the client's line unread resets the connection.
	return err == nil || errors.Is(err, syscall.ECONNRESET)
}

func TestRefusals(t *testing.T) {
	h := &fakeHandler{}
	s := &Server{Token: "tok", Handler: h}
	addr := start(t, s)

	// Every refusal is answered, then the connection is closed: a
	// refused client keeps no place on the server.
	lines := []string{
		"not json\n",
		"\n",
		`{"op":"shell","token":"tok"}` + "\n",
		`{"op":"stats","token":"tok","x":1}` + "\n",
		`{"op":"stats","token":"tok"} {}` + "\n",
		`["stats"]` + "\n",
		`{"token":"tok"}` + "\n",
		`{"op":"stop","token":"nope"}` + "\n",
		`{"op":"stop"}` + "\n",
		strings.Repeat("x", MaxRequest+1) + "\n",
		`{"op":"stats","token":"` + strings.Repeat("a", 2*MaxRequest) + `"}` + "\n",
	}
	for _, line := range lines {
		c := dialRaw(t, addr)
		if rep := c.ask(line); !strings.Contains(rep, `"ok":false`) || !strings.Contains(rep, "error") {
			t.Errorf("%.40q: reply %q, want an error", line, rep)
		}
		if !c.closedByServer() {
			t.Errorf("%.40q: connection left open", line)
		}
	}
	// So is a refusal on a connection that had authenticated.
	c := dialRaw(t, addr)
	if rep := c.ask(`{"op":"hello","token":"tok"}` + "\n"); !strings.Contains(rep, `"ok":true`) {
		t.Fatalf("hello: %q", rep)
	}
	if rep := c.ask("not json\n"); !strings.Contains(rep, `"ok":false`) || !c.closedByServer() {
		t.Errorf("after authenticating, a malformed line got %q and the connection stayed open", rep)
	}
	if h.stops.Load() != 0 {
		t.Fatal("an unauthorised stop was obeyed")
	}

	cl, err := Dial(addr, "tok", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	st, err := cl.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if want := uint64(len(lines) + 1); st.ControlRefused != want {
		t.Errorf("ControlRefused = %d, want %d", st.ControlRefused, want)
	}
	if _, err := Dial(addr, "wrong", 5*time.Second); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "wrong token") {
		t.Errorf("Dial with a wrong token: %v", err)
	}
}

// The token holder is never locked out by clients that send garbage or
// fail the token check.
func TestBadLinesDoNotLockOut(t *testing.T) {
	// Connections must close at once, not when a timeout expires.
	s := &Server{Token: "tok", Handler: &fakeHandler{}, FirstLineTimeout: time.Hour, IdleTimeout: time.Hour}
	addr := start(t, s)
	holder, err := Dial(addr, "tok", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	// Twice as many as there are places, each sending one bad line and
	// staying connected.
	for i := range 2 * DefaultMaxPending {
		c := dialRaw(t, addr)
		line := "garbage\n"
		if i%2 == 1 {
			line = `{"op":"stats","token":"guess"}` + "\n"
		}
		c.Write([]byte(line))
		if !c.closedByServer() {
			t.Fatalf("connection %d left open after %q", i, line)
		}
	}
	if _, err := holder.Stats(); err != nil {
		t.Fatalf("token holder, already connected: %v", err)
	}
	again, err := Dial(addr, "tok", 5*time.Second)
	if err != nil {
		t.Fatalf("token holder, connecting anew: %v", err)
	}
	again.Close()
}

// busyDeadline is a deadline for a test's server that the clients which
// must meet it meet on a busy machine too: the server's goroutine may
// wait that long to be scheduled between arming it and reading.
const busyDeadline = time.Second

// Silent clients are dropped after FirstLineTimeout, not IdleTimeout, and
// never touch the authenticated connection.
func TestSilentClientsDoNotLockOut(t *testing.T) {
	s := &Server{Token: "tok", Handler: &fakeHandler{}, FirstLineTimeout: busyDeadline, IdleTimeout: time.Hour}
	addr := start(t, s)
	holder, err := Dial(addr, "tok", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	var silent []*rawConn
	for range DefaultMaxPending {
		silent = append(silent, dialRaw(t, addr))
	}
	if _, err := holder.Stats(); err != nil {
		t.Fatalf("token holder with every pending place taken: %v", err)
	}
	for i, c := range silent {
		if !c.closedByServer() {
			t.Fatalf("silent connection %d left open", i)
		}
	}
	if _, err := Dial(addr, "tok", 5*time.Second); err != nil {
		t.Fatalf("after the silent clients were dropped: %v", err)
	}
}

// Pending connections have places of their own: however many wait, the
// authenticated ones keep theirs; a new pending connection takes the
// place of the oldest.
func TestPendingConnsKeepOutOfAuthenticatedPlaces(t *testing.T) {
	addr := start(t, &Server{Handler: &fakeHandler{}, MaxConns: 1, MaxPending: 3})
	c, err := Dial(addr, "", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var pending []*rawConn
	for range 3 {
		pending = append(pending, dialRaw(t, addr))
	}
	// The fourth pending connection takes the first one's place.
	over := dialRaw(t, addr)
	if rep, _ := pending[0].r.ReadString('\n'); !strings.Contains(rep, "too many connections waiting") || !pending[0].closedByServer() {
		t.Errorf("oldest pending connection: %q", rep)
	}
	if _, err := c.Stats(); err != nil {
		t.Fatal(err)
	}
	// A pending connection that authenticates finds the one
	// authenticated place taken.
	if rep := over.ask(`{"op":"hello"}` + "\n"); !strings.Contains(rep, "too many control connections") || !over.closedByServer() {
		t.Errorf("second authenticated connection: %q", rep)
	}
}

// dialFrom connects from a loopback address of its own, as another host
// would; Linux answers on all of 127.0.0.0/8.
func dialFrom(t *testing.T, src, addr string) *rawConn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Skipf("no connection from %s here: %v", src, err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return &rawConn{t, c, bufio.NewReader(c)}
}

// One address's silent connections take each other's places, never
// another address's.
func TestPendingPlacesPerAddress(t *testing.T) {
	addr := start(t, &Server{Handler: &fakeHandler{}, MaxPending: 10, MaxPendingPerAddr: 2, FirstLineTimeout: time.Hour})
	other := dialFrom(t, "127.0.0.2", addr)
	var mine []*rawConn
	for range 6 {
		mine = append(mine, dialFrom(t, "127.0.0.1", addr))
	}
	for i, c := range mine[:4] {
		if !c.closedByServer() {
			t.Errorf("connection %d of 127.0.0.1 kept its place beyond 2", i)
		}
	}
	for _, c := range append(mine[4:], other) {
		if rep := c.ask(`{"op":"hello"}` + "\n"); !strings.Contains(rep, `"ok":true`) {
			t.Errorf("%s lost its place: %q", c.LocalAddr(), rep)
		}
	}
}

// The token holder gets in within 2 s, 10 times of 10, while 64 clients
// of each kind keep reconnecting from the same address: silent ones,
// ones that send half a line, and ones that guess tokens.
func TestTokenHolderGetsInUnderAttack(t *testing.T) {
	const token = "0123456789abcdef-the-right-one"
	addr := start(t, &Server{Token: token, Handler: &fakeHandler{}})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var conns atomic.Int64
	attack := func(first string) {
		defer wg.Done()
		buf := make([]byte, 512)
		for range 2000 { // bounded, whatever happens
			select {
			case <-stop:
				return
			default:
			}
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err != nil {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			conns.Add(1)
			c.SetDeadline(time.Now().Add(10 * time.Second))
			if first != "" {
				c.Write([]byte(first))
			}
			for { // until the server closes it
				if _, err := c.Read(buf); err != nil {
					break
				}
			}
			c.Close()
		}
	}
	for _, first := range []string{"", `{"op":"hello","tok`, `{"op":"hello","token":"0123456789abcdef-a-guess"}` + "\n"} {
		for range 64 {
			wg.Add(1)
			go attack(first)
		}
	}
	defer func() {
		close(stop)
		wg.Wait()
	}()
	time.Sleep(200 * time.Millisecond) // every attacker at work
	for i := range 10 {
		t0 := time.Now()
		c, err := Dial(addr, token, 5*time.Second)
		if err == nil {
			_, err = c.Stats()
			c.Close()
		}
		d := time.Since(t0)
		t.Logf("try %d: %v", i+1, d)
		if err != nil || d > 2*time.Second {
			t.Errorf("try %d: %v after %v", i+1, err, d)
		}
	}
	t.Logf("%d attacking connections", conns.Load())
	if n := conns.Load(); n < 192 {
		t.Errorf("only %d attacking connections made", n)
	}
}

func TestLongestRequestAccepted(t *testing.T) {
	addr := start(t, &Server{Handler: &fakeHandler{}})
	c := dialRaw(t, addr)
	pad := MaxRequest - len(`{"op":"stats","token":""}`)
	line := `{"op":"stats","token":"` + strings.Repeat("a", pad) + `"}`
	if len(line) != MaxRequest {
		t.Fatalf("built a %d-byte line", len(line))
	}
	if rep := c.ask(line + "\n"); !strings.Contains(rep, `"ok":true`) {
		t.Errorf("a %d-byte request was refused: %.80q", MaxRequest, rep)
	}
}

func TestSlowClientTimesOut(t *testing.T) {
	s := &Server{Handler: &fakeHandler{}, FirstLineTimeout: busyDeadline, IdleTimeout: busyDeadline}
	addr := start(t, s)
	slow := dialRaw(t, addr)
	slow.Write([]byte(`{"op":`))
	silent := dialRaw(t, addr)
	idle := dialRaw(t, addr)
	idle.ask(`{"op":"hello"}` + "\n")
	if !slow.closedByServer() || !silent.closedByServer() || !idle.closedByServer() {
		t.Fatal("a stalled client kept its connection")
	}
	if s.Refused() != 1 {
		t.Errorf("Refused = %d, want 1 (the half-sent request)", s.Refused())
	}
}

func TestClientRedialsAfterIdle(t *testing.T) {
	addr := start(t, &Server{Handler: &fakeHandler{}, IdleTimeout: 50 * time.Millisecond})
	c, err := Dial(addr, "", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Stats(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if _, err := c.Stats(); err != nil {
		t.Fatalf("after the server dropped an idle connection: %v", err)
	}
}

func TestMaxConns(t *testing.T) {
	s := &Server{Handler: &fakeHandler{}, MaxConns: 2}
	addr := start(t, s)
	a, b := dialRaw(t, addr), dialRaw(t, addr)
	a.ask(`{"op":"stats"}` + "\n")
	b.ask(`{"op":"stats"}` + "\n")
	c := dialRaw(t, addr)
	if rep := c.ask(`{"op":"stats"}` + "\n"); !strings.Contains(rep, "too many") || !c.closedByServer() {
		t.Errorf("third connection: %q", rep)
	}
	a.Close()
	// The slot frees once the server sees the close.
	deadline := time.Now().Add(10 * time.Second)
	for {
		d := dialRaw(t, addr)
		if rep := d.ask(`{"op":"stats"}` + "\n"); strings.Contains(rep, `"ok":true`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a closed connection's slot never freed")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestConcurrentClients(t *testing.T) {
	h := &fakeHandler{}
	addr := start(t, &Server{Handler: h})
	c, err := Dial(addr, "", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			other, err := Dial(addr, "", 5*time.Second)
			if err != nil {
				t.Error(err)
				return
			}
			defer other.Close()
			for range 20 {
				if _, err := c.Stats(); err != nil {
					t.Error(err)
				}
				if _, err := other.Stats(); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if n := h.calls.Load(); n != 160 {
		t.Errorf("handler saw %d calls, want 160", n)
	}
}

func TestServeClosesConnsOnReturn(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { Serve(ln, "", &fakeHandler{}); close(done) }()
	c := dialRaw(t, ln.Addr().String())
	c.ask(`{"op":"stats"}` + "\n")
	ln.Close()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return")
	}
	if !c.closedByServer() {
		t.Error("an open control connection outlived Serve")
	}
}

func TestDialFails(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	if _, err := Dial(addr, "", time.Second); err == nil {
		t.Fatal("Dial to a closed port succeeded")
	}
}

func TestRequireToken(t *testing.T) {
	for _, tc := range []struct {
		token string
		addrs []string
		ok    bool
	}{
		{"", []string{"127.0.0.1:0", "127.0.0.1:9000"}, true},
		{"", []string{"[::1]:0", "localhost:80"}, true},
		{"", []string{"127.0.0.1:0", "0.0.0.0:9000"}, false},
		{"", []string{":9000"}, false},
		{"", []string{"[::]:1"}, false},
		{"", []string{"10.0.0.1:1"}, false},
		{"", []string{"example.com:1"}, false},
		{"t", []string{"0.0.0.0:9000"}, true},
	} {
		err := RequireToken(tc.token, tc.addrs...)
		if (err == nil) != tc.ok {
			t.Errorf("RequireToken(%q, %v) = %v", tc.token, tc.addrs, err)
		}
		if err != nil && !strings.Contains(err.Error(), "--token") {
			t.Errorf("error does not say what to do: %v", err)
		}
	}
}

func TestDecodeRequest(t *testing.T) {
	for line, want := range map[string]request{
		`{"op":"stats"}`:                         {Op: "stats"},
		`{"op":"stop","token":"x"}` + "\n":       {Op: "stop", Token: "x"},
		` {"token":"t", "op":"stats"} ` + "\r\n": {Op: "stats", Token: "t"},
	} {
		got, err := decodeRequest([]byte(line))
		if err != nil || got != want {
			t.Errorf("decodeRequest(%q) = %+v, %v", line, got, err)
		}
	}
	for _, line := range []string{
		"", "\n", "{", "null", `"stats"`, `{"op":"STATS"}`, `{"op":1}`,
		`{"op":"stats","token":5}`, `{"op":"stats"}x`, `{"op":"stats"}{"op":"stop"}`,
		`{"op":"stats","extra":true}`,
	} {
		if got, err := decodeRequest([]byte(line)); err == nil {
			t.Errorf("decodeRequest(%q) = %+v, want an error", line, got)
		}
	}
}
