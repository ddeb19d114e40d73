#include "daemon.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "alert.h"
#include "decode.h"
#include "drops.h"
#include "extract.h"
#include "loader.h"
#include "log.h"
#include "metrics.h"
#include "outputs.h"
#include "state.h"
#include "ruleset.h"
#include "rules_yaml.h"
#include "strbuf.h"
#include "syscall_set.h"
#include "syscalls.h"
#include "timeutil.h"
#include "version.h"
#include "version_info.h"
#include "watch.h"
#include "webserver.h"

struct daemon {
	const struct daemon_opts *o;
	struct loader ld;
	struct state *state;
	struct decode_stats dst;
	struct strbuf line;
	uint64_t lines_out;

	/* rules */
	const struct config *cfg;      /* the running configuration (replaced on reload) */
	struct config *cfg_owned;      /* a reloaded one, freed with the daemon */
	struct rules_loaded *rules_owned; /* reloaded rules, freed with the daemon */
	struct ruleset *rs;
	struct extract_env xenv;
	struct extract_ctx xc;
	struct alert_opts aopts;
	uint64_t evt_num;
	uint64_t alerts;
	struct outputs *outs; /* the alert channels, each with its queue and thread */
	/* channels a SIGHUP replaced: still delivering what they hold, on a thread of their
	 * own; once done, their counters are added to carried and they are freed */
	struct retired *retired;
	struct output_stats carried[OUTPUT_NKINDS];

	struct drops drops;	/* syscall_event_drops: the once-a-second check */
	bool drops_exit;	/* its 'exit' action ran: stop with status 1 */
	uint64_t internal_alerts;

	struct metrics m;	/* what /metrics and /healthz report */
	struct webserver *web; /* NULL: webserver.enabled is off, or it could not listen */
	int ep;		       /* the event loop's epoll */
	struct watch *watch;   /* watch_config_files; NULL: off */
	int watch_timer;       /* the pause after a change before reloading; -1: none */
};

/* Old alert channels on their way out after a SIGHUP. */
struct retired {
	struct outputs *o;
	unsigned deadline_ms;
	pthread_t th;
	atomic_bool done;
	struct retired *next;
};

static void *retire_run(void *arg)
{
	struct retired *r = arg;

	outputs_shutdown(r->o, r->deadline_ms);
	outputs_log_counters(r->o, "reload: replaced");
	atomic_store(&r->done, true);
	return NULL;
}

static void stats_add(struct output_stats *to, const struct output_stats *from)
{
	for (size_t i = 0; i < OUTPUT_NKINDS; i++) {
		to[i].sent += from[i].sent;
		to[i].dropped += from[i].dropped;
		to[i].failed += from[i].failed;
		to[i].dropped_exit += from[i].dropped_exit;
		to[i].reconnects += from[i].reconnects;
		to[i].retries += from[i].retries;
		to[i].queued += from[i].queued;
	}
}

/* Hands the old channels to a thread that delivers what they hold (at most output_timeout),
 * so the event loop never waits on them. */
static void outputs_retire(struct daemon *d, struct outputs *old, unsigned deadline_ms)
{
	struct retired *r = calloc(1, sizeof(*r));

	if (r) {
		r->o = old;
		r->deadline_ms = deadline_ms;
		atomic_init(&r->done, false);
		if (pthread_create(&r->th, NULL, retire_run, r) == 0) {
			r->next = d->retired;
			d->retired = r;
			return;
		}
		free(r);
	}
	/* no thread: do it here, late rather than never */
	retire_run(&(struct retired){.o = old, .deadline_ms = deadline_ms});
	{
		struct output_stats st[OUTPUT_NKINDS];

		outputs_stats(old, st);
		stats_add(d->carried, st);
	}
	outputs_free(old);
}

/* Frees the retired channels that are done (all of them, waiting, when wait is set), their
 * counters kept in carried. */
