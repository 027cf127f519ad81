package server

import (
	"fmt"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/muxbench/muxbench/internal/testserver"
	"github.com/muxbench/muxbench/poller"
)

// BenchmarkNeverReadersPeakRSS measures a child server's peak RSS under
// peers that send and never read, their receive buffers 4 KiB, the
// server's socket buffers the kernel's: "push" peers write until the
// server stops taking their bytes, "crowd" peers write 1.5 MiB each, as
// the soak's crowd does, and both then hold their connections, for 12 s
// in all. Once per backend, count of peers and kind, whatever b.N.
//
//	go test -run '^$' -bench NeverReadersPeakRSS -count 3 ./server/
func BenchmarkNeverReadersPeakRSS(b *testing.B) {
	const (
		hold    = 12 * time.Second
		rcvBuf  = 4 << 10
		crowdTo = 3 << 19
	)
	for _, kind := range []string{"push", "crowd"} {
		for _, peers := range []int{500, 1000, 3000} {
			for _, backend := range []string{"epoll", Uring} {
				if _, err := poller.Resolve(backend); err != nil {
					continue
				}
				b.Run(fmt.Sprintf("kind=%s/peers=%d/backend=%s", kind, peers, backend), func(b *testing.B) {
					c, err := spawn("--backend", backend)
					if err != nil {
						b.Fatal(err)
					}
					defer c.Kill()
					d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
						return rc.Control(func(fd uintptr) {
							syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvBuf)
						})
					}}
					conns := make([]net.Conn, 0, peers)
					defer func() {
						for _, pc := range conns {
							pc.Close()
						}
					}()
					for range peers {
						pc, err := d.Dial("tcp", c.Ready.Listen)
						if err != nil {
							b.Fatal(err)
						}
						conns = append(conns, pc)
					}
					end := time.Now().Add(hold)
					var (
						wg   sync.WaitGroup
						mu   sync.Mutex
						sent int
					)
					for _, pc := range conns {
						wg.Go(func() {
							pc.SetWriteDeadline(end)
							p := make([]byte, 64<<10)
							n := 0
							for kind == "push" || n < crowdTo {
								w := p
								if kind == "crowd" {
									w = p[:min(len(p), crowdTo-n)]
								}
								k, err := pc.Write(w)
								if n += k; err != nil {
									break
								}
							}
							mu.Lock()
							sent += n
							mu.Unlock()
						})
					}
					wg.Wait()
					time.Sleep(time.Until(end))
					st := testserver.Stats(b, c.Control)
					b.ReportMetric(float64(st.MaxRSS)/(1<<20), "peak-rss-MiB")
					b.ReportMetric(float64(sent)/(1<<20), "sent-MiB")
				})
			}
		}
	}
}
