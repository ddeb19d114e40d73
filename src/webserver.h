/*
 * The embedded HTTP listener for /healthz and /metrics (docs/operations.md). Hand-written,
 * small and strict: HTTP/1.0 and 1.1, GET and HEAD only, one request per connection, the
 * request head bounded, per-connection deadlines, a bounded number of connections. It runs
 * inside the daemon's epoll loop without threads: webserver_fd() is an epoll fd of its own
 * that becomes readable when the server has work, and webserver_run() does that work
 * without ever blocking (every socket is non-blocking; each call does bounded work).
 */
#ifndef SAKER_WEBSERVER_H
#define SAKER_WEBSERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

/* ---- the request parser (exposed for the tests) */

#define HTTP_PARTIAL	 (-1) /* http_parse: the head is not complete yet */
#define HTTP_HEAD_MAX	 8192 /* request line and headers, in bytes */
#define HTTP_TARGET_MAX	 2048 /* the request target, in bytes */
#define HTTP_HEADERS_MAX 64   /* header fields */
#define HTTP_METHOD_MAX	 16

enum http_method {
	HTTP_GET,
	HTTP_HEAD,
	HTTP_OTHER /* a well-formed method saker does not serve (POST, PUT, ...) */
};

struct http_request {
	enum http_method method;
	const char *path; /* into the buffer: the target up to '?', not NUL-terminated */
	size_t path_len;
	unsigned minor;		 /* HTTP/1.minor: 0 or 1 */
	size_t head_len;	 /* bytes of the head, the blank line included */
	uint64_t content_length; /* 0 when absent */
	bool chunked;		 /* a Transfer-Encoding header was sent */
};

/*
 * Parses the request head at the start of buf (len bytes; nothing past len is read).
 * Returns 0 with *rq filled when the head is complete and valid, HTTP_PARTIAL when it is a
 * valid beginning of a head, or the status that rejects it: 400 (malformed), 414 (target
 * over HTTP_TARGET_MAX), 431 (head over max_head or more than HTTP_HEADERS_MAX fields),
 * 505 (an HTTP version other than 1.0 and 1.1). Every prefix of a valid head is
 * HTTP_PARTIAL. max_head: at most HTTP_HEAD_MAX.
 */
int http_parse(const char *buf, size_t len, size_t max_head, struct http_request *rq);

/* The reason phrase of a status ("Not Found"), "Unknown" for others. */
const char *http_reason(int status);

/* ---- the server */

/* What the server asks the daemon. Called from webserver_run(), on the daemon's thread. */
struct web_handlers {
	/* true: healthy. false: why says what is wrong (one line of text). */
	bool (*health)(void *ctx, struct strbuf *why);
	/* Appends the Prometheus text exposition to out. */
	void (*metrics)(void *ctx, struct strbuf *out);
	void *ctx;
};

struct webserver_opts {
	const char *address;	  /* an IPv4 or IPv6 literal */
	unsigned port;		  /* 0: any free port (see webserver_port) */
	const char *healthz_path; /* "/healthz" */
	bool metrics;		  /* serve /metrics */
	const char *versions;	  /* the body of GET /versions (JSON); NULL: no /versions */
	unsigned max_conns;	  /* 0: 16 */
	unsigned head_timeout_ms; /* to receive the whole head; 0: 5000 */
	unsigned io_timeout_ms;	  /* to send the response; 0: 10000 */
};

struct webserver_stats {
	uint64_t accepted;
	uint64_t responses[6]; /* by class: [2] 2xx, [4] 4xx, [5] 5xx */
	uint64_t timeouts;     /* connections closed at a deadline */
	uint64_t evicted;      /* slow connections closed to make room for a new one */
};

struct webserver;

/* Binds and listens (non-blocking). NULL after writing why into err. */
struct webserver *webserver_open(const struct webserver_opts *o, const struct web_handlers *h,
				 char *err, size_t errlen);
/* Readable (EPOLLIN) when webserver_run() has something to do. */
int webserver_fd(const struct webserver *ws);
/* Accepts, reads, answers, writes and expires what is ready; never blocks. */
void webserver_run(struct webserver *ws);
/* The port bound (the one chosen by the kernel when opts.port was 0). */
unsigned webserver_port(const struct webserver *ws);
const struct webserver_stats *webserver_stats(const struct webserver *ws);
/* Open connections. */
unsigned webserver_conns(const struct webserver *ws);
void webserver_close(struct webserver *ws);

/* Whether s is an IPv4 or IPv6 address literal (the listen_address check). */
bool webserver_address_valid(const char *s);

#endif /* SAKER_WEBSERVER_H */