static void outputs_reap(struct daemon *d, bool wait)
{
	struct retired **pp = &d->retired;

	while (*pp) {
		struct retired *r = *pp;
		struct output_stats st[OUTPUT_NKINDS];

		if (!wait && !atomic_load(&r->done)) {
			pp = &r->next;
			continue;
		}
		pthread_join(r->th, NULL);
		outputs_stats(r->o, st);
		for (size_t i = 0; i < OUTPUT_NKINDS; i++)
			st[i].queued = 0;
		stats_add(d->carried, st);
		outputs_free(r->o);
		*pp = r->next;
		free(r);
	}
}

/* /metrics: the running channels plus everything the replaced ones did. */
static size_t daemon_outputs_stats(const void *ctx, struct output_stats *out)
{
	const struct daemon *d = ctx;
	struct output_stats st[OUTPUT_NKINDS];
	size_t n = outputs_stats(d->outs, out);

	stats_add(out, d->carried);
	for (const struct retired *r = d->retired; r; r = r->next) {
		outputs_stats(r->o, st);
		stats_add(out, st);
	}
	return n;
}

static void on_match(void *ctx, const struct loaded_rule *lr)
{
	struct daemon *d = ctx;
	struct vm_fieldsrc src = extract_src(&d->xc);
	struct alert_rule ar = {
	    .name = lr->src->name,
	    .priority = rules_priority_name(lr->src->priority),
	    .tags = lr->src->tags,
	    .n_tags = lr->src->n_tags,
	    .source = "syscall",
	    .fmt = lr->fmt,
	    .extras = lr->extras,
	    .n_extras = lr->n_extras,
	};

	sb_reset(&d->line);
	alert_format(&d->line, &d->aopts, &ar, &src, d->xc.wall_ns);
	outputs_emit(d->outs, d->line.buf, d->line.len, (int)lr->src->priority);
	d->alerts++;
	metrics_alert(&d->m, ar.name, ar.priority);
}

/* Runs the rules filed under the event's type. */
static void evaluate(struct daemon *d, const struct event *ev, const struct evctx *cx)
{
	int code = extract_event_code(ev);
	struct vm_fieldsrc src;
	bool timed;
	uint64_t t0 = 0;

	if (code < 0)
		return;
	d->evt_num++;
	if (!ruleset_bucket_size(d->rs, (unsigned)code))
		return;
	/* timed on one event in METRICS_EVAL_SAMPLE: two clock reads are not free */
	timed = metrics_eval_sampled(&d->m);
	if (timed)
		t0 = metrics_now_ns();
	extract_begin(&d->xc, ev, cx, d->evt_num);
	src = extract_src(&d->xc);
	ruleset_eval(d->rs, (unsigned)code, &src, d->cfg->rule_matching == RULE_MATCHING_ALL,
		     on_match, d);
	if (timed)
		metrics_eval_time(&d->m, metrics_now_ns() - t0);
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct daemon *d = ctx;
	struct event ev;
	struct evctx cx;

	if (decode_record(data, size, &ev, &d->dst) != DECODE_OK)
		return 0;
	metrics_event(&d->m, extract_event_code(&ev));
	/* Rules and the event line see the state right after the event; what the event ends
	 * (a closed fd, an exited process) is dropped after them (state.h). */
	state_pre(d->state, &ev, &cx);
	if (d->rs)
		evaluate(d, &ev, &cx);
	if (d->o->dump) {
		dump_event(&d->line, &ev, state_procs(d->state), d->o->dump_format);
		sb_addc(&d->line, '\n');
		fwrite(d->line.buf, 1, d->line.len, stdout);
		if (d->o->unbuffered)
			fflush(stdout);
		d->lines_out++;
	}
	state_post(d->state, &cx);
	return 0;
}

/* syscall_event_drops.actions; the config was checked, but never run 'all' on a bad one */
static int drop_actions(const struct config *c)
{
	char why[128];
	int a = config_drop_actions(c, why, sizeof(why));

	return a < 0 ? 0 : a;
}

/* The once-a-second drop check (spec e, syscall_event_drops): above the threshold, and as
 * often as the token bucket allows, log, send an internal alert, and/or stop. */
