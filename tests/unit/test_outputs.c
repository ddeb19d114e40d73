/* The alert channels (src/outputs.c): bounded queues that drop and count when a sink blocks,
 * the file channel's reopen, the program channel's restarts, syslog's format, and the HTTP
 * client against a small server in a thread of this test (127.0.0.1, an ephemeral port):
 * keep-alive reuse, chunked responses, retries, a receiver that stalls. Every test checks
 * that each alert is accounted for exactly once (sent, dropped, failed or dropped_exit). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "outputs.h"
#include "testlib.h"

static char tmpdir[] = "/tmp/saker-test-outputs.XXXXXX";

static uint64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static char *path_in_tmp(const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", tmpdir, name) < 0)
		abort();
	return p;
}

/* Defaults with every channel off (stdout is TAP's). */
static void cfg_init(struct config *c)
{
	config_defaults(c);
	c->stdout_enabled = false;
	c->output_timeout_ms = 300;
}

static struct output_stats stat_of(struct outputs *o, enum output_kind k)
{
	struct output_stats st[OUTPUT_NKINDS];

	outputs_stats(o, st);
	return st[k];
}

static uint64_t settled(const struct output_stats *s)
{
	return s->sent + s->dropped + s->failed + s->dropped_exit;
}

/* Waits until the channel has sent (or, with any, sent or failed) at least n alerts. */
static bool wait_sent(struct outputs *o, enum output_kind k, uint64_t n, bool any,
		      unsigned timeout_ms)
{
	uint64_t until = ms_now() + timeout_ms;

	for (;;) {
		struct output_stats s = stat_of(o, k);

		if (s.sent + (any ? s.failed : 0) >= n)
			return true;
		if (ms_now() > until)
			return false;
		sleep_ms(5);
	}
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		buf[0] = '\0';
	fclose(f);
	return buf;
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

static void emit_str(struct outputs *o, const char *s, int prio)
{
	outputs_emit(o, s, strlen(s), prio);
}

/* An alert of about size bytes, numbered. */
static void emit_sized(struct outputs *o, int i, size_t size)
{
	char buf[4096];
	int n = snprintf(buf, sizeof(buf), "{\"n\":%d,\"pad\":\"", i);

	while ((size_t)n < size - 2 && (size_t)n < sizeof(buf) - 3)
		buf[n++] = 'x';
	buf[n++] = '"';
	buf[n++] = '}';
	outputs_emit(o, buf, (size_t)n, 4);
}

/* ------------------------------------------------------------------ stdout */

TEST(stdout_lines_and_flush)
{
	struct config c;
	FILE *f = tmpfile();
	struct outputs_opts oo = {.unbuffered = true, .stdout_stream = f};
	struct outputs *o;
	struct output_stats s;
	char buf[256] = "";

	cfg_init(&c);
	c.stdout_enabled = true;
	o = outputs_new(&c, &oo);
	CHECK(o != NULL);
	emit_str(o, "first alert", 4);
	emit_str(o, "second alert", 1);
	CHECK(wait_sent(o, OUTPUT_STDOUT, 2, false, 2000));
	/* flushed per alert: readable before the shutdown */
	rewind(f);
	CHECK(fread(buf, 1, sizeof(buf) - 1, f) > 0);
	CHECK_EQ_STR(buf, "first alert\nsecond alert\n");
	outputs_shutdown(o, 1000);
	s = stat_of(o, OUTPUT_STDOUT);
	CHECK_EQ_INT(s.sent, 2);
	CHECK_EQ_INT(settled(&s), 2);
	outputs_free(o);
	fclose(f);
	config_free(&c);
}

/* ------------------------------------------------------------------ file */

/* The sink blocks: a FIFO whose reader never reads. The event loop's side never waits: the
 * queue fills, the rest is dropped and counted, and the drop is logged once per interval. */
TEST(file_fifo_nobody_reads)
{
	struct config c;
	char *fifo = path_in_tmp("fifo"), *errlog = path_in_tmp("stderr.txt");
	struct outputs_opts oo = {.report_interval_ms = 100};
	struct outputs *o;
	struct output_stats s;
	int rfd, saved_err, efd;
	uint64_t t0, t_emit;
	char *log;
	const int N = 400;

	CHECK(mkfifo(fifo, 0600) == 0);
	rfd = open(fifo, O_RDONLY | O_NONBLOCK); /* a reader exists, and never reads */
	CHECK(rfd >= 0);
	cfg_init(&c);
	c.file_enabled = true;
	c.file_keep_alive = true;
	c.file_name = strdup(fifo);
	c.queue_capacity = 8;
	/* the monitor's lines go to stderr: keep them in a file to look at */
	fflush(stderr);
	saved_err = dup(2);
	efd = open(errlog, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(efd, 2);
	close(efd);

	o = outputs_new(&c, &oo);
	CHECK(o != NULL);
	/* 400 KB, far more than a pipe holds, at a pace the writer keeps up with until the
	 * pipe is full */
	t_emit = 0;
	for (int i = 0; i < N; i++) {
		t0 = ms_now();
		emit_sized(o, i, 1000);
		if (ms_now() - t0 > t_emit)
			t_emit = ms_now() - t0;
		sleep_ms(1);
	}
	sleep_ms(400); /* the writer has been blocked for longer than output_timeout */
	s = stat_of(o, OUTPUT_FILE);
	CHECK(t_emit < 20);
	CHECK(s.dropped > 0);
	CHECK_EQ_INT(s.queued, 8);
	CHECK(s.sent > 0 && s.sent < (uint64_t)N / 2);
	/* the rest is the batch being written (at most a queue's worth) */
	CHECK(s.sent + s.dropped + s.queued <= (uint64_t)N);
	CHECK(s.sent + s.dropped + s.queued + 8 >= (uint64_t)N);
	outputs_shutdown(o, 200);
	s = stat_of(o, OUTPUT_FILE);
	CHECK_EQ_INT(settled(&s), N);
	CHECK(s.dropped_exit >= 8);
	outputs_free(o);

	fflush(stderr);
	dup2(saved_err, 2);
	close(saved_err);
	log = read_file(errlog);
	CHECK(log && strstr(log, "alerts dropped on the file output in the last"));
	CHECK(log && strstr(log, "has been blocked for more than 300 ms"));
	CHECK(log && strstr(log, "still queued for the file output at exit"));
	if (log && !strstr(log, "alerts dropped on the file output"))
		printf("# stderr was:\n%s", log);
	free(log);
	close(rfd);
	unlink(fifo);
	unlink(errlog);
	free(fifo);
	free(errlog);
	config_free(&c);
}

TEST(file_append_mode_and_reopen)
{
	struct config c;
	char *path = path_in_tmp("alerts.log"), *rotated = path_in_tmp("alerts.log.1");
	struct outputs *o;
	struct output_stats s;
	struct stat st;
	char *a, *b;
	FILE *f;

	/* append: what is there stays */
	f = fopen(path, "w");
	fputs("earlier\n", f);
	fclose(f);
	cfg_init(&c);
	c.file_enabled = true;
	c.file_keep_alive = true;
	c.file_name = strdup(path);
	o = outputs_new(&c, NULL);
	emit_str(o, "one", 4);
	emit_str(o, "two", 4);
	CHECK(wait_sent(o, OUTPUT_FILE, 2, false, 2000));
	/* logrotate: the file is moved away, SIGUSR1 makes saker open a new one */
	CHECK(rename(path, rotated) == 0);
	emit_str(o, "three", 4); /* still into the open, renamed file */
	CHECK(wait_sent(o, OUTPUT_FILE, 3, false, 2000));
	outputs_reopen(o);
	emit_str(o, "four", 4);
	CHECK(wait_sent(o, OUTPUT_FILE, 4, false, 2000));
	/* the new file is saker's: only its owner reads alerts */
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	outputs_shutdown(o, 1000);
	s = stat_of(o, OUTPUT_FILE);
	CHECK_EQ_INT(s.sent, 4);
	CHECK_EQ_INT(s.reconnects, 1);
	a = read_file(rotated);
	b = read_file(path);
	CHECK_EQ_STR(a, "earlier\none\ntwo\nthree\n");
	CHECK_EQ_STR(b, "four\n");
	free(a);
	free(b);
	outputs_free(o);
	unlink(path);
	unlink(rotated);
	free(path);
	free(rotated);
	config_free(&c);
}

TEST(file_no_keep_alive_and_errors)
{
	struct config c;
	char *path = path_in_tmp("each.log"), *bad = path_in_tmp("no/such/dir/x.log");
	struct outputs *o;
	struct output_stats s;
	char *text;

	cfg_init(&c);
	c.file_enabled = true;
	c.file_keep_alive = false;
	c.file_name = strdup(path);
	o = outputs_new(&c, NULL);
	emit_str(o, "a", 4);
	CHECK(wait_sent(o, OUTPUT_FILE, 1, false, 2000));
	unlink(path); /* closed after each write: the next one creates it again */
	emit_str(o, "b", 4);
	CHECK(wait_sent(o, OUTPUT_FILE, 2, false, 2000));
	outputs_shutdown(o, 1000);
	text = read_file(path);
	CHECK_EQ_STR(text, "b\n");
	free(text);
	outputs_free(o);
	config_free(&c);

	/* a file that cannot be opened: counted as failed, every time */
	cfg_init(&c);
	c.file_enabled = true;
	c.file_name = strdup(bad);
	o = outputs_new(&c, NULL);
	emit_str(o, "x", 4);
	emit_str(o, "y", 4);
	CHECK(wait_sent(o, OUTPUT_FILE, 2, true, 2000));
	outputs_shutdown(o, 1000);
	s = stat_of(o, OUTPUT_FILE);
	CHECK_EQ_INT(s.failed, 2);
	CHECK_EQ_INT(s.sent, 0);
	outputs_free(o);
	unlink(path);
	free(path);
	free(bad);
	config_free(&c);
}

/* ------------------------------------------------------------------ program */

TEST(program_restarted_when_it_exits)
{
	struct config c;
	char *out = path_in_tmp("prog.out"), *cmd;
	struct outputs *o;
	struct output_stats s;
	char *text = NULL;

	/* takes one line and ends: each alert needs a new program */
	if (asprintf(&cmd, "head -n 1 >> %s", out) < 0)
		abort();
	cfg_init(&c);
	c.program_enabled = true;
	c.program_keep_alive = true;
	c.program = cmd;
	o = outputs_new(&c, NULL);
	for (int i = 0; i < 3; i++) {
		char line[32];
		uint64_t until = ms_now() + 3000;

		snprintf(line, sizeof(line), "alert %d", i);
		emit_str(o, line, 4);
		/* the next only once this one is in the file (head drops what it did not print) */
		do {
			free(text);
			sleep_ms(10);
			text = read_file(out);
		} while (count_lines(text) < i + 1 && ms_now() < until);
		sleep_ms(50); /* head has printed its line: let it end before the next one */
	}
	CHECK_EQ_STR(text, "alert 0\nalert 1\nalert 2\n");
	free(text);
	outputs_shutdown(o, 1000);
	s = stat_of(o, OUTPUT_PROGRAM);
	CHECK_EQ_INT(s.sent, 3);
	CHECK_EQ_INT(s.failed, 0);
	CHECK(s.reconnects >= 2);
	outputs_free(o);
	unlink(out);
	free(out);
	config_free(&c);
}

TEST(program_per_alert)
{
	struct config c;
	char *out = path_in_tmp("each.out"), *cmd;
	struct outputs *o;
	struct output_stats s;
	char *text;

	if (asprintf(&cmd, "cat >> %s; test \"$(wc -l < %s)\" -lt 3", out, out) < 0)
		abort();
	cfg_init(&c);
	c.program_enabled = true;
	c.program_keep_alive = false;
	c.program = cmd;
	o = outputs_new(&c, NULL);
	emit_str(o, "p1", 4);
	emit_str(o, "p2", 4);
	emit_str(o, "p3", 4); /* the program fails from the third line on */
	CHECK(wait_sent(o, OUTPUT_PROGRAM, 3, true, 5000));
	outputs_shutdown(o, 1000);
	s = stat_of(o, OUTPUT_PROGRAM);
	CHECK_EQ_INT(s.sent, 2);
	CHECK_EQ_INT(s.failed, 1);
	text = read_file(out);
	CHECK_EQ_STR(text, "p1\np2\np3\n");
	free(text);
	outputs_free(o);
	unlink(out);
	free(out);
	config_free(&c);
}

/* A program that never reads: the queue bounds what waits for it; at the exit deadline it
 * is killed and the rest is counted. */
TEST(program_never_reads)
{
	struct config c;
	struct outputs *o;
	struct output_stats s;
	uint64_t t0;
	const int N = 300;

	cfg_init(&c);
	c.program_enabled = true;
	c.program_keep_alive = true;
	c.program = strdup("sleep 60");
	c.queue_capacity = 16;
	o = outputs_new(&c, NULL);
	t0 = ms_now();
	for (int i = 0; i < N; i++)
		emit_sized(o, i, 1000);
	CHECK(ms_now() - t0 < 200);
	sleep_ms(200);
	s = stat_of(o, OUTPUT_PROGRAM);
	CHECK(s.dropped > 0);
	t0 = ms_now();
	outputs_shutdown(o, 300);
	CHECK(ms_now() - t0 < 2000);
	s = stat_of(o, OUTPUT_PROGRAM);
	CHECK_EQ_INT(settled(&s), N);
	CHECK_EQ_INT(s.queued, 0);
	outputs_free(o);
	config_free(&c);
}

/* ------------------------------------------------------------------ syslog */

static int dgram_bind(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	unlink(path);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -1;
	}
	return fd;
}

static int dgram_recv(int fd, char *buf, size_t cap, int timeout_ms)
{
	struct pollfd p = {fd, POLLIN, 0};
	ssize_t n;

	if (poll(&p, 1, timeout_ms) != 1)
		return -1;
	n = recv(fd, buf, cap - 1, 0);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return (int)n;
}

TEST(syslog_format_and_reconnect)
{
	struct config c;
	char *sock = path_in_tmp("log.sock");
	struct outputs *o;
	struct output_stats s;
	char buf[512], want[64], mon[4];
	int fd = dgram_bind(sock), pri, day, hh, mm, ss, pid, off = 0;

	CHECK(fd >= 0);
	cfg_init(&c);
	c.syslog_enabled = true;
	free(c.syslog_socket);
	c.syslog_socket = strdup(sock);
	c.syslog_facility = 5; /* local0 in outputs_syslog_facilities */
	CHECK_EQ_STR(outputs_syslog_facilities[5], "local0");
	o = outputs_new(&c, NULL);
	emit_str(o, "{\"rule\":\"x\"}", 4); /* warning */
	CHECK(dgram_recv(fd, buf, sizeof(buf), 2000) > 0);
	CHECK(sscanf(buf, "<%d>%3s %d %d:%d:%d saker[%d]: %n", &pri, mon, &day, &hh, &mm, &ss, &pid,
		     &off) == 7);
	CHECK_EQ_INT(pri, 16 * 8 + 4);
	CHECK_EQ_INT(pid, getpid());
	CHECK_EQ_STR(buf + off, "{\"rule\":\"x\"}");
	emit_str(o, "crit", 2);
	CHECK(dgram_recv(fd, buf, sizeof(buf), 2000) > 0);
	snprintf(want, sizeof(want), "<%d>", 16 * 8 + 2);
	CHECK(!strncmp(buf, want, strlen(want)));

	/* the receiver restarts: the old socket is dead, the next alert reconnects */
	close(fd);
	fd = dgram_bind(sock);
	emit_str(o, "after restart", 6);
	CHECK(dgram_recv(fd, buf, sizeof(buf), 2000) > 0);
	CHECK(strstr(buf, ": after restart") != NULL);
	outputs_shutdown(o, 1000);
	s = stat_of(o, OUTPUT_SYSLOG);
	CHECK_EQ_INT(s.sent, 3);
	CHECK_EQ_INT(s.reconnects, 1);
	outputs_free(o);
	close(fd);

	/* no receiver at all: failed, counted */
	unlink(sock);
	o = outputs_new(&c, NULL);
	emit_str(o, "lost", 4);
	CHECK(wait_sent(o, OUTPUT_SYSLOG, 1, true, 2000));
	outputs_shutdown(o, 1000);
	s = stat_of(o, OUTPUT_SYSLOG);
	CHECK_EQ_INT(s.failed, 1);
	outputs_free(o);
	free(sock);
	config_free(&c);
}

/* ------------------------------------------------------------------ http */

enum srv_mode {
	SRV_NORMAL,	/* Content-Length responses, kept alive */
	SRV_CHUNKED,	/* chunked responses, kept alive */
	SRV_CLOSE_EACH, /* closes after each response without saying so */
	SRV_STALL,	/* accepts, never reads */
};

struct srv {
	int lfd, port;
	enum srv_mode mode;
	int fail_first; /* answer 500 to this many requests */
	int status;	/* then this (0: 200) */
	pthread_t thr;
	atomic_bool stop;
	pthread_mutex_t mu;
	int conns, reqs;
	char head[4096];   /* the last request's head */
	char bodies[8192]; /* every body, one per line */
	int stalled[64];
	int n_stalled;
};

/* Reads one request (head and Content-Length body) from fd. Returns 1, 0 at EOF, -1. */
static int srv_read_request(struct srv *s, int fd, char *buf, size_t cap)
{
	size_t len = 0, need = 0;
	char *end = NULL;

	while (!end || len < need) {
		ssize_t r;
		struct pollfd p = {fd, POLLIN, 0};

		if (atomic_load(&s->stop))
			return -1;
		if (poll(&p, 1, 50) == 0)
			continue;
		r = recv(fd, buf + len, cap - 1 - len, 0);
		if (r <= 0)
			return r == 0 && len == 0 ? 0 : -1;
		len += (size_t)r;
		buf[len] = '\0';
		if (!end && (end = strstr(buf, "\r\n\r\n"))) {
			const char *cl = strcasestr(buf, "\r\ncontent-length:");

			need = (size_t)(end + 4 - buf) + (cl ? strtoul(cl + 17, NULL, 10) : 0);
		}
	}
	pthread_mutex_lock(&s->mu);
	s->reqs++;
	snprintf(s->head, sizeof(s->head), "%.*s", (int)(end - buf), buf);
	strncat(s->bodies, end + 4, sizeof(s->bodies) - strlen(s->bodies) - 2);
	strcat(s->bodies, "\n");
	pthread_mutex_unlock(&s->mu);
	return 1;
}

static void *srv_main(void *arg)
{
	struct srv *s = arg;
	char *buf = malloc(65536);

	while (!atomic_load(&s->stop)) {
		struct pollfd p = {s->lfd, POLLIN, 0};
		int fd;

		if (poll(&p, 1, 50) != 1)
			continue;
		fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		pthread_mutex_lock(&s->mu);
		s->conns++;
		pthread_mutex_unlock(&s->mu);
		if (s->mode == SRV_STALL) {
			if (s->n_stalled < 64)
				s->stalled[s->n_stalled++] = fd;
			else
				close(fd);
			continue;
		}
		while (srv_read_request(s, fd, buf, 65536) == 1) {
			char resp[256];
			int status, n;

			pthread_mutex_lock(&s->mu);
			status = s->reqs <= s->fail_first ? 500 : s->status ? s->status : 200;
			pthread_mutex_unlock(&s->mu);
			if (s->mode == SRV_CHUNKED)
				n = snprintf(resp, sizeof(resp),
					     "HTTP/1.1 %d X\r\nTransfer-Encoding: chunked\r\n\r\n"
					     "3;ext=1\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\n"
					     "Trailer: x\r\n\r\n",
					     status);
			else
				n = snprintf(resp, sizeof(resp),
					     "HTTP/1.1 %d Whatever\r\nContent-Length: 2\r\n"
					     "Server: test\r\n\r\nok",
					     status);
			if (send(fd, resp, (size_t)n, MSG_NOSIGNAL) != n)
				break;
			if (s->mode == SRV_CLOSE_EACH)
				break;
		}
		close(fd);
	}
	for (int i = 0; i < s->n_stalled; i++)
		close(s->stalled[i]);
	free(buf);
	return NULL;
}

static void srv_start(struct srv *s, enum srv_mode mode)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);

	memset(s, 0, sizeof(*s));
	s->mode = mode;
	pthread_mutex_init(&s->mu, NULL);
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (bind(s->lfd, (struct sockaddr *)&a, sizeof(a)) || listen(s->lfd, 16) ||
	    getsockname(s->lfd, (struct sockaddr *)&a, &al))
		abort();
	s->port = ntohs(a.sin_port);
	pthread_create(&s->thr, NULL, srv_main, s);
}

