/*
 * What /metrics and /healthz report (docs/operations.md). The daemon keeps a struct
 * metrics beside its loop and bumps it where things happen (an event, an alert, a drain);
 * metrics_render() turns it, the kernel counters, the decode and table statistics and the
 * ring buffer's fill into the Prometheus text exposition format (version 0.0.4).
 * The formatting helpers are exposed for the tests: label values and help texts are
 * escaped as the format requires, whatever bytes a rule name holds.
 */
#ifndef SAKER_METRICS_H
#define SAKER_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "evttypes.h"
#include "strbuf.h"

struct loader;
struct state;
struct decode_stats;
struct webserver;
struct event;
struct outputs;
struct output_stats;

/* Rule evaluation is timed on one event in this many (two clock reads per sample); the
 * total is the sampled time times this. */
#define METRICS_EVAL_SAMPLE 64
/* /healthz is 503 when the last drain without error is older than this. */
#define METRICS_HEALTH_STALE_MS 5000

struct alert_count {
	char *rule;
	const char *priority; /* a static name (rules_priority_name) */
	uint64_t n;
	uint32_t hash;
};

struct metrics {
	uint64_t events[EVT_CODES]; /* decoded events by code (syscall id, procexit, ...) */
	uint64_t eval_events;	    /* events that ran at least one rule */
	uint64_t eval_ns_sampled;   /* time in ruleset_eval, on the sampled events */
	uint64_t eval_samples;

	/* alerts by (rule, priority): open addressing over an insertion-ordered array */
	struct alert_count *alerts;
	size_t n_alerts, cap_alerts;
	uint32_t *alert_slots; /* index + 1, 0: empty */
	size_t n_slots;
	uint64_t alerts_dropped; /* pairs past METRICS_ALERTS_MAX (counted, not labelled) */

	bool attached;		   /* the probes are attached */
	uint64_t last_drain_ok_ms; /* CLOCK_MONOTONIC ms of the last drain without error */
	uint64_t consume_errors;   /* ring buffer drains that failed */
	uint64_t start_wall_s;	   /* for saker_start_time_seconds */

	/* the ring buffer's positions, mapped read-only (NULL: not mapped) */
	void *ring_map;
	size_t ring_map_len;
	size_t ring_size;

	const struct webserver *web; /* its own counters, when it runs */

	/* The alert channels (outputs.h): the daemon sets both once its outputs run; NULL:
	 * no channel metrics. A callback, so metrics.c links without outputs.c, and so the
	 * daemon can add up the channels a SIGHUP replaced (their counters never go back). */
	const void *outputs_ctx;
	size_t (*outputs_stats)(const void *ctx, struct output_stats *out);
};

void metrics_init(struct metrics *m);
void metrics_release(struct metrics *m);

#define METRICS_ALERTS_MAX 65536

/* An alert for rule at priority. */
void metrics_alert(struct metrics *m, const char *rule, const char *priority);

/* An event the daemon decoded, by its code (extract_event_code; fork and exec records are
 * counted by the decoder by kind). */
static inline void metrics_event(struct metrics *m, int code)
{
	if (code >= 0 && code < EVT_CODES)
		m->events[code]++;
}

/* Whether to time this rule evaluation (one in METRICS_EVAL_SAMPLE). */
static inline bool metrics_eval_sampled(struct metrics *m)
{
	return m->eval_events++ % METRICS_EVAL_SAMPLE == 0;
}

static inline void metrics_eval_time(struct metrics *m, uint64_t ns)
{
	m->eval_ns_sampled += ns;
	m->eval_samples++;
}

/* CLOCK_MONOTONIC now, in ns and in ms. */
uint64_t metrics_now_ns(void);
uint64_t metrics_now_ms(void);

/* A ring buffer drain: rc as loader_consume returned it (negative: an error). */
void metrics_drained(struct metrics *m, int rc);

/* Maps the ring buffer map's position pages (map_fd, data size bytes) to read its fill.
 * Returns 0, or -1 (the fill is then not reported). */
int metrics_ring_open(struct metrics *m, int map_fd, size_t size);
/* Bytes produced but not yet consumed over the size, 0 to 1; negative when unknown. */
double metrics_ring_fill(const struct metrics *m);

/* true when healthy; else why says what is wrong. */
bool metrics_health(const struct metrics *m, uint64_t now_ms, struct strbuf *why);

/* Appends the whole exposition. ld, st and dst may be NULL (their metrics are left out). */
void metrics_render(struct strbuf *out, const struct metrics *m, struct loader *ld,
		    struct state *st, const struct decode_stats *dst);

/* ---- formatting helpers (the exposition format's escaping rules) */

/* "# HELP name help\n# TYPE name type\n"; help escaped (backslash, newline). */
void prom_family(struct strbuf *out, const char *name, const char *type, const char *help);
/* A label value's text: backslash, double quote and newline escaped; bytes that are not
 * valid UTF-8 become U+FFFD. */
void prom_label_value(struct strbuf *out, const char *v);
/* name{l1="v1",l2="v2"} value: labels is a NULL-terminated list of name, value pairs
 * (NULL: no labels). */
void prom_sample_u64(struct strbuf *out, const char *name, const char *const *labels, uint64_t v);
void prom_sample_f64(struct strbuf *out, const char *name, const char *const *labels, double v);

#endif /* SAKER_METRICS_H */