static void check_drops(struct daemon *d)
{
	struct sk_counters k;
	struct drops_interval iv;
	int act;

	if (loader_counters(&d->ld, &k))
		return;
	act = drops_tick(&d->drops, &k, metrics_now_ns(), &iv);
	if (!act)
		return;
	if (act & DROP_ACTION_LOG)
		log_warn("syscall event drops: %llu of %llu events lost in the last %.1f s (ring "
			 "buffer full: %llu, too large: %llu, unreadable: %llu)",
			 (unsigned long long)iv.dropped, (unsigned long long)iv.seen,
			 (double)iv.ns / 1e9, (unsigned long long)iv.full,
			 (unsigned long long)iv.too_large, (unsigned long long)iv.read_fail);
	if (act & DROP_ACTION_ALERT) {
		char v[6][24], msg[160];
		const char *keys[] = {"ebpf_enabled",	   "n_drops",	     "n_drops_buffer_total",
				      "n_drops_read_fail", "n_drops_too_large", "n_evts"};
		const char *vals[6] = {v[0], v[1], v[2], v[3], v[4], v[5]};
		struct alert_internal a = {
		    .rule = "saker internal: syscall event drop",
		    .priority = "Debug",
		    .message = msg,
		    .keys = keys,
		    .values = vals,
		    .n = 6,
		};

		snprintf(v[0], sizeof(v[0]), "1");
		snprintf(v[1], sizeof(v[1]), "%llu", (unsigned long long)iv.dropped);
		snprintf(v[2], sizeof(v[2]), "%llu", (unsigned long long)iv.full);
		snprintf(v[3], sizeof(v[3]), "%llu", (unsigned long long)iv.read_fail);
		snprintf(v[4], sizeof(v[4]), "%llu", (unsigned long long)iv.too_large);
		snprintf(v[5], sizeof(v[5]), "%llu", (unsigned long long)iv.seen);
		snprintf(msg, sizeof(msg),
			 "saker internal: syscall event drop. %llu system calls dropped in the "
			 "last %.1f s.",
			 (unsigned long long)iv.dropped, (double)iv.ns / 1e9);
		sb_reset(&d->line);
		alert_format_internal(&d->line, &d->aopts, &a, time_boot_to_wall(time_boot_now()));
		outputs_emit(d->outs, d->line.buf, d->line.len, RULES_PRIO_DEBUG);
		d->internal_alerts++;
		metrics_alert(&d->m, a.rule, a.priority);
	}
	if (act & DROP_ACTION_EXIT) {
		log_error("syscall event drops: %llu of %llu events lost in the last second; "
			  "stopping (syscall_event_drops.actions has 'exit')",
			  (unsigned long long)iv.dropped, (unsigned long long)iv.seen);
		d->drops_exit = true;
	}
}

/* Every fd the tables hold (a walk: only for the counters). */
static uint64_t count_fds(const struct proc_table *t)
{
	uint64_t n = 0;

	for (struct proc *p = proc_table_next(t, NULL); p; p = proc_table_next(t, p))
		n += p->fds.n;
	return n;
}