static void srv_stop(struct srv *s)
{
	atomic_store(&s->stop, true);
	pthread_join(s->thr, NULL);
	close(s->lfd);
	pthread_mutex_destroy(&s->mu);
}

static void http_cfg(struct config *c, const struct srv *s)
{
	char url[64];

	cfg_init(c);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/alerts?x=1#frag", s->port);
	c->http_enabled = true;
	c->http_url = strdup(url);
}

TEST(http_keep_alive_reuse_and_headers)
{
	static const enum srv_mode modes[] = {SRV_NORMAL, SRV_CHUNKED};

	for (size_t m = 0; m < 2; m++) {
		struct config c;
		struct srv s;
		struct outputs *o;
		struct output_stats st;
		char **h;

		srv_start(&s, modes[m]);
		http_cfg(&c, &s);
		h = calloc(2, sizeof(*h));
		h[0] = strdup("X-Token: secret value");
		h[1] = strdup("X-Empty:");
		c.http_headers.v = h;
		c.http_headers.n = 2;
		o = outputs_new(&c, NULL);
		CHECK(o != NULL);
		emit_str(o, "{\"n\":1}", 4);
		emit_str(o, "{\"n\":2}", 4);
		CHECK(wait_sent(o, OUTPUT_HTTP, 2, false, 3000));
		emit_str(o, "text alert 3", 4);
		CHECK(wait_sent(o, OUTPUT_HTTP, 3, false, 3000));
		outputs_shutdown(o, 1000);
		st = stat_of(o, OUTPUT_HTTP);
		CHECK_EQ_INT(st.sent, 3);
		CHECK_EQ_INT(st.failed, 0);
		CHECK_EQ_INT(st.reconnects, 0);
		pthread_mutex_lock(&s.mu);
		CHECK_EQ_INT(s.conns, 1);
		CHECK_EQ_INT(s.reqs, 3);
		CHECK_EQ_STR(s.bodies, "{\"n\":1}\n{\"n\":2}\ntext alert 3\n");
		CHECK(!strncmp(s.head, "POST /alerts?x=1 HTTP/1.1\r\n", 27));
		CHECK(strstr(s.head, "\r\nContent-Type: text/plain\r\n") != NULL);
		CHECK(strstr(s.head, "\r\nUser-Agent: saker/") != NULL);
		CHECK(strstr(s.head, "\r\nX-Token: secret value\r\n") != NULL);
		CHECK(strstr(s.head, "\r\nHost: 127.0.0.1:") != NULL);
		CHECK(strstr(s.head, "Connection: close") == NULL);
		pthread_mutex_unlock(&s.mu);
		outputs_free(o);
		srv_stop(&s);
		config_free(&c);
	}
}

