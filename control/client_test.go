package control

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// A token as long as a request line allows, made of the characters HTML
// escaping would lengthen, is sent as it is and accepted; one byte more
// is refused by the client, never sent for the server to refuse.
func TestClientSendsLongestToken(t *testing.T) {
	pad := MaxRequest - len(`{"op":"stats","token":""}`)
	token := strings.Repeat("<>&", pad/3+1)[:pad]
	addr := start(t, &Server{Handler: &fakeHandler{}, Token: token})
	c, err := Dial(addr, token, 5*time.Second)
	if err != nil {
		t.Fatalf("a %d-byte token with <, > and &: %v", len(token), err)
	}
	defer c.Close()
	if _, err := c.Stats(); err != nil {
		t.Fatalf("stats with the longest token: %v", err)
	}
	if _, err := Dial(addr, token+"a", 5*time.Second); !errors.Is(err, ErrRequestTooLarge) {
		t.Errorf("a token one byte too long: got %v, want %v", err, ErrRequestTooLarge)
	}
}
