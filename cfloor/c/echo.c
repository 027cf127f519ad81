/*
 * echo: muxbench's C floor. The least an echo server can do per round
 * trip on Linux: one thread, level-triggered epoll, one shared 64 KiB
 * read buffer, and a per-connection buffer only for what a short write
 * left behind (reading from that peer stops until it is written, so a
 * peer that never reads cannot make the server buffer without bound).
 *
 * Build: cc -O2 -o echo echo.c        (or: make -C cfloor/c)
 * Run:   ./echo [-a ADDR] [-p PORT] [-c CPU] [-e]
 *
 * Once it listens it prints one line on stdout,
 *   {"listen":"127.0.0.1:PORT","pid":PID}
 * and serves until SIGINT or SIGTERM, or with -e until its stdin reaches
 * end of file (a parent that holds the other end of a pipe dies, whatever
 * its threads do). Its CPU is read from outside (muxbench load
 * --server-pid PID).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_BUF (64 * 1024)
#define MAX_EVENTS 512

struct conn {
	char *left; /* unwritten bytes of the last echo, or NULL */
	size_t len, off;
};

static struct conn *conns;
static int nconns;
static volatile sig_atomic_t stopping;

static void on_signal(int sig) { (void)sig; stopping = 1; }

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static struct conn *conn_of(int fd)
{
	if (fd >= nconns) {
		int n = nconns ? nconns : 1024;
		while (n <= fd)
			n *= 2;
		conns = realloc(conns, n * sizeof *conns);
		if (!conns)
			die("realloc");
		memset(conns + nconns, 0, (n - nconns) * sizeof *conns);
		nconns = n;
	}
	return &conns[fd];
}

static void drop(int fd)
{
	struct conn *c = conn_of(fd);
	free(c->left);
	memset(c, 0, sizeof *c);
	close(fd); /* also leaves the epoll set */
}

static void want(int ep, int fd, unsigned events)
{
	struct epoll_event ev = {.events = events | EPOLLRDHUP, .data.fd = fd};
	if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) < 0)
		die("epoll_ctl MOD");
}

/* flush writes what a short write left; 1 when all is out, 0 when the
 * socket is full again, -1 when the peer is gone. */
static int flush(int fd, struct conn *c)
{
	while (c->off < c->len) {
		ssize_t n = write(fd, c->left + c->off, c->len - c->off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? 0 : -1;
		}
		c->off += n;
	}
	free(c->left);
	c->left = NULL;
	c->len = c->off = 0;
	return 1;
}

/* echo reads what is there and writes it back; -1 when the peer is gone. */
static int echo(int ep, int fd, char *buf)
{
	for (;;) {
		ssize_t n = read(fd, buf, READ_BUF);
		if (n == 0)
			return -1;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? 0 : -1;
		}
		ssize_t w = 0;
		while (w < n) {
			ssize_t k = write(fd, buf + w, n - w);
			if (k < 0) {
				if (errno == EINTR)
					continue;
				if (errno != EAGAIN)
					return -1;
				/* Socket full: keep the rest, wait for room, read no more. */
				struct conn *c = conn_of(fd);
				c->len = n - w;
				c->off = 0;
				c->left = malloc(c->len);
				if (!c->left)
					die("malloc");
				memcpy(c->left, buf + w, c->len);
				want(ep, fd, EPOLLOUT);
				return 0;
			}
			w += k;
		}
		if (n < READ_BUF)
			return 0; /* drained: level-triggered, so no second read */
	}
}

int main(int argc, char **argv)
{
	const char *addr = "127.0.0.1";
	int port = 0, cpu = -1, on_eof = 0, opt;
	while ((opt = getopt(argc, argv, "a:p:c:e")) != -1) {
		switch (opt) {
		case 'a': addr = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'c': cpu = atoi(optarg); break;
		case 'e': on_eof = 1; break;
		default:
			fprintf(stderr, "usage: %s [-a ADDR] [-p PORT] [-c CPU] [-e]\n", argv[0]);
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof set, &set) < 0)
			die("sched_setaffinity");
	}

	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
		fprintf(stderr, "echo: -a %s: not an IPv4 address\n", addr);
		return 2;
	}
	int ln = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ln < 0)
		die("socket");
	int one = 1;
	setsockopt(ln, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(ln, (struct sockaddr *)&sin, sizeof sin) < 0)
		die("bind");
	if (listen(ln, SOMAXCONN) < 0)
		die("listen");
	socklen_t slen = sizeof sin;
	getsockname(ln, (struct sockaddr *)&sin, &slen);
	char host[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &sin.sin_addr, host, sizeof host);
	printf("{\"listen\":\"%s:%d\",\"pid\":%d}\n", host, ntohs(sin.sin_port), (int)getpid());
	fflush(stdout);

	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1");
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = ln};
	if (epoll_ctl(ep, EPOLL_CTL_ADD, ln, &ev) < 0)
		die("epoll_ctl ADD");
	struct epoll_event sev = {.events = EPOLLIN, .data.fd = STDIN_FILENO};
	if (on_eof && epoll_ctl(ep, EPOLL_CTL_ADD, STDIN_FILENO, &sev) < 0)
		die("epoll_ctl ADD stdin");
	/* A spare descriptor, given up to accept and close a connection when
	 * the table is full: level-triggered, the listener would otherwise
	 * be ready forever. */
	int spare = open("/dev/null", O_RDONLY | O_CLOEXEC);

	static char buf[READ_BUF];
	struct epoll_event evs[MAX_EVENTS];
	while (!stopping) {
		int n = epoll_wait(ep, evs, MAX_EVENTS, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait");
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			unsigned e = evs[i].events;
			if (on_eof && fd == STDIN_FILENO) {
				/* The parent is gone (or sent something: it owes us nothing). */
				stopping = 1;
				break;
			}
			if (fd == ln) {
				for (;;) {
					int c = accept4(ln, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
					if (c < 0) {
						if ((errno == EMFILE || errno == ENFILE) && spare >= 0) {
							close(spare);
							c = accept(ln, NULL, NULL);
							if (c >= 0)
								close(c);
							spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
							continue;
						}
						break; /* EAGAIN, or a connection that died queued */
					}
					setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
					conn_of(c);
					struct epoll_event cev = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = c};
					if (epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev) < 0)
						die("epoll_ctl ADD");
				}
				continue;
			}
			struct conn *c = conn_of(fd);
			int r = 0;
			if (e & EPOLLERR) {
				r = -1;
			} else if (c->left) {
				/* Waiting for room: write what is left, then read again. */
				r = flush(fd, c);
				if (r > 0) {
					want(ep, fd, EPOLLIN);
					r = 0;
				}
			} else if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) {
				/* Read first even on RDHUP: a half-closed peer still gets
				 * its echo, and the read of 0 then closes. */
				r = echo(ep, fd, buf);
			}
			if (r < 0)
				drop(fd);
		}
	}
	return 0;
}