TEST(http_json_content_type_and_no_keep_alive)
{
	struct config c;
	struct srv s;
	struct outputs *o;

	srv_start(&s, SRV_NORMAL);
	http_cfg(&c, &s);
	c.http_keep_alive = false;
	free(c.http_user_agent);
	c.http_user_agent = strdup("falcosecurity/falco");
	o = outputs_new(&c, NULL);
	emit_str(o, "{\"a\":1}", 4);
	emit_str(o, "{\"a\":2}", 4);
	CHECK(wait_sent(o, OUTPUT_HTTP, 2, false, 3000));
	outputs_shutdown(o, 1000);
	pthread_mutex_lock(&s.mu);
	CHECK_EQ_INT(s.conns, 2);
	CHECK(strstr(s.head, "\r\nContent-Type: application/json\r\n") != NULL);
	CHECK(strstr(s.head, "\r\nConnection: close") != NULL);
	CHECK(strstr(s.head, "\r\nUser-Agent: falcosecurity/falco\r\n") != NULL);
	pthread_mutex_unlock(&s.mu);
	outputs_free(o);
	srv_stop(&s);
	config_free(&c);
}

/* The server closes each connection after answering, without Connection: close: the next
 * request finds a dead connection and is sent again at once on a new one. */
TEST(http_server_closes_idle_connection)
{
	struct config c;
	struct srv s;
	struct outputs *o;
	struct output_stats st;

	srv_start(&s, SRV_CLOSE_EACH);
	http_cfg(&c, &s);
	c.http_retries = 0;
	o = outputs_new(&c, NULL);
	for (int i = 0; i < 4; i++) {
		emit_str(o, "{}", 4);
		CHECK(wait_sent(o, OUTPUT_HTTP, (uint64_t)i + 1, true, 3000));
		sleep_ms(20); /* the close reaches this side */
	}
	outputs_shutdown(o, 1000);
	st = stat_of(o, OUTPUT_HTTP);
	CHECK_EQ_INT(st.sent, 4);
	CHECK_EQ_INT(st.failed, 0);
	CHECK_EQ_INT(st.retries, 0);
	CHECK_EQ_INT(st.reconnects, 3);
	outputs_free(o);
	srv_stop(&s);
	config_free(&c);
}

