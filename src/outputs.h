/*
 * Alert channels (spec d.6): stdout, file, syslog, program and http, several at once.
 *
 * The daemon hands every formatted alert (text or JSON, one line, no newline) to
 * outputs_emit(). Each enabled channel has its own bounded queue and its own thread, so a
 * channel that blocks or fails never stalls event processing: the event loop only takes a
 * lock and appends a pointer (one shared, reference-counted copy of the alert for all the
 * channels). A full queue drops the alert for that channel alone. Every drop and every
 * failed delivery is counted (outputs_stats(), for the metrics endpoint and the counter
 * lines) and logged once per interval by a monitor thread, which also logs a channel whose
 * sink has been blocked longer than output_timeout. Nothing is lost silently.
 *
 * Threads: outputs_emit(), outputs_reopen(), outputs_shutdown() and outputs_free() are for
 * the daemon's thread; outputs_stats() and outputs_log_counters() may be called from any
 * thread. docs/outputs.md describes the channels, their keys and their guarantees.
 */
#ifndef SAKER_OUTPUTS_H
#define SAKER_OUTPUTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"

enum output_kind {
	OUTPUT_STDOUT,
	OUTPUT_FILE,
	OUTPUT_SYSLOG,
	OUTPUT_PROGRAM,
	OUTPUT_HTTP,
	OUTPUT_NKINDS
};

/* One channel's counters; all but name, enabled and capacity only grow. */
struct output_stats {
	const char *name; /* "stdout", "file", "syslog", "program", "http" */
	bool enabled;
	uint64_t sent;	       /* delivered to the sink */
	uint64_t dropped;      /* the queue was full: never attempted */
	uint64_t failed;       /* attempted and not delivered (after any retries) */
	uint64_t dropped_exit; /* still queued when the exit deadline passed */
	uint64_t reconnects;   /* file reopened, socket reconnected, program restarted */
	uint64_t retries;      /* http: requests sent again after an error */
	uint64_t queued;       /* in the queue now */
	uint64_t capacity;     /* queue bound */
};

struct outputs_opts {
	bool unbuffered;	     /* -U: flush stdout after every alert */
	FILE *stdout_stream;	     /* NULL: stdout (the unit tests pass their own) */
	unsigned report_interval_ms; /* drop and failure log lines at most this often;
					0: 10 s */
};

struct outputs;

/* Syslog facilities by name, in the order of config's syslog_output.facility choices
 * (NULL-terminated). */
extern const char *const outputs_syslog_facilities[];

/* Starts a thread per enabled channel (nothing is opened or connected before the first
 * alert). Call with the signals the daemon handles already blocked or not: the channel
 * threads block every signal themselves. Returns NULL after logging why. */
struct outputs *outputs_new(const struct config *c, const struct outputs_opts *opts);

/* Queues one alert for every enabled channel. line: the alert without newline; priority:
 * enum rules_priority (0 emergency ... 7 debug). Never blocks on a sink. */
void outputs_emit(struct outputs *o, const char *line, size_t len, int priority);

/* SIGUSR1: the file channel reopens its file and the program channel restarts its
 * program, before the next alert (log rotation). */
void outputs_reopen(struct outputs *o);

/* Delivers what is queued and closes every channel, waiting at most deadline_ms; alerts
 * still queued then are counted in dropped_exit and logged. The counters stay readable. */
void outputs_shutdown(struct outputs *o, unsigned deadline_ms);

/* The same for channels a reload replaced, from a thread of their own: a stdout channel
 * still blocked is left blocked (fd 1 stays: its successor writes there). */
void outputs_shutdown_replaced(struct outputs *o, unsigned deadline_ms);

/* Frees everything (after outputs_shutdown(), which it calls if needed). NULL is fine. */
void outputs_free(struct outputs *o);

/* Fills out[0..OUTPUT_NKINDS) with every channel's counters, in enum output_kind order.
 * Returns OUTPUT_NKINDS. */
size_t outputs_stats(const struct outputs *o, struct output_stats out[OUTPUT_NKINDS]);

/* One log line per enabled channel: "<when>: output <name>: sent=... dropped=...". */
void outputs_log_counters(const struct outputs *o, const char *when);

/* Whether two configurations differ in any key the outputs read (SIGHUP applies those at
 * the next start only). */
bool outputs_config_differs(const struct config *a, const struct config *b);

/* An http:// URL taken apart. */
struct http_url {
	char host[256];	    /* a name or an address, without IPv6 brackets */
	char port[6];	    /* "80" when the URL has none */
	char hostport[272]; /* the Host header: as written in the URL */
	char path[2048];    /* "/" when the URL has none; query kept, fragment dropped */
	bool tls;	    /* https:// */
};

/* Returns 0, or -1 with a message in err. */
int http_url_parse(const char *url, struct http_url *u, char *err, size_t errcap);

/* The TLS settings of http_output (https:// URLs) from the configuration. */
struct tls_opts;
void http_tls_opts(const struct config *c, struct tls_opts *o);

/* Checks one http_output.headers entry, "Name: value". Returns 0, or -1 with a message. */
int http_header_check(const char *h, char *err, size_t errcap);

#endif /* SAKER_OUTPUTS_H */
