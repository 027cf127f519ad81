package poller

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Peer is an echo server over another project's event loop (Twisted,
// asyncio, libevent, Node.js...), which package peer builds and starts. A
// run measures it from outside as it measures muxbench's own servers;
// it is not a muxbench server, so serve and soak refuse its name.
type Peer struct {
	Name string
	// Doc is one line for `muxbench backends`.
	Doc string
	// Multiplexer is what the peer forces its loop onto ("epoll"), or
	// what its library runs where it lets nobody choose.
	Multiplexer string
	// Needs is what to install for it: Debian packages, or a program.
	Needs string
	// Available, if set, says why the peer cannot run here; nil means it
	// can. It is called once, and may take a moment: it may build the
	// peer or start its interpreter.
	Available func() error
}

// ErrPeer is wrapped by Resolve's error for a peer's name.
var ErrPeer = errors.New("a peer, another project's echo server, which only run measures")

// PeersKeyword in a list of names stands for every available peer, as
// "all" stands for every one of muxbench's own servers.
const PeersKeyword = "peers"

var peers = map[string]Peer{}

// RegisterPeer makes a peer a catalogue name; package peer calls it from
// init.
func RegisterPeer(p Peer) {
	_, backend := registry[strings.TrimSuffix(p.Name, EdgeSuffix)]
	_, engine := engines[p.Name]
	_, dup := peers[p.Name]
	if backend || engine || dup || p.Name == PeersKeyword || p.Name == "all" {
		panic("poller: peer registered twice, or named like a backend or engine: " + p.Name)
	}
	if p.Available != nil {
		p.Available = sync.OnceValue(p.Available)
	}
	peers[p.Name] = p
}

// PeerNames lists the registered peers, sorted, without asking whether
// they can run.
func PeerNames() []string {
	out := make([]string, 0, len(peers))
	for n := range peers {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Peers lists the registered peers, sorted, available or not. Their
// availability is learnt concurrently: each may start an interpreter.
func Peers() []Entry {
	names := PeerNames()
	out := make([]Entry, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		p := peers[n]
		out[i] = Entry{Choice: Choice{Name: n, Backend: n, Peer: true}, Doc: p.Doc, Multiplexer: p.Multiplexer, Needs: p.Needs}
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i].Err = availability(p.Available)
		}()
	}
	wg.Wait()
	return out
}

// ParseListWithPeers reads a comma-separated list of names for a command
// that measures peers too (WalkList): each may be one of muxbench's own
// servers, a peer, "all" or "peers". skipped says, one line each, what
// "all" and "peers" left out here and why.
func ParseListWithPeers(v string, edge bool) (choices []Choice, skipped []string, err error) {
	skipped, _, err = WalkList(v, edge, true, func(n string) error {
		c, err := resolveWithPeers(n)
		choices = append(choices, c)
		return err
	})
	if err != nil {
		return nil, skipped, err
	}
	return choices, skipped, nil
}

// resolveWithPeers is Resolve for a command that measures peers too: a
// name nobody knows gets the nearest of the servers and the peers.
func resolveWithPeers(n string) (Choice, error) {
	p, ok := peers[n]
	if !ok {
		c, err := Resolve(n)
		if errors.Is(err, ErrUnknown) {
			err = unknown(n, append(All(true), PeerNames()...))
		}
		return c, err
	}
	if err := availability(p.Available); err != nil {
		return Choice{}, fmt.Errorf("%s %w", n, err)
	}
	return Choice{Name: n, Backend: n, Peer: true}, nil
}