TEST(http_retries_on_500)
{
	struct config c;
	struct srv s;
	struct outputs *o;
	struct output_stats st;

	/* two 500s, then 200: delivered on the third try */
	srv_start(&s, SRV_NORMAL);
	s.fail_first = 2;
	http_cfg(&c, &s);
	c.http_retries = 2;
	o = outputs_new(&c, NULL);
	emit_str(o, "{}", 4);
	CHECK(wait_sent(o, OUTPUT_HTTP, 1, true, 3000));
	outputs_shutdown(o, 1000);
	st = stat_of(o, OUTPUT_HTTP);
	CHECK_EQ_INT(st.sent, 1);
	CHECK_EQ_INT(st.retries, 2);
	CHECK_EQ_INT(st.failed, 0);
	pthread_mutex_lock(&s.mu);
	CHECK_EQ_INT(s.reqs, 3);
	pthread_mutex_unlock(&s.mu);
	outputs_free(o);
	srv_stop(&s);
	config_free(&c);

	/* always 500: bounded, then failed */
	srv_start(&s, SRV_CHUNKED);
	s.status = 503;
	http_cfg(&c, &s);
	c.http_retries = 1;
	o = outputs_new(&c, NULL);
	emit_str(o, "{}", 4);
	CHECK(wait_sent(o, OUTPUT_HTTP, 1, true, 3000));
	outputs_shutdown(o, 1000);
	st = stat_of(o, OUTPUT_HTTP);
	CHECK_EQ_INT(st.failed, 1);
	CHECK_EQ_INT(st.retries, 1);
	outputs_free(o);
	srv_stop(&s);
	config_free(&c);

	/* 400: the same request would fail again, no retry */
	srv_start(&s, SRV_NORMAL);
	s.status = 400;
	http_cfg(&c, &s);
	o = outputs_new(&c, NULL);
	emit_str(o, "{}", 4);
	CHECK(wait_sent(o, OUTPUT_HTTP, 1, true, 3000));
	outputs_shutdown(o, 1000);
	st = stat_of(o, OUTPUT_HTTP);
	CHECK_EQ_INT(st.failed, 1);
	CHECK_EQ_INT(st.retries, 0);
	outputs_free(o);
	srv_stop(&s);
	config_free(&c);
}

