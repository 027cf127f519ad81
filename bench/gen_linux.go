package bench

// The generator's own poller, whatever the program links in besides.
import _ "github.com/muxbench/muxbench/poller/epoll"
