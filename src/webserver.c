#include "webserver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* ------------------------------------------------------------------ the request parser */

static bool is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* A byte of a header value: visible ASCII, space, tab, or obs-text. */
static bool is_value_byte(unsigned char c)
{
	return c == ' ' || c == '\t' || (c > 0x20 && c != 0x7f);
}

static bool name_is(const char *name, size_t len, const char *want)
{
	return strlen(want) == len && strncasecmp(name, want, len) == 0;
}

/* Content-Length: 1 to 18 digits (no sign, no list). */
static int parse_length(const char *v, size_t len, uint64_t *out)
{
	uint64_t n = 0;

	if (len == 0 || len > 18)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		n = n * 10 + (uint64_t)(v[i] - '0');
	}
	*out = n;
	return 0;
}

int http_parse(const char *buf, size_t len, size_t max_head, struct http_request *rq)
{
	const unsigned char *b = (const unsigned char *)buf;
	size_t lim, i = 0, ts, tlen, nhdr = 0;
	unsigned hosts = 0, lengths = 0, major, minor;

	memset(rq, 0, sizeof(*rq));
	if (max_head > HTTP_HEAD_MAX)
		max_head = HTTP_HEAD_MAX;
	lim = len < max_head ? len : max_head;
	/* Out of bytes: a valid beginning so far, unless the cap is what stopped us. */
#define OUT_OF_BYTES() return len >= max_head ? 431 : HTTP_PARTIAL

	/* request-line = method SP origin-form SP HTTP-version CRLF */
	while (i < lim && is_tchar(b[i])) {
		if (++i > HTTP_METHOD_MAX)
			return 400;
	}
	if (i == lim)
		OUT_OF_BYTES();
	if (i == 0 || b[i] != ' ')
		return 400;
	if (i == 3 && memcmp(b, "GET", 3) == 0)
		rq->method = HTTP_GET;
	else if (i == 4 && memcmp(b, "HEAD", 4) == 0)
		rq->method = HTTP_HEAD;
	else
		rq->method = HTTP_OTHER;
	ts = ++i;
	if (i == lim)
		OUT_OF_BYTES();
	if (b[i] != '/')
		return 400; /* only origin-form: no absolute-form, no '*' */
	while (i < lim && b[i] > 0x20 && b[i] < 0x7f && b[i] != '#') {
		if (++i - ts > HTTP_TARGET_MAX)
			return 414;
	}
	if (i == lim)
		OUT_OF_BYTES();
	if (b[i] != ' ')
		return 400;
	tlen = i - ts;
	rq->path = buf + ts;
	rq->path_len = tlen;
	for (size_t k = 0; k < tlen; k++) {
		if (b[ts + k] == '?') {
			rq->path_len = k;
			break;
		}
	}
	i++;
	for (const char *p = "HTTP/"; *p; p++, i++) {
		if (i == lim)
			OUT_OF_BYTES();
		if (b[i] != (unsigned char)*p)
			return 400;
	}
	if (i == lim)
		OUT_OF_BYTES();
	if (b[i] < '0' || b[i] > '9')
		return 400;
	major = b[i++] - '0';
	if (i == lim)
		OUT_OF_BYTES();
	if (b[i++] != '.')
		return 400;
	if (i == lim)
		OUT_OF_BYTES();
	if (b[i] < '0' || b[i] > '9')
		return 400;
	minor = b[i++] - '0';
	if (i == lim)
		OUT_OF_BYTES();
	if (b[i++] != '\r')
		return 400;
	if (i == lim)
		OUT_OF_BYTES();
	if (b[i++] != '\n')
		return 400;
	if (major != 1 || minor > 1)
		return 505;
	rq->minor = minor;

	/* field-line = field-name ":" OWS field-value OWS CRLF, until an empty line */
	for (;;) {
		size_t ns, nlen, vs, ve;

		if (i == lim)
			OUT_OF_BYTES();
		if (b[i] == '\r') {
			if (++i == lim)
				OUT_OF_BYTES();
			if (b[i++] != '\n')
				return 400;
			break;
		}
		if (b[i] == ' ' || b[i] == '\t')
			return 400; /* obs-fold, or white space before a name */
		if (++nhdr > HTTP_HEADERS_MAX)
			return 431;
		ns = i;
		while (i < lim && is_tchar(b[i]))
			i++;
		if (i == lim)
			OUT_OF_BYTES();
		if (b[i] != ':' || i == ns)
			return 400; /* no white space between a name and its colon either */
		nlen = i - ns;
		i++;
		while (i < lim && (b[i] == ' ' || b[i] == '\t'))
			i++;
		vs = i;
		while (i < lim && is_value_byte(b[i]))
			i++;
		if (i == lim)
			OUT_OF_BYTES();
		if (b[i] != '\r')
			return 400; /* a control byte, or a bare LF */
		ve = i;
		if (++i == lim)
			OUT_OF_BYTES();
		if (b[i++] != '\n')
			return 400;
		while (ve > vs && (b[ve - 1] == ' ' || b[ve - 1] == '\t'))
			ve--;

		if (name_is(buf + ns, nlen, "host")) {
			if (++hosts > 1)
				return 400;
		} else if (name_is(buf + ns, nlen, "content-length")) {
			if (++lengths > 1 || parse_length(buf + vs, ve - vs, &rq->content_length))
				return 400;
		} else if (name_is(buf + ns, nlen, "transfer-encoding")) {
			rq->chunked = true;
		}
	}
#undef OUT_OF_BYTES
	if (minor == 1 && hosts == 0)
		return 400;
	if (rq->chunked && lengths)
		return 400; /* both framings: a smuggling attempt */
	rq->head_len = i;
	return 0;
}

