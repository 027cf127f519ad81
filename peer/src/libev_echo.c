/*
 * libev echo server: muxbench's libev peers.
 *
 * One loop in one thread, made with ev_loop_new on the one backend -b
 * names (EVBACKEND_SELECT, _POLL, _EPOLL or _IOURING) and checked with
 * ev_backend. Each connection is an ev_io watcher: it reads into one
 * shared 64 KiB buffer and writes back what it read; what a short write
 * leaves is kept, and the watcher waits for EV_WRITE instead of EV_READ
 * until it is written (libev buffers nothing itself).
 *
 * Build: cc -O2 -o libev_echo libev_echo.c -lev
 * Run:   ./libev_echo -b select|poll|epoll|iouring [-a ADDR] [-p PORT]
 *        (-n: make the loop, print the backend it runs, exit)
 *
 * Once it listens it prints one line on stdout,
 *   {"listen":"127.0.0.1:PORT","pid":PID,"library":...,"loop":BACKEND}
 * and serves until its stdin reaches end of file. Its CPU is read from
 * outside (/proc/PID).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_BUF (64 * 1024)

static const struct {
	const char *name;
	unsigned flag;
} backends[] = {
	{"select", EVBACKEND_SELECT},
	{"poll", EVBACKEND_POLL},
	{"epoll", EVBACKEND_EPOLL},
#if EV_VERSION_MAJOR * 100 + EV_VERSION_MINOR >= 431 /* io_uring came in 4.31 */
	{"iouring", EVBACKEND_IOURING},
#endif
};

struct conn {
	ev_io io;
	char *left; /* unwritten bytes, or NULL */
	size_t len, off;
};

static char buf[READ_BUF];

static const char *backend_name(unsigned flag)
{
	for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
		if (backends[i].flag == flag)
			return backends[i].name;
	return "other";
}

static void drop(struct ev_loop *loop, struct conn *c)
{
	ev_io_stop(loop, &c->io);
	close(c->io.fd);
	free(c->left);
	free(c);
}

/* wait switches the watcher to events. */
static void wait_for(struct ev_loop *loop, struct conn *c, int events)
{
	ev_io_stop(loop, &c->io);
	ev_io_set(&c->io, c->io.fd, events);
	ev_io_start(loop, &c->io);
}

/* echo writes n bytes of buf back; 0 when all went or the rest is kept,
 * -1 when the peer is gone. */
static int echo(struct ev_loop *loop, struct conn *c, ssize_t n)
{
	ssize_t w = 0;
	while (w < n) {
		ssize_t k = write(c->io.fd, buf + w, n - w);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -1;
			c->len = n - w;
			c->off = 0;
			c->left = malloc(c->len);
			if (!c->left)
				return -1;
			memcpy(c->left, buf + w, c->len);
			wait_for(loop, c, EV_WRITE);
			return 0;
		}
		w += k;
	}
	return 0;
}

static void on_conn(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *c = (struct conn *)w;
	if (revents & EV_WRITE) {
		while (c->off < c->len) {
			ssize_t k = write(w->fd, c->left + c->off, c->len - c->off);
			if (k < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN)
					return;
				drop(loop, c);
				return;
			}
			c->off += k;
		}
		free(c->left);
		c->left = NULL;
		wait_for(loop, c, EV_READ);
		return;
	}
	for (;;) {
		ssize_t n = read(w->fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0 || echo(loop, c, n) < 0) {
			drop(loop, c);
			return;
		}
		if (c->left || n < (ssize_t)sizeof buf)
			return; /* waiting to write, or drained */
	}
}

static void on_accept(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)revents;
	int one = 1;
	for (;;) {
		int fd = accept(w->fd, NULL, NULL);
		if (fd < 0)
			return; /* EAGAIN, or a connection that died queued */
		fcntl(fd, F_SETFL, O_NONBLOCK);
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		struct conn *c = calloc(1, sizeof *c);
		if (!c) {
			close(fd);
			continue;
		}
		ev_io_init(&c->io, on_conn, fd, EV_READ);
		ev_io_start(loop, &c->io);
	}
}

static void on_stdin(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)revents;
	char b[256];
	if (read(w->fd, b, sizeof b) <= 0)
		ev_break(loop, EVBREAK_ALL);
}

int main(int argc, char **argv)
{
	const char *addr = "127.0.0.1", *want = NULL;
	int port = 0, dry = 0, opt;
	while ((opt = getopt(argc, argv, "a:p:b:n")) != -1) {
		switch (opt) {
		case 'a': addr = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'b': want = optarg; break;
		case 'n': dry = 1; break;
		default:
			fprintf(stderr, "usage: %s -b BACKEND [-a ADDR] [-p PORT] [-n]\n", argv[0]);
			return 2;
		}
	}
	unsigned flag = 0;
	for (size_t i = 0; want && i < sizeof backends / sizeof backends[0]; i++)
		if (strcmp(backends[i].name, want) == 0)
			flag = backends[i].flag;
	if (!flag) {
		fprintf(stderr, "libev_echo: -b: want select, poll, epoll or iouring (this libev %d.%d has %s)\n",
			ev_version_major(), ev_version_minor(), want ? "not that one" : "them");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	/* EVFLAG_NOENV: LIBEV_FLAGS in the environment cannot choose instead. */
	struct ev_loop *loop = ev_loop_new(flag | EVFLAG_NOENV);
	if (!loop || ev_backend(loop) != flag) {
		fprintf(stderr, "libev_echo: libev %d.%d cannot run its %s backend here\n",
			ev_version_major(), ev_version_minor(), want);
		return 1;
	}
	if (dry) {
		printf("libev %d.%d %s\n", ev_version_major(), ev_version_minor(), backend_name(ev_backend(loop)));
		return 0;
	}

	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
		fprintf(stderr, "libev_echo: -a %s: not an IPv4 address\n", addr);
		return 2;
	}
	int ln = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(ln, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (ln < 0 || bind(ln, (struct sockaddr *)&sin, sizeof sin) < 0 || listen(ln, SOMAXCONN) < 0) {
		perror("libev_echo: listen");
		return 1;
	}
	fcntl(ln, F_SETFL, O_NONBLOCK);
	fcntl(ln, F_SETFD, FD_CLOEXEC);
	socklen_t slen = sizeof sin;
	getsockname(ln, (struct sockaddr *)&sin, &slen);
	char host[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &sin.sin_addr, host, sizeof host);
	printf("{\"listen\":\"%s:%d\",\"pid\":%d,\"library\":\"libev %d.%d\",\"loop\":\"%s\"}\n",
		host, ntohs(sin.sin_port), (int)getpid(), ev_version_major(), ev_version_minor(),
		backend_name(ev_backend(loop)));
	fflush(stdout);

	ev_io accept_w, stdin_w;
	ev_io_init(&accept_w, on_accept, ln, EV_READ);
	ev_io_start(loop, &accept_w);
	ev_io_init(&stdin_w, on_stdin, STDIN_FILENO, EV_READ);
	ev_io_start(loop, &stdin_w);
	ev_run(loop, 0);
	ev_loop_destroy(loop);
	return 0;
}
