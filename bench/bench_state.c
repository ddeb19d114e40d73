/*
 * The daemon's cost of keeping state, per event: decoding a ring-buffer record and applying
 * it to the process and fd tables (state_pre + state_post), with no rule evaluated. The
 * records are built in the wire format, as the kernel side writes them: process lifecycles
 * (fork, exec, the execve exit, a dozen opens and closes, a connect, exit) over a table
 * already holding a few hundred processes. Also the tables' memory per 1,000 live processes.
 *
 *   saker-bench-state [SECONDS [RULES...]]
 *
 * With rules files (or @default), each record is also evaluated against them through the
 * real field extractors, as the daemon does: the whole per-event cost of the daemon but
 * for printing alerts.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decode.h"
#include "evttypes.h"
#include "extract.h"
#include "ruleset.h"
#include "state.h"
#include "timeutil.h"
#include "syscall_ids.h"

#define REC_MAX 1024

struct rec {
	size_t size;
	union {
		struct sk_hdr hdr;
		uint8_t bytes[REC_MAX];
	};
};

static void hdr(struct rec *r, uint16_t type, uint32_t pid, uint64_t ts)
{
	r->hdr.ts_ns = ts;
	r->hdr.type = type;
	r->hdr.abi = SK_ABI_VERSION;
	r->hdr.flags = 0;
	r->hdr.pid = pid;
	r->hdr.tid = pid;
}

static void finish(struct rec *r, size_t size)
{
	r->size = size;
	r->hdr.size = (uint32_t)size;
}

static void syscall_rec(struct rec *r, uint32_t pid, uint16_t nr, int64_t ret, const uint64_t *args,
			const void *b0, size_t l0, const void *b1, size_t l1)
{
	struct sk_syscall_ev *s = (struct sk_syscall_ev *)r->bytes;
	size_t off = sizeof(*s);

	memset(r->bytes, 0, sizeof(*s));
	hdr(r, SK_EV_SYSCALL, pid, 1000);
	s->nr = nr;
	s->ret = ret;
	if (args)
		memcpy(s->args, args, sizeof(s->args));
	s->blob_len[0] = (uint16_t)l0;
	s->blob_len[1] = (uint16_t)l1;
	memcpy(r->bytes + off, b0, l0);
	off += l0;
	memcpy(r->bytes + off, b1, l1);
	finish(r, off + l1);
}

/* One process's life: fork from parent, exec, opens, a connect, exit. */
static size_t lifecycle(struct rec *out, uint32_t parent, uint32_t child)
{
	static const char argv[] = "cat\0/etc/hostname\0--number\0";
	static const char filename[] = "/usr/bin/cat";
	static const char *const paths[] = {
	    "/etc/ld.so.cache", "/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/locale/locale-archive",
	    "/etc/hostname", "/usr/share/locale/locale.alias", "/etc/nsswitch.conf"};
	struct sk_sock_tuple tup = {.family = 2, .type = 1, .sport = 40000, .dport = 443};
	uint8_t sa[16] = {2, 0, 1, 187, 93, 184, 216, 34};
	size_t n = 0;

	{
		struct sk_fork_ev *f = (struct sk_fork_ev *)out[n].bytes;

		memset(f, 0, sizeof(*f));
		hdr(&out[n], SK_EV_FORK, parent, 1000);
		f->child_pid = child;
		f->child_tid = child;
		f->child_ppid = parent;
		f->child_start_ns = 1000;
		memcpy(f->comm, "bash", 5);
		finish(&out[n++], sizeof(*f));
	}
	{
		uint64_t a[6] = {0};

		syscall_rec(&out[n++], parent, SK_NR_clone, child, a, NULL, 0, NULL, 0);
	}
	{
		struct sk_exec_ev *x = (struct sk_exec_ev *)out[n].bytes;

		memset(x, 0, sizeof(*x));
		hdr(&out[n], SK_EV_EXEC, child, 2000);
		x->old_tid = child;
		x->ppid = parent;
		x->loginuid = 1000;
		x->uid = x->euid = 1000;
		x->filename_len = sizeof(filename);
		x->argv_len = sizeof(argv);
		x->start_ns = 1000;
		x->exe_ino = 1234;
		memcpy(x->comm, "cat", 4);
		memcpy(out[n].bytes + sizeof(*x), filename, sizeof(filename));
		memcpy(out[n].bytes + sizeof(*x) + sizeof(filename), argv, sizeof(argv));
		finish(&out[n++], sizeof(*x) + sizeof(filename) + sizeof(argv));
	}
	syscall_rec(&out[n++], child, SK_NR_execve, 0, NULL, NULL, 0, NULL, 0);
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
			uint64_t a[6] = {(uint64_t)-100, 0, 0x80000, 0, 0, 0};
			uint64_t c[6] = {3, 0, 0, 0, 0, 0};

			syscall_rec(&out[n++], child, SK_NR_openat, 3, a, paths[i],
				    strlen(paths[i]) + 1, NULL, 0);
			syscall_rec(&out[n++], child, SK_NR_close, 0, c, NULL, 0, NULL, 0);
		}
	}
	{
		uint64_t a[6] = {3, 0, 2, 0, 0, 0};
		uint64_t c[6] = {3, 0, 16, 0, 0, 0};

		syscall_rec(&out[n++], child, SK_NR_socket, 3, a, NULL, 0, NULL, 0);
		syscall_rec(&out[n++], child, SK_NR_connect, 0, c, sa, sizeof(sa), &tup,
			    sizeof(tup));
		syscall_rec(&out[n++], child, SK_NR_close, 0, c, NULL, 0, NULL, 0);
	}
	{
		struct sk_exit_ev *e = (struct sk_exit_ev *)out[n].bytes;

		memset(e, 0, sizeof(*e));
		hdr(&out[n], SK_EV_EXIT, child, 3000);
		e->flags = SK_EXIT_GROUP_DEAD;
		finish(&out[n++], sizeof(*e));
	}
	return n;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t heap_used(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 2.0, t0, t;
	struct state *st = state_new(262144);
	static struct rec recs[64];
	struct decode_stats dst;
	unsigned long long n = 0;
	size_t nrec, before, after;
	uint32_t next_pid = 100000;

	struct rules_loaded *rl = NULL;
	struct ruleset *rs = NULL;
	struct extract_env xenv = {.hostname = "bench"};
	struct extract_ctx xc = {.env = &xenv};
	unsigned long long matches = 0;

	if (!st)
		return 1;
	time_sync();
	if (argc > 2) {
		rl = rules_load((const char *const *)argv + 2, (size_t)argc - 2);
		if (!rl || rl->coll->msgs.n_errors) {
			fprintf(stderr, "bench: the rules do not load cleanly\n");
			return 1;
		}
		rs = ruleset_build(rl);
		if (!rs)
			return 1;
	}
	memset(&dst, 0, sizeof(dst));
	/* A host's worth of processes to work among: the seeded table of this machine. */
	state_seed(st, "/proc");

	/* Memory: 1,000 live processes made by fork and exec (argv, fds and all). */
	before = heap_used();
	for (uint32_t i = 0; i < 1000; i++) {
		size_t k = lifecycle(recs, 1, 500000 + i);

		/* everything but the exit: they stay alive, each with an open file */
		for (size_t j = 0; j + 1 < k && j < 5; j++) {
			struct event ev;

			if (decode_record(recs[j].bytes, recs[j].size, &ev, &dst) == DECODE_OK)
				state_apply(st, &ev);
		}
	}
	after = heap_used();

	nrec = lifecycle(recs, 1, next_pid);
	t0 = now_s();
	do {
		for (int it = 0; it < 2000; it++) {
			/* a new pid each time, as the host's processes come and go */
			nrec = lifecycle(recs, 1, next_pid++);
			if (next_pid > 400000)
				next_pid = 100000;
			for (size_t j = 0; j < nrec; j++) {
				struct event ev;
				struct evctx cx;

				if (decode_record(recs[j].bytes, recs[j].size, &ev, &dst) != DECODE_OK)
					return 1;
				state_pre(st, &ev, &cx);
				if (rs) {
					int code = extract_event_code(&ev);

					if (code >= 0 && ruleset_bucket_size(rs, (unsigned)code)) {
						struct vm_fieldsrc src;

						extract_begin(&xc, &ev, &cx, n);
						src = extract_src(&xc);
						matches += ruleset_eval(rs, (unsigned)code, &src, false,
									NULL, NULL);
					}
				}
				state_post(st, &cx);
				n++;
			}
		}
		t = now_s() - t0;
	} while (t < secs);
	/* Building the records is in the loop too: time it alone and take it out. */
	{
		double b0 = now_s(), bt;
		unsigned long long built = 0;

		for (unsigned long long i = 0; built < n; i++)
			built += lifecycle(recs, 1, 100000 + (uint32_t)(i % 1000));
		bt = now_s() - b0;
		t -= bt;
	}
	printf("state: %llu records in %.2f s: %.0f ns per record (decode + state_pre + "
	       "state_post%s), %.1f M records/s; %zu records per process lifecycle; decode "
	       "errors %llu; matches %llu\n",
	       n, t, t * 1e9 / (double)n, rs ? " + rules" : "", (double)n / t / 1e6, nrec,
	       (unsigned long long)(dst.records - dst.by_kind[SK_EV_SYSCALL] -
				    dst.by_kind[SK_EV_FORK] - dst.by_kind[SK_EV_EXEC] -
				    dst.by_kind[SK_EV_EXIT]),
	       matches);
	printf("state: tables' heap for 1,000 live processes (argv, cwd, an fd each): %.0f KiB "
	       "(%.0f bytes per process)\n",
	       (double)(after - before) / 1024.0, (double)(after - before) / 1000.0);
	ruleset_free(rs);
	rules_loaded_free(rl);
	extract_release(&xc);
	state_free(st);
	return 0;
}
