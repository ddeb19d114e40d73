/* The decoder: well-formed records of every kind, and each way a record can be malformed. */
#include <stdlib.h>

#include "decode.h"
#include "dump.h"
#include "evtargs.h"
#include "syscall_ids.h"
#include "syscalls.h"
#include "timeutil.h"
#include "testlib.h"

static uint8_t buf[16384] __attribute__((aligned(8)));

static size_t make_syscall(uint16_t nr, const char *b0, uint16_t l0, const char *b1, uint16_t l1)
{
	struct sk_syscall_ev *s = (struct sk_syscall_ev *)buf;
	size_t size = sizeof(*s) + l0 + l1;

	memset(buf, 0, sizeof(buf));
	s->hdr.size = (uint32_t)size;
	s->hdr.type = SK_EV_SYSCALL;
	s->hdr.abi = SK_ABI_VERSION;
	s->hdr.pid = 42;
	s->hdr.tid = 43;
	s->hdr.ts_ns = 1000;
	s->nr = nr;
	s->ret = 3;
	s->args[0] = (uint64_t)-100;
	s->blob_len[0] = l0;
	s->blob_len[1] = l1;
	memcpy(buf + sizeof(*s), b0, l0);
	memcpy(buf + sizeof(*s) + l0, b1, l1);
	return size;
}

TEST(syscall_with_blobs)
{
	struct decode_stats st = {0};
	struct event ev;
	size_t n = make_syscall(SK_NR_rename, "/etc/passwd", 12, "xy", 3);

	CHECK_EQ_INT(decode_record(buf, n, &ev, &st), DECODE_OK);
	CHECK_EQ_INT(ev.kind, SK_EV_SYSCALL);
	CHECK_EQ_INT(ev.pid, 42);
	CHECK_EQ_INT(ev.tid, 43);
	CHECK_EQ_INT(ev.nr, SK_NR_rename);
	CHECK_EQ_INT(ev.ret, 3);
	CHECK_EQ_INT((int64_t)ev.args[0], -100);
	CHECK_EQ_INT(ev.blob[0].len, 12);
	CHECK_EQ_STR((const char *)ev.blob[0].p, "/etc/passwd");
	CHECK_EQ_INT(ev.blob[1].len, 3);
	CHECK(memcmp(ev.blob[1].p, "xy", 3) == 0);
	CHECK_EQ_INT(st.records, 1);
	CHECK_EQ_INT(st.by_kind[SK_EV_SYSCALL], 1);
}

