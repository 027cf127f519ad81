"""asyncio echo server: muxbench's asyncio and uvloop peers.

One event loop in one thread, on the multiplexer named by --loop: asyncio's
SelectorEventLoop over selectors.SelectSelector, PollSelector or
EpollSelector, or uvloop's loop (libuv). A Protocol echoes what arrives
with transport.write, which buffers what a short write leaves and waits
for writability itself; above the transport's high-water mark
pause_writing stops reading until resume_writing.

    python3 asyncio_echo.py --loop epoll [-a ADDR] [-p PORT]   (-n: say what runs, exit)

Once it listens it prints one line on stdout,
    {"listen":"127.0.0.1:PORT","pid":PID,"library":...,"loop":...}
and serves until its stdin reaches end of file. Its CPU is read from
outside (/proc/PID).

select(2) takes descriptors below FD_SETSIZE (1024) only: SelectSelector
would raise out of the loop on the first above, so that peer closes such
connections as they arrive, as Twisted's selectreactor does.
"""

import argparse
import asyncio
import json
import os
import platform
import selectors
import socket
import sys

FD_SETSIZE = 1024


class Echo(asyncio.Protocol):
    limit = None  # descriptors at or above it are closed on arrival

    def connection_made(self, transport):
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if self.limit is not None and sock.fileno() >= self.limit:
            transport.abort()
            return
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data):
        self.transport.write(data)

    def pause_writing(self):
        self.transport.pause_reading()

    def resume_writing(self):
        self.transport.resume_reading()


def new_loop(name):
    if name == "uvloop":
        import uvloop
        import uvloop.loop

        v = uvloop.loop.libuv_get_version()  # libuv's uv_version()
        loop = uvloop.new_event_loop()
        library = "uvloop %s (libuv %d.%d.%d)" % (uvloop.__version__, v >> 16, (v >> 8) & 255, v & 255)
        return loop, library, type(loop).__module__ + "." + type(loop).__name__
    selector = {
        "select": selectors.SelectSelector,
        "poll": getattr(selectors, "PollSelector", None),
        "epoll": getattr(selectors, "EpollSelector", None),
    }[name]
    if selector is None:
        sys.exit("asyncio_echo: no %s here" % name)
    if name == "select":
        Echo.limit = FD_SETSIZE
    loop = asyncio.SelectorEventLoop(selector())
    return loop, "asyncio (Python %s)" % platform.python_version(), type(loop._selector).__name__


async def serve(loop, args, library, runs):
    server = await loop.create_server(Echo, args.a, args.p, backlog=socket.SOMAXCONN, reuse_address=True)
    host, port = server.sockets[0].getsockname()[:2]
    print(json.dumps({"listen": "%s:%d" % (host, port), "pid": os.getpid(), "library": library, "loop": runs},
                     separators=(",", ":")), flush=True)
    done = loop.create_future()

    def on_stdin():
        if not os.read(0, 4096) and not done.done():
            done.set_result(None)

    loop.add_reader(0, on_stdin)
    await done


def main():
    p = argparse.ArgumentParser(description="asyncio echo server")
    p.add_argument("--loop", required=True, choices=["select", "poll", "epoll", "uvloop"])
    p.add_argument("-a", default="127.0.0.1", help="address to bind")
    p.add_argument("-p", type=int, default=0, help="port (0: any free one)")
    p.add_argument("-n", action="store_true", help="make the loop, say which runs, and exit")
    args = p.parse_args()
    loop, library, runs = new_loop(args.loop)
    if args.n:
        print(library, runs)
        return
    asyncio.set_event_loop(loop)
    loop.run_until_complete(serve(loop, args, library, runs))


if __name__ == "__main__":
    main()
