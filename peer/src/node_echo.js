// Node.js echo server: muxbench's node peer.
//
// One event loop (libuv's: epoll on Linux, kqueue on the BSDs and macOS)
// in one thread. net.createServer hands each connection to a handler that
// pipes the socket into itself: pipe() writes what arrives, and when a
// write is buffered past the stream's high-water mark it pauses reading
// until 'drain'.
//
//     node node_echo.js [-a ADDR] [-p PORT]    (-n: say what runs, exit)
//
// Once it listens it prints one line on stdout,
//     {"listen":"127.0.0.1:PORT","pid":PID,"library":...,"loop":"libuv"}
// and serves until its stdin reaches end of file. Its CPU is read from
// outside (/proc/PID).
'use strict';

const net = require('net');

let host = '127.0.0.1';
let port = 0;
let dry = false;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const v = argv[i + 1];
  switch (argv[i]) {
    case '-a': host = v; i++; break;
    case '-p': port = Number(v); i++; break;
    case '-n': dry = true; break;
    default:
      process.stderr.write(`usage: node node_echo.js [-a ADDR] [-p PORT] [-n]\n`);
      process.exit(2);
  }
}
const library = `Node.js ${process.version} (libuv ${process.versions.uv})`;
if (dry) {
  process.stdout.write(`${library} libuv\n`);
  process.exit(0);
}

const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  socket.on('error', () => socket.destroy());
  socket.pipe(socket);
});
server.on('error', (err) => {
  process.stderr.write(`node_echo: ${err.message}\n`);
  process.exit(1);
});
// 4096: SOMAXCONN, as every peer asks; the kernel caps it at net.core.somaxconn.
server.listen({ host, port, backlog: 4096 }, () => {
  const a = server.address();
  process.stdout.write(JSON.stringify({
    listen: `${a.address}:${a.port}`,
    pid: process.pid,
    library,
    loop: 'libuv',
  }) + '\n');
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