TEST(blobs_follow_the_rules)
{
	/* What abi/blobs.h allows for each syscall, and nothing else. */
	struct decode_stats st = {0};
	struct event ev;
	static const uint8_t zeros[8192];
	const char *z = (const char *)zeros;
	static const struct {
		uint16_t nr;
		uint16_t l0, l1;
		enum decode_error want;
	} cases[] = {
	    {SK_NR_close, 0, 0, DECODE_OK},
	    {SK_NR_close, 1, 0, DECODE_BLOB_SPEC},	  /* no blobs for close */
	    {SK_NR_close, 0, 4, DECODE_BLOB_SPEC},
	    {SK_NR_openat, 4096, 0, DECODE_OK},		  /* a path at its limit */
	    {SK_NR_openat, 4097, 0, DECODE_BLOB_SPEC},	  /* over it */
	    {SK_NR_openat, 5, 5, DECODE_BLOB_SPEC},	  /* openat has one blob */
	    {SK_NR_openat2, 5, 24, DECODE_OK},		  /* struct open_how */
	    {SK_NR_openat2, 5, 16, DECODE_BLOB_SPEC},	  /* a fixed size or nothing */
	    {SK_NR_openat2, 5, 0, DECODE_OK},
	    {SK_NR_connect, 16, 40, DECODE_OK},		  /* sockaddr_in, tuple */
	    {SK_NR_connect, 129, 40, DECODE_BLOB_SPEC},	  /* sockaddrs are cut at 128 */
	    {SK_NR_connect, 16, 39, DECODE_BLOB_SPEC},	  /* a tuple is 40 bytes */
	    {SK_NR_listen, 0, 40, DECODE_OK},
	    {SK_NR_listen, 2, 40, DECODE_BLOB_SPEC},
	    {SK_NR_pipe2, 8, 0, DECODE_OK},
	    {SK_NR_pipe2, 4, 0, DECODE_BLOB_SPEC},
	    {SK_NR_socketpair, 8, 0, DECODE_OK},
	    {SK_NR_sendmsg, 110, 40, DECODE_OK},
	    {SK_NR_recvfrom, 28, 40, DECODE_OK},
	    {SK_NR_execve, 10, 4096, DECODE_OK},	  /* filename, argv */
	    {SK_NR_execve, 10, 4097, DECODE_BLOB_SPEC},
	    {SK_NR_clone3, 8, 0, DECODE_OK},
	    {SK_NR_clone3, 9, 0, DECODE_BLOB_SPEC},
	    {SK_NR_symlinkat, 4096, 4096, DECODE_OK},
	    {110 /* getppid */, 0, 0, DECODE_OK},
	    {110, 3, 0, DECODE_BLOB_SPEC},
	    {600 /* beyond the table */, 0, 0, DECODE_OK},
	    {600, 1, 0, DECODE_BLOB_SPEC},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = make_syscall(cases[i].nr, z, cases[i].l0, z, cases[i].l1);
		enum decode_error got = decode_record(buf, n, &ev, &st);

		if (got != cases[i].want)
			printf("# case %zu: nr %u blobs %u/%u: got %s\n", i, cases[i].nr, cases[i].l0,
			       cases[i].l1, decode_error_name(got));
		CHECK_EQ_INT(got, cases[i].want);
	}
	CHECK_EQ_STR(decode_error_name(DECODE_BLOB_SPEC), "blob_against_spec");
}

TEST(exec_record)
{
	struct sk_exec_ev *x = (struct sk_exec_ev *)buf;
	struct decode_stats st = {0};
	struct event ev;
	const char fn[] = "/bin/ls", av[] = "ls\0-l\0";
	size_t size = sizeof(*x) + sizeof(fn) + sizeof(av) - 1;

	memset(buf, 0, sizeof(buf));
	x->hdr.size = (uint32_t)size;
	x->hdr.type = SK_EV_EXEC;
	x->hdr.abi = SK_ABI_VERSION;
	x->filename_len = sizeof(fn);
	x->argv_len = sizeof(av) - 1;
	memcpy(buf + sizeof(*x), fn, sizeof(fn));
	memcpy(buf + sizeof(*x) + sizeof(fn), av, sizeof(av) - 1);
	CHECK_EQ_INT(decode_record(buf, size, &ev, &st), DECODE_OK);
	CHECK(ev.exec == x);
	CHECK_EQ_INT(ev.exec->exe_flags, 0);
	CHECK_EQ_INT(ev.filename.len, sizeof(fn));
	CHECK_EQ_INT(ev.argv.len, 6);
	CHECK(memcmp(ev.argv.p, "ls\0-l\0", 6) == 0);
}

TEST(fork_and_exit_records)
{
	struct sk_fork_ev f = {
	    .hdr = {.size = sizeof(f), .type = SK_EV_FORK, .abi = SK_ABI_VERSION}, .child_pid = 7};
	struct sk_exit_ev x = {
	    .hdr = {.size = sizeof(x), .type = SK_EV_EXIT, .abi = SK_ABI_VERSION},
	    .exit_code = 256};
	struct decode_stats st = {0};
	struct event ev;

	CHECK_EQ_INT(decode_record(&f, sizeof(f), &ev, &st), DECODE_OK);
	CHECK(ev.fork == &f);
	CHECK_EQ_INT(decode_record(&x, sizeof(x), &ev, &st), DECODE_OK);
	CHECK_EQ_INT(ev.exit->exit_code, 256);
	/* A header that claims more than the record holds is malformed. */
	f.hdr.size = sizeof(f) + 8;
	CHECK_EQ_INT(decode_record(&f, sizeof(f), &ev, &st), DECODE_SIZE);
}

