#include "metrics.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "decode.h"
#include "loader.h"
#include "log.h"
#include "outputs.h"
#include "proc_table.h"
#include "state.h"
#include "version.h"
#include "webserver.h"

void metrics_init(struct metrics *m)
{
	memset(m, 0, sizeof(*m));
	m->start_wall_s = (uint64_t)time(NULL);
}

void metrics_release(struct metrics *m)
{
	for (size_t i = 0; i < m->n_alerts; i++)
		free(m->alerts[i].rule);
	free(m->alerts);
	free(m->alert_slots);
	if (m->ring_map)
		munmap(m->ring_map, m->ring_map_len);
	memset(m, 0, sizeof(*m));
}

uint64_t metrics_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t metrics_now_ms(void)
{
	return metrics_now_ns() / 1000000u;
}

/* ------------------------------------------------------------------ alerts by rule */

static uint32_t alert_hash(const char *rule, const char *priority)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)rule; *p; p++)
		h = (h ^ *p) * 16777619u;
	h ^= 0xff;
	for (const unsigned char *p = (const unsigned char *)priority; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h;
}

static int alert_rehash(struct metrics *m, size_t n_slots)
{
	uint32_t *slots = calloc(n_slots, sizeof(*slots));

	if (!slots)
		return -1;
	for (size_t i = 0; i < m->n_alerts; i++) {
		size_t s = m->alerts[i].hash & (n_slots - 1);

		while (slots[s])
			s = (s + 1) & (n_slots - 1);
		slots[s] = (uint32_t)i + 1;
	}
	free(m->alert_slots);
	m->alert_slots = slots;
	m->n_slots = n_slots;
	return 0;
}

void metrics_alert(struct metrics *m, const char *rule, const char *priority)
{
	uint32_t h = alert_hash(rule, priority);
	struct alert_count *a;
	size_t s;

	if (m->n_slots) {
		for (s = h & (m->n_slots - 1); m->alert_slots[s]; s = (s + 1) & (m->n_slots - 1)) {
			a = &m->alerts[m->alert_slots[s] - 1];
			if (a->hash == h && strcmp(a->rule, rule) == 0 &&
			    strcmp(a->priority, priority) == 0) {
				a->n++;
				return;
			}
		}
	}
	/* a new pair: kept at most half full */
	if (m->n_alerts >= METRICS_ALERTS_MAX ||
	    ((m->n_alerts + 1) * 2 > m->n_slots &&
	     alert_rehash(m, m->n_slots ? m->n_slots * 2 : 64))) {
		m->alerts_dropped++;
		return;
	}
	if (m->n_alerts == m->cap_alerts) {
		size_t cap = m->cap_alerts ? m->cap_alerts * 2 : 32;
		struct alert_count *v = realloc(m->alerts, cap * sizeof(*v));

		if (!v) {
			m->alerts_dropped++;
			return;
		}
		m->alerts = v;
		m->cap_alerts = cap;
	}
	a = &m->alerts[m->n_alerts];
	a->rule = strdup(rule);
	if (!a->rule) {
		m->alerts_dropped++;
		return;
	}
	a->priority = priority;
	a->n = 1;
	a->hash = h;
	for (s = h & (m->n_slots - 1); m->alert_slots[s]; s = (s + 1) & (m->n_slots - 1))
		;
	m->alert_slots[s] = (uint32_t)++m->n_alerts;
}

/* ------------------------------------------------------------------ drains, ring, health */

void metrics_drained(struct metrics *m, int rc)
{
	if (rc < 0)
		m->consume_errors++;
	else
		m->last_drain_ok_ms = metrics_now_ms();
}

