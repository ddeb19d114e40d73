/* The HTTP listener and the metrics text: the request parser (cases, then 100,000 random
 * and mutated requests with invariants checked on each), the server over real loopback
 * sockets (routes, statuses, bodies sent with a request, slow clients that never finish
 * their head), and the Prometheus exposition format with hostile rule names. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "metrics.h"
#include "webserver.h"
#include "testlib.h"

/* ------------------------------------------------------------------ parser cases */

static int parse_str(const char *s, struct http_request *rq)
{
	return http_parse(s, strlen(s), HTTP_HEAD_MAX, rq);
}

TEST(parse_valid)
{
	struct http_request rq;
	const char *r1 = "GET /healthz HTTP/1.1\r\nHost: localhost:8765\r\nAccept: */*\r\n\r\n";
	const char *r2 = "HEAD /metrics?x=1&y HTTP/1.0\r\n\r\nextra";
	const char *r3 = "POST /metrics HTTP/1.1\r\nhost:\r\ncontent-length: 12\r\n"
			 "X-Odd:  spaced value \t\r\nObs: caf\xc3\xa9\r\n\r\n";

	CHECK_EQ_INT(parse_str(r1, &rq), 0);
	CHECK_EQ_INT(rq.method, HTTP_GET);
	CHECK_EQ_INT(rq.path_len, 8);
	CHECK(memcmp(rq.path, "/healthz", 8) == 0);
	CHECK_EQ_INT(rq.minor, 1);
	CHECK_EQ_INT(rq.head_len, strlen(r1));

	CHECK_EQ_INT(parse_str(r2, &rq), 0);
	CHECK_EQ_INT(rq.method, HTTP_HEAD);
	CHECK_EQ_INT(rq.path_len, 8); /* the query is not part of the path */
	CHECK_EQ_INT(rq.minor, 0);
	CHECK_EQ_INT(rq.head_len, strlen(r2) - 5);

	CHECK_EQ_INT(parse_str(r3, &rq), 0);
	CHECK_EQ_INT(rq.method, HTTP_OTHER);
	CHECK_EQ_INT(rq.content_length, 12);
	CHECK(!rq.chunked);
}

TEST(parse_partial_prefixes)
{
	const char *reqs[] = {
	    "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n",
	    "HEAD / HTTP/1.0\r\n\r\n",
	    "DELETE /x?y HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n",
	};
	struct http_request rq;

	for (size_t r = 0; r < sizeof(reqs) / sizeof(reqs[0]); r++) {
		size_t n = strlen(reqs[r]);

		CHECK_EQ_INT(http_parse(reqs[r], n, HTTP_HEAD_MAX, &rq), 0);
		for (size_t k = 0; k < n; k++)
			CHECK_EQ_INT(http_parse(reqs[r], k, HTTP_HEAD_MAX, &rq), HTTP_PARTIAL);
	}
}