TEST(rejects_short)
{
	struct decode_stats st = {0};
	struct event ev;
	size_t n = make_syscall(3, "", 0, "", 0);

	CHECK_EQ_INT(decode_record(buf, 10, &ev, &st), DECODE_SHORT);
	/* Header claims the short size: still shorter than the syscall's fixed part. */
	((struct sk_hdr *)buf)->size = 40;
	CHECK_EQ_INT(decode_record(buf, 40, &ev, &st), DECODE_SHORT);
	CHECK_EQ_INT(st.errors[DECODE_SHORT], 2);
	(void)n;
}

TEST(rejects_size_mismatch)
{
	struct decode_stats st = {0};
	struct event ev;
	size_t n = make_syscall(3, "", 0, "", 0);

	CHECK_EQ_INT(decode_record(buf, n + 8, &ev, &st), DECODE_SIZE);
	CHECK_EQ_INT(st.errors[DECODE_SIZE], 1);
}

TEST(rejects_other_abi_and_type)
{
	struct decode_stats st = {0};
	struct event ev;
	size_t n = make_syscall(3, "", 0, "", 0);

	((struct sk_hdr *)buf)->abi = SK_ABI_VERSION + 1;
	CHECK_EQ_INT(decode_record(buf, n, &ev, &st), DECODE_ABI);
	((struct sk_hdr *)buf)->abi = SK_ABI_VERSION;
	((struct sk_hdr *)buf)->type = SK_EV_MAX;
	CHECK_EQ_INT(decode_record(buf, n, &ev, &st), DECODE_TYPE);
	((struct sk_hdr *)buf)->type = 0;
	CHECK_EQ_INT(decode_record(buf, n, &ev, &st), DECODE_TYPE);
}

TEST(rejects_blob_overrun)
{
	struct decode_stats st = {0};
	struct event ev;
	size_t n = make_syscall(SK_NR_rename, "abc", 4, "", 0);
	struct sk_syscall_ev *s = (struct sk_syscall_ev *)buf;

	s->blob_len[0] = 60000;
	CHECK_EQ_INT(decode_record(buf, n, &ev, &st), DECODE_BLOBS);
	s->blob_len[0] = 2;
	s->blob_len[1] = 3; /* 2 + 3 > 4 */
	CHECK_EQ_INT(decode_record(buf, n, &ev, &st), DECODE_BLOBS);
	s->blob_len[0] = 1;
	s->blob_len[1] = 1; /* 2 < 4: bytes left over */
	CHECK_EQ_INT(decode_record(buf, n, &ev, &st), DECODE_BLOBS);
	CHECK_EQ_INT(st.errors[DECODE_BLOBS], 3);
}

/* Makes a random syscall record one the blob rules allow: a syscall with blobs, lengths
 * its rules can produce, random bytes inside. */
static size_t fit_spec(struct sk_syscall_ev *s, size_t rest, unsigned *seed)
{
	static uint16_t with_blobs[SK_NR_SYSCALLS];
	static unsigned n;
	const struct sk_blob_spec *spec;
	size_t l[2] = {0, 0};

	if (!n)
		for (unsigned id = 0; id < SK_NR_SYSCALLS; id++)
			if (syscall_blob_spec(id)->b[0].kind || syscall_blob_spec(id)->b[1].kind)
				with_blobs[n++] = (uint16_t)id;
	s->nr = with_blobs[(unsigned)rand_r(seed) % n];
	spec = syscall_blob_spec(s->nr);
	for (int i = 0; i < 2; i++) {
		const struct sk_blob_rule *r = &spec->b[i];
		size_t left = rest - l[0];

		switch (r->kind) {
		case SK_BK_MEM:
			l[i] = r->size <= left && rand_r(seed) % 4 ? r->size : 0;
			break;
		case SK_BK_TUPLE:
		case SK_BK_TUPLE_RET:
			l[i] = sizeof(struct sk_sock_tuple) <= left && rand_r(seed) % 4
				   ? sizeof(struct sk_sock_tuple)
				   : 0;
			break;
		case SK_BK_NONE:
			break;
		default:
			l[i] = left ? (size_t)rand_r(seed) % (left + 1) : 0;
			if (l[i] > SK_SOCKADDR_MAX && r->kind != SK_BK_STR && r->kind != SK_BK_ARGV)
				l[i] = SK_SOCKADDR_MAX;
		}
	}
	/* The record shrinks to what the blobs take. */
	s->blob_len[0] = (uint16_t)l[0];
	s->blob_len[1] = (uint16_t)l[1];
	s->hdr.size = (uint32_t)(sizeof(*s) + l[0] + l[1]);
	return s->hdr.size;
}

