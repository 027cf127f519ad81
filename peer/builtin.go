package peer

import (
	_ "embed"
	"runtime"
	"strings"
)

//go:embed src/twisted_echo.py
var twistedSource []byte

//go:embed src/asyncio_echo.py
var asyncioSource []byte

//go:embed src/node_echo.js
var nodeSource []byte

//go:embed src/libevent_echo.c
var libeventSource []byte

//go:embed src/libev_echo.c
var libevSource []byte

// InstallCommand installs every peer's packages on Debian or Ubuntu.
const InstallCommand = "apt-get install -y python3-twisted python3-uvloop libevent-dev libev-dev nodejs pkg-config gcc"

// The Debian packages each peer needs.
const (
	needTwisted  = "python3-twisted"
	needPython   = "python3"
	needUvloop   = "python3-uvloop"
	needLibevent = "libevent-dev, pkg-config"
	needLibev    = "libev-dev"
	needNode     = "nodejs"
)

var (
	twisted  = Script("twisted_echo.py", twistedSource, python)
	asyncio  = Script("asyncio_echo.py", asyncioSource, python)
	nodejs   = Script("node_echo.js", nodeSource, node)
	libevent = C("libevent_echo", libeventSource, needLibevent, pkgConfig("libevent", needLibevent))
	libev    = C("libev_echo", libevSource, needLibev, func() ([]string, error) { return []string{"-lev"}, nil })
)

func init() {
	for _, m := range []struct{ mux, twisted, asyncio string }{
		{"select", "SelectReactor", "SelectSelector"},
		{"poll", "PollReactor", "PollSelector"},
		{"epoll", "EPollReactor", "EpollSelector"},
	} {
		Register(&Peer{Name: "twisted-" + m.mux, Multiplexer: m.mux, Needs: needTwisted, Loop: m.twisted,
			Doc:     "Twisted's " + m.mux + "reactor (Python); version: twisted.__version__",
			Program: twisted, Args: []string{"--reactor", m.mux}})
		Register(&Peer{Name: "asyncio-" + m.mux, Multiplexer: m.mux, Needs: needPython, Loop: m.asyncio,
			Doc:     "asyncio's SelectorEventLoop on selectors." + m.asyncio + "; version: Python's",
			Program: asyncio, Args: []string{"--loop", m.mux}})
		Register(&Peer{Name: "libevent-" + m.mux, Multiplexer: m.mux, Needs: needLibevent, Loop: m.mux,
			Doc:     "libevent's bufferevents, every method but " + m.mux + " avoided (event_config_avoid_method); version: event_get_version()",
			Program: libevent, Args: []string{"-m", m.mux}})
	}
	for _, m := range []string{"select", "poll", "epoll", "iouring"} {
		Register(&Peer{Name: "libev-" + m, Multiplexer: m, Needs: needLibev, Loop: m,
			Doc:     "libev's ev_io watchers on EVBACKEND_" + strings.ToUpper(m) + "; version: ev_version_major/minor()",
			Program: libev, Args: []string{"-b", m}})
	}
	Register(&Peer{Name: "uvloop", Multiplexer: libuv(), Needs: needUvloop, Loop: "uvloop.Loop",
		Doc:     "uvloop's loop (libuv's " + libuv() + ") under asyncio's Protocol; version: uvloop.__version__ and libuv's",
		Program: asyncio, Args: []string{"--loop", "uvloop"}})
	Register(&Peer{Name: "node", Multiplexer: libuv(), Needs: needNode, Loop: "libuv",
		Doc:     "Node.js net.createServer, socket.pipe(socket) (libuv's " + libuv() + "); version: process.version and process.versions.uv",
		Program: nodejs})
}

// libuv is the multiplexer libuv runs here, and lets nobody choose.
func libuv() string {
	if runtime.GOOS == "linux" {
		return "epoll"
	}
	return "kqueue"
}
