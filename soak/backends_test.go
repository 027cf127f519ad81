package soak

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/muxbench/muxbench/poller"
)

// soak reads --backend as run does (poller.ParseListWithPeers): the same
// names taken, "all" anywhere in a list, blanks and repeats dropped, and
// the same errors, a mistyped name's suggestion included (run's may be a
// peer's name too); soak's "all" has the edge-triggered variants and
// cases of its own after them. The peers, which only run measures, it
// refuses.
func TestBackendListAsRun(t *testing.T) {
	lists := []string{
		"epoll", "poll, select,poll", "stdlib,poll-et", "all", "all,stdlib", "stdlib, all,all",
		"", " , ", "epol", "selct,poll", "poll,bogus", "stdlib-et", "all,bogus",
	}
	for _, e := range poller.Elsewhere() {
		lists = append(lists, e.Name, "poll,"+e.Name)
	}
	mean := regexp.MustCompile(`did you mean [^?]*\?`)
	for _, v := range lists {
		// With soak's edge, which only "all" reads; no peer named, whose
		// check may build it.
		choices, _, runErr := poller.ParseListWithPeers(v, true)
		cfg, err := parseFlags([]string{"--backend", v}, io.Discard)
		switch {
		case runErr == nil && err != nil:
			t.Errorf("%q: run takes it, soak refuses it: %v", v, err)
		case runErr != nil && err == nil:
			t.Errorf("%q: soak takes it (%q), run refuses it: %v", v, cfg.Backends, runErr)
		case runErr == nil:
			want := poller.ChoiceNames(choices)
			if got := cfg.Backends; len(got) < len(want) || !slices.Equal(want, got[:len(want)]) ||
				!strings.Contains(v, "all") && len(got) != len(want) {
				t.Errorf("%q: soak runs %q, run %q", v, got, want)
			}
		default:
			runMsg := fmt.Sprintf("--backend %q: %v", v, runErr)
			for _, is := range []error{poller.ErrUnknown, poller.ErrUnavailable} {
				if errors.Is(err, is) != errors.Is(runErr, is) {
					t.Errorf("%q: soak: %v; run: %v", v, err, runMsg)
				}
			}
			switch {
			case errors.Is(runErr, poller.ErrUnknown):
				// run's list of what there is names the peers too.
				if mean.FindString(err.Error()) != mean.FindString(runMsg) {
					t.Errorf("%q: soak: %v; run: %v", v, err, runMsg)
				}
			case strings.Contains(runMsg, "nothing to run"):
				if want := fmt.Sprintf("--backend %q: nothing to run in %q (want all or a list of: ", v, v); !strings.HasPrefix(err.Error(), want) {
					t.Errorf("%q: soak: %v; want it to start %q", v, err, want)
				}
			case err.Error() != runMsg:
				t.Errorf("%q: soak: %v; run: %v", v, err, runMsg)
			}
		}
	}

	peers := []string{poller.PeersKeyword, "poll," + poller.PeersKeyword}
	for _, n := range poller.PeerNames() {
		peers = append(peers, n, "all,"+n)
	}
	for _, v := range peers {
		_, err := parseFlags([]string{"--backend", v}, io.Discard)
		if err == nil || !errors.Is(err, poller.ErrPeer) && !strings.Contains(err.Error(), "which only run measures") {
			t.Errorf("%q: %v; want the peers refused", v, err)
		}
	}
}
