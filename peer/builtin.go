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

// selectConns is the most connections a peer holds whose select stops
// at FD_SETSIZE (1024): the descriptors below it, less the peer's own
// (stdio, the listener, its loop's: 12 or fewer here).
const selectConns = 1000

// Why the select peers that cannot pass FD_SETSIZE stop there.
const (
	pythonSelectLimit   = "Python's select.select takes descriptors below FD_SETSIZE (1024) only"
	libeventSelectLimit = "libevent's select aborts past FD_SETSIZE (1024) where it is built with _FORTIFY_SOURCE, as Debian builds it (\"bit out of range 0 - FD_SETSIZE on fd_set\")"
)

func init() {
	for _, m := range []struct{ mux, twisted, asyncio string }{
		{"select", "SelectReactor", "SelectSelector"},
		{"poll", "PollReactor", "PollSelector"},
		{"epoll", "EPollReactor", "EpollSelector"},
	} {
		tw := &Peer{Name: "twisted-" + m.mux, Multiplexer: m.mux, Family: "Twisted", Language: "Python", Needs: needTwisted, Loop: m.twisted,
			Doc:     "Twisted's " + m.mux + "reactor (Python); version: twisted.__version__",
			Program: twisted, Args: []string{"--reactor", m.mux}}
		as := &Peer{Name: "asyncio-" + m.mux, Multiplexer: m.mux, Family: "asyncio", Language: "Python", Needs: needPython, Loop: m.asyncio,
			Doc:     "asyncio's SelectorEventLoop on selectors." + m.asyncio + "; version: Python's",
			Program: asyncio, Args: []string{"--loop", m.mux}}
		le := &Peer{Name: "libevent-" + m.mux, Multiplexer: m.mux, Family: "libevent", Language: "C", Needs: needLibevent, Loop: m.mux,
			Doc:     "libevent's bufferevents, every method but " + m.mux + " avoided (event_config_avoid_method); version: event_get_version()",
			Program: libevent, Args: []string{"-m", m.mux}}
		if m.mux == "select" {
			tw.MaxConns, tw.Limit = selectConns, pythonSelectLimit+": Twisted's selectreactor drops the connections beyond"
			as.MaxConns, as.Limit = selectConns, pythonSelectLimit+": the peer closes the connections beyond, which its SelectSelector would raise on"
			le.MaxConns, le.Limit = selectConns, libeventSelectLimit
		}
		Register(tw)
		Register(as)
		Register(le)
	}
	for _, m := range []string{"select", "poll", "epoll", "iouring"} {
		Register(&Peer{Name: "libev-" + m, Multiplexer: m, Family: "libev", Language: "C", Needs: needLibev, Loop: m,
			Doc:     "libev's ev_io watchers on EVBACKEND_" + strings.ToUpper(m) + "; version: ev_version_major/minor()",
			Program: libev, Args: []string{"-b", m}})
	}
	Register(&Peer{Name: "uvloop", Multiplexer: libuv(), Family: "uvloop", Language: "Python", Needs: needUvloop, Loop: "uvloop.Loop",
		Doc:     "uvloop's loop (libuv's " + libuv() + ") under asyncio's Protocol; version: uvloop.__version__ and libuv's",
		Program: asyncio, Args: []string{"--loop", "uvloop"}})
	Register(&Peer{Name: "node", Multiplexer: libuv(), Family: "Node.js", Language: "JavaScript", Needs: needNode, Loop: "libuv",
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