const char *http_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 413:
		return "Content Too Large";
	case 414:
		return "URI Too Long";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Unknown";
	}
}

/* ------------------------------------------------------------------ the server */

enum conn_state {
	CONN_FREE,
	CONN_READ,   /* receiving the head */
	CONN_WRITE,  /* sending the response */
	CONN_LINGER, /* response sent, our side shut: reading what the client still sends */
};

#define LINGER_MS    2000
#define LINGER_BYTES (1u << 20)
#define TICK_MS	     250
#define ACCEPT_BATCH 64

enum {
	TAG_LISTEN,
	TAG_TIMER,
	TAG_CONN0 /* TAG_CONN0 + slot */
};

struct conn {
	int fd;
	enum conn_state st;
	uint64_t since_ms;    /* accepted at */
	uint64_t deadline_ms; /* closed at (the state's deadline) */
	size_t in_len;
	size_t lingered;
	struct strbuf out;
	size_t out_off;
	char in[HTTP_HEAD_MAX];
};

struct webserver {
	int ep, lfd, tfd;
	bool listen_paused; /* out of fds: the listener is off until the next tick */
	unsigned port;
	unsigned max_conns, nconns;
	unsigned head_timeout_ms, io_timeout_ms;
	bool metrics;
	char *versions; /* NULL: no /versions */
	char *healthz;
	struct web_handlers h;
	struct conn *conns;
	struct strbuf body;
	struct webserver_stats st;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

bool webserver_address_valid(const char *s)
{
	struct in6_addr a6;
	struct in_addr a4;

	return s && (inet_pton(AF_INET, s, &a4) == 1 || inet_pton(AF_INET6, s, &a6) == 1);
}

static int ep_set(struct webserver *ws, int op, int fd, uint32_t events, uint64_t tag)
{
	struct epoll_event e = {.events = events, .data.u64 = tag};

	return epoll_ctl(ws->ep, op, fd, &e);
}

static void conn_close(struct webserver *ws, struct conn *c)
{
	if (c->st == CONN_FREE)
		return;
	epoll_ctl(ws->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	c->st = CONN_FREE;
	c->in_len = 0;
	sb_release(&c->out);
	c->out_off = 0;
	ws->nconns--;
}

static void add_head(struct strbuf *out, int status, const char *type, size_t len)
{
	sb_addf(out, "HTTP/1.1 %d %s\r\n", status, http_reason(status));
	sb_addf(out, "Content-Type: %s\r\n", type);
	sb_addf(out, "Content-Length: %zu\r\n", len);
	sb_adds(out, "Cache-Control: no-store\r\nConnection: close\r\n");
	if (status == 405)
		sb_adds(out, "Allow: GET, HEAD\r\n");
	sb_adds(out, "\r\n");
}

/* The response to a parsed request (status 0) or to a rejected one (its status). */
static void build_response(struct webserver *ws, struct conn *c, int status,
			   const struct http_request *rq)
{
	const char *type = "text/plain; charset=utf-8";
	bool is_healthz = false, is_metrics = false, is_versions = false, head = false;

	sb_reset(&ws->body);
	if (status == 0) {
		is_healthz = rq->path_len == strlen(ws->healthz) &&
			     memcmp(rq->path, ws->healthz, rq->path_len) == 0;
		is_metrics =
		    ws->metrics && rq->path_len == 8 && memcmp(rq->path, "/metrics", 8) == 0;
		is_versions = ws->versions && rq->path_len == 9 &&
			      memcmp(rq->path, "/versions", 9) == 0;
		head = rq->method == HTTP_HEAD;
		if (!is_healthz && !is_metrics && !is_versions)
			status = 404;
		else if (rq->method == HTTP_OTHER)
			status = 405;
		else if (rq->content_length || rq->chunked)
			status = 413; /* these requests carry no body */
	}
	if (status == 0 && is_healthz) {
		type = "application/json";
		if (ws->h.health && !ws->h.health(ws->h.ctx, &ws->body)) {
			/* the handler left the reason in body: wrap it */
			struct strbuf why = ws->body;

			ws->body = (struct strbuf)STRBUF_INIT;
			sb_adds(&ws->body, "{\"status\":\"unavailable\",\"reason\":");
			sb_add_json_string(&ws->body, why.buf ? why.buf : "", why.len);
			sb_adds(&ws->body, "}\n");
			sb_release(&why);
			status = 503;
		} else {
			sb_reset(&ws->body);
			sb_adds(&ws->body, "{\"status\":\"ok\"}\n");
			status = 200;
		}
	} else if (status == 0 && is_versions) {
		type = "application/json";
		sb_adds(&ws->body, ws->versions);
		status = 200;
	} else if (status == 0 && is_metrics) {
		type = "text/plain; version=0.0.4; charset=utf-8";
		if (ws->h.metrics)
			ws->h.metrics(ws->h.ctx, &ws->body);
		status = 200;
	} else {
		sb_addf(&ws->body, "%d %s\n", status, http_reason(status));
	}
	sb_reset(&c->out);
	add_head(&c->out, status, type, ws->body.len);
	if (!head)
		sb_add(&c->out, ws->body.buf, ws->body.len);
	c->out_off = 0;
	ws->st.responses[status / 100 < 6 ? status / 100 : 0]++;
}

/* Sends what the kernel takes now; when all is sent, shuts our side and lingers. */
static void conn_write(struct webserver *ws, struct conn *c)
{
	while (c->out_off < c->out.len) {
		ssize_t n = send(c->fd, c->out.buf + c->out_off, c->out.len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				conn_close(ws, c);
			return;
		}
		c->out_off += (size_t)n;
	}
	/* Reading on after shutting our side lets a client that sent more than the head (a
	 * body, a pipelined request) see the response instead of a reset. */
	shutdown(c->fd, SHUT_WR);
	sb_release(&c->out);
	c->st = CONN_LINGER;
	c->lingered = 0;
	c->deadline_ms = now_ms() + LINGER_MS;
	if (ep_set(ws, EPOLL_CTL_MOD, c->fd, EPOLLIN, TAG_CONN0 + (uint64_t)(c - ws->conns)))
		conn_close(ws, c);
}

static void respond(struct webserver *ws, struct conn *c, int status, const struct http_request *rq)
{
	build_response(ws, c, status, rq);
	c->st = CONN_WRITE;
	c->deadline_ms = now_ms() + ws->io_timeout_ms;
	if (ep_set(ws, EPOLL_CTL_MOD, c->fd, EPOLLOUT, TAG_CONN0 + (uint64_t)(c - ws->conns))) {
		conn_close(ws, c);
		return;
	}
	conn_write(ws, c);
}

static void conn_read(struct webserver *ws, struct conn *c)
{
	struct http_request rq;
	size_t room = sizeof(c->in) - c->in_len;
	ssize_t n;
	int rc;

	n = recv(c->fd, c->in + c->in_len, room, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(ws, c); /* the client gave up, or the connection broke */
		return;
	}
	/* The head can only have ended where a line did. */
	if (!memchr(c->in + c->in_len, '\n', (size_t)n) && c->in_len + (size_t)n < sizeof(c->in)) {
		c->in_len += (size_t)n;
		return;
	}
	c->in_len += (size_t)n;
	rc = http_parse(c->in, c->in_len, sizeof(c->in), &rq);
	if (rc == HTTP_PARTIAL)
		return;
	respond(ws, c, rc, &rq);
}

static void conn_linger(struct webserver *ws, struct conn *c)
{
	ssize_t n = recv(c->fd, c->in, sizeof(c->in), MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0 || (c->lingered += (size_t)n) > LINGER_BYTES)
		conn_close(ws, c);
}

/* The slot for a new connection: a free one, else the one that has been sending its head
 * the longest (a slow or stalled client gives way). NULL when every slot is answering. */
static struct conn *slot_for_new(struct webserver *ws)
{
	struct conn *oldest = NULL;

	for (unsigned i = 0; i < ws->max_conns; i++) {
		struct conn *c = &ws->conns[i];

		if (c->st == CONN_FREE)
			return c;
		if (c->st == CONN_READ && (!oldest || c->since_ms < oldest->since_ms))
			oldest = c;
	}
	if (oldest) {
		conn_close(ws, oldest);
		ws->st.evicted++;
	}
	return oldest;
}

static void do_accept(struct webserver *ws)
{
	static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
				   "Connection: close\r\n\r\n";

	for (int k = 0; k < ACCEPT_BATCH; k++) {
		int fd = accept4(ws->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				/* Level-triggered: the listener would stay readable and spin the
				 * loop. Off until the next tick. */
				log_warn("webserver: accept: %s; pausing new connections",
					 strerror(errno));
				if (!ep_set(ws, EPOLL_CTL_MOD, ws->lfd, 0, TAG_LISTEN))
					ws->listen_paused = true;
			}
			return;
		}
		ws->st.accepted++;
		c = slot_for_new(ws);
		if (!c) {
			/* every slot is sending a response: say so and hang up */
			if (send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
				log_debug("webserver: busy reply: %s", strerror(errno));
			ws->st.responses[5]++;
			close(fd);
			continue;
		}
		c->fd = fd;
		c->st = CONN_READ;
		c->in_len = 0;
		c->since_ms = now_ms();
		c->deadline_ms = c->since_ms + ws->head_timeout_ms;
		if (ep_set(ws, EPOLL_CTL_ADD, fd, EPOLLIN, TAG_CONN0 + (uint64_t)(c - ws->conns))) {
			close(fd);
			c->fd = -1;
			c->st = CONN_FREE;
			continue;
		}
		ws->nconns++;
	}
}

static void expire(struct webserver *ws)
{
	static const char timeout[] = "HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n"
				      "Connection: close\r\n\r\n";
	uint64_t now = now_ms();

	for (unsigned i = 0; i < ws->max_conns; i++) {
		struct conn *c = &ws->conns[i];

		if (c->st == CONN_FREE || now < c->deadline_ms)
			continue;
		if (c->st == CONN_READ && c->in_len) {
			/* best effort: the client hears why, if its window has room */
			if (send(c->fd, timeout, sizeof(timeout) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) >
			    0)
				ws->st.responses[4]++;
		}
		if (c->st != CONN_LINGER)
			ws->st.timeouts++;
		conn_close(ws, c);
	}
}

void webserver_run(struct webserver *ws)
{
	struct epoll_event evs[32];
	int n = epoll_wait(ws->ep, evs, 32, 0);

	for (int i = 0; i < n; i++) {
		uint64_t tag = evs[i].data.u64;
		struct conn *c;

		if (tag == TAG_LISTEN) {
			do_accept(ws);
			continue;
		}
		if (tag == TAG_TIMER) {
			uint64_t ticks;

			if (read(ws->tfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
				log_debug("webserver: timer: %s", strerror(errno));
			expire(ws);
			if (ws->listen_paused &&
			    !ep_set(ws, EPOLL_CTL_MOD, ws->lfd, EPOLLIN, TAG_LISTEN))
				ws->listen_paused = false;
			continue;
		}
		if (tag - TAG_CONN0 >= ws->max_conns)
			continue;
		c = &ws->conns[tag - TAG_CONN0];
		/* an earlier event of this batch may have closed (or replaced) it */
		switch (c->st) {
		case CONN_READ:
			conn_read(ws, c);
			break;
		case CONN_WRITE:
			if (evs[i].events & (EPOLLERR | EPOLLHUP) && !(evs[i].events & EPOLLOUT))
				conn_close(ws, c);
			else
				conn_write(ws, c);
			break;
		case CONN_LINGER:
			conn_linger(ws, c);
			break;
		case CONN_FREE:
			break;
		}
	}
}

static void fmt_addr(char *out, size_t cap, const char *addr, unsigned port)
{
	snprintf(out, cap, strchr(addr, ':') ? "[%s]:%u" : "%s:%u", addr, port);
}

struct webserver *webserver_open(const struct webserver_opts *o, const struct web_handlers *h,
				 char *err, size_t errlen)
{
	struct webserver *ws = calloc(1, sizeof(*ws));
	union {
		struct sockaddr sa;
		struct sockaddr_in in4;
		struct sockaddr_in6 in6;
		struct sockaddr_storage ss;
	} sa;
	socklen_t salen;
	struct itimerspec its = {.it_interval = {0, TICK_MS * 1000000L},
				 .it_value = {0, TICK_MS * 1000000L}};
	char where[80];
	int one = 1;

	fmt_addr(where, sizeof(where), o->address ? o->address : "?", o->port);
	if (!ws) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ws->ep = ws->lfd = ws->tfd = -1;
	ws->max_conns = o->max_conns ? o->max_conns : 16;
	ws->head_timeout_ms = o->head_timeout_ms ? o->head_timeout_ms : 5000;
	ws->io_timeout_ms = o->io_timeout_ms ? o->io_timeout_ms : 10000;
	ws->metrics = o->metrics;
	ws->h = *h;
	ws->healthz = strdup(o->healthz_path && *o->healthz_path ? o->healthz_path : "/healthz");
	ws->versions = o->versions ? strdup(o->versions) : NULL;
	ws->conns = calloc(ws->max_conns, sizeof(*ws->conns));
	if (!ws->healthz || !ws->conns || (o->versions && !ws->versions)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (unsigned i = 0; i < ws->max_conns; i++)
		ws->conns[i].fd = -1;

	memset(&sa, 0, sizeof(sa));
	if (o->address && inet_pton(AF_INET, o->address, &sa.in4.sin_addr) == 1) {
		sa.in4.sin_family = AF_INET;
		sa.in4.sin_port = htons((uint16_t)o->port);
		salen = sizeof(sa.in4);
	} else if (o->address && inet_pton(AF_INET6, o->address, &sa.in6.sin6_addr) == 1) {
		sa.in6.sin6_family = AF_INET6;
		sa.in6.sin6_port = htons((uint16_t)o->port);
		salen = sizeof(sa.in6);
	} else {
		snprintf(err, errlen, "'%s' is not an IP address", o->address ? o->address : "");
		goto fail;
	}
	if (o->port > 65535) {
		snprintf(err, errlen, "port %u is out of range", o->port);
		goto fail;
	}
	ws->lfd = socket(sa.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ws->lfd < 0 || setsockopt(ws->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(ws->lfd, &sa.sa, salen) || listen(ws->lfd, 64)) {
		snprintf(err, errlen, "cannot listen on %s: %s", where, strerror(errno));
		goto fail;
	}
	salen = sizeof(sa);
	if (getsockname(ws->lfd, &sa.sa, &salen)) {
		snprintf(err, errlen, "getsockname: %s", strerror(errno));
		goto fail;
	}
	ws->port = ntohs(sa.sa.sa_family == AF_INET ? sa.in4.sin_port : sa.in6.sin6_port);
	ws->ep = epoll_create1(EPOLL_CLOEXEC);
	ws->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (ws->ep < 0 || ws->tfd < 0 || timerfd_settime(ws->tfd, 0, &its, NULL) ||
	    ep_set(ws, EPOLL_CTL_ADD, ws->lfd, EPOLLIN, TAG_LISTEN) ||
	    ep_set(ws, EPOLL_CTL_ADD, ws->tfd, EPOLLIN, TAG_TIMER)) {
		snprintf(err, errlen, "cannot set up its event loop: %s", strerror(errno));
		goto fail;
	}
	return ws;
fail:
	webserver_close(ws);
	return NULL;
}

int webserver_fd(const struct webserver *ws)
{
	return ws->ep;
}

unsigned webserver_port(const struct webserver *ws)
{
	return ws->port;
}

const struct webserver_stats *webserver_stats(const struct webserver *ws)
{
	return &ws->st;
}

unsigned webserver_conns(const struct webserver *ws)
{
	return ws->nconns;
}

void webserver_close(struct webserver *ws)
{
	if (!ws)
		return;
	for (unsigned i = 0; ws->conns && i < ws->max_conns; i++)
		conn_close(ws, &ws->conns[i]);
	if (ws->tfd >= 0)
		close(ws->tfd);
	if (ws->lfd >= 0)
		close(ws->lfd);
	if (ws->ep >= 0)
		close(ws->ep);
	free(ws->conns);
	free(ws->healthz);
	free(ws->versions);
	sb_release(&ws->body);
	free(ws);
}