static void report_counters(struct daemon *d, const char *when)
{
	struct sk_counters k;
	const struct proc_table_stats *ps = proc_table_stats(state_procs(d->state));
	const struct state_stats *ss = state_stats(d->state);
	uint64_t derr = 0;

	for (int i = 1; i < DECODE_NERRORS; i++)
		derr += d->dst.errors[i];
	if (loader_counters(&d->ld, &k)) {
		log_warn("cannot read the kernel counters");
		memset(&k, 0, sizeof(k));
	}
	log_info("%s: kernel: seen=%llu emitted=%llu drop_full=%llu drop_too_large=%llu "
		 "drop_read_fail=%llu partial_read=%llu truncated=%llu compat_ignored=%llu",
		 when, (unsigned long long)k.seen, (unsigned long long)k.emitted,
		 (unsigned long long)k.drop_full, (unsigned long long)k.drop_too_large,
		 (unsigned long long)k.drop_read_fail, (unsigned long long)k.partial_read,
		 (unsigned long long)k.truncated, (unsigned long long)k.compat_ignored);
	log_info("%s: daemon: records=%llu decode_errors=%llu processes=%llu threads=%llu "
		 "fds=%llu evicted=%llu unknown_pid=%llu fd_unknown=%llu fds_dropped=%llu "
		 "alerts=%llu",
		 when, (unsigned long long)d->dst.records, (unsigned long long)derr,
		 (unsigned long long)ps->procs, (unsigned long long)ps->threads,
		 (unsigned long long)count_fds(state_procs(d->state)),
		 (unsigned long long)ps->evictions, (unsigned long long)ss->unknown_pid,
		 (unsigned long long)ss->fd_unknown, (unsigned long long)ss->fds_dropped,
		 (unsigned long long)d->alerts);
	if (d->outs)
		outputs_log_counters(d->outs, when);
	for (int i = 1; i < DECODE_NERRORS; i++)
		if (d->dst.errors[i])
			log_warn("decode errors (%s): %llu", decode_error_name(i),
				 (unsigned long long)d->dst.errors[i]);
	if (k.drop_full || k.drop_too_large || k.drop_read_fail)
		log_warn("%llu events were dropped in the kernel (ring buffer full: %llu, too "
			 "large: %llu, unreadable: %llu)",
			 (unsigned long long)(k.drop_full + k.drop_too_large + k.drop_read_fail),
			 (unsigned long long)k.drop_full, (unsigned long long)k.drop_too_large,
			 (unsigned long long)k.drop_read_fail);
}