TEST(http_connection_refused)
{
	struct config c;
	struct srv s;
	struct outputs *o;
	struct output_stats st;

	srv_start(&s, SRV_NORMAL);
	srv_stop(&s); /* the port is now closed */
	http_cfg(&c, &s);
	c.http_retries = 1;
	o = outputs_new(&c, NULL);
	emit_str(o, "{}", 4);
	CHECK(wait_sent(o, OUTPUT_HTTP, 1, true, 3000));
	outputs_shutdown(o, 1000);
	st = stat_of(o, OUTPUT_HTTP);
	CHECK_EQ_INT(st.failed, 1);
	CHECK_EQ_INT(st.retries, 1);
	outputs_free(o);
	config_free(&c);
}

/* A host name, from the hosts file (no NSS: see resolve_host): every address is tried, so
 * a "::1 localhost" line before the IPv4 one does not matter to a server on 127.0.0.1. */
TEST(http_host_name)
{
	struct config c;
	struct srv s;
	struct outputs *o;
	char url[64], *hosts = read_file("/etc/hosts");

	if (!hosts || !strstr(hosts, "localhost")) {
		printf("# no localhost in /etc/hosts: nothing to check\n");
		free(hosts);
		return;
	}
	free(hosts);
	srv_start(&s, SRV_NORMAL);
	http_cfg(&c, &s);
	snprintf(url, sizeof(url), "http://LocalHost:%d/", s.port);
	free(c.http_url);
	c.http_url = strdup(url);
	o = outputs_new(&c, NULL);
	emit_str(o, "{}", 4);
	CHECK(wait_sent(o, OUTPUT_HTTP, 1, true, 3000));
	outputs_shutdown(o, 1000);
	CHECK_EQ_INT(stat_of(o, OUTPUT_HTTP).sent, 1);
	pthread_mutex_lock(&s.mu);
	CHECK(strstr(s.head, "\r\nHost: LocalHost:") != NULL);
	pthread_mutex_unlock(&s.mu);
	outputs_free(o);
	srv_stop(&s);
	config_free(&c);
}