int metrics_ring_open(struct metrics *m, int map_fd, size_t size)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p;

	if (map_fd < 0 || page <= 0 || !size)
		return -1;
	/* A BPF ring buffer map: the consumer position on the first page, the producer's on
	 * the second. A read-only mapping is all reading them takes (libbpf 1.1 has no call
	 * for the fill level). */
	p = mmap(NULL, (size_t)page * 2, PROT_READ, MAP_SHARED, map_fd, 0);
	if (p == MAP_FAILED) {
		log_debug("metrics: cannot map the ring buffer positions: %m");
		return -1;
	}
	m->ring_map = p;
	m->ring_map_len = (size_t)page * 2;
	m->ring_size = size;
	return 0;
}

double metrics_ring_fill(const struct metrics *m)
{
	const unsigned long *cons, *prod;
	unsigned long c, p;
	double f;

	if (!m->ring_map || !m->ring_size)
		return -1;
	cons = m->ring_map;
	prod = (const unsigned long *)((const char *)m->ring_map + m->ring_map_len / 2);
	c = __atomic_load_n(cons, __ATOMIC_ACQUIRE);
	p = __atomic_load_n(prod, __ATOMIC_ACQUIRE);
	f = (double)(p - c) / (double)m->ring_size;
	return f < 0 ? 0 : f > 1 ? 1 : f;
}

bool metrics_health(const struct metrics *m, uint64_t now_ms, struct strbuf *why)
{
	if (!m->attached) {
		sb_adds(why, "the probes are not attached yet");
		return false;
	}
	if (!m->last_drain_ok_ms) {
		sb_adds(why, "no ring buffer drain yet");
		return false;
	}
	if (now_ms > m->last_drain_ok_ms + METRICS_HEALTH_STALE_MS) {
		sb_addf(why,
			"no ring buffer drain without error for %" PRIu64 " ms (%" PRIu64
			" failed drains)",
			now_ms - m->last_drain_ok_ms, m->consume_errors);
		return false;
	}
	return true;
}

/* ------------------------------------------------------------------ the exposition format */

void prom_family(struct strbuf *out, const char *name, const char *type, const char *help)
{
	sb_addf(out, "# HELP %s ", name);
	for (const char *p = help; *p; p++) {
		if (*p == '\\')
			sb_adds(out, "\\\\");
		else if (*p == '\n')
			sb_adds(out, "\\n");
		else
			sb_addc(out, *p);
	}
	sb_addf(out, "\n# TYPE %s %s\n", name, type);
}

void prom_label_value(struct strbuf *out, const char *v)
{
	const unsigned char *p = (const unsigned char *)v;
	size_t len = strlen(v);

	for (size_t i = 0; i < len;) {
		size_t n;

		if (p[i] == '\\') {
			sb_adds(out, "\\\\");
			i++;
		} else if (p[i] == '"') {
			sb_adds(out, "\\\"");
			i++;
		} else if (p[i] == '\n') {
			sb_adds(out, "\\n");
			i++;
		} else if (p[i] < 0x80) {
			sb_addc(out, (char)p[i]);
			i++;
		} else if ((n = utf8_seq_len(p + i, len - i)) > 0) {
			sb_add(out, p + i, n);
			i += n;
		} else {
			sb_adds(out, "\xef\xbf\xbd"); /* U+FFFD for a byte that is not UTF-8 */
			i++;
		}
	}
}

static void sample_name(struct strbuf *out, const char *name, const char *const *labels)
{
	sb_adds(out, name);
	if (!labels || !labels[0])
		return;
	sb_addc(out, '{');
	for (size_t i = 0; labels[i] && labels[i + 1]; i += 2) {
		if (i)
			sb_addc(out, ',');
		sb_adds(out, labels[i]);
		sb_adds(out, "=\"");
		prom_label_value(out, labels[i + 1]);
		sb_addc(out, '"');
	}
	sb_addc(out, '}');
}

void prom_sample_u64(struct strbuf *out, const char *name, const char *const *labels, uint64_t v)
{
	sample_name(out, name, labels);
	sb_addf(out, " %" PRIu64 "\n", v);
}

void prom_sample_f64(struct strbuf *out, const char *name, const char *const *labels, double v)
{
	sample_name(out, name, labels);
	sb_addf(out, " %.9g\n", v);
}

