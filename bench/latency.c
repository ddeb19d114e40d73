/*
 * saker-bench-latency: end-to-end alert latency and start-up time of the sensor, measured
 * from this program's own clock: the time of a syscall that a default rule alerts on, to
 * the moment the alert line is read from saker's stdout.
 *
 *   saker-bench-latency latency N LOG -- SAKER [ARGS...]
 *   saker-bench-latency startup LOG -- SAKER [ARGS...]
 *
 * Both start SAKER with its stdout on a pipe to this program and its stderr to the file
 * LOG. Pass -U so that saker flushes every line. The trigger is open("/etc/shadow") by this
 * process, which the default rule "Password hashes read by an unexpected program" (and the
 * stable ruleset's "Read sensitive file untrusted") reports; an alert is ours when its line
 * names our pid (" pid=N ", or "proc.pid":N in JSON output fields) or our command line (the
 * stable ruleset's outputs show no pid): LOG, which is in it, should be a unique path.
 *
 * latency: waits for saker's "ready" line in LOG, lets it settle a second, then N times:
 * sleeps a random 0-3 ms (so that the triggers fall at every phase of the drain timer),
 * reads the clock, opens and closes /etc/shadow, and reads lines until ours arrives
 * (at most 2 s; a trigger without an alert by then is counted as missed).
 *   latency n=N missed=M p50_us=X p90_us=X p99_us=X max_us=X min_us=X
 *
 * startup: reads the clock, forks and execs saker, and from then on opens /etc/shadow every
 * 2 ms until the first alert line naming us is read (at most 30 s).
 *   startup first_alert_ms=X ready_ms=Y
 * ready_ms is when the "ready" line was first seen in LOG (polled every 2 ms, so +-2 ms).
 *
 * Neither asserts anything about time: it measures and prints.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t child = -1;
static int out_fd = -1;
static char buf[1 << 16];
static size_t buf_len;
static char needle_text[64], needle_json[64];
static const char *needle_log; /* the LOG path: in our command line, which outputs show */

