//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package protocol

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/muxbench/muxbench/poller"
	_ "github.com/muxbench/muxbench/poller/all"
	"github.com/muxbench/muxbench/reactor"
)

type mode struct {
	name string
	cfg  reactor.Config
}

func modes() []mode {
	var out []mode
	for _, info := range poller.Backends() {
		out = append(out, mode{info.Name, reactor.Config{Backend: info.Name}})
		if info.Caps.EdgeTriggered {
			out = append(out, mode{info.Name + "-et", reactor.Config{Backend: info.Name, Poller: poller.Options{EdgeTriggered: true}}})
		}
	}
	return out
}

func forEachMode(t *testing.T, fn func(t *testing.T, cfg reactor.Config)) {
	for _, m := range modes() {
		t.Run(m.name, func(t *testing.T) {
			if err := poller.Check(m.cfg.Backend, m.cfg.Poller); errors.Is(err, poller.ErrUnavailable) {
				t.Skipf("skipping: %v", err)
			}
			fn(t, m.cfg)
		})
	}
}

// run starts r on its own goroutine and stops and closes it at cleanup.
func run(t *testing.T, r *reactor.Reactor) {
	done := make(chan error, 1)
	go func() { done <- r.Run() }()
	t.Cleanup(func() {
		r.Stop()
		select {
		case err := <-done:
			if err != nil {
				t.Error(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return")
		}
		r.Close()
	})
}

func TestEchoAnyFraming(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg reactor.Config) {
		cfg.ReadBufSize = 1000 // reads that cut the writes anywhere
		r, err := reactor.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		l, err := r.Listen("tcp", "127.0.0.1:0", NewEcho)
		if err != nil {
			t.Fatal(err)
		}
		run(t, r)
		var wg sync.WaitGroup
		for i := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := net.Dial("tcp", l.Addr().String())
				if err != nil {
					t.Error(err)
					return
				}
				defer c.Close()
				c.SetDeadline(time.Now().Add(20 * time.Second))
				rng := rand.New(rand.NewPCG(uint64(i), 1))
				msg := make([]byte, 300<<10)
				for j := range msg {
					msg[j] = byte(rng.Uint32())
				}
				go func() {
					for off := 0; off < len(msg); {
						n := min(1+rng.IntN(20000), len(msg)-off)
						if _, err := c.Write(msg[off : off+n]); err != nil {
							return
						}
						off += n
					}
					c.(*net.TCPConn).CloseWrite()
				}()
				got, err := io.ReadAll(c)
				if err != nil {
					t.Error(err)
					return
				}
				if !bytes.Equal(got, msg) {
					t.Errorf("echo of %d bytes came back as %d different bytes", len(msg), len(got))
				}
			}()
		}
		wg.Wait()
	})
}

func TestPingPongBothSidesLose(t *testing.T) {
	forEachMode(t, func(t *testing.T, cfg reactor.Config) {
		r, err := reactor.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var log strings.Builder
		var lost []*PingPong
		done := make(chan struct{})
		onLost := func(p *PingPong, err error) {
			if lost = append(lost, p); len(lost) == 2 {
				close(done)
			}
		}
		var server *PingPong
		l, err := r.Listen("tcp", "127.0.0.1:0", func() reactor.Protocol {
			server = &PingPong{Identity: "server", Log: &log, Lost: onLost}
			return server
		})
		if err != nil {
			t.Fatal(err)
		}
		client := &PingPong{Identity: "client", Maximum: 100, Log: &log, Lost: onLost}
		if err := r.Connect("tcp", l.Addr().String(), client); err != nil {
			t.Fatal(err)
		}
		run(t, r)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Fatal("ping-pong did not end")
		}
		got := make(chan string)
		r.Call(func() {
			if client.Err != nil || server.Err != nil {
				t.Errorf("client lost with %v, server with %v; want nil", client.Err, server.Err)
			}
			if client.Received < 100 {
				t.Errorf("client received %d bytes, want at least 100", client.Received)
			}
			got <- log.String()
		})
		out := <-got
		for _, want := range []string{"client closing transport after", "client lost: <nil>", "server lost: <nil>"} {
			if !strings.Contains(out, want) {
				t.Errorf("log lacks %q:\n%s", want, out)
			}
		}
		if n := strings.Count(out, "lost:"); n != 2 {
			t.Errorf("%d ConnectionLost lines, want 2:\n%s", n, out)
		}
	})
}

// TestPingPongLargeMessages: messages larger than a read are answered
// once each, not once per read.
func TestPingPongLargeMessages(t *testing.T) {
	r, err := reactor.New(reactor.Config{Backend: poller.Names()[0], ReadBufSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	msg := bytes.Repeat([]byte("ping"), 10000)
	n := 0
	done := make(chan struct{})
	var server, client *PingPong
	onLost := func(*PingPong, error) {
		if n++; n == 2 {
			close(done)
		}
	}
	l, err := r.Listen("tcp", "127.0.0.1:0", func() reactor.Protocol {
		server = &PingPong{Identity: "server", Message: msg, Lost: onLost}
		return server
	})
	if err != nil {
		t.Fatal(err)
	}
	client = &PingPong{Identity: "client", Message: msg, Maximum: 50 * len(msg), Lost: onLost}
	if err := r.Connect("tcp", l.Addr().String(), client); err != nil {
		t.Fatal(err)
	}
	run(t, r)
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("ping-pong did not end")
	}
	res := make(chan [2]int)
	r.Call(func() { res <- [2]int{server.Sent, server.Received} })
	v := <-res
	// The server answers each whole message once: never more than one
	// message ahead of what it received, plus its opening one.
	if v[0] > v[1]+len(msg) {
		t.Errorf("server sent %d bytes for %d received", v[0], v[1])
	}
}