TEST(parse_rejects)
{
	static const struct {
		const char *req;
		int status;
	} cases[] = {
	    {"GET /healthz HTTP/1.1\nHost: a\r\n\r\n", 400},	 /* bare LF */
	    {"GET /healthz HTTP/1.1\r\nHost: a\n\r\n", 400},	 /* bare LF in a header */
	    {"GET /healthz HTTP/1.1\r\nHost: a\r\r\n\r\n", 400}, /* CR inside a line */
	    {"GET /healthz HTTP/1.1\r\n\r\n", 400},		 /* HTTP/1.1 without Host */
	    {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
	    {"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400}, /* space before the colon */
	    {"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 400},
	    {"GET / HTTP/1.1\r\n: empty-name\r\nHost: a\r\n\r\n", 400},
	    {"GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n", 400},
	    {"GET / HTTP/1.1\r\nHost: a\x7f\r\n\r\n", 400},
	    {"GET http://h/ HTTP/1.1\r\nHost: a\r\n\r\n", 400}, /* absolute-form */
	    {"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", 400},
	    {"GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n", 400},
	    {"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
	    {"GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400},
	    {"GET / http/1.1\r\nHost: a\r\n\r\n", 400},
	    {"GET / HTTP/1.10\r\nHost: a\r\n\r\n", 400},
	    {"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505},
	    {"GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505},
	    {"GET / HTTP/0.9\r\n\r\n", 505},
	    {"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
	    {"G\x80T / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
	    {"GETGETGETGETGETGETGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
	    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", 400},
	    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400},
	    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1,1\r\n\r\n", 400},
	    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n", 400},
	    {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
	     400},
	};
	struct http_request rq;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = parse_str(cases[i].req, &rq);

		if (rc != cases[i].status)
			printf("# case %zu: %d, expected %d\n", i, rc, cases[i].status);
		CHECK_EQ_INT(rc, cases[i].status);
	}
}

TEST(parse_limits)
{
	struct http_request rq;
	char *buf = malloc(3 * HTTP_HEAD_MAX);
	size_t n;

	/* a target one byte over the limit: 414, even before the line ends */
	n = (size_t)sprintf(buf, "GET /");
	memset(buf + n, 'a', HTTP_TARGET_MAX);
	n += HTTP_TARGET_MAX;
	CHECK_EQ_INT(http_parse(buf, n, HTTP_HEAD_MAX, &rq), 414);
	/* at the limit: fine */
	n = (size_t)sprintf(buf, "GET /");
	memset(buf + n, 'a', HTTP_TARGET_MAX - 1);
	n += HTTP_TARGET_MAX - 1;
	n += (size_t)sprintf(buf + n, " HTTP/1.0\r\n\r\n");
	CHECK_EQ_INT(http_parse(buf, n, HTTP_HEAD_MAX, &rq), 0);

	/* too many header fields */
	n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\nHost: a\r\n");
	for (int i = 0; i < HTTP_HEADERS_MAX; i++)
		n += (size_t)sprintf(buf + n, "X-%d: v\r\n", i);
	n += (size_t)sprintf(buf + n, "\r\n");
	CHECK_EQ_INT(http_parse(buf, n, HTTP_HEAD_MAX, &rq), 431);

	/* a head longer than the cap, never finished: 431 once the cap is reached */
	n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\nHost: a\r\nX-Big: ");
	memset(buf + n, 'b', 2 * HTTP_HEAD_MAX);
	n += 2 * HTTP_HEAD_MAX;
	CHECK_EQ_INT(http_parse(buf, HTTP_HEAD_MAX - 1, HTTP_HEAD_MAX, &rq), HTTP_PARTIAL);
	CHECK_EQ_INT(http_parse(buf, HTTP_HEAD_MAX, HTTP_HEAD_MAX, &rq), 431);
	CHECK_EQ_INT(http_parse(buf, n, HTTP_HEAD_MAX, &rq), 431);
	/* a head of exactly the cap is accepted */
	n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\nHost: a\r\nX-Big: ");
	memset(buf + n, 'b', HTTP_HEAD_MAX - n - 4);
	memcpy(buf + HTTP_HEAD_MAX - 4, "\r\n\r\n", 4);
	CHECK_EQ_INT(http_parse(buf, HTTP_HEAD_MAX, HTTP_HEAD_MAX, &rq), 0);
	CHECK_EQ_INT(rq.head_len, HTTP_HEAD_MAX);
	free(buf);
}

/* ------------------------------------------------------------------ parser fuzz */

static uint64_t rng_state = 0x5eed5a4e12345678ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static size_t rnd_below(size_t n)
{
	return n ? (size_t)(rnd() % n) : 0;
}

static const char *const seeds[] = {
    "GET /healthz HTTP/1.1\r\nHost: localhost\r\nUser-Agent: kube-probe/1.29\r\n\r\n",
    "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:8765\r\nAccept: text/plain;version=0.0.4\r\n"
    "Accept-Encoding: gzip\r\nX-Prometheus-Scrape-Timeout-Seconds: 10\r\n\r\n",
    "HEAD / HTTP/1.0\r\n\r\n",
    "POST /metrics HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
    "PUT /x?y=z HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",
    "GET /a%20b HTTP/1.1\r\nHost: [::1]:80\r\nCookie: a=b; c=d\r\nX: \xff\xfe\r\n\r\n",
};

static const char *const tokens[] = {
    "\r\n",
    "\r\n\r\n",
    "\n",
    "\r",
    " ",
    "\t",
    ":",
    "GET",
    "HEAD",
    "HTTP/1.1",
    "HTTP/1.0",
    "Host: x\r\n",
    "Content-Length: ",
    "Transfer-Encoding: chunked\r\n",
    "/",
    "?",
    "#",
    "\0",
    "\x7f",
    "\xc3\xa9",
    "99999999999999999999",
};

/* One random or mutated request into buf (cap bytes); returns its length. */
static size_t fuzz_input(char *buf, size_t cap)
{
	size_t n = 0, rounds;
	int mode = (int)rnd_below(10);

	if (mode == 0) { /* random bytes */
		n = rnd_below(cap < 600 ? cap : 600);
		for (size_t i = 0; i < n; i++)
			buf[i] = (char)rnd();
		return n;
	}
	if (mode == 1) { /* random tokens */
		rounds = 1 + rnd_below(40);
		for (size_t r = 0; r < rounds; r++) {
			size_t t = rnd_below(sizeof(tokens) / sizeof(tokens[0]));
			size_t tl = t == 17 ? 1 : strlen(tokens[t]);

			if (n + tl > cap)
				break;
			memcpy(buf + n, tokens[t], tl);
			n += tl;
		}
		return n;
	}
	{
		const char *s = seeds[rnd_below(sizeof(seeds) / sizeof(seeds[0]))];

		n = strlen(s);
		memcpy(buf, s, n);
	}
	rounds = 1 + rnd_below(6);
	for (size_t r = 0; r < rounds; r++) {
		size_t at = rnd_below(n + 1);

		switch (rnd_below(7)) {
		case 0: /* flip a byte */
			if (n)
				buf[rnd_below(n)] ^= (char)(1u << rnd_below(8));
			break;
		case 1: /* a random byte in */
			if (n < cap) {
				memmove(buf + at + 1, buf + at, n - at);
				buf[at] = (char)rnd();
				n++;
			}
			break;
		case 2: /* a stretch out */
			if (at < n) {
				size_t k = 1 + rnd_below(n - at);

				memmove(buf + at, buf + at + k, n - at - k);
				n -= k;
			}
			break;
		case 3: { /* a token in */
			size_t t = rnd_below(sizeof(tokens) / sizeof(tokens[0]));
			size_t tl = t == 17 ? 1 : strlen(tokens[t]);

			if (n + tl <= cap) {
				memmove(buf + at + tl, buf + at, n - at);
				memcpy(buf + at, tokens[t], tl);
				n += tl;
			}
			break;
		}
		case 4: { /* a long run: limits */
			size_t k = rnd_below(3 * HTTP_TARGET_MAX);

			if (n + k <= cap) {
				memmove(buf + at + k, buf + at, n - at);
				memset(buf + at, "a: \r"[rnd_below(4)], k);
				n += k;
			}
			break;
		}
		case 5: /* cut */
			n = at;
			break;
		default: { /* a stretch repeated */
			size_t k = rnd_below(n - at + 1);

			if (n + k <= cap) {
				memmove(buf + at + k, buf + at, n - at);
				n += k;
			}
			break;
		}
		}
	}
	return n;
}

static bool valid_result(int rc)
{
	return rc == 0 || rc == HTTP_PARTIAL || rc == 400 || rc == 414 || rc == 431 || rc == 505;
}

TEST(parse_fuzz)
{
	enum {
		N = 100000,
		CAP = 3 * HTTP_HEAD_MAX
	};
	char *work = malloc(CAP);
	unsigned bad = 0, ok = 0, partial = 0, rejected = 0;

	for (int iter = 0; iter < N && bad < 10; iter++) {
		size_t n = fuzz_input(work, CAP);
		size_t max_head = rnd_below(4) ? HTTP_HEAD_MAX : 1 + rnd_below(HTTP_HEAD_MAX);
		/* an exact-size copy: ASan catches any read past len */
		char *in = malloc(n ? n : 1);
		struct http_request rq, rq2;
		int rc, rc2;

		memcpy(in, work, n);
		rc = http_parse(in, n, max_head, &rq);
		rc2 = http_parse(in, n, max_head, &rq2);
		if (!valid_result(rc) || rc != rc2) {
			printf("# iter %d: result %d / %d\n", iter, rc, rc2);
			bad++;
		} else if (rc == 0) {
			ok++;
			if (rq.head_len < 4 || rq.head_len > n || rq.head_len > max_head ||
			    memcmp(in + rq.head_len - 4, "\r\n\r\n", 4) != 0 || rq.path < in ||
			    rq.path + rq.path_len > in + rq.head_len || rq.path[0] != '/' ||
			    rq.minor > 1 || rq.head_len != rq2.head_len) {
				printf("# iter %d: inconsistent request\n", iter);
				bad++;
			}
			/* the head alone parses the same; every prefix of it is partial */
			if (http_parse(in, rq.head_len, max_head, &rq2) != 0 ||
			    rq2.head_len != rq.head_len) {
				printf("# iter %d: head alone differs\n", iter);
				bad++;
			}
			for (int k = 0; k < 4; k++) {
				size_t cut = k == 0 ? rq.head_len - 1 : rnd_below(rq.head_len);

				if (http_parse(in, cut, max_head, &rq2) != HTTP_PARTIAL) {
					printf("# iter %d: prefix %zu not partial\n", iter, cut);
					bad++;
				}
			}
		} else if (rc == HTTP_PARTIAL) {
			partial++;
			if (n >= max_head) {
				printf("# iter %d: partial at the cap\n", iter);
				bad++;
			}
		} else {
			rejected++;
		}
		free(in);
	}
	printf("# %d inputs: %u complete, %u partial, %u rejected\n", N, ok, partial, rejected);
	CHECK_EQ_INT(bad, 0);
	CHECK(ok > 1000 && partial > 1000 && rejected > 1000);
	free(work);
}

/* ------------------------------------------------------------------ the server */

static bool healthy = true;
static const char *unhealthy_why = "no \"drain\" yet\n";

static bool t_health(void *ctx, struct strbuf *why)
{
	(void)ctx;
	if (!healthy)
		sb_adds(why, unhealthy_why);
	return healthy;
}

static void t_metrics(void *ctx, struct strbuf *out)
{
	(void)ctx;
	sb_adds(out, "# HELP t a test\n# TYPE t counter\nt_total 1\n");
}

static struct webserver *t_open(unsigned max_conns, unsigned head_timeout_ms)
{
	struct web_handlers h = {.health = t_health, .metrics = t_metrics};
	struct webserver_opts o = {.address = "127.0.0.1",
				   .healthz_path = "/healthz",
				   .metrics = true,
				   .max_conns = max_conns,
				   .head_timeout_ms = head_timeout_ms};
	char err[256];
	struct webserver *ws = webserver_open(&o, &h, err, sizeof(err));

	if (!ws)
		printf("# webserver_open: %s\n", err);
	return ws;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Runs the server for up to ms, or until fd (if >= 0) is readable. */
static void pump(struct webserver *ws, int fd, unsigned ms)
{
	uint64_t end = mono_ms() + ms;

	do {
		struct pollfd p[2] = {{webserver_fd(ws), POLLIN, 0}, {fd, POLLIN, 0}};

		poll(p, fd >= 0 ? 2 : 1, 5);
		webserver_run(ws);
		if (fd >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR)))
			return;
	} while (mono_ms() < end);
}

static int t_connect(const struct webserver *ws)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)webserver_port(ws)),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		printf("# connect: %s\n", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

static void send_all(struct webserver *ws, int fd, const char *data, size_t len)
{
	size_t off = 0;
	uint64_t end = mono_ms() + 3000;

	while (off < len && mono_ms() < end) {
		ssize_t n = send(fd, data + off, len - off, MSG_NOSIGNAL);

		if (n > 0)
			off += (size_t)n;
		else if (n < 0 && errno != EAGAIN)
			break;
		else
			pump(ws, -1, 2);
	}
}

/* Reads the response until the server closes (up to 3 s), running the server meanwhile. */
static void read_response(struct webserver *ws, int fd, struct strbuf *resp)
{
	uint64_t end = mono_ms() + 3000;
	char buf[4096];

	while (mono_ms() < end) {
		ssize_t n;

		pump(ws, fd, 50);
		n = recv(fd, buf, sizeof(buf), 0);
		if (n > 0)
			sb_add(resp, buf, (size_t)n);
		else if (n == 0 || errno != EAGAIN)
			break;
	}
	sb_addc(resp, '\0');
	resp->len--;
}

/* One request on a new connection: the whole response. */
static void exchange(struct webserver *ws, const char *req, size_t len, struct strbuf *resp)
{
	int fd = t_connect(ws);

	sb_reset(resp);
	if (fd < 0)
		return;
	send_all(ws, fd, req, len);
	read_response(ws, fd, resp);
	close(fd);
}

static int status_of(const struct strbuf *r)
{
	int s = 0;

	if (!r->buf || sscanf(r->buf, "HTTP/1.1 %d ", &s) != 1)
		return -1;
	return s;
}

static const char *body_of(const struct strbuf *r)
{
	const char *b = r->buf ? strstr(r->buf, "\r\n\r\n") : NULL;

	return b ? b + 4 : "";
}

#define REQ(s) s, sizeof(s) - 1

TEST(server_routes)
{
	struct webserver *ws = t_open(0, 0);
	struct strbuf r = STRBUF_INIT;

	CHECK(ws != NULL);
	if (!ws)
		return;
	CHECK(webserver_port(ws) > 0);
	exchange(ws, REQ("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"), &r);
	CHECK_EQ_INT(status_of(&r), 200);
	CHECK_EQ_STR(body_of(&r), "{\"status\":\"ok\"}\n");
	CHECK(strstr(r.buf, "Content-Type: application/json\r\n") != NULL);
	CHECK(strstr(r.buf, "Content-Length: 16\r\n") != NULL);

	exchange(ws, REQ("GET /metrics?name[]=x HTTP/1.0\r\n\r\n"), &r);
	CHECK_EQ_INT(status_of(&r), 200);
	CHECK_EQ_STR(body_of(&r), "# HELP t a test\n# TYPE t counter\nt_total 1\n");
	CHECK(strstr(r.buf, "text/plain; version=0.0.4") != NULL);

	exchange(ws, REQ("HEAD /metrics HTTP/1.1\r\nHost: t\r\n\r\n"), &r);
	CHECK_EQ_INT(status_of(&r), 200);
	CHECK_EQ_STR(body_of(&r), "");
	CHECK(strstr(r.buf, "Content-Length: 43\r\n") != NULL);

	exchange(ws, REQ("GET /nope HTTP/1.1\r\nHost: t\r\n\r\n"), &r);
	CHECK_EQ_INT(status_of(&r), 404);
	exchange(ws, REQ("GET /healthz/ HTTP/1.1\r\nHost: t\r\n\r\n"), &r);
	CHECK_EQ_INT(status_of(&r), 404);
	exchange(ws, REQ("DELETE /healthz HTTP/1.1\r\nHost: t\r\n\r\n"), &r);
	CHECK_EQ_INT(status_of(&r), 405);
	CHECK(strstr(r.buf, "\r\nAllow: GET, HEAD\r\n") != NULL);
	exchange(ws, REQ("GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc"), &r);
	CHECK_EQ_INT(status_of(&r), 413);
	exchange(ws, REQ("GET /healthz HTTP/3.0\r\nHost: t\r\n\r\n"), &r);
	CHECK_EQ_INT(status_of(&r), 505);
	exchange(ws, REQ("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n"), &r); /* TLS hello */
	CHECK_EQ_INT(status_of(&r), 400);

	healthy = false;
	exchange(ws, REQ("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"), &r);
	healthy = true;
	CHECK_EQ_INT(status_of(&r), 503);
	CHECK_EQ_STR(body_of(&r),
		     "{\"status\":\"unavailable\",\"reason\":\"no \\\"drain\\\" yet\\n\"}\n");
	pump(ws, -1, 50);
	CHECK_EQ_INT(webserver_conns(ws), 0);
	sb_release(&r);
	webserver_close(ws);
}

TEST(server_post_with_body)
{
	/* a 1 MiB body the server never reads: the 405 still arrives, no reset */
	struct webserver *ws = t_open(0, 0);
	struct strbuf r = STRBUF_INIT;
	size_t blen = 1 << 20;
	char *req = malloc(blen + 128);
	int n, fd;

	if (!ws)
		return;
	n = sprintf(req, "POST /metrics HTTP/1.1\r\nHost: t\r\nContent-Length: %zu\r\n\r\n", blen);
	memset(req + n, 'x', blen);
	fd = t_connect(ws);
	send_all(ws, fd, req, (size_t)n + 100); /* the head and a bit of the body */
	read_response(ws, fd, &r);
	CHECK_EQ_INT(status_of(&r), 405);
	close(fd);
	free(req);
	sb_release(&r);
	webserver_close(ws);
}

TEST(server_big_head)
{
	struct webserver *ws = t_open(0, 0);
	struct strbuf r = STRBUF_INIT;
	char *req = malloc(3 * HTTP_HEAD_MAX);
	int n;

	if (!ws)
		return;
	n = sprintf(req, "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: ");
	memset(req + n, 'b', 2 * HTTP_HEAD_MAX);
	exchange(ws, req, (size_t)n + 2 * HTTP_HEAD_MAX, &r);
	CHECK_EQ_INT(status_of(&r), 431);
	n = sprintf(req, "GET /");
	memset(req + n, 'a', HTTP_TARGET_MAX + 10);
	n += HTTP_TARGET_MAX + 10;
	n += sprintf(req + n, " HTTP/1.1\r\nHost: t\r\n\r\n");
	exchange(ws, req, (size_t)n, &r);
	CHECK_EQ_INT(status_of(&r), 414);
	free(req);
	sb_release(&r);
	webserver_close(ws);
}

TEST(server_slowloris)
{
	/* 40 clients that never finish their head hold no slot a new client needs: the oldest
	 * slow one gives way. A 300 ms head deadline closes what is left. */
	enum {
		SLOW = 40
	};
	struct webserver *ws = t_open(16, 300);
	struct strbuf r = STRBUF_INIT;
	int slow[SLOW];
	unsigned closed = 0;

	if (!ws)
		return;
	for (int i = 0; i < SLOW; i++) {
		slow[i] = t_connect(ws);
		send_all(ws, slow[i], REQ("GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: "));
		pump(ws, -1, 2);
	}
	CHECK(webserver_conns(ws) <= 16);
	exchange(ws, REQ("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"), &r);
	CHECK_EQ_INT(status_of(&r), 200);
	CHECK(webserver_stats(ws)->evicted >= SLOW - 16);

	/* past the deadline every slow client is closed (408 when its window has room) */
	pump(ws, -1, 800);
	CHECK_EQ_INT(webserver_conns(ws), 0);
	for (int i = 0; i < SLOW; i++) {
		char buf[256];
		ssize_t n = recv(slow[i], buf, sizeof(buf), 0);

		if (n >= 0 || errno == ECONNRESET)
			closed++;
		close(slow[i]);
	}
	CHECK_EQ_INT(closed, SLOW);
	CHECK(webserver_stats(ws)->timeouts >= 1);
	sb_release(&r);
	webserver_close(ws);
}

TEST(server_fuzz_sockets)
{
	/* 2,000 mutated requests over real connections: each is answered with a status line
	 * or closed once the client stops sending, and no connection is left behind. */
	struct webserver *ws = t_open(0, 0);
	struct strbuf r = STRBUF_INIT;
	char *work = malloc(3 * HTTP_HEAD_MAX);
	unsigned answered = 0, silent = 0, bad = 0;

	if (!ws)
		return;
	rng_state = 0x0123456789abcdefull;
	for (int i = 0; i < 2000; i++) {
		size_t n = fuzz_input(work, 3 * HTTP_HEAD_MAX);
		int fd = t_connect(ws);

		if (fd < 0) {
			bad++;
			continue;
		}
		send_all(ws, fd, work, n);
		shutdown(fd, SHUT_WR);
		sb_reset(&r);
		read_response(ws, fd, &r);
		close(fd);
		if (r.len == 0) {
			silent++;
		} else {
			int s = status_of(&r);

			if (s == 200 || s == 400 || s == 404 || s == 405 || s == 413 || s == 414 ||
			    s == 431 || s == 505 || s == 503)
				answered++;
			else
				bad++;
		}
	}
	pump(ws, -1, 50);
	printf("# %u answered, %u closed without an answer\n", answered, silent);
	CHECK_EQ_INT(bad, 0);
	CHECK(answered > 1000);
	CHECK_EQ_INT(webserver_conns(ws), 0);
	free(work);
	sb_release(&r);
	webserver_close(ws);
}

TEST(server_open_errors)
{
	struct web_handlers h = {0};
	struct webserver_opts o = {.address = "localhost"};
	char err[256] = "";
	struct webserver *a, *b;

	CHECK(webserver_open(&o, &h, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "not an IP address") != NULL);
	o.address = "127.0.0.1";
	a = webserver_open(&o, &h, err, sizeof(err));
	CHECK(a != NULL);
	if (a) {
		o.port = webserver_port(a);
		b = webserver_open(&o, &h, err, sizeof(err));
		CHECK(b == NULL);
		CHECK(strstr(err, "cannot listen on 127.0.0.1:") != NULL);
		CHECK(strstr(err, "in use") != NULL);
		webserver_close(b);
	}
	webserver_close(a);
	o.address = "::1";
	o.port = 0;
	a = webserver_open(&o, &h, err, sizeof(err));
	if (!a)
		printf("# no IPv6 loopback here: %s\n", err);
	webserver_close(a);
	CHECK(webserver_address_valid("0.0.0.0") && webserver_address_valid("::"));
	CHECK(!webserver_address_valid("127.1") && !webserver_address_valid("host"));
}

/* ------------------------------------------------------------------ the metrics text */

/* One line of the text format: a comment (# HELP/# TYPE), or a sample
 * name{label="value",...} value, with only \\, \" and \n escapes in values. */
static bool exposition_line_ok(const char *s, size_t len)
{
	size_t i = 0;

	if (len >= 7 && (!strncmp(s, "# HELP ", 7) || !strncmp(s, "# TYPE ", 7)))
		return true;
	if (i == len || !(s[i] == '_' || s[i] == ':' || ((s[i] | 32) >= 'a' && (s[i] | 32) <= 'z')))
		return false;
	while (i < len && (s[i] == '_' || s[i] == ':' || (s[i] >= '0' && s[i] <= '9') ||
			   ((s[i] | 32) >= 'a' && (s[i] | 32) <= 'z')))
		i++;
	if (i < len && s[i] == '{') {
		i++;
		for (;;) {
			size_t ns = i;

			while (i < len && (s[i] == '_' || (s[i] >= '0' && s[i] <= '9') ||
					   ((s[i] | 32) >= 'a' && (s[i] | 32) <= 'z')))
				i++;
			if (i == ns || i + 1 >= len || s[i] != '=' || s[i + 1] != '"')
				return false;
			i += 2;
			while (i < len && s[i] != '"') {
				if (s[i] == '\\') {
					if (i + 1 >= len || !strchr("\\\"n", s[i + 1]))
						return false;
					i++;
				}
				i++;
			}
			if (i == len)
				return false;
			i++;
			if (i < len && s[i] == ',') {
				i++;
				continue;
			}
			if (i < len && s[i] == '}') {
				i++;
				break;
			}
			return false;
		}
	}
	if (i == len || s[i] != ' ')
		return false;
	i++;
	{
		char num[64], *end;

		if (len - i == 0 || len - i >= sizeof(num))
			return false;
		memcpy(num, s + i, len - i);
		num[len - i] = '\0';
		strtod(num, &end);
		return *end == '\0';
	}
}

static unsigned count_bad_lines(const struct strbuf *sb)
{
	unsigned bad = 0;
	const char *p = sb->buf, *end = sb->buf + sb->len;

	if (!sb->len || sb->buf[sb->len - 1] != '\n')
		return 1;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (!exposition_line_ok(p, (size_t)(nl - p))) {
			printf("# bad line: %.*s\n", (int)(nl - p), p);
			bad++;
		}
		p = nl + 1;
	}
	return bad;
}

TEST(metrics_escaping)
{
	struct strbuf sb = STRBUF_INIT;

	prom_label_value(&sb, "plain");
	CHECK_EQ_STR(sb.buf, "plain");
	sb_reset(&sb);
	prom_label_value(&sb, "a\"b\\c\nd\te");
	CHECK_EQ_STR(sb.buf, "a\\\"b\\\\c\\nd\te");
	sb_reset(&sb);
	prom_label_value(&sb, "caf\xc3\xa9 \xff\xc3");
	CHECK_EQ_STR(sb.buf, "caf\xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd");
	sb_reset(&sb);
	prom_family(&sb, "x_total", "counter", "back\\slash\nnewline \"quoted\"");
	CHECK_EQ_STR(sb.buf, "# HELP x_total back\\\\slash\\nnewline \"quoted\"\n"
			     "# TYPE x_total counter\n");
	sb_reset(&sb);
	prom_sample_u64(&sb, "x_total",
			(const char *const[]){"rule", "r\"1", "priority", "Warning", NULL}, 7);
	CHECK_EQ_STR(sb.buf, "x_total{rule=\"r\\\"1\",priority=\"Warning\"} 7\n");
	sb_release(&sb);
}

TEST(metrics_alerts_and_render)
{
	struct metrics m;
	struct strbuf sb = STRBUF_INIT;
	static const char *const hostile[] = {
	    "Quote \" in a rule",
	    "Back\\slash\\",
	    "New\nline\n",
	    "\"\\\n\"",
	    "bad utf8 \xfe\xc0",
	    "} 1\nfake_metric 2",
	    "",
	};
	char name[64];

	metrics_init(&m);
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		metrics_alert(&m, hostile[i], "Warning");
		metrics_alert(&m, hostile[i], "Warning");
	}
	metrics_alert(&m, hostile[0], "Critical"); /* same rule, another priority */
	for (int i = 0; i < 1000; i++) {	   /* forces rehashes */
		snprintf(name, sizeof(name), "rule %d", i % 500);
		metrics_alert(&m, name, "Notice");
	}
	CHECK_EQ_INT(m.n_alerts, 7 + 1 + 500);
	CHECK_EQ_INT(m.alerts[0].n, 2);
	CHECK_EQ_INT(m.alerts[7].n, 1);
	CHECK_EQ_INT(m.alerts[8].n, 2);
	metrics_event(&m, 257); /* openat */
	metrics_event(&m, 257);
	metrics_event(&m, -1);
	metrics_event(&m, EVT_CODES);
	metrics_render(&sb, &m, NULL, NULL, NULL);
	CHECK_EQ_INT(count_bad_lines(&sb), 0);
	CHECK(strstr(sb.buf,
		     "\nsaker_alerts_total{rule=\"Quote \\\" in a rule\",priority=\"Warning\"} "
		     "2\n") != NULL);
	CHECK(strstr(sb.buf,
		     "\nsaker_alerts_total{rule=\"New\\nline\\n\",priority=\"Warning\"} 2\n") !=
	      NULL);
	CHECK(strstr(sb.buf,
		     "\nsaker_alerts_total{rule=\"} 1\\nfake_metric 2\",priority=\"Warning\"}"
		     " 2\n") != NULL);
	CHECK(strstr(sb.buf, "\nfake_metric") == NULL);
	CHECK(strstr(sb.buf, "\nsaker_events_total{type=\"openat\"} 2\n") != NULL);
	CHECK(strstr(sb.buf, "\n# TYPE saker_rule_eval_seconds_total counter\n") != NULL);
	metrics_release(&m);
	sb_release(&sb);
}

TEST(metrics_health_states)
{
	struct metrics m;
	struct strbuf why = STRBUF_INIT;

	metrics_init(&m);
	CHECK(!metrics_health(&m, 1000000, &why));
	CHECK(strstr(why.buf, "not attached") != NULL);
	m.attached = true;
	sb_reset(&why);
	CHECK(!metrics_health(&m, 1000000, &why));
	CHECK(strstr(why.buf, "no ring buffer drain") != NULL);
	metrics_drained(&m, 0);
	CHECK(metrics_health(&m, m.last_drain_ok_ms + 10, &why));
	metrics_drained(&m, -5);
	CHECK_EQ_INT(m.consume_errors, 1);
	sb_reset(&why);
	CHECK(!metrics_health(&m, m.last_drain_ok_ms + METRICS_HEALTH_STALE_MS + 1, &why));
	CHECK(strstr(why.buf, "1 failed drains") != NULL);
	CHECK(metrics_ring_fill(&m) < 0); /* not mapped */
	metrics_release(&m);
	sb_release(&why);
}

TEST(config_keys)
{
	struct config c;

	config_defaults(&c);
	CHECK(c.web_enabled && c.web_metrics);
	CHECK_EQ_STR(c.web_address, "127.0.0.1");
	CHECK_EQ_INT(c.web_port, 8765);
	CHECK_EQ_STR(c.web_healthz, "/healthz");
	CHECK_EQ_INT(config_apply_override(&c, "webserver.listen_address=::1"), 0);
	CHECK_EQ_STR(c.web_address, "::1");
	CHECK_EQ_INT(config_apply_override(&c, "webserver.listen_address=0.0.0.0"), 0);
	CHECK_EQ_INT(config_apply_override(&c, "webserver.listen_address=localhost"), -1);
	CHECK_EQ_INT(config_apply_override(&c, "webserver.listen_address=10.0.0.256"), -1);
	CHECK_EQ_INT(config_apply_override(&c, "webserver.listen_address="), -1);
	CHECK_EQ_STR(c.web_address, "0.0.0.0"); /* a refused value leaves the old one */
	CHECK_EQ_INT(config_apply_override(&c, "webserver.listen_port=0"), 0);
	CHECK_EQ_INT(config_apply_override(&c, "webserver.listen_port=65536"), -1);
	CHECK_EQ_INT(config_apply_override(&c, "webserver.k8s_healthz_endpoint=/live"), 0);
	CHECK_EQ_STR(c.web_healthz, "/live");
	CHECK_EQ_INT(config_apply_override(&c, "webserver.k8s_healthz_endpoint=live"), -1);
	CHECK_EQ_INT(config_apply_override(&c, "webserver.k8s_healthz_endpoint=/a b"), -1);
	CHECK_EQ_INT(config_apply_override(&c, "webserver.k8s_healthz_endpoint=/a?b"), -1);
	CHECK_EQ_INT(config_apply_override(&c, "webserver.enabled=false"), 0);
	CHECK(!c.web_enabled);
	config_free(&c);
}

int main(void)
{
	RUN(parse_valid);
	RUN(parse_partial_prefixes);
	RUN(parse_rejects);
	RUN(parse_limits);
	RUN(parse_fuzz);
	RUN(server_routes);
	RUN(server_post_with_body);
	RUN(server_big_head);
	RUN(server_slowloris);
	RUN(server_fuzz_sockets);
	RUN(server_open_errors);
	RUN(metrics_escaping);
	RUN(metrics_alerts_and_render);
	RUN(metrics_health_states);
	RUN(config_keys);
	return tap_done();
}
