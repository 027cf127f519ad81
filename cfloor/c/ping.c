/*
 * ping: muxbench's C floor for latency. One blocking TCP connection, one
 * message in flight: write it, read the echo back whole, check every byte,
 * time the round trip with CLOCK_MONOTONIC. Against the C echo server it
 * is the least latency this machine's loopback gives; muxbench load
 * --conns 1 against the same server shows what the generator adds.
 *
 * Build: cc -O2 -o ping ping.c        (or: make -C cfloor/c)
 * Run:   ./ping -p PORT [-a ADDR] [-s SIZE] [-n COUNT | -t SECONDS]
 *
 * Prints one line: round trips, round trips per second and the latency
 * percentiles in microseconds (from all samples, sorted). Exit status 1
 * when an echo differs from what was sent or the connection fails.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return (x > y) - (x < y);
}

static double pct(const long long *s, long n, double p)
{
	long i = (long)(p / 100 * n);
	if (i >= n)
		i = n - 1;
	return s[i] / 1e3;
}

int main(int argc, char **argv)
{
	const char *addr = "127.0.0.1";
	int port = 0, opt;
	long size = 64, count = 0;
	double secs = 0;
	while ((opt = getopt(argc, argv, "a:p:s:n:t:")) != -1) {
		switch (opt) {
		case 'a': addr = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 's': size = atol(optarg); break;
		case 'n': count = atol(optarg); break;
		case 't': secs = atof(optarg); break;
		default: goto usage;
		}
	}
	if (port <= 0 || size < 1 || size > (16 << 20) || count < 0 || secs < 0)
		goto usage;
	if (count == 0 && secs == 0)
		secs = 5;

	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
		goto usage;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof sin) < 0) {
		perror("ping: connect");
		return 1;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

	char *out = malloc(size), *in = malloc(size);
	long cap = count ? count : 1 << 16, n = 0;
	long long *lat = malloc(cap * sizeof *lat);
	if (!out || !in || !lat) {
		perror("ping: malloc");
		return 1;
	}
	long long start = now_ns(), end = start + (long long)(secs * 1e9);
	for (unsigned seq = 0; count ? n < count : now_ns() < end; seq++) {
		/* A pattern that changes with every message: a stale or shifted
		 * echo cannot pass for the right one. */
		for (long i = 0; i < size; i++)
			out[i] = (char)(seq * 31 + i * 7);
		long long t0 = now_ns();
		for (long w = 0; w < size;) {
			ssize_t k = write(fd, out + w, size - w);
			if (k < 0) {
				if (errno == EINTR)
					continue;
				perror("ping: write");
				return 1;
			}
			w += k;
		}
		for (long r = 0; r < size;) {
			ssize_t k = read(fd, in + r, size - r);
			if (k <= 0) {
				if (k < 0 && errno == EINTR)
					continue;
				fprintf(stderr, "ping: connection %s after %ld round trips\n", k ? strerror(errno) : "closed", n);
				return 1;
			}
			r += k;
		}
		long long t1 = now_ns();
		if (memcmp(in, out, size) != 0) {
			fprintf(stderr, "ping: echo %u differs from what was sent\n", seq);
			return 1;
		}
		if (n == cap) {
			cap *= 2;
			lat = realloc(lat, cap * sizeof *lat);
			if (!lat) {
				perror("ping: realloc");
				return 1;
			}
		}
		lat[n++] = t1 - t0;
	}
	double took = (now_ns() - start) / 1e9;
	if (n == 0) {
		fprintf(stderr, "ping: no round trip in the time given\n");
		return 1;
	}
	qsort(lat, n, sizeof *lat, cmp);
	printf("round_trips=%ld rt_per_sec=%.0f p50_us=%.2f p90_us=%.2f p99_us=%.2f p99_9_us=%.2f max_us=%.2f\n",
	       n, n / took, pct(lat, n, 50), pct(lat, n, 90), pct(lat, n, 99), pct(lat, n, 99.9), lat[n - 1] / 1e3);
	close(fd);
	return 0;

usage:
	fprintf(stderr, "usage: %s -p PORT [-a ADDR] [-s SIZE] [-n COUNT | -t SECONDS]\n", argv[0]);
	return 2;
}