static int timer_new(unsigned interval_ms, unsigned once_s)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	struct itimerspec its;

	if (fd < 0)
		return -1;
	memset(&its, 0, sizeof(its));
	if (once_s) {
		its.it_value.tv_sec = once_s;
	} else {
		its.it_value.tv_sec = interval_ms / 1000;
		its.it_value.tv_nsec = (long)(interval_ms % 1000) * 1000000L;
		its.it_interval = its.it_value;
	}
	if (timerfd_settime(fd, 0, &its, NULL)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void timer_ack(int fd)
{
	uint64_t n;

	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_debug("timer read: %s", strerror(errno));
}

static int epoll_add(int ep, int fd, uint32_t tag)
{
	struct epoll_event e = {.events = EPOLLIN, .data.u32 = tag};

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
}

enum {
	TAG_RING = 1,
	TAG_DRAIN,
	TAG_SIGNAL,
	TAG_DEADLINE,
	TAG_STATS,
	TAG_WEB,
	TAG_DROPS,
	TAG_WATCH,
	TAG_WATCH_FIRE
};

static bool web_health(void *ctx, struct strbuf *why)
{
	struct daemon *d = ctx;

	return metrics_health(&d->m, metrics_now_ms(), why);
}

static void web_metrics(void *ctx, struct strbuf *out)
{
	struct daemon *d = ctx;

	metrics_render(out, &d->m, &d->ld, d->state, &d->dst);
}

static bool str_differs(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") != 0;
}

static bool web_config_differs(const struct config *a, const struct config *b)
{
	return a->web_enabled != b->web_enabled || a->web_port != b->web_port ||
	       a->web_metrics != b->web_metrics || str_differs(a->web_address, b->web_address) ||
	       str_differs(a->web_healthz, b->web_healthz);
}

/* The HTTP listener for /healthz and /metrics, in this loop (webserver.h). One that cannot
 * listen is logged and left out: detection goes on without it. */
static void web_start(struct daemon *d)
{
	const struct config *c = d->cfg;
	struct web_handlers h = {.health = web_health, .metrics = web_metrics, .ctx = d};
	struct webserver_opts wo = {
	    .address = c->web_address ? c->web_address : "127.0.0.1",
	    .port = c->web_port,
	    .healthz_path = c->web_healthz,
	    .metrics = c->web_metrics,
	};
	struct strbuf versions = STRBUF_INIT;
	char err[256];

	version_json(&versions);
	sb_addc(&versions, '\n');
	wo.versions = versions.buf;
	d->web = webserver_open(&wo, &h, err, sizeof(err));
	sb_release(&versions);
	if (d->web && epoll_add(d->ep, webserver_fd(d->web), TAG_WEB)) {
		snprintf(err, sizeof(err), "epoll: %s", strerror(errno));
		webserver_close(d->web);
		d->web = NULL;
	}
	if (!d->web) {
		log_error("webserver: %s; running without /healthz and /metrics", err);
		return;
	}
	d->m.web = d->web;
	log_info(strchr(wo.address, ':') ? "webserver: listening on [%s]:%u (%s%s)"
					 : "webserver: listening on %s:%u (%s%s)",
		 wo.address, webserver_port(d->web), wo.healthz_path ? wo.healthz_path : "/healthz",
		 wo.metrics ? ", /metrics" : "");
}

/* Who is starting where: the version and the kernel, then (debug) the syscalls captured. */
static void log_start(void)
{
	struct utsname u;

	if (uname(&u) == 0)
		log_info("saker %s (event ABI %d) on %s %s %s", SAKER_VERSION, SK_ABI_VERSION,
			 u.sysname, u.release, u.machine);
}

static void log_capture_set(const uint64_t *bm)
{
	struct strbuf sb = STRBUF_INIT;

	for (unsigned id = 0; id < SK_NR_SYSCALLS; id++)
		if (syscall_set_has(bm, id))
			sb_addf(&sb, "%s%s", sb.len ? " " : "", syscall_name(id) ? syscall_name(id) : "?");
	log_debug("capture set: %s", sb.buf ? sb.buf : "");
	sb_release(&sb);
}

static void set_alert_opts(struct daemon *d, const struct config *c)
{
	d->aopts = (struct alert_opts){
	    .json = c->json_output,
	    .include_output = c->json_include_output,
	    .include_message = c->json_include_message,
	    .include_output_fields = c->json_include_fields,
	    .include_tags = c->json_include_tags,
	    .time_iso = c->time_iso,
	    .hostname = d->xenv.hostname,
	};
}

/* watch_config_files: what is watched follows the configuration (rules_files may have
 * changed, or the key itself). */
static void watch_update(struct daemon *d)
{
	const struct config *c = d->cfg;

	if (!c->watch_config_files) {
		watch_free(d->watch); /* closing it takes it out of the epoll set */
		d->watch = NULL;
		return;
	}
	if (!d->watch) {
		d->watch = watch_new();
		if (!d->watch)
			return;
		if (epoll_add(d->ep, watch_fd(d->watch), TAG_WATCH)) {
			log_warn("watch_config_files: epoll: %s", strerror(errno));
			watch_free(d->watch);
			d->watch = NULL;
			return;
		}
	}
	if (d->o->n_rules_paths)
		watch_set(d->watch, d->o->config_path, d->o->rules_paths, d->o->n_rules_paths);
	else
		watch_set(d->watch, d->o->config_path, (const char *const *)c->rules_files.v,
			  c->rules_files.n);
}

/* A watched file changed: reload once things settle (editors and tools write in steps). */
static void watch_event(struct daemon *d)
{
	struct itimerspec its = {.it_value = {.tv_nsec = 300 * 1000000L}};

	if (!d->watch || !watch_read(d->watch))
		return;
	if (d->watch_timer < 0) {
		d->watch_timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (d->watch_timer < 0 || epoll_add(d->ep, d->watch_timer, TAG_WATCH_FIRE)) {
			log_warn("watch_config_files: timer: %s", strerror(errno));
			if (d->watch_timer >= 0)
				close(d->watch_timer);
			d->watch_timer = -1;
			return;
		}
	}
	timerfd_settime(d->watch_timer, 0, &its, NULL); /* re-armed: the pause starts again */
}

/* SIGHUP: the configuration and rules read again and swapped in between two events, so
 * detection has no gap; anything wrong and the running ones stay. */
static void reload(struct daemon *d, const char *why)
{
	struct config *nc = NULL;
	struct rules_loaded *nr = NULL;
	struct ruleset *nrs = NULL;
	struct outputs *nouts = NULL;
	bool web_moves;
	uint64_t rules_bm[SK_BITMAP_WORDS], bm[SK_BITMAP_WORDS];
	unsigned nsys;

	if (!d->o->reload) {
		log_info("%s: nothing to reload", why);
		return;
	}
	if (d->o->reload(d->o->reload_ctx, &nc, &nr)) {
		log_error("%s: the new configuration or rules were refused (see above); the "
			  "running ones stay",
			  why);
		return;
	}
	memset(rules_bm, 0, sizeof(rules_bm));
	if (nr) {
		nrs = ruleset_build_prio(nr, (enum rules_priority)nc->priority);
		if (!nrs) {
			log_error("%s: out of memory; the running rules stay", why);
			rules_loaded_free(nr);
			config_free(nc);
			free(nc);
			return;
		}
		ruleset_syscalls(nrs, rules_bm);
	}
	if (nc->ringbuf_size_mb != d->cfg->ringbuf_size_mb || nc->attach != d->cfg->attach ||
	    nc->proc_table_size != d->cfg->proc_table_size ||
	    nc->drain_interval_ms != d->cfg->drain_interval_ms)
		log_warn("%s: changes to engine.* and state.proc_table_size take effect at "
			 "the next start",
			 why);
	if (outputs_config_differs(d->cfg, nc)) {
		/* new channels first: if they cannot start, nothing changes */
		nouts = outputs_new(nc, &(struct outputs_opts){.unbuffered = d->o->unbuffered});
		if (!nouts) {
			log_error("%s: the new outputs cannot start; the running configuration, "
				  "rules and outputs stay",
				  why);
			ruleset_free(nrs);
			rules_loaded_free(nr);
			config_free(nc);
			free(nc);
			return;
		}
	}
	web_moves = web_config_differs(d->cfg, nc);

	/* the swap: the next event runs the new rules, the next alert takes the new outputs */
	if (nouts) {
		struct outputs *old = d->outs;

		d->outs = nouts;
		outputs_retire(d, old, d->cfg->output_timeout_ms);
		log_info("%s: outputs replaced; the old ones deliver what they hold", why);
	}
	ruleset_free(d->rs);
	d->rs = nrs;
	rules_loaded_free(d->rules_owned);
	d->rules_owned = nr;
	d->cfg = nc;
	if (d->cfg_owned) {
		config_free(d->cfg_owned);
		free(d->cfg_owned);
	}
	d->cfg_owned = nc;
	set_alert_opts(d, nc);
	if (web_moves) {
		/* closed first: the new listener may want the same port */
		d->m.web = NULL;
		webserver_close(d->web);
		d->web = NULL;
		if (nc->web_enabled)
			web_start(d);
		else
			log_info("%s: webserver stopped", why);
	}
	if (!d->o->verbose)
		log_set_level((enum sk_log_level)nc->log_level);
	log_set_destinations(nc->log_stderr, nc->log_syslog);
	/* the drop check keeps its counters and tokens; its settings are the new ones */
	d->drops.threshold = nc->drops_threshold;
	d->drops.rate = nc->drops_rate;
	d->drops.burst = nc->drops_max_burst;
	if (d->drops.tokens > d->drops.burst)
		d->drops.tokens = d->drops.burst;
	d->drops.actions = drop_actions(nc);

	nsys = syscall_set_build(bm, nc, rules_bm, d->o->dump);
	loader_set_bitmap(&d->ld, bm);
	loader_set_env(&d->ld, nr && rules_loaded_uses_field(nr, "proc.env"));
	watch_update(d);
	log_info("%s: reloaded: %u rules active, capturing %u syscalls", why,
		 d->rs ? ruleset_n_rules(d->rs) : 0, nsys);
}

int daemon_run(const struct daemon_opts *o)
{
	struct daemon d = {.o = o, .line = STRBUF_INIT, .watch_timer = -1, .ep = -1};
	const struct config *c = o->cfg;
	uint64_t bitmap[SK_BITMAP_WORDS], rules_bm[SK_BITMAP_WORDS];
	unsigned nsys;
	sigset_t mask;
	int ep = -1, sfd = -1, drain = -1, deadline = -1, stats = -1, dropt = -1, rc = 1;
	bool running = true;
	size_t seeded;
	struct loader_opts lo;

	time_sync();
	log_start();
	metrics_init(&d.m);
	d.cfg = c;
	d.xenv.hostname = alert_hostname();
	d.xenv.start_boot_ns = time_boot_now();
	d.xc.env = &d.xenv;
	set_alert_opts(&d, c);
	memset(rules_bm, 0, sizeof(rules_bm));
	if (o->rules) {
		d.rs = ruleset_build_prio(o->rules, (enum rules_priority)c->priority);
		if (!d.rs) {
			log_error("out of memory");
			return 1;
		}
		ruleset_syscalls(d.rs, rules_bm);
	}
	/* What the kernel lets through: the rules' syscalls and the state set, nothing else
	 * (spec g). */
	nsys = syscall_set_build(bitmap, c, rules_bm, o->dump);
	d.state = state_new(c->proc_table_size);
	if (!d.state) {
		log_error("out of memory");
		return 1;
	}

	/* Signals arrive through signalfd, so the loop sees them between batches. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	d.outs = outputs_new(c, &(struct outputs_opts){.unbuffered = o->unbuffered});
	if (!d.outs)
		goto out;

	memset(&lo, 0, sizeof(lo));
	lo.ringbuf_bytes = (size_t)c->ringbuf_size_mb << 20;
	lo.attach = c->attach;
	lo.self_tgid = getpid();
	lo.bitmap = bitmap;
	/* the kernel copies environments only when a rule reads them */
	lo.want_env = o->rules && rules_loaded_uses_field(o->rules, "proc.env");
	lo.on_record = on_record;
	lo.ctx = &d;
	if (loader_start(&d.ld, &lo))
		goto out;
	d.m.attached = true;
	metrics_ring_open(&d.m, loader_ring_fd(&d.ld), lo.ringbuf_bytes);
	d.m.outputs_ctx = &d;
	d.m.outputs_stats = daemon_outputs_stats;

	/* Attached first, seeded second: whatever starts or ends while /proc is read is in
	 * the ring and is applied after the seed. */
	{
		/* In a pod, the host's root is mounted somewhere (state.host_root): its /proc
		 * and its user database are the host's. */
		const char *root = c->host_root && *c->host_root ? c->host_root : NULL;
		char procfs[4096];

		snprintf(procfs, sizeof(procfs), "%s/proc", root ? root : "");
		if (root && users_set_root(state_users(d.state), root))
			log_warn("state.host_root: cannot use '%s' for users and groups", root);
		state_seed(d.state, procfs);
	}
	seeded = (size_t)proc_table_stats(state_procs(d.state))->threads;

	ep = epoll_create1(EPOLL_CLOEXEC);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	drain = timer_new(c->drain_interval_ms, 0);
	if (ep < 0 || sfd < 0 || drain < 0 ||
	    epoll_add(ep, ring_buffer__epoll_fd(d.ld.rb), TAG_RING) ||
	    epoll_add(ep, sfd, TAG_SIGNAL) || epoll_add(ep, drain, TAG_DRAIN)) {
		log_error("cannot set up the event loop: %s", strerror(errno));
		goto out;
	}
	if (o->duration_s) {
		deadline = timer_new(0, o->duration_s);
		if (deadline < 0 || epoll_add(ep, deadline, TAG_DEADLINE)) {
			log_error("cannot set up the -M timer: %s", strerror(errno));
			goto out;
		}
	}
	if (c->stats_interval_s) {
		stats = timer_new(c->stats_interval_s * 1000u, 0);
		if (stats < 0 || epoll_add(ep, stats, TAG_STATS)) {
			log_error("cannot set up the stats timer: %s", strerror(errno));
			goto out;
		}
	}
	drops_init(&d.drops, c->drops_threshold, c->drops_rate, c->drops_max_burst,
		   drop_actions(c));
	dropt = timer_new(1000, 0); /* runs with no actions too: a reload may add some */
	if (dropt < 0 || epoll_add(ep, dropt, TAG_DROPS)) {
		log_error("cannot set up the drop check timer: %s", strerror(errno));
		goto out;
	}
	check_drops(&d); /* the counters' starting point */
	d.ep = ep;
	watch_update(&d);
	if (c->web_enabled)
		web_start(&d);
	log_capture_set(bitmap);
	log_info("ready: capturing %u syscalls, %zu threads read from /proc, %u rules active",
		 nsys, seeded, d.rs ? ruleset_n_rules(d.rs) : 0);

	while (running) {
		struct epoll_event evs[8];
		int n = epoll_wait(ep, evs, 8, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("epoll_wait: %s", strerror(errno));
			goto out;
		}
		for (int i = 0; i < n; i++) {
			switch (evs[i].data.u32) {
			case TAG_DRAIN:
				timer_ack(drain);
				/* fallthrough */
			case TAG_RING: {
				int r = ring_buffer__consume(d.ld.rb);

				metrics_drained(&d.m, r);
				if (r < 0)
					log_warn("ring buffer consume failed");
				break;
			}
			case TAG_WEB:
				if (d.web) /* a SIGHUP earlier in this batch may have closed it */
					webserver_run(d.web);
				break;
			case TAG_SIGNAL: {
				struct signalfd_siginfo si;

				while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo == SIGUSR1) {
						log_info("SIGUSR1: reopening the file output, "
							 "restarting the program output");
						outputs_reopen(d.outs);
						continue;
					}
					if (si.ssi_signo == SIGHUP) {
						reload(&d, "SIGHUP");
						continue;
					}
					log_info("signal %u: stopping", si.ssi_signo);
					running = false;
				}
				break;
			}
			case TAG_DEADLINE:
				timer_ack(deadline);
				log_info("-M %u: time is up, stopping", o->duration_s);
				running = false;
				break;
			case TAG_STATS:
				timer_ack(stats);
				report_counters(&d, "stats");
				break;
			case TAG_WATCH:
				watch_event(&d);
				break;
			case TAG_WATCH_FIRE:
				timer_ack(d.watch_timer);
				log_info("watch_config_files: the configuration or rules changed");
				reload(&d, "config change");
				break;
			case TAG_DROPS:
				timer_ack(dropt);
				check_drops(&d);
				outputs_reap(&d, false);
				if (d.drops_exit)
					running = false;
				break;
			}
		}
		/* the event dump only: alerts are the stdout output's, and the loop must never
		 * wait on stdout (its thread may hold the FILE lock, blocked in write) */
		if (o->dump && !o->unbuffered)
			fflush(stdout);
	}
	/* Detach first: then the last drain sees every record the kernel side will ever
	 * write, and the counters read after it match what was consumed. */
	loader_detach(&d.ld);
	ring_buffer__consume(d.ld.rb);
	if (o->dump)
		fflush(stdout);
	/* every queued alert delivered, or counted as not, before the exit counters */
	outputs_shutdown(d.outs, d.cfg->output_timeout_ms);
	outputs_reap(&d, true);
	report_counters(&d, "exit");
	rc = d.drops_exit ? 1 : 0;
out:
	watch_free(d.watch);
	if (d.watch_timer >= 0)
		close(d.watch_timer);
	webserver_close(d.web);
	outputs_reap(&d, true);
	outputs_free(d.outs);
	if (stats >= 0)
		close(stats);
	if (dropt >= 0)
		close(dropt);
	if (deadline >= 0)
		close(deadline);
	if (drain >= 0)
		close(drain);
	if (sfd >= 0)
		close(sfd);
	if (ep >= 0)
		close(ep);
	loader_stop(&d.ld);
	state_free(d.state);
	ruleset_free(d.rs);
	rules_loaded_free(d.rules_owned);
	if (d.cfg_owned) {
		config_free(d.cfg_owned);
		free(d.cfg_owned);
	}
	extract_release(&d.xc);
	sb_release(&d.line);
	metrics_release(&d.m);
	return rc;
}