static void die(const char *what)
{
	fprintf(stderr, "saker-bench-latency: %s: %s\n", what, strerror(errno));
	if (child > 0)
		kill(child, SIGTERM);
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void start_saker(char **argv, const char *log)
{
	int p[2], lfd;

	if (pipe2(p, O_CLOEXEC))
		die("pipe");
	lfd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (lfd < 0)
		die(log);
	child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		if (dup2(p[1], 1) < 0 || dup2(lfd, 2) < 0)
			_exit(127);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	close(lfd);
	out_fd = p[0];
}

static int stop_saker(void)
{
	int status;

	if (child <= 0)
		return 0;
	kill(child, SIGINT);
	/* drain stdout until saker closes it, so that its stdout thread is never stuck */
	for (;;) {
		ssize_t n = read(out_fd, buf, sizeof(buf));

		if (n <= 0)
			break;
	}
	if (waitpid(child, &status, 0) != child)
		die("waitpid");
	child = -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Reads what saker wrote, for at most timeout_ms; returns 1 when a complete line naming us
 * was read (everything up to it is consumed), 0 on timeout, -1 when saker closed stdout. */
static int wait_ours(int timeout_ms)
{
	uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000ull;

	for (;;) {
		char *nl;

		while ((nl = memchr(buf, '\n', buf_len))) {
			size_t len = (size_t)(nl - buf) + 1;
			int ours;

			*nl = 0;
			ours = strstr(buf, needle_text) || strstr(buf, needle_json) ||
			       strstr(buf, needle_log);
			memmove(buf, nl + 1, buf_len - len);
			buf_len -= len;
			if (ours)
				return 1;
		}
		if (buf_len == sizeof(buf))
			buf_len = 0; /* a line longer than the buffer: not an alert we know */
		uint64_t t = now_ns();

		if (t >= deadline)
			return 0;
		struct pollfd pfd = {.fd = out_fd, .events = POLLIN};
		int left = (int)((deadline - t + 999999) / 1000000);
		int r = poll(&pfd, 1, left);

		if (r < 0 && errno != EINTR)
			die("poll");
		if (r <= 0)
			continue;
		ssize_t n = read(out_fd, buf + buf_len, sizeof(buf) - buf_len);

		if (n < 0 && errno != EINTR)
			die("read");
		if (n == 0)
			return -1;
		if (n > 0)
			buf_len += (size_t)n;
	}
}

static void trigger(void)
{
	int fd = open("/etc/shadow", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		die("/etc/shadow");
	close(fd);
}

static int log_has_ready(const char *log)
{
	static char lb[1 << 16];
	int fd = open(log, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, lb, sizeof(lb) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	lb[n] = 0;
	return strstr(lb, "saker: info: ready") != NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static double pct_us(const uint64_t *s, size_t n, double p)
{
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);

	return (double)s[i] / 1000.0;
}

static int do_latency(unsigned long n, const char *log, char **sargv)
{
	uint64_t *lat = calloc(n, sizeof(*lat));
	size_t got = 0, missed = 0;
	int i;

	if (!lat)
		die("calloc");
	start_saker(sargv, log);
	for (i = 0; i < 3000 && !log_has_ready(log); i++) {
		if (waitpid(child, NULL, WNOHANG) == child) {
			fprintf(stderr, "saker-bench-latency: saker exited before ready (see %s)\n", log);
			return 1;
		}
		usleep(10000);
	}
	if (!log_has_ready(log)) {
		fprintf(stderr, "saker-bench-latency: saker not ready after 30 s (see %s)\n", log);
		stop_saker();
		return 1;
	}
	usleep(1000000);
	/* whatever came before (alerts about other processes) is not ours */
	buf_len = 0;
	srandom((unsigned)getpid());
	for (unsigned long k = 0; k < n; k++) {
		usleep((useconds_t)(random() % 3000));
		uint64_t t0 = now_ns();

		trigger();
		int r = wait_ours(2000);
		uint64_t t1 = now_ns();

		if (r < 0) {
			fprintf(stderr, "saker-bench-latency: saker closed its stdout (see %s)\n", log);
			return 1;
		}
		if (r == 0) {
			missed++;
			continue;
		}
		lat[got++] = t1 - t0;
	}
	int rc = stop_saker();

	if (!got) {
		fprintf(stderr, "saker-bench-latency: no alert came back (see %s)\n", log);
		return 1;
	}
	qsort(lat, got, sizeof(*lat), cmp_u64);
	printf("latency n=%zu missed=%zu p50_us=%.1f p90_us=%.1f p99_us=%.1f max_us=%.1f "
	       "min_us=%.1f saker_exit=%d\n",
	       got, missed, pct_us(lat, got, 0.5), pct_us(lat, got, 0.9), pct_us(lat, got, 0.99),
	       (double)lat[got - 1] / 1000.0, (double)lat[0] / 1000.0, rc);
	free(lat);
	return 0;
}

static int do_startup(const char *log, char **sargv)
{
	uint64_t t0, ready = 0, t;
	int r = 0;

	unlink(log);
	t0 = now_ns();
	start_saker(sargv, log);
	for (;;) {
		trigger();
		r = wait_ours(2);
		t = now_ns();
		if (!ready && log_has_ready(log))
			ready = t;
		if (r != 0 || t - t0 > 30000000000ull)
			break;
	}
	int rc = stop_saker();

	if (r != 1) {
		fprintf(stderr, "saker-bench-latency: no alert %s (see %s)\n",
			r < 0 ? "before saker closed its stdout" : "within 30 s", log);
		return 1;
	}
	printf("startup first_alert_ms=%.1f ready_ms=%.1f saker_exit=%d\n", (double)(t - t0) / 1e6,
	       ready ? (double)(ready - t0) / 1e6 : -1.0, rc);
	return 0;
}

static void usage(void)
{
	fputs("usage: saker-bench-latency latency N LOG -- SAKER [ARGS...]\n"
	      "       saker-bench-latency startup LOG -- SAKER [ARGS...]\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	snprintf(needle_text, sizeof(needle_text), " pid=%d ", (int)getpid());
	snprintf(needle_json, sizeof(needle_json), "\"proc.pid\":%d,", (int)getpid());
	if (argc >= 6 && !strcmp(argv[1], "latency") && !strcmp(argv[4], "--")) {
		char *end;
		unsigned long n = strtoul(argv[2], &end, 10);

		if (!*argv[2] || *end || !n)
			usage();
		needle_log = argv[3];
		return do_latency(n, argv[3], argv + 5);
	}
	if (argc >= 5 && !strcmp(argv[1], "startup") && !strcmp(argv[3], "--"))
	{
		needle_log = argv[2];
		return do_startup(argv[2], argv + 4);
	}
	usage();
	return 2;
}
