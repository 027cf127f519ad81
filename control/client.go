package control

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"
)

// maxReply bounds a reply line; stats replies are a few hundred bytes.
const maxReply = 1 << 20

// Client talks to one server's control channel. Its methods may be called
// from several goroutines; requests are sent one at a time.
type Client struct {
	addr, token string
	timeout     time.Duration

	mu   sync.Mutex
	conn net.Conn
	r    *bufio.Reader
	used bool // conn has answered before, so it may have idled out
}

// Dial connects to the control channel at addr (host:port) and has the
// token checked at once: the server gives a new connection only a few
// seconds to authenticate, and an authenticated one keeps its place
// whatever other clients do. timeout bounds the connect and every later
// request; zero means 10 seconds.
func Dial(addr, token string, timeout time.Duration) (*Client, error) {
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	c := &Client{addr: addr, token: token, timeout: timeout}
	if err := c.connect(); err != nil {
		return nil, err
	}
	if _, err := c.roundTrip(OpHello); err != nil {
		c.conn.Close()
		return nil, err
	}
	return c, nil
}

func (c *Client) connect() error {
	conn, err := net.DialTimeout("tcp", c.addr, c.timeout)
	if err != nil {
		return fmt.Errorf("control: %w", err)
	}
	c.conn, c.r, c.used = conn, bufio.NewReader(conn), false
	return nil
}

// Stats fetches the server's counters.
func (c *Client) Stats() (Stats, error) {
	rep, err := c.do(OpStats)
	if err != nil {
		return Stats{}, err
	}
	if rep.Stats == nil {
		return Stats{}, errors.New("control: stats reply without stats")
	}
	return *rep.Stats, nil
}

// Stop asks the server to shut down; it returns once the server has
// acknowledged, not when the server has exited.
func (c *Client) Stop() error {
	_, err := c.do(OpStop)
	if err == nil {
		c.Close()
	}
	return err
}

// Close closes the connection.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil {
		return nil
	}
	err := c.conn.Close()
	c.conn = nil
	return err
}

func (c *Client) do(op string) (reply, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == nil {
		if err := c.connect(); err != nil {
			return reply{}, err
		}
	}
	wasUsed := c.used
	rep, err := c.roundTrip(op)
	if err != nil && !errors.Is(err, ErrRefused) && wasUsed {
		// The server drops connections idle for long; a run that asks
		// once at each edge of a long window meets that. Retry once on a
		// fresh connection: both ops are safe to repeat.
		c.conn.Close()
		if err2 := c.connect(); err2 != nil {
			c.conn = nil
			return reply{}, err
		}
		rep, err = c.roundTrip(op)
	}
	if err != nil && !errors.Is(err, ErrRefused) {
		c.conn.Close()
		c.conn = nil
	}
	return rep, err
}

// ErrRequestTooLarge is the client's refusal to send a request its server
// would refuse for its length: a token that long cannot be used.
var ErrRequestTooLarge = fmt.Errorf("control: request over %d bytes (the token is too long)", MaxRequest)

// encodeRequest is the one encoding of a request line, newline excluded.
// It leaves <, > and & as they are (json.Marshal would make each six
// bytes) and refuses what decodeRequest would refuse for its length.
func encodeRequest(req request) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(req); err != nil {
		return nil, fmt.Errorf("control: encoding request: %w", err)
	}
	line := bytes.TrimSuffix(b.Bytes(), []byte("\n"))
	if len(line) > MaxRequest {
		return nil, ErrRequestTooLarge
	}
	return line, nil
}

func (c *Client) roundTrip(op string) (reply, error) {
	req, err := encodeRequest(request{Op: op, Token: c.token})
	if err != nil {
		return reply{}, err
	}
	c.conn.SetDeadline(time.Now().Add(c.timeout))
	if _, err := c.conn.Write(append(req, '\n')); err != nil {
		return reply{}, fmt.Errorf("control: %s: %w", op, err)
	}
	var line []byte
	for {
		chunk, err := c.r.ReadSlice('\n')
		line = append(line, chunk...)
		if err == nil {
			break
		}
		if !errors.Is(err, bufio.ErrBufferFull) || len(line) > maxReply {
			return reply{}, fmt.Errorf("control: %s: reading reply: %w", op, err)
		}
	}
	var rep reply
	if err := json.Unmarshal(line, &rep); err != nil {
		return reply{}, fmt.Errorf("control: %s: bad reply: %w", op, err)
	}
	c.used = true
	if !rep.OK {
		if rep.Error == "" {
			rep.Error = "no reason given"
		}
		return reply{}, fmt.Errorf("%w: %s", ErrRefused, strings.TrimPrefix(rep.Error, "control: "))
	}
	return rep, nil
}