TEST(random_bytes_never_crash)
{
	/* Whatever arrives, the decoder answers without reading past the record. */
	struct decode_stats st = {0};
	struct event ev;
	unsigned seed = 12345;
	struct strbuf line = STRBUF_INIT;
	unsigned formatted = 0, with_blobs = 0;

	for (int i = 0; i < 200000; i++) {
		size_t n = (size_t)(rand_r(&seed) % 300);
		uint8_t *rec = malloc(n ? n : 1);

		for (size_t j = 0; j < n; j++)
			rec[j] = (uint8_t)rand_r(&seed);
		if (n >= sizeof(struct sk_hdr) && (i & 1)) {
			/* Make half of them pass the first checks to reach the blob checks. */
			struct sk_hdr *h = (struct sk_hdr *)rec;

			h->size = (uint32_t)n;
			h->abi = SK_ABI_VERSION;
			h->type = (uint16_t)(1 + rand_r(&seed) % (SK_EV_MAX - 1));
			/* And a quarter have blob lengths that add up, to reach the formatter with
			 * random arguments and blobs. */
			if ((i & 3) == 1 && h->type == SK_EV_SYSCALL &&
			    n >= sizeof(struct sk_syscall_ev)) {
				struct sk_syscall_ev *s = (struct sk_syscall_ev *)rec;
				size_t rest = n - sizeof(*s);

				s->blob_len[0] =
				    (uint16_t)(rest ? (size_t)rand_r(&seed) % (rest + 1) : 0);
				s->blob_len[1] = (uint16_t)(rest - s->blob_len[0]);
				s->nr = (uint16_t)(rand_r(&seed) % 3 ? rand_r(&seed) % 440
								     : rand_r(&seed));
				if (rand_r(&seed) % 2)
					n = fit_spec(s, rest, &seed);
			} else if ((i & 3) == 1 && h->type == SK_EV_EXEC &&
				   n >= sizeof(struct sk_exec_ev)) {
				struct sk_exec_ev *x = (struct sk_exec_ev *)rec;
				size_t rest = n - sizeof(*x);

				x->filename_len =
				    (uint16_t)(rest ? (size_t)rand_r(&seed) % (rest + 1) : 0);
				x->argv_len = (uint16_t)(rest - x->filename_len);
			}
		}
		/* What decodes must also format, in both forms, without reading past it. */
		if (decode_record(rec, n, &ev, &st) == DECODE_OK) {
			dump_event(&line, &ev, NULL, DUMP_TEXT);
			dump_event(&line, &ev, NULL, DUMP_JSON);
			/* And every argument the schema knows, as the field extractors read them. */
			if (ev.kind == SK_EV_SYSCALL) {
				uint64_t v;

				sb_reset(&line);
				evtargs_render_all(&ev, &line);
				for (unsigned a = 0; a < evtargs_count(ev.nr); a++) {
					evtargs_render(&ev, (int)a, &line);
					evtargs_raw(&ev, (int)a, &v);
				}
				evtargs_render_res(&ev, &line);
				if (ev.blob[0].len || ev.blob[1].len)
					with_blobs++;
			}
			formatted++;
		}
		free(rec);
	}
	CHECK_EQ_INT(st.records, 200000);
	CHECK(formatted > 1000);
	CHECK(with_blobs > 1000);
	sb_release(&line);
}

int main(void)
{
	time_sync();
	RUN(syscall_with_blobs);
	RUN(blobs_follow_the_rules);
	RUN(exec_record);
	RUN(fork_and_exit_records);
	RUN(rejects_short);
	RUN(rejects_size_mismatch);
	RUN(rejects_other_abi_and_type);
	RUN(rejects_blob_overrun);
	RUN(random_bytes_never_crash);
	return tap_done();
}