/* A receiver that accepts and never reads: requests time out, the queue fills, the rest
 * is dropped; emitting never waits, and the exit deadline holds. */
TEST(http_stalled_receiver)
{
	struct config c;
	struct srv s;
	struct outputs *o;
	struct output_stats st;
	uint64_t t0;
	const int N = 200;

	srv_start(&s, SRV_STALL);
	http_cfg(&c, &s);
	c.queue_capacity = 4;
	c.output_timeout_ms = 200;
	c.http_retries = 0;
	o = outputs_new(&c, NULL);
	t0 = ms_now();
	for (int i = 0; i < N; i++)
		emit_sized(o, i, 3000); /* 600 KB: more than the socket buffers hold */
	CHECK(ms_now() - t0 < 100);
	sleep_ms(700);
	st = stat_of(o, OUTPUT_HTTP);
	CHECK(st.dropped >= (uint64_t)N - 10);
	CHECK(st.failed >= 1);
	t0 = ms_now();
	outputs_shutdown(o, 300);
	CHECK(ms_now() - t0 < 1500);
	st = stat_of(o, OUTPUT_HTTP);
	CHECK_EQ_INT(st.sent, 0);
	CHECK_EQ_INT(settled(&st), N);
	outputs_free(o);
	srv_stop(&s);
	config_free(&c);
}

