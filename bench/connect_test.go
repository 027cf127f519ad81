package bench

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// The batch never exceeds the accept queue a server here gets: 128 on
// darwin and the BSDs, net.core.somaxconn (if lower than 256) on Linux.
func TestConnectBatchFitsBacklog(t *testing.T) {
	b := connectBatch()
	if b < 1 || b > listenBacklog() || b > maxConnectBatch {
		t.Fatalf("connect batch %d, backlog %d", b, listenBacklog())
	}
	switch runtime.GOOS {
	case "linux":
		data, err := os.ReadFile("/proc/sys/net/core/somaxconn")
		if err != nil {
			t.Skip(err)
		}
		n, _ := strconv.Atoi(strings.TrimSpace(string(data)))
		if want := min(n, maxConnectBatch); b != want {
			t.Errorf("connect batch %d with somaxconn %d, want %d", b, n, want)
		}
	default:
		if b != 128 {
			t.Errorf("connect batch %d on %s, want its backlog of 128", b, runtime.GOOS)
		}
	}
}
