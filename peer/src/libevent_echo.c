/*
 * libevent echo server: muxbench's libevent peers.
 *
 * One event_base in one thread, on the method -m names, forced with
 * event_config_avoid_method for every other method the library has, and
 * checked with event_base_get_method. Connections are bufferevents from
 * an evconnlistener: the read callback moves the input buffer to the
 * output buffer, which libevent writes as the socket takes it; while more
 * than HIGH bytes wait there, reading stops until the write callback
 * finds them written.
 *
 * Build: cc -O2 -o libevent_echo libevent_echo.c $(pkg-config --cflags --libs libevent)
 * Run:   ./libevent_echo -m select|poll|epoll [-a ADDR] [-p PORT]
 *        (-n: make the event_base, print the method it runs, exit)
 *
 * Once it listens it prints one line on stdout,
 *   {"listen":"127.0.0.1:PORT","pid":PID,"library":...,"loop":METHOD}
 * and serves until its stdin reaches end of file. Its CPU is read from
 * outside (/proc/PID).
 */
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define HIGH (1 << 20)

static void on_read(struct bufferevent *bev, void *arg)
{
	(void)arg;
	struct evbuffer *out = bufferevent_get_output(bev);
	evbuffer_add_buffer(out, bufferevent_get_input(bev));
	if (evbuffer_get_length(out) > HIGH)
		bufferevent_disable(bev, EV_READ);
}

static void on_written(struct bufferevent *bev, void *arg)
{
	(void)arg;
	if (!(bufferevent_get_enabled(bev) & EV_READ))
		bufferevent_enable(bev, EV_READ);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)arg;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		bufferevent_free(bev);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len, void *arg)
{
	(void)sa;
	(void)len;
	(void)arg;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	struct bufferevent *bev = bufferevent_socket_new(evconnlistener_get_base(l), fd, BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		evutil_closesocket(fd);
		return;
	}
	bufferevent_setcb(bev, on_read, on_written, on_event, NULL);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

static void on_stdin(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	char b[256];
	if (read(fd, b, sizeof b) <= 0)
		event_base_loopbreak(arg);
}

int main(int argc, char **argv)
{
	const char *addr = "127.0.0.1", *method = NULL;
	int port = 0, dry = 0, opt;
	while ((opt = getopt(argc, argv, "a:p:m:n")) != -1) {
		switch (opt) {
		case 'a': addr = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'm': method = optarg; break;
		case 'n': dry = 1; break;
		default:
			fprintf(stderr, "usage: %s -m METHOD [-a ADDR] [-p PORT] [-n]\n", argv[0]);
			return 2;
		}
	}
	if (!method) {
		fprintf(stderr, "libevent_echo: -m METHOD is required (select, poll, epoll)\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);

	struct event_config *cfg = event_config_new();
	event_config_set_flag(cfg, EVENT_BASE_FLAG_IGNORE_ENV); /* EVENT_NOEPOLL and the like */
	for (const char **m = event_get_supported_methods(); *m; m++)
		if (strcmp(*m, method) != 0)
			event_config_avoid_method(cfg, *m);
	struct event_base *base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	if (!base || strcmp(event_base_get_method(base), method) != 0) {
		fprintf(stderr, "libevent_echo: libevent %s has no %s method here (it would run %s)\n",
			event_get_version(), method, base ? event_base_get_method(base) : "nothing");
		return 1;
	}
	if (dry) {
		printf("libevent %s %s\n", event_get_version(), event_base_get_method(base));
		return 0;
	}

	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
		fprintf(stderr, "libevent_echo: -a %s: not an IPv4 address\n", addr);
		return 2;
	}
	struct evconnlistener *ln = evconnlistener_new_bind(base, on_accept, NULL,
		LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, SOMAXCONN,
		(struct sockaddr *)&sin, sizeof sin);
	if (!ln) {
		perror("libevent_echo: listen");
		return 1;
	}
	socklen_t slen = sizeof sin;
	getsockname(evconnlistener_get_fd(ln), (struct sockaddr *)&sin, &slen);
	char host[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &sin.sin_addr, host, sizeof host);
	printf("{\"listen\":\"%s:%d\",\"pid\":%d,\"library\":\"libevent %s\",\"loop\":\"%s\"}\n",
		host, ntohs(sin.sin_port), (int)getpid(), event_get_version(), event_base_get_method(base));
	fflush(stdout);

	struct event *in = event_new(base, STDIN_FILENO, EV_READ | EV_PERSIST, on_stdin, base);
	event_add(in, NULL);
	event_base_dispatch(base);
	event_free(in);
	evconnlistener_free(ln);
	event_base_free(base);
	return 0;
}