/* One family of one unlabelled sample. */
static void one_u64(struct strbuf *out, const char *name, const char *type, const char *help,
		    uint64_t v)
{
	prom_family(out, name, type, help);
	prom_sample_u64(out, name, NULL, v);
}

static void render_kernel(struct strbuf *out, struct loader *ld)
{
	struct sk_counters k;
	const struct {
		const char *reason;
		const __u64 *v;
	} drops[] = {
	    {"ringbuf_full", &k.drop_full},
	    {"too_large", &k.drop_too_large},
	    {"read_fail", &k.drop_read_fail},
	};

	if (!ld || loader_counters(ld, &k))
		return;
	one_u64(out, "saker_kernel_events_total", "counter",
		"Interesting syscalls and scheduler events that reached a kernel handler", k.seen);
	one_u64(out, "saker_kernel_records_total", "counter",
		"Records the kernel side wrote to the ring buffer", k.emitted);
	prom_family(
	    out, "saker_kernel_drops_total", "counter",
	    "Events dropped in the kernel, by reason: ringbuf_full (no room in the ring "
	    "buffer), too_large (over the record limit), read_fail (kernel data unreadable)");
	for (size_t i = 0; i < sizeof(drops) / sizeof(drops[0]); i++)
		prom_sample_u64(out, "saker_kernel_drops_total",
				(const char *const[]){"reason", drops[i].reason, NULL},
				*drops[i].v);
	one_u64(out, "saker_kernel_partial_reads_total", "counter",
		"Records emitted with some user memory unreadable", k.partial_read);
	one_u64(out, "saker_kernel_truncated_total", "counter",
		"Records emitted with some variable-length data cut at its limit", k.truncated);
	one_u64(out, "saker_kernel_compat_ignored_total", "counter",
		"Syscalls made in 32-bit (ia32) mode, not decoded", k.compat_ignored);
}

static void render_decode(struct strbuf *out, const struct metrics *m,
			  const struct decode_stats *dst)
{
	static const char *const kinds[SK_EV_MAX] = {
	    [SK_EV_SYSCALL] = "syscall",
	    [SK_EV_FORK] = "fork",
	    [SK_EV_EXEC] = "exec",
	    [SK_EV_EXIT] = "exit",
	};

	if (dst) {
		prom_family(out, "saker_records_total", "counter",
			    "Ring buffer records the daemon decoded, by kind");
		for (int i = 0; i < SK_EV_MAX; i++)
			if (kinds[i])
				prom_sample_u64(out, "saker_records_total",
						(const char *const[]){"kind", kinds[i], NULL},
						dst->by_kind[i]);
		prom_family(out, "saker_decode_errors_total", "counter",
			    "Ring buffer records rejected by the decoder, by reason");
		for (int i = 1; i < DECODE_NERRORS; i++)
			prom_sample_u64(out, "saker_decode_errors_total",
					(const char *const[]){"reason", decode_error_name(i), NULL},
					dst->errors[i]);
	}
	prom_family(out, "saker_events_total", "counter",
		    "Events decoded, by event type (evt.type); types not seen yet are left out");
	for (unsigned c = 0; c < EVT_CODES; c++) {
		const char *name;

		if (!m->events[c])
			continue;
		name = evttype_name(c);
		if (name) {
			prom_sample_u64(out, "saker_events_total",
					(const char *const[]){"type", name, NULL}, m->events[c]);
		} else {
			char num[24];

			snprintf(num, sizeof(num), "syscall_%u", c);
			prom_sample_u64(out, "saker_events_total",
					(const char *const[]){"type", num, NULL}, m->events[c]);
		}
	}
}

