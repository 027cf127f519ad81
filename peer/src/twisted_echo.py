"""Twisted echo server: muxbench's Twisted peers.

One reactor in one thread, the one --reactor names installed before
twisted.internet.reactor is first imported: selectreactor, pollreactor or
epollreactor. A Protocol echoes what arrives with transport.write, which
buffers what a short write leaves and waits for writability itself; the
transport is registered as its own streaming producer, so that reading
pauses while its write buffer is full.

    python3 twisted_echo.py --reactor epoll [-a ADDR] [-p PORT]   (-n: say what runs, exit)

Once it listens it prints one line on stdout,
    {"listen":"127.0.0.1:PORT","pid":PID,"library":...,"loop":...}
and serves until its stdin reaches end of file. Its CPU is read from
outside (/proc/PID).

selectreactor gets ValueError from select(2) for a descriptor at or above
FD_SETSIZE (1024), and drops such connections itself (_preenDescriptors).
"""

import argparse
import importlib
import json
import os
import platform


def main():
    p = argparse.ArgumentParser(description="Twisted echo server")
    p.add_argument("--reactor", required=True, choices=["select", "poll", "epoll"])
    p.add_argument("-a", default="127.0.0.1", help="address to bind")
    p.add_argument("-p", type=int, default=0, help="port (0: any free one)")
    p.add_argument("-n", action="store_true", help="install the reactor, say which runs, and exit")
    args = p.parse_args()

    importlib.import_module("twisted.internet.%sreactor" % args.reactor).install()
    import socket

    import twisted
    from twisted.internet import protocol, reactor, stdio

    library = "Twisted %s (Python %s)" % (twisted.__version__, platform.python_version())
    runs = type(reactor).__name__
    if args.n:
        print(library, runs)
        return

    class Echo(protocol.Protocol):
        def connectionMade(self):
            self.transport.setTcpNoDelay(True)
            self.transport.registerProducer(self.transport, True)

        def dataReceived(self, data):
            self.transport.write(data)

        def connectionLost(self, reason):
            self.transport.unregisterProducer()

    class Stdin(protocol.Protocol):
        def connectionLost(self, reason):
            if reactor.running:
                reactor.stop()

    factory = protocol.Factory.forProtocol(Echo)
    port = reactor.listenTCP(args.p, factory, backlog=socket.SOMAXCONN, interface=args.a)
    host = port.getHost()
    print(json.dumps({"listen": "%s:%d" % (host.host, host.port), "pid": os.getpid(), "library": library, "loop": runs},
                     separators=(",", ":")), flush=True)
    stdio.StandardIO(Stdin())
    reactor.run()


if __name__ == "__main__":
    main()
