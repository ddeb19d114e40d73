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
#include <time.h>
#include <unistd.h>

#include "alert.h"
#include "capture.h"
#include "decode.h"
#include "drops.h"
#include "extract.h"
#include "hostread.h"
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

	/* -w: the capture being written */
	struct capture_writer *cw;
	struct extract_ctx fxc;		       /* the write filter's fields */
	uint64_t state_bm[SK_BITMAP_WORDS];    /* syscalls whose events change the state */
	uint64_t cap_journal;		       /* journal frames written for this event */
	uint64_t cap_written, cap_state_only, cap_filtered;
	bool cap_failed;

	/* -e: the capture being replayed: the host lookups its journal answers, for the next
	 * event only */
	struct pending {
		uint16_t kind;
		bool used;
		uint32_t pid;
		void *data;
		size_t len;
	} *pend;
	size_t npend, cpend;
	uint64_t pend_unused;
	void *users_frame; /* the last users frame replayed, for -w */
	size_t users_len;
	struct cap_header src_header; /* of the capture replayed (version 0: live) */

	struct ctr_host_source *ctr_src; /* the containers' metadata source (NULL: none) */
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

	outputs_shutdown_replaced(r->o, r->deadline_ms);
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
		for (size_t i = 0; i < OUTPUT_NKINDS; i++)
			st[i].queued = 0;
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

static bool strlist_equal(const struct strlist *a, const struct strlist *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]))
			return false;
	return true;
}

static bool containers_config_differs(const struct config *a, const struct config *b)
{
	return a->ctr_metadata != b->ctr_metadata || a->ctr_cache_size != b->ctr_cache_size ||
	       !strlist_equal(&a->ctr_docker, &b->ctr_docker) ||
	       !strlist_equal(&a->ctr_containerd, &b->ctr_containerd) ||
	       !strlist_equal(&a->ctr_storage, &b->ctr_storage) ||
	       !strlist_equal(&a->ctr_runc, &b->ctr_runc);
}

/* The metadata source as the daemon uses it: live, the runtimes' files (arg), each answer
 * journaled into the capture being written; in a replay, the journaled answer for the same
 * container during the same event, and nothing from this host. */
static int ctr_journaled_lookup(void *arg, const struct ctr_cgroup *cg, struct ctr_meta *m)
{
	const void *data;
	size_t len;
	bool found;

	if (host_reads_allowed()) {
		char buf[8192];
		int rc = arg ? container_host_lookup(arg, cg, m) : -1;
		size_t n = ctr_meta_pack(m, rc == 0, buf, sizeof(buf));

		if (n)
			hostread_record("container", cg->id, buf, n);
		return rc;
	}
	if (!hostread_replayed("container", cg->id, &data, &len) ||
	    ctr_meta_unpack(data, len, m, &found))
		return -1;
	return found ? 0 : -1;
}

/* The container cache and its one metadata source: the runtimes' state files under
 * state.host_root, or none (containers.metadata false). A replay of a capture would set
 * no source here (or one fed from the capture): the live host is read nowhere else. */
