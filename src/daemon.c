#include "daemon.h"

#include <errno.h>
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

	struct metrics m;	/* what /metrics and /healthz report */
	struct webserver *web; /* NULL: webserver.enabled is off, or it could not listen */
};

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
	TAG_WEB
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
static void web_start(struct daemon *d, int ep)
{
	const struct config *c = d->cfg;
	struct web_handlers h = {.health = web_health, .metrics = web_metrics, .ctx = d};
	struct webserver_opts wo = {
	    .address = c->web_address ? c->web_address : "127.0.0.1",
	    .port = c->web_port,
	    .healthz_path = c->web_healthz,
	    .metrics = c->web_metrics,
	};
	char err[256];

	d->web = webserver_open(&wo, &h, err, sizeof(err));
	if (d->web && epoll_add(ep, webserver_fd(d->web), TAG_WEB)) {
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

/* SIGHUP: the configuration and rules read again and swapped in between two events, so
 * detection has no gap; anything wrong and the running ones stay. */
static void reload(struct daemon *d)
{
	struct config *nc = NULL;
	struct rules_loaded *nr = NULL;
	struct ruleset *nrs = NULL;
	uint64_t rules_bm[SK_BITMAP_WORDS], bm[SK_BITMAP_WORDS];
	unsigned nsys;

	if (!d->o->reload) {
		log_info("SIGHUP: nothing to reload");
		return;
	}
	if (d->o->reload(d->o->reload_ctx, &nc, &nr)) {
		log_error("SIGHUP: the new configuration or rules were refused (see above); the "
			  "running ones stay");
		return;
	}
	memset(rules_bm, 0, sizeof(rules_bm));
	if (nr) {
		nrs = ruleset_build_prio(nr, (enum rules_priority)nc->priority);
		if (!nrs) {
			log_error("SIGHUP: out of memory; the running rules stay");
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
		log_warn("SIGHUP: changes to engine.* and state.proc_table_size take effect at "
			 "the next start");
	if (outputs_config_differs(d->o->cfg, nc)) /* the outputs run with the first config */
		log_warn("SIGHUP: changes to the outputs take effect at the next start");
	if (web_config_differs(d->cfg, nc))
		log_warn("SIGHUP: changes to webserver.* take effect at the next start");

	/* the swap: the next event runs the new rules */
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

	nsys = syscall_set_build(bm, nc, rules_bm, d->o->dump);
	loader_set_bitmap(&d->ld, bm);
	log_info("SIGHUP: reloaded: %u rules active, capturing %u syscalls",
		 d->rs ? ruleset_n_rules(d->rs) : 0, nsys);
}

int daemon_run(const struct daemon_opts *o)
{
	struct daemon d = {.o = o, .line = STRBUF_INIT};
	const struct config *c = o->cfg;
	uint64_t bitmap[SK_BITMAP_WORDS], rules_bm[SK_BITMAP_WORDS];
	unsigned nsys;
	sigset_t mask;
	int ep = -1, sfd = -1, drain = -1, deadline = -1, stats = -1, rc = 1;
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
	lo.on_record = on_record;
	lo.ctx = &d;
	if (loader_start(&d.ld, &lo))
		goto out;
	d.m.attached = true;
	metrics_ring_open(&d.m, loader_ring_fd(&d.ld), lo.ringbuf_bytes);
	d.m.outputs = d.outs;
	d.m.outputs_stats = outputs_stats;

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
	if (c->web_enabled)
		web_start(&d, ep);
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
				break;
			}
			case TAG_WEB:
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
						reload(&d);
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
	/* every queued alert delivered, or counted as not, before the exit counters */
	outputs_shutdown(d.outs, c->output_timeout_ms);
	report_counters(&d, "exit");
	rc = 0;
out:
	webserver_close(d.web);
	outputs_free(d.outs);
	if (stats >= 0)
		close(stats);
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