static void render_ring(struct strbuf *out, const struct metrics *m)
{
	double fill = metrics_ring_fill(m);

	one_u64(out, "saker_ring_consume_errors_total", "counter",
		"Ring buffer drains that returned an error", m->consume_errors);
	if (fill < 0)
		return;
	prom_family(out, "saker_ringbuf_fill_ratio", "gauge",
		    "Bytes in the ring buffer not consumed yet, over its size (0 to 1), when "
		    "scraped");
	prom_sample_f64(out, "saker_ringbuf_fill_ratio", NULL, fill);
	one_u64(out, "saker_ringbuf_size_bytes", "gauge", "Size of the ring buffer", m->ring_size);
}

static void render_rules(struct strbuf *out, const struct metrics *m)
{
	prom_family(out, "saker_alerts_total", "counter", "Alerts raised, by rule and priority");
	for (size_t i = 0; i < m->n_alerts; i++)
		prom_sample_u64(out, "saker_alerts_total",
				(const char *const[]){"rule", m->alerts[i].rule, "priority",
						      m->alerts[i].priority, NULL},
				m->alerts[i].n);
	one_u64(out, "saker_alerts_unlabelled_total", "counter",
		"Alerts counted without labels (more distinct rules than the metrics keep)",
		m->alerts_dropped);
	prom_family(out, "saker_rule_eval_seconds_total", "counter",
		    "Time spent evaluating rules: measured on one event in 64 that ran rules, "
		    "times 64");
	prom_sample_f64(out, "saker_rule_eval_seconds_total", NULL,
			(double)m->eval_ns_sampled * METRICS_EVAL_SAMPLE / 1e9);
	one_u64(out, "saker_rule_eval_events_total", "counter", "Events that ran at least one rule",
		m->eval_events);
	one_u64(out, "saker_rule_eval_sampled_events_total", "counter",
		"Events whose rule evaluation was timed", m->eval_samples);
}

static void render_state(struct strbuf *out, struct state *st)
{
	const struct proc_table_stats *ps;
	const struct state_stats *ss;
	const struct ctr_cache_stats *cs;
	uint64_t fds = 0;

	if (!st)
		return;
	ps = proc_table_stats(state_procs(st));
	ss = state_stats(st);
	for (struct proc *p = proc_table_next(state_procs(st), NULL); p;
	     p = proc_table_next(state_procs(st), p))
		fds += p->fds.n;
	one_u64(out, "saker_processes", "gauge", "Processes in the process table", ps->procs);
	one_u64(out, "saker_threads", "gauge", "Threads in the process table", ps->threads);
	one_u64(out, "saker_fds", "gauge", "File descriptors in the fd tables", fds);
	one_u64(out, "saker_proc_evictions_total", "counter",
		"Processes evicted (with their threads) to keep the table in bounds",
		ps->evictions);
	one_u64(out, "saker_threads_dropped_total", "counter",
		"Threads not tracked because the table was full", ps->threads_dropped);
	one_u64(out, "saker_fds_dropped_total", "counter",
		"File descriptors not tracked because a table was full", ss->fds_dropped);
	one_u64(out, "saker_unknown_pid_events_total", "counter",
		"Events from a process the table did not know", ss->unknown_pid);
	one_u64(out, "saker_unknown_fd_events_total", "counter",
		"Events naming a file descriptor the table did not know", ss->fd_unknown);
	cs = container_cache_stats(state_containers(st));
	one_u64(out, "saker_containers", "gauge", "Containers in the container cache", cs->entries);
	one_u64(out, "saker_container_lookups_total", "counter",
		"Containers looked up in the runtimes' state (one per container cached)",
		cs->lookups);
	one_u64(out, "saker_container_lookups_found_total", "counter",
		"Container lookups that found the container's metadata", cs->found);
	one_u64(out, "saker_container_removals_total", "counter",
		"Cached containers dropped because none of their processes was left", cs->removed);
	one_u64(out, "saker_container_evictions_total", "counter",
		"Cached containers evicted because the cache was full", cs->evicted);
	one_u64(out, "saker_cgroup_unknown_total", "counter",
		"Execs into a cgroup whose path could no longer be found (the process and its "
		"cgroup gone before the event was read)",
		ss->cgroup_unknown);
}

