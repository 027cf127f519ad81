package peer

import (
	"context"
	"testing"

	"github.com/muxbench/muxbench/poller"
)

// Every peer exits on its own, status 0, once its stdin ends: none needs
// killing, and none outlives a muxbench that dies.
func TestExitsWithStdin(t *testing.T) {
	for _, e := range poller.Peers() {
		t.Run(e.Name, func(t *testing.T) {
			if e.Err != nil {
				t.Skipf("%s: %v", e.Name, e.Err)
			}
			pr, err := registered[e.Name].Start(context.Background(), "", nil)
			if err != nil {
				t.Fatal(err)
			}
			pr.Stop()
			if pr.err != nil || pr.killed {
				t.Errorf("exit %v, killed %v: %s", pr.err, pr.killed, pr.stderr.Bytes())
			}
		})
	}
}