TEST(http_url_parsing)
{
	struct http_url u;
	char err[256];

	CHECK(http_url_parse("http://example.com", &u, err, sizeof(err)) == 0);
	CHECK_EQ_STR(u.host, "example.com");
	CHECK_EQ_STR(u.port, "80");
	CHECK_EQ_STR(u.path, "/");
	CHECK_EQ_STR(u.hostport, "example.com");
	CHECK(http_url_parse("HTTP://falcosidekick.falco.svc:2801/?a=b#c", &u, err, sizeof(err)) ==
	      0);
	CHECK_EQ_STR(u.port, "2801");
	CHECK_EQ_STR(u.path, "/?a=b");
	CHECK_EQ_STR(u.hostport, "falcosidekick.falco.svc:2801");
	CHECK(http_url_parse("http://[::1]:8080/x", &u, err, sizeof(err)) == 0);
	CHECK_EQ_STR(u.host, "::1");
	CHECK_EQ_STR(u.hostport, "[::1]:8080");
	CHECK(http_url_parse("http://h?q", &u, err, sizeof(err)) == 0);
	CHECK_EQ_STR(u.path, "/?q");

	CHECK(!u.tls);
	CHECK(http_url_parse("https://example.com", &u, err, sizeof(err)) == 0);
	CHECK(u.tls);
	CHECK_EQ_STR(u.port, "443");
	CHECK(http_url_parse("HTTPS://example.com:8443/a", &u, err, sizeof(err)) == 0);
	CHECK_EQ_STR(u.port, "8443");
	CHECK_EQ_STR(u.hostport, "example.com:8443");
	CHECK(http_url_parse("ftp://x", &u, err, sizeof(err)) == -1);
	CHECK(http_url_parse("http://user:pw@x/", &u, err, sizeof(err)) == -1);
	CHECK(strstr(err, "Authorization") != NULL);
	CHECK(http_url_parse("http://x:0/", &u, err, sizeof(err)) == -1);
	CHECK(http_url_parse("http://x:65536/", &u, err, sizeof(err)) == -1);
	CHECK(http_url_parse("http://x:/", &u, err, sizeof(err)) == -1);
	CHECK(http_url_parse("http:///path", &u, err, sizeof(err)) == -1);
	CHECK(http_url_parse("http://x/a b", &u, err, sizeof(err)) == -1);
	CHECK(http_url_parse("http://x/a\r\nInjected: 1", &u, err, sizeof(err)) == -1);
	CHECK(http_url_parse("http://[::1/", &u, err, sizeof(err)) == -1);
	CHECK(http_url_parse("http://ex ample/", &u, err, sizeof(err)) == -1);

	CHECK(http_header_check("Authorization: Bearer abc", err, sizeof(err)) == 0);
	CHECK(http_header_check("X-A:", err, sizeof(err)) == 0);
	CHECK(http_header_check("NoColon", err, sizeof(err)) == -1);
	CHECK(http_header_check(": v", err, sizeof(err)) == -1);
	CHECK(http_header_check("Bad Name: v", err, sizeof(err)) == -1);
	CHECK(http_header_check("X: a\r\nInjected: 1", err, sizeof(err)) == -1);
	CHECK(http_header_check("content-length: 5", err, sizeof(err)) == -1);
	CHECK(http_header_check("Host: x", err, sizeof(err)) == -1);
}