/* The alert channels' queues, drops and failures (outputs.h), enabled channels only. */
static void render_outputs(struct strbuf *out, const struct metrics *m)
{
	struct output_stats os[OUTPUT_NKINDS];
	size_t n;

	if (!m->outputs_ctx || !m->outputs_stats)
		return;
	n = m->outputs_stats(m->outputs_ctx, os);
	if (n > OUTPUT_NKINDS)
		n = OUTPUT_NKINDS;
	prom_family(out, "saker_output_queue_depth", "gauge",
		    "Alerts waiting in an output channel's queue");
	for (size_t i = 0; i < n; i++)
		if (os[i].enabled)
			prom_sample_u64(out, "saker_output_queue_depth",
					(const char *const[]){"channel", os[i].name, NULL},
					os[i].queued);
	prom_family(out, "saker_output_queue_capacity", "gauge",
		    "Most alerts an output channel's queue holds");
	for (size_t i = 0; i < n; i++)
		if (os[i].enabled)
			prom_sample_u64(out, "saker_output_queue_capacity",
					(const char *const[]){"channel", os[i].name, NULL},
					os[i].capacity);
	prom_family(out, "saker_output_sent_total", "counter",
		    "Alerts an output channel delivered");
	for (size_t i = 0; i < n; i++)
		if (os[i].enabled)
			prom_sample_u64(out, "saker_output_sent_total",
					(const char *const[]){"channel", os[i].name, NULL},
					os[i].sent);
	prom_family(out, "saker_output_dropped_total", "counter",
		    "Alerts an output channel dropped: its queue was full, or they were still "
		    "queued at exit");
	for (size_t i = 0; i < n; i++)
		if (os[i].enabled)
			prom_sample_u64(out, "saker_output_dropped_total",
					(const char *const[]){"channel", os[i].name, NULL},
					os[i].dropped + os[i].dropped_exit);
	prom_family(out, "saker_output_failures_total", "counter",
		    "Alerts an output channel attempted and could not deliver");
	for (size_t i = 0; i < n; i++)
		if (os[i].enabled)
			prom_sample_u64(out, "saker_output_failures_total",
					(const char *const[]){"channel", os[i].name, NULL},
					os[i].failed);
}

static void render_web(struct strbuf *out, const struct webserver *web)
{
	const struct webserver_stats *ws;
	static const char *const classes[] = {NULL, NULL, "2xx", NULL, "4xx", "5xx"};

	if (!web)
		return;
	ws = webserver_stats(web);
	prom_family(out, "saker_http_responses_total", "counter",
		    "Responses of the embedded HTTP server, by status class");
	for (int i = 0; i < 6; i++)
		if (classes[i])
			prom_sample_u64(out, "saker_http_responses_total",
					(const char *const[]){"code", classes[i], NULL},
					ws->responses[i]);
	one_u64(out, "saker_http_connections_total", "counter",
		"Connections the embedded HTTP server accepted", ws->accepted);
	one_u64(out, "saker_http_timeouts_total", "counter",
		"HTTP connections closed at a deadline (slow or stalled clients)", ws->timeouts);
	one_u64(out, "saker_http_evicted_total", "counter",
		"Slow HTTP connections closed to make room for new ones", ws->evicted);
}

void metrics_render(struct strbuf *out, const struct metrics *m, struct loader *ld,
		    struct state *st, const struct decode_stats *dst)
{
	prom_family(out, "saker_build_info", "gauge", "Always 1; the version as a label");
	prom_sample_u64(out, "saker_build_info",
			(const char *const[]){"version", SAKER_VERSION, NULL}, 1);
	one_u64(out, "saker_start_time_seconds", "gauge",
		"When the sensor started, in seconds since the epoch", m->start_wall_s);
	render_kernel(out, ld);
	render_decode(out, m, dst);
	render_ring(out, m);
	render_rules(out, m);
	render_state(out, st);
	render_outputs(out, m);
	render_web(out, m->web);
}