static int containers_setup(struct daemon *d, const struct config *c)
{
	const struct strlist *l[4] = {&c->ctr_docker, &c->ctr_containerd, &c->ctr_storage,
				      &c->ctr_runc};
	const char **v[4] = {NULL, NULL, NULL, NULL};
	struct ctr_source src = {0};
	int rc = -1;

	if (c->ctr_metadata) {
		for (int i = 0; i < 4; i++) {
			if (!(v[i] = calloc(l[i]->n + 1, sizeof(*v[i]))))
				goto out;
			for (size_t k = 0; k < l[i]->n; k++)
				v[i][k] = l[i]->v[k];
		}
		struct ctr_dirs dirs = {.root = c->host_root,
					.docker = v[0],
					.containerd = v[1],
					.storage = v[2],
					.runc = v[3]};

		if (!d->o->replay_path) { /* a replay reads no runtime's files */
			d->ctr_src = container_host_source_new(&dirs);
			if (!d->ctr_src)
				goto out;
		}
		src.lookup = ctr_journaled_lookup;
		src.arg = d->ctr_src;
	}
	rc = state_set_containers(d->state, c->ctr_cache_size, src.lookup ? &src : NULL);
out:
	for (int i = 0; i < 4; i++)
		free(v[i]);
	return rc;
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

/* -w: a write that failed stops the capture (logged once); detection goes on. */
static void capture_failed(struct daemon *d)
{
	char err[256] = "";

	if (d->cap_failed)
		return;
	d->cap_failed = true;
	capture_writer_close(d->cw, err, sizeof(err));
	d->cw = NULL;
	log_error("-w %s: write failed (%s): the capture stops here, the sensor goes on",
		  d->o->capture_path, err);
}

/* Whether an event changes the state tables, so a filtered capture must keep it. */
static bool changes_state(const struct daemon *d, const struct event *ev)
{
	return ev->kind != SK_EV_SYSCALL ||
	       (ev->nr < SK_NR_SYSCALLS && syscall_set_has(d->state_bm, ev->nr));
}

/* -w: the record goes to the capture as it came, unless the filter rejects it; a rejected
 * one that changes the state (or made the daemon read the host) is kept, marked state-only. */
static void capture_event(struct daemon *d, const struct event *ev, const struct evctx *cx,
			  const void *data, size_t size)
{
	unsigned flags = 0;

	if (d->o->capture_filter && ev) {
		const struct loaded_rule *f = d->o->capture_filter;
		int code = extract_event_code(ev);
		bool keep = false;

		if (code >= 0 && evtset_has(&f->evttypes, (unsigned)code)) {
			struct vm_fieldsrc src;

			extract_begin(&d->fxc, ev, cx, d->evt_num);
			src = extract_src(&d->fxc);
			keep = vm_eval(f->prog, &src) == 1;
		}
		if (!keep) {
			if (!d->cap_journal && !changes_state(d, ev)) {
				d->cap_filtered++;
				return;
			}
			flags = CAP_F_STATE_ONLY;
			d->cap_state_only++;
		}
	}
	if (!d->cw) /* a journal write made while filtering failed */
		return;
	if (capture_write_frame(d->cw, CAP_K_EVENT, flags, data, size))
		capture_failed(d);
	else
		d->cap_written++;
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct daemon *d = ctx;
	struct event ev;
	struct evctx cx;

	d->cap_journal = 0;
	if (decode_record(data, size, &ev, &d->dst) != DECODE_OK) {
		if (d->cw) /* kept: a replay counts the same decode error */
			capture_event(d, NULL, NULL, data, size);
		return 0;
	}
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
	if (d->cw)
		capture_event(d, &ev, &cx, data, size);
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
	{
		const struct ctr_cache_stats *cs =
		    container_cache_stats(state_containers(d->state));

		log_info("%s: containers: cached=%llu lookups=%llu found=%llu removed=%llu "
			 "evicted=%llu cgroup_mkdirs=%llu cgroup_by_id=%llu cgroup_unknown=%llu",
			 when, (unsigned long long)cs->entries, (unsigned long long)cs->lookups,
			 (unsigned long long)cs->found, (unsigned long long)cs->removed,
			 (unsigned long long)cs->evicted, (unsigned long long)ss->cgroup_mkdirs,
			 (unsigned long long)ss->cgroup_by_id,
			 (unsigned long long)ss->cgroup_unknown);
	}
	if (d->outs) {
		/* the running channels plus what replaced ones did, as /metrics counts them */
		struct output_stats st[OUTPUT_NKINDS];

		daemon_outputs_stats(d, st);
		for (int i = 0; i < OUTPUT_NKINDS; i++)
			if (st[i].enabled)
				log_info("%s: output %s: sent=%llu dropped=%llu failed=%llu "
					 "dropped_exit=%llu reconnects=%llu retries=%llu queued=%llu",
					 when, st[i].name, (unsigned long long)st[i].sent,
					 (unsigned long long)st[i].dropped,
					 (unsigned long long)st[i].failed,
					 (unsigned long long)st[i].dropped_exit,
					 (unsigned long long)st[i].reconnects,
					 (unsigned long long)st[i].retries,
					 (unsigned long long)st[i].queued);
	}
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
	if (containers_config_differs(d->cfg, nc) ||
	    strcmp(d->cfg->host_root ? d->cfg->host_root : "", nc->host_root ? nc->host_root : ""))
		log_warn("%s: changes to containers.* and state.host_root take effect at the "
			 "next start",
			 why);

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


/*
 * -w: the capture. Header and snapshot right after the seed; then every record; before a
 * record, whatever the daemon read from the host while it processed it (journal frames).
 */

static void journal_done(struct daemon *d, int rc)
{
	d->cap_journal++;
	if (rc)
		capture_failed(d);
}

static void j_seeded(void *ctx, const struct proc *p)
{
	struct daemon *d = ctx;

	if (d->cw)
		journal_done(d, capture_write_proc(d->cw, p));
}

static void j_env(void *ctx, const struct proc *p)
{
	struct daemon *d = ctx;

	if (d->cw)
		journal_done(d, capture_write_env(d->cw, p));
}

static void j_cgroup(void *ctx, const struct proc *p)
{
	struct daemon *d = ctx;

	if (d->cw)
		journal_done(d, capture_write_cgroup(d->cw, p));
}

static void j_users(void *ctx, const char *passwd, size_t plen, const char *group, size_t glen)
{
	struct daemon *d = ctx;

	if (d->cw)
		journal_done(d, capture_write_users(d->cw, passwd, plen, group, glen));
}

static void j_lookup(void *ctx, const char *what, const char *key, const void *data,
		     size_t len)
{
	struct daemon *d = ctx;

	if (d->cw)
		journal_done(d, capture_write_lookup(d->cw, what, key, data, len));
}

static void fill_header(struct daemon *d, struct cap_header *h)
{
	struct utsname u;
	time_t now = time(NULL);
	struct tm tm;

	memset(h, 0, sizeof(*h));
	if (localtime_r(&now, &tm))
		h->utc_offset_s = tm.tm_gmtoff;
	h->version = CAP_VERSION;
	h->abi = SK_ABI_VERSION;
	h->boot_to_wall_ns = time_offset();
	h->start_boot_ns = d->xenv.start_boot_ns;
	snprintf(h->hostname, sizeof(h->hostname), "%s", d->xenv.hostname);
	if (d->src_header.version) { /* a copy of a replay: the events' host, not this one */
		memcpy(h->kernel, d->src_header.kernel, sizeof(h->kernel));
		memcpy(h->machine, d->src_header.machine, sizeof(h->machine));
	} else if (uname(&u) == 0) {
		snprintf(h->kernel, sizeof(h->kernel), "%.127s", u.release);
		snprintf(h->machine, sizeof(h->machine), "%.63s", u.machine);
	}
	snprintf(h->saker, sizeof(h->saker), "%s", SAKER_VERSION);
}

/* Opens the capture and writes the header and the snapshot of the tables as they are now.
 * With a replay (-e and -w) the replay's own journal answers are written again as they are
 * used. */
static int capture_start(struct daemon *d)
{
	char err[320];
	struct cap_header h;
	struct proc_table *t = state_procs(d->state);
	int rc = 0;

	for (unsigned id = 0; id < SK_NR_SYSCALLS; id++)
		if (syscall_in_state_set(id))
			syscall_set_add(d->state_bm, id);
	d->fxc.env = &d->xenv;
	d->cw = capture_writer_open(d->o->capture_path, err, sizeof(err));
	if (!d->cw) {
		log_error("-w: %s", err);
		return -1;
	}
	fill_header(d, &h);
	rc |= capture_write_header(d->cw, &h);
	for (struct proc *p = proc_table_next(t, NULL); p; p = proc_table_next(t, p))
		rc |= capture_write_proc(d->cw, p);
	if (!d->o->replay_path) {
		struct proc_table_hooks hk = {.ctx = d,
					      .seeded_one = j_seeded,
					      .env_read = j_env,
					      .cgroup_read = j_cgroup};

		struct hostread_journal hj = {.ctx = d, .record = j_lookup};

		proc_table_set_hooks(t, &hk);
		hostread_set_journal(&hj);
		users_set_observer(state_users(d->state), j_users, d);
		users_reload(state_users(d->state)); /* the snapshot's users: the observer writes them */
	} else if (d->users_frame) { /* the replay's users as they are now */
		rc |= capture_write_frame(d->cw, CAP_K_USERS, 0, d->users_frame, d->users_len);
	}
	rc |= capture_write_frame(d->cw, CAP_K_SNAPSHOT_END, 0, NULL, 0);
	if (rc) {
		capture_failed(d);
		return -1;
	}
	log_info("-w: writing the events to %s%s", d->o->capture_path,
		 d->o->capture_filter ? " (filtered)" : "");
	return 0;
}

static void capture_finish(struct daemon *d)
{
	char err[320];
	uint64_t bytes, frames;

	if (!d->cw)
		return;
	bytes = capture_writer_bytes(d->cw);
	frames = capture_writer_frames(d->cw);
	if (capture_writer_close(d->cw, err, sizeof(err)))
		log_error("-w %s: %s: the capture is incomplete", d->o->capture_path, err);
	else
		log_info("-w %s: %llu events written (%llu state-only, %llu filtered out), %llu "
			 "frames, %llu bytes before compression",
			 d->o->capture_path, (unsigned long long)d->cap_written,
			 (unsigned long long)d->cap_state_only, (unsigned long long)d->cap_filtered,
			 (unsigned long long)frames, (unsigned long long)bytes);
	d->cw = NULL;
}

/*
 * -e: replay. No BPF, no /proc, no /etc: the header gives the clock offset, the host name
 * and the sensor's start; the snapshot the tables; the journal the answers to the lookups
 * the live daemon made. Records go through on_record as from the ring.
 */

static struct pending *pending_take(struct daemon *d, uint16_t kind, uint32_t pid)
{
	for (size_t i = 0; i < d->npend; i++)
		if (!d->pend[i].used && d->pend[i].kind == kind && d->pend[i].pid == pid) {
			d->pend[i].used = true;
			return &d->pend[i];
		}
	return NULL;
}

static void pending_clear(struct daemon *d)
{
	for (size_t i = 0; i < d->npend; i++) {
		if (!d->pend[i].used)
			d->pend_unused++;
		free(d->pend[i].data);
	}
	d->npend = 0;
}

static int pending_add(struct daemon *d, const struct cap_frame *f, uint32_t pid)
{
	struct pending *pe;

	if (d->npend == d->cpend) {
		size_t nc = d->cpend ? d->cpend * 2 : 8;
		struct pending *v = realloc(d->pend, nc * sizeof(*v));

		if (!v)
			return -1;
		d->pend = v;
		d->cpend = nc;
	}
	pe = &d->pend[d->npend];
	pe->data = malloc(f->len ? f->len : 1);
	if (!pe->data)
		return -1;
	memcpy(pe->data, f->data, f->len);
	pe->len = f->len;
	pe->kind = f->kind;
	pe->pid = pid;
	pe->used = false;
	d->npend++;
	return 0;
}

static struct proc *r_seed_one(void *ctx, struct proc_table *t, uint32_t pid,
			       const struct proc *pin)
{
	struct daemon *d = ctx;
	struct pending *pe = pending_take(d, CAP_K_PROC, pid);
	char err[256];
	struct proc *p;

	if (!pe)
		return NULL;
	p = capture_load_proc(t, pe->data, pe->len, pin, err, sizeof(err));
	if (p && d->cw)
		journal_done(d, capture_write_proc(d->cw, p));
	return p;
}

static bool r_env(void *ctx, struct proc *p)
{
	struct daemon *d = ctx;
	struct pending *pe = pending_take(d, CAP_K_ENV, p->pid);
	struct cap_lookup lk;

	if (!pe || capture_parse_lookup(pe->data, pe->len, &lk, NULL, 0) ||
	    lk.start_ns != p->start_ns)
		return false;
	proc_set_str(&p->env, lk.bytes, lk.len);
	if (!p->env)
		return false;
	p->env_len = lk.len;
	if (lk.flags & PROC_ENV_TRUNC)
		p->flags |= PROC_ENV_TRUNC;
	if (d->cw)
		journal_done(d, capture_write_env(d->cw, p));
	return true;
}

static bool r_cgroup(void *ctx, struct proc *p)
{
	struct daemon *d = ctx;
	struct pending *pe = pending_take(d, CAP_K_CGROUP, p->pid);
	struct cap_lookup lk;

	if (!pe || capture_parse_lookup(pe->data, pe->len, &lk, NULL, 0) || !lk.len ||
	    memchr(lk.bytes, 0, lk.len))
		return false;
	proc_set_str(&p->cgroup, lk.bytes, lk.len);
	if (!p->cgroup)
		return false;
	if (d->cw)
		journal_done(d, capture_write_cgroup(d->cw, p));
	return true;
}

/* hostread_replayed(): another module's lookup, journaled live during this event. */
static bool r_lookup(void *ctx, const char *what, const char *key, const void **data,
		     size_t *len)
{
	struct daemon *d = ctx;
	size_t wl = strlen(what), kl = strlen(key);

	for (size_t i = 0; i < d->npend; i++) {
		struct pending *pe = &d->pend[i];
		struct cap_ext x;

		if (pe->used || pe->kind != CAP_K_LOOKUP ||
		    capture_parse_ext(pe->data, pe->len, &x, NULL, 0) || x.what_len != wl ||
		    x.key_len != kl || memcmp(x.what, what, wl) || memcmp(x.key, key, kl))
			continue;
		pe->used = true;
		*data = x.data;
		*len = x.len;
		if (d->cw)
			journal_done(d, capture_write_lookup(d->cw, what, key, x.data, x.len));
		return true;
	}
	return false;
}

static int r_users(struct daemon *d, const struct cap_frame *f, char *err, size_t errlen)
{
	const char *pw, *gr;
	size_t pl, gl;

	if (capture_parse_users(f->data, f->len, &pw, &pl, &gr, &gl, err, errlen))
		return -1;
	if (users_set_text(state_users(d->state), pw, pl, gr, gl)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	free(d->users_frame);
	d->users_frame = malloc(f->len ? f->len : 1);
	d->users_len = d->users_frame ? f->len : 0;
	if (d->users_frame)
		memcpy(d->users_frame, f->data, f->len);
	if (d->cw)
		journal_done(d, capture_write_users(d->cw, pw, pl, gr, gl));
	return 0;
}

/* Local times (text alerts, evt.time fields) as they were on the capture's host: its UTC
 * offset as a fixed POSIX TZ, which glibc parses without reading any zone file. */
static void set_capture_tz(int64_t off)
{
	char tz[64];
	unsigned a = (unsigned)(off < 0 ? -off : off) % 86401u; /* the header checked it */
	unsigned h = a / 3600 % 100, m = a / 60 % 60, s = a % 60;

	/* POSIX counts west of Greenwich as positive: UTC+2 is "<+0200>-02:00" */
	snprintf(tz, sizeof(tz), "<%c%02u%02u>%c%02u:%02u:%02u", off < 0 ? '-' : '+', h, m,
		 off < 0 ? '+' : '-', h, m, s);
	setenv("TZ", tz, 1);
	tzset();
}

/* Reads the header and the snapshot. 0, or -1 after logging why. */
static int replay_open(struct daemon *d, struct capture_reader *r)
{
	const char *path = d->o->replay_path;
	struct cap_frame f;
	struct cap_header h;
	char err[320];
	const char *host;
	int n;

	n = capture_read_frame(r, &f);
	if (n <= 0 || f.kind != CAP_K_HEADER) {
		log_error("-e %s: %s", path,
			  n < 0 ? capture_reader_error(r) : "no header: not a saker capture");
		return -1;
	}
	if (capture_parse_header(f.data, f.len, &h, err, sizeof(err))) {
		log_error("-e %s: offset %llu: %s", path, (unsigned long long)f.offset, err);
		return -1;
	}
	if (h.abi != SK_ABI_VERSION) {
		log_error("-e %s: the events are in event ABI %u; this saker reads ABI %d", path,
			  h.abi, SK_ABI_VERSION);
		return -1;
	}
	d->src_header = h;
	time_set_offset(h.boot_to_wall_ns);
	d->xenv.start_boot_ns = h.start_boot_ns;
	set_capture_tz(h.utc_offset_s);
	host = getenv("SAKER_HOSTNAME");
	if (!host || !*host)
		host = getenv("FALCO_HOSTNAME");
	if (host && *host) {
		d->xenv.hostname = host;
	} else {
		static char name[256];

		memcpy(name, h.hostname, sizeof(name));
		name[sizeof(name) - 1] = '\0';
		d->xenv.hostname = name;
	}
	set_alert_opts(d, d->cfg);
	log_info("replaying %s: captured on %s (%s %s) by saker %s", path, h.hostname, h.kernel,
		 h.machine, h.saker);
	/* the snapshot */
	for (;;) {
		n = capture_read_frame(r, &f);
		if (n <= 0) {
			log_error("-e %s: %s", path,
				  n < 0 ? capture_reader_error(r)
					: "the file ends inside the state snapshot");
			return -1;
		}
		if (f.kind == CAP_K_SNAPSHOT_END)
			return 0;
		if (f.kind == CAP_K_PROC) {
			if (!capture_load_proc(state_procs(d->state), f.data, f.len, NULL, err,
					       sizeof(err))) {
				log_error("-e %s: offset %llu: %s", path,
					  (unsigned long long)f.offset, err);
				return -1;
			}
		} else if (f.kind == CAP_K_USERS) {
			if (r_users(d, &f, err, sizeof(err))) {
				log_error("-e %s: offset %llu: %s", path,
					  (unsigned long long)f.offset, err);
				return -1;
			}
		} else {
			log_error("-e %s: offset %llu: a frame of kind %u inside the state snapshot",
				  path, (unsigned long long)f.offset, f.kind);
			return -1;
		}
	}
}

/* A state-only event (the write filter rejected it): the tables, nothing else. */
static void state_only(struct daemon *d, void *data, size_t size)
{
	struct event ev;

	if (decode_record(data, size, &ev, &d->dst) != DECODE_OK)
		return;
	if (d->rs) /* as evaluate() counts it live: evt.num stays the live one */
		d->evt_num += extract_event_code(&ev) >= 0;
	state_apply(d->state, &ev);
	if (d->cw) {
		d->cap_state_only++;
		if (capture_write_frame(d->cw, CAP_K_EVENT, CAP_F_STATE_ONLY, data, size))
			capture_failed(d);
	}
}

/* The events, to the end of the file or the first error (every complete event before it
 * processed). Returns 0, or -1 after logging the error and its offset. */
static int replay_events(struct daemon *d, struct capture_reader *r)
{
	const char *path = d->o->replay_path;
	uint64_t first_ts = 0, limit_ns = (uint64_t)d->o->duration_s * 1000000000ull;
	struct cap_frame f;
	char err[320];
	int n, rc = 0;

	uint64_t frames = 0;

	while ((n = capture_read_frame(r, &f)) > 0) {
		/* SIGINT and SIGTERM are blocked (the live loop reads them from a signalfd):
		 * look for them now and then */
		if ((++frames & 0xffff) == 0) {
			sigset_t pend;

			if (!sigpending(&pend) &&
			    (sigismember(&pend, SIGINT) || sigismember(&pend, SIGTERM))) {
				log_info("signal: stopping the replay");
				goto out;
			}
		}
		switch (f.kind) {
		case CAP_K_EVENT: {
			/* the reader's buffer is aligned; the record is passed as it is */
			void *data = (void *)f.data;

			if (limit_ns && f.len >= 8) {
				uint64_t ts;

				memcpy(&ts, data, 8);
				if (!first_ts)
					first_ts = ts;
				else if (ts - first_ts > limit_ns) {
					log_info("-M %u: the capture's clock passed the limit, stopping",
						 d->o->duration_s);
					goto out;
				}
			}
			if (f.flags & CAP_F_STATE_ONLY)
				state_only(d, data, f.len);
			else
				on_record(d, data, f.len);
			if (d->npend)
				pending_clear(d);
			break;
		}
		case CAP_K_PROC:
		case CAP_K_ENV:
		case CAP_K_CGROUP:
		case CAP_K_LOOKUP: {
			uint32_t pid = 0;

			if (f.kind != CAP_K_LOOKUP && f.len >= 4)
				memcpy(&pid, f.data, 4); /* every journal payload starts with it */
			if (pending_add(d, &f, pid)) {
				log_error("-e %s: out of memory", path);
				rc = -1;
				goto out;
			}
			break;
		}
		case CAP_K_USERS:
			if (r_users(d, &f, err, sizeof(err))) {
				log_error("-e %s: offset %llu: %s", path, (unsigned long long)f.offset,
					  err);
				rc = -1;
				goto out;
			}
			break;
		default:
			log_error("-e %s: offset %llu: a frame of kind %u among the events", path,
				  (unsigned long long)f.offset, f.kind);
			rc = -1;
			goto out;
		}
	}
	if (n < 0) {
		log_error("-e %s: %s (every complete event before it was processed)", path,
			  capture_reader_error(r));
		rc = -1;
	}
out:
	pending_clear(d);
	return rc;
}

static void replay_counters(struct daemon *d)
{
	const struct proc_table_stats *ps = proc_table_stats(state_procs(d->state));
	uint64_t derr = 0;

	for (int i = 1; i < DECODE_NERRORS; i++)
		derr += d->dst.errors[i];
	log_info("exit: replay: records=%llu decode_errors=%llu processes=%llu threads=%llu "
		 "fds=%llu alerts=%llu unused_lookups=%llu",
		 (unsigned long long)d->dst.records, (unsigned long long)derr,
		 (unsigned long long)ps->procs, (unsigned long long)ps->threads,
		 (unsigned long long)count_fds(state_procs(d->state)),
		 (unsigned long long)d->alerts, (unsigned long long)d->pend_unused);
	if (d->outs)
		outputs_log_counters(d->outs, "exit");
}

/* -e: the whole replay. Returns the exit code. */
static int replay_run(struct daemon *d)
{
	struct capture_reader *r;
	struct proc_table_hooks hk = {
	    .ctx = d, .seed_one = r_seed_one, .env = r_env, .cgroup = r_cgroup};
	char err[320];
	int rc = 1;

	struct hostread_journal hj = {.ctx = d, .replayed = r_lookup};

	host_reads_set(false);
	hostread_set_journal(&hj);
	r = capture_reader_open(d->o->replay_path, err, sizeof(err));
	if (!r) {
		log_error("-e: %s", err);
		hostread_set_journal(NULL);
		return 1;
	}
	/* nothing from this host's account files: the capture's users, or none */
	users_set_text(state_users(d->state), NULL, 0, NULL, 0);
	proc_table_set_hooks(state_procs(d->state), &hk);
	if (replay_open(d, r))
		goto out;
	if (d->o->capture_path && capture_start(d))
		goto out;
	log_info("ready: replaying, %llu processes from the capture, %u rules active",
		 (unsigned long long)proc_table_stats(state_procs(d->state))->procs,
		 d->rs ? ruleset_n_rules(d->rs) : 0);
	{
		struct timespec w0, w1, c0, c1;
		uint64_t n0 = d->dst.records;
		double wall, cpu;

		clock_gettime(CLOCK_MONOTONIC, &w0);
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
		rc = replay_events(d, r) ? 1 : 0;
		clock_gettime(CLOCK_MONOTONIC, &w1);
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
		wall = (double)(w1.tv_sec - w0.tv_sec) + (double)(w1.tv_nsec - w0.tv_nsec) / 1e9;
		cpu = (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) / 1e9;
		/* the sensor's own speed, for bench/replay: not part of any alert */
		log_info("replay: %llu records in %.3f s (%.0f records/s; %.3f s of CPU in the "
			 "replay thread, %.0f records/s)",
			 (unsigned long long)(d->dst.records - n0), wall,
			 wall > 0 ? (double)(d->dst.records - n0) / wall : 0.0, cpu,
			 cpu > 0 ? (double)(d->dst.records - n0) / cpu : 0.0);
	}
out:
	capture_reader_close(r);
	capture_finish(d);
	if (d->o->dump)
		fflush(stdout);
	outputs_shutdown(d->outs, d->cfg->output_timeout_ms);
	replay_counters(d);
	free(d->pend);
	free(d->users_frame);
	hostread_set_journal(NULL);
	return rc;
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

	if (!o->replay_path) { /* a replay takes them from the capture */
		time_sync();
		log_start();
		d.xenv.hostname = alert_hostname();
		d.xenv.start_boot_ns = time_boot_now();
	} else {
		d.xenv.hostname = "";
	}
	metrics_init(&d.m);
	d.cfg = c;
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
	if (!d.state || containers_setup(&d, c)) {
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
	if (o->replay_path) {
		rc = replay_run(&d);
		goto out;
	}

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
	if (o->capture_path && capture_start(&d))
		goto out;
	seeded = (size_t)proc_table_stats(state_procs(d.state))->threads;

	ep = epoll_create1(EPOLL_CLOEXEC);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	drain = timer_new(c->drain_interval_ms, 0);
	if (ep < 0 || sfd < 0 || drain < 0 ||
	    epoll_add(ep, loader_ring_fd(&d.ld), TAG_RING) ||
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
				long r = loader_consume(&d.ld);

				metrics_drained(&d.m, r < 0 ? -1 : 0);
				if (r < 0)
					log_warn("ring buffer consume failed");
				state_housekeeping(d.state, metrics_now_ms());
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
	loader_consume(&d.ld);
	if (o->dump)
		fflush(stdout);
	capture_finish(&d);
	hostread_set_journal(NULL);
	/* every queued alert delivered, or counted as not, before the exit counters */
	outputs_shutdown(d.outs, d.cfg->output_timeout_ms);
	outputs_reap(&d, true);
	report_counters(&d, "exit");
	rc = d.drops_exit ? 1 : 0;
out:
	watch_free(d.watch);
	if (d.watch_timer >= 0)
		close(d.watch_timer);
	hostread_set_journal(NULL);
	if (d.cw) {
		char err[64];

		capture_writer_close(d.cw, err, sizeof(err));
	}
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
	container_host_source_free(d.ctr_src);
	ruleset_free(d.rs);
	rules_loaded_free(d.rules_owned);
	if (d.cfg_owned) {
		config_free(d.cfg_owned);
		free(d.cfg_owned);
	}
	extract_release(&d.xc);
	extract_release(&d.fxc);
	sb_release(&d.line);
	metrics_release(&d.m);
	return rc;
}