/* ------------------------------------------------------------------ config */

TEST(config_errors_name_the_key)
{
	struct config c;

	config_defaults(&c);
	CHECK_EQ_INT(config_check(&c), 0);
	CHECK(c.stdout_enabled);
	CHECK_EQ_INT(c.queue_capacity, 10000);
	CHECK_EQ_INT(c.output_timeout_ms, 2000);
	CHECK_EQ_INT(config_apply_override(&c, "file_output.enabled=true"), 0);
	CHECK_EQ_INT(config_check(&c), -1);
	CHECK_EQ_INT(config_apply_override(&c, "file_output.filename=/tmp/x"), 0);
	CHECK_EQ_INT(config_check(&c), 0);
	CHECK_EQ_INT(config_apply_override(&c, "program_output.enabled=true"), 0);
	CHECK_EQ_INT(config_check(&c), -1);
	CHECK_EQ_INT(config_apply_override(&c, "program_output.program=cat"), 0);
	CHECK_EQ_INT(config_apply_override(&c, "http_output.enabled=true"), 0);
	CHECK_EQ_INT(config_check(&c), -1);
	CHECK_EQ_INT(config_apply_override(&c, "http_output.url=ftp://x/"), -1);
	CHECK_EQ_INT(config_apply_override(&c, "http_output.url=http://x:8080/"), 0);
	CHECK_EQ_INT(config_check(&c), 0);
	CHECK_EQ_INT(config_apply_override(&c, "http_output.headers=[A: b, Bad Name: c]"), 0);
	CHECK_EQ_INT(config_check(&c), -1);
	CHECK_EQ_INT(config_apply_override(&c, "http_output.headers=[A: b]"), 0);
	CHECK_EQ_INT(config_check(&c), 0);
	CHECK_EQ_INT(config_apply_override(&c, "syslog_output.facility=local7"), 0);
	CHECK_EQ_INT(config_apply_override(&c, "syslog_output.facility=mail"), -1);
	CHECK_EQ_INT(config_apply_override(&c, "outputs_queue.capacity=0"), 0);
	CHECK_EQ_INT(config_apply_override(&c, "output_timeout=5"), -1);
	config_free(&c);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (!mkdtemp(tmpdir)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 2;
	}
	RUN(stdout_lines_and_flush);
	RUN(file_fifo_nobody_reads);
	RUN(file_append_mode_and_reopen);
	RUN(file_no_keep_alive_and_errors);
	RUN(program_restarted_when_it_exits);
	RUN(program_per_alert);
	RUN(program_never_reads);
	RUN(syslog_format_and_reconnect);
	RUN(http_keep_alive_reuse_and_headers);
	RUN(http_json_content_type_and_no_keep_alive);
	RUN(http_server_closes_idle_connection);
	RUN(http_retries_on_500);
	RUN(http_connection_refused);
	RUN(http_host_name);
	RUN(http_stalled_receiver);
	RUN(http_url_parsing);
	RUN(config_errors_name_the_key);
	rmdir(tmpdir);
	return tap_done();
}
