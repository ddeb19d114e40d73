/* Capture files: every frame kind written and read back, plain and compressed; and the
 * reader on hostile input: a small capture cut at every offset, and random byte flips. */
#include <stdlib.h>
#include <unistd.h>

#include "capture.h"
#include "decode.h"
#include "hostread.h"
#include "state.h"
#include "syscall_ids.h"
#include "testlib.h"

static char tmpdir[] = "/tmp/saker-test-capture-XXXXXX";

static const char *tmp_path(const char *name)
{
	static char path[256];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return path;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	*len = 0;
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n)
		*len = (size_t)n;
	fclose(f);
	return buf;
}

/* A process with a bit of everything: threads, args and env with NULs, a dup'ed fd (one
 * description, two fds), a socket. */
static struct proc *sample_proc(struct proc_table *t)
{
	struct proc *p = proc_table_upsert(t, 100);
	struct fdinfo *fi;

	p->ppid = 1;
	p->uid = 1000;
	p->euid = 0;
	p->loginuid = 1000;
	p->start_ns = 123456789;
	p->cgroup_id = 77;
	p->cap_effective = 0x3f;
	p->flags = PROC_SEEDED | PROC_CAPS_KNOWN;
	p->exe_ino = 999;
	strcpy(p->comm, "bash");
	proc_set_str(&p->exe, "-bash", 5);
	proc_set_str(&p->exepath, "/usr/bin/bash", 13);
	proc_set_str(&p->args, "-bash\0-c\0true", 13);
	p->args_len = 13;
	proc_set_str(&p->cwd, "/home/u", 7);
	proc_set_str(&p->cgroup, "/user.slice", 11);
	proc_set_str(&p->env, "A=1\0B=2", 7);
	p->env_len = 7;
	p->env_state = PROC_ENV_READ;
	proc_table_add_thread(t, p, 101)->vtid = 5;
	fi = fd_table_add(&p->fds, 3, FD_FILE, true);
	fdinfo_set_name(fi, "/etc/passwd", 11);
	fdinfo_set_nameraw(fi, "passwd", 6);
	fi->ino = 42;
	fd_table_dup(&p->fds, 3, 7, false);
	fi = fd_table_add(&p->fds, 4, FD_IPV4, false);
	fi->l4proto = L4_TCP;
	fi->sock.lport = 22;
	fi->sock.lip[0] = 127;
	fi->sock.lip[3] = 1;
	fdinfo_sock_rename(fi);
	return p;
}

static const struct cap_header sample_header = {
    .version = CAP_VERSION,
    .abi = SK_ABI_VERSION,
    .boot_to_wall_ns = 1700000000000000000ll,
    .start_boot_ns = 5000,
    .hostname = "testhost",
    .kernel = "6.1.0",
    .machine = "x86_64",
    .saker = "test",
};

static uint8_t rec[SK_RECORD_MAX] __attribute__((aligned(8)));

/* An openat record from pid 100 with its path blob. */
static size_t openat_rec(uint64_t ts, const char *path, int64_t ret)
{
	struct sk_syscall_ev *s = (struct sk_syscall_ev *)rec;
	uint16_t l = (uint16_t)(strlen(path) + 1);

	memset(rec, 0, sizeof(*s) + l);
	s->hdr.ts_ns = ts;
	s->hdr.size = (uint32_t)(sizeof(*s) + l);
	s->hdr.type = SK_EV_SYSCALL;
	s->hdr.abi = SK_ABI_VERSION;
	s->hdr.pid = 100;
	s->hdr.tid = 100;
	s->nr = SK_NR_openat;
	s->ret = ret;
	s->args[0] = (uint64_t)-100;
	s->blob_len[0] = l;
	memcpy(rec + sizeof(*s), path, l);
	return s->hdr.size;
}

/* A small capture: header, two processes, users, the events with a journal entry. */
static void write_sample(const char *path)
{
	struct proc_table *t = proc_table_new(64);
	struct capture_writer *w = capture_writer_open(path, NULL, 0);
	struct proc *p = sample_proc(t), *q = proc_table_upsert(t, 1);
	char err[256];

	strcpy(q->comm, "init");
	capture_write_header(w, &sample_header);
	capture_write_proc(w, q);
	capture_write_proc(w, p);
	capture_write_users(w, "root:x:0:0:root:/root:/bin/bash\n", 32, "root:x:0:\n", 10);
	capture_write_frame(w, CAP_K_SNAPSHOT_END, 0, NULL, 0);
	for (int i = 0; i < 12; i++) {
		char name[64];

		snprintf(name, sizeof(name), "/tmp/file-%d", i);
		if (i == 5)
			capture_write_env(w, p);
		capture_write_frame(w, CAP_K_EVENT, i == 3 ? CAP_F_STATE_ONLY : 0, rec,
				    openat_rec(10000 + (uint64_t)i, name, 5 + i));
	}
	capture_write_cgroup(w, p);
	capture_write_lookup(w, "runtime.config", "abc123", "{\"x\":1}", 7);
	CHECK_EQ_INT(capture_writer_close(w, err, sizeof(err)), 0);
	proc_table_free(t);
}

TEST(header_round_trip)
{
	struct capture_writer *w = capture_writer_open(tmp_path("h.cap"), NULL, 0);
	struct capture_reader *r;
	struct cap_frame f;
	struct cap_header h;
	char err[256];

	CHECK(w != NULL);
	CHECK_EQ_INT(capture_write_header(w, &sample_header), 0);
	CHECK_EQ_INT(capture_writer_close(w, err, sizeof(err)), 0);
	r = capture_reader_open(tmp_path("h.cap"), err, sizeof(err));
	CHECK(r != NULL);
	CHECK_EQ_INT(capture_read_frame(r, &f), 1);
	CHECK_EQ_INT(f.kind, CAP_K_HEADER);
	CHECK_EQ_INT(f.offset, CAP_MAGIC_LEN);
	CHECK_EQ_INT(capture_parse_header(f.data, f.len, &h, err, sizeof(err)), 0);
	CHECK_EQ_INT(h.boot_to_wall_ns, sample_header.boot_to_wall_ns);
	CHECK_EQ_INT(h.start_boot_ns, 5000);
	CHECK_EQ_STR(h.hostname, "testhost");
	CHECK_EQ_STR(h.kernel, "6.1.0");
	CHECK_EQ_INT(capture_read_frame(r, &f), 0); /* the end frame */
	capture_reader_close(r);
}

static void check_proc_copy(const struct proc *p)
{
	struct fdinfo *a, *b;
	struct thread *th;

	CHECK(p != NULL);
	if (!p)
		return;
	CHECK_EQ_INT(p->ppid, 1);
	CHECK_EQ_INT(p->uid, 1000);
	CHECK_EQ_INT(p->euid, 0);
	CHECK_EQ_INT(p->start_ns, 123456789);
	CHECK_EQ_INT(p->cgroup_id, 77);
	CHECK_EQ_INT(p->cap_effective, 0x3f);
	CHECK_EQ_INT(p->flags, PROC_SEEDED | PROC_CAPS_KNOWN);
	CHECK_EQ_STR(p->comm, "bash");
	CHECK_EQ_STR(p->exe, "-bash");
	CHECK_EQ_STR(p->exepath, "/usr/bin/bash");
	CHECK(p->filename == NULL);
	CHECK_EQ_INT(p->args_len, 13);
	CHECK(p->args && memcmp(p->args, "-bash\0-c\0true", 13) == 0);
	CHECK_EQ_STR(p->cwd, "/home/u");
	CHECK_EQ_STR(p->cgroup, "/user.slice");
	CHECK_EQ_INT(p->env_len, 7);
	CHECK_EQ_INT(p->env_state, PROC_ENV_READ);
	CHECK_EQ_INT(p->nthreads, 2);
	th = NULL;
	for (struct thread *x = p->threads; x; x = x->pnext)
		if (x->tid == 101)
			th = x;
	CHECK(th && th->vtid == 5);
	CHECK_EQ_INT(p->fds.n, 3);
	a = fd_table_get(&p->fds, 3);
	b = fd_table_get(&p->fds, 7);
	CHECK(a && a == b); /* one description, as dup made it */
	CHECK(a && a->refs == 2);
	CHECK(fd_table_slot(&p->fds, 3) && fd_table_slot(&p->fds, 3)->cloexec);
	CHECK_EQ_STR(a ? a->name : NULL, "/etc/passwd");
	CHECK_EQ_STR(a ? a->nameraw : NULL, "passwd");
	CHECK_EQ_INT(a ? a->ino : 0, 42);
	a = fd_table_get(&p->fds, 4);
	CHECK(a && a->type == FD_IPV4 && a->l4proto == L4_TCP && a->sock.lport == 22);
	CHECK_EQ_STR(a ? a->name : NULL, "127.0.0.1:22");
}

/* Reads a whole capture into a fresh table (as a replay would), for plain and .gz. */
static void read_back(const char *path)
{
	char err[320];
	struct capture_reader *r = capture_reader_open(path, err, sizeof(err));
	struct proc_table *t = proc_table_new(64);
	struct cap_frame f;
	int n, kinds[16] = {0}, state_only = 0;
	struct cap_lookup lk;

	CHECK(r != NULL);
	if (!r)
		return;
	while ((n = capture_read_frame(r, &f)) > 0) {
		CHECK_EQ_INT((uintptr_t)f.data % 8, 0);
		kinds[f.kind & 15]++;
		if (f.kind == CAP_K_PROC)
			CHECK(capture_load_proc(t, f.data, f.len, NULL, err, sizeof(err)) != NULL);
		if (f.kind == CAP_K_EVENT) {
			struct event ev;
			struct decode_stats ds = {0};

			CHECK_EQ_INT(decode_record(f.data, f.len, &ev, &ds), DECODE_OK);
			state_only += (f.flags & CAP_F_STATE_ONLY) != 0;
		}
		if (f.kind == CAP_K_ENV) {
			CHECK_EQ_INT(capture_parse_lookup(f.data, f.len, &lk, err, sizeof(err)), 0);
			CHECK_EQ_INT(lk.pid, 100);
			CHECK_EQ_INT(lk.start_ns, 123456789);
			CHECK(lk.len == 7 && memcmp(lk.bytes, "A=1\0B=2", 7) == 0);
		}
		if (f.kind == CAP_K_LOOKUP) {
			struct cap_ext x;

			CHECK_EQ_INT(capture_parse_ext(f.data, f.len, &x, err, sizeof(err)), 0);
			CHECK(x.what_len == 14 && memcmp(x.what, "runtime.config", 14) == 0);
			CHECK(x.key_len == 6 && memcmp(x.key, "abc123", 6) == 0);
			CHECK(x.len == 7 && memcmp(x.data, "{\"x\":1}", 7) == 0);
		}
		if (f.kind == CAP_K_USERS) {
			const char *pw, *gr;
			size_t pl, gl;

			CHECK_EQ_INT(capture_parse_users(f.data, f.len, &pw, &pl, &gr, &gl, err,
							 sizeof(err)),
				     0);
			CHECK_EQ_INT(pl, 32);
			CHECK(gr && gl == 10 && memcmp(gr, "root:x:0:\n", 10) == 0);
		}
	}
	CHECK_EQ_INT(n, 0);
	CHECK_EQ_INT(kinds[CAP_K_HEADER], 1);
	CHECK_EQ_INT(kinds[CAP_K_PROC], 2);
	CHECK_EQ_INT(kinds[CAP_K_EVENT], 12);
	CHECK_EQ_INT(kinds[CAP_K_CGROUP], 1);
	CHECK_EQ_INT(kinds[CAP_K_LOOKUP], 1);
	CHECK_EQ_INT(state_only, 1);
	check_proc_copy(proc_table_get(t, 100));
	capture_reader_close(r);
	proc_table_free(t);
}

TEST(frames_round_trip)
{
	write_sample(tmp_path("s.cap"));
	read_back(tmp_path("s.cap"));
}

TEST(compressed_round_trip)
{
	size_t a, b;
	uint8_t *plain, *gz;

	write_sample(tmp_path("s.cap"));
	write_sample(tmp_path("s.cap.gz"));
	plain = slurp(tmp_path("s.cap"), &a);
	gz = slurp(tmp_path("s.cap.gz"), &b);
	CHECK(gz && b > 2 && gz[0] == 0x1f && gz[1] == 0x8b); /* gzip magic */
	CHECK(plain && a > b);
	read_back(tmp_path("s.cap.gz"));
	free(plain);
	free(gz);
}

TEST(unknown_optional_frames_are_skipped)
{
	struct capture_writer *w = capture_writer_open(tmp_path("o.cap"), NULL, 0);
	struct capture_reader *r;
	struct cap_frame f;

	capture_write_header(w, &sample_header);
	capture_write_frame(w, CAP_K_OPTIONAL + 3, 0, "abc", 3);
	capture_write_frame(w, CAP_K_SNAPSHOT_END, 0, NULL, 0);
	capture_writer_close(w, NULL, 0);
	r = capture_reader_open(tmp_path("o.cap"), NULL, 0);
	CHECK_EQ_INT(capture_read_frame(r, &f), 1);
	CHECK_EQ_INT(capture_read_frame(r, &f), 1);
	CHECK_EQ_INT(f.kind, CAP_K_SNAPSHOT_END);
	CHECK_EQ_INT(capture_read_frame(r, &f), 0);
	capture_reader_close(r);
}

/* What a replay does with each frame, minus rules: never crashes, whatever the bytes.
 * Returns the reader's result (0 end frame, -1 error) and counts the events applied. */
static int consume(const uint8_t *buf, size_t len, int *events, const char **errp)
{
	static char err[320];
	struct capture_reader *r = capture_reader_mem(buf, len);
	struct state *st = state_new(16);
	struct cap_frame f;
	struct cap_header h;
	struct cap_lookup lk;
	struct decode_stats ds = {0};
	int n;

	*events = 0;
	while ((n = capture_read_frame(r, &f)) > 0) {
		const char *pw, *gr;
		size_t pl, gl;
		struct event ev;

		switch (f.kind) {
		case CAP_K_HEADER:
			capture_parse_header(f.data, f.len, &h, err, sizeof(err));
			break;
		case CAP_K_PROC:
			capture_load_proc(state_procs(st), f.data, f.len, NULL, err, sizeof(err));
			break;
		case CAP_K_USERS:
			if (!capture_parse_users(f.data, f.len, &pw, &pl, &gr, &gl, err,
						 sizeof(err)))
				users_set_text(state_users(st), pw, pl, gr, gl);
			users_by_uid(state_users(st), 0);
			break;
		case CAP_K_ENV:
		case CAP_K_CGROUP:
			capture_parse_lookup(f.data, f.len, &lk, err, sizeof(err));
			break;
		case CAP_K_LOOKUP: {
			struct cap_ext x;

			if (!capture_parse_ext(f.data, f.len, &x, err, sizeof(err)))
				CHECK(x.what_len + x.key_len + x.len <= f.len);
			break;
		}
		case CAP_K_EVENT:
			if (decode_record(f.data, f.len, &ev, &ds) == DECODE_OK) {
				state_apply(st, &ev);
				(*events)++;
			}
			break;
		}
	}
	snprintf(err, sizeof(err), "%s", capture_reader_error(r));
	*errp = err;
	capture_reader_close(r);
	state_free(st);
	return n;
}

TEST(truncated_at_every_offset)
{
	size_t len;
	uint8_t *buf, *cut;
	int events, full_events, bad = 0, no_offset = 0, monotone = 1, last = -1;
	const char *err;

	write_sample(tmp_path("t.cap"));
	buf = slurp(tmp_path("t.cap"), &len);
	CHECK(buf != NULL);
	if (!buf)
		return;
	CHECK_EQ_INT(consume(buf, len, &full_events, &err), 0);
	CHECK_EQ_INT(full_events, 12);
	for (size_t cutlen = 0; cutlen < len; cutlen++) {
		cut = malloc(cutlen + 1); /* exactly cutlen bytes, so ASan sees any overread */
		memcpy(cut, buf, cutlen);
		if (consume(cut, cutlen, &events, &err) != -1)
			bad++;
		if (!strstr(err, "offset "))
			no_offset++;
		if (events < last) /* a longer prefix never applies fewer events */
			monotone = 0;
		last = events;
		free(cut);
	}
	CHECK_EQ_INT(bad, 0);
	CHECK_EQ_INT(no_offset, 0);
	CHECK(monotone);
	CHECK_EQ_INT(last, full_events); /* cut before the end frame: every event applied */
	free(buf);
}

TEST(random_byte_flips_never_crash)
{
	size_t len;
	uint8_t *buf, *m;
	unsigned seed = 7;
	int events, ends = 0, errors = 0;
	const char *err;

	write_sample(tmp_path("f.cap"));
	buf = slurp(tmp_path("f.cap"), &len);
	CHECK(buf != NULL);
	if (!buf)
		return;
	m = malloc(len);
	for (int i = 0; i < 5000; i++) {
		int flips = 1 + (int)(rand_r(&seed) % 4);

		memcpy(m, buf, len);
		for (int k = 0; k < flips; k++)
			m[(size_t)rand_r(&seed) % len] ^= (uint8_t)(1 + rand_r(&seed) % 255);
		if (consume(m, len, &events, &err) == 0)
			ends++;
		else
			errors++;
	}
	CHECK_EQ_INT(ends + errors, 5000);
	CHECK(errors > 0);
	free(m);
	free(buf);
}

/* The hostread seam: records go to the journal only live; replayed answers come from it. */
static char last_rec[64];

static void fake_record(void *ctx, const char *what, const char *key, const void *data,
			size_t len)
{
	(void)ctx;
	snprintf(last_rec, sizeof(last_rec), "%s/%s/%.*s", what, key, (int)len,
		 (const char *)data);
}

static bool fake_replayed(void *ctx, const char *what, const char *key, const void **data,
			  size_t *len)
{
	(void)ctx;
	if (strcmp(what, "w") || strcmp(key, "k"))
		return false;
	*data = "answer";
	*len = 6;
	return true;
}

TEST(hostread_seam)
{
	struct hostread_journal j = {.record = fake_record, .replayed = fake_replayed};
	const void *data;
	size_t len;

	CHECK(host_reads_allowed());
	hostread_record("w", "k", "x", 1); /* no journal: nothing happens */
	CHECK_EQ_STR(last_rec, "");
	CHECK(!hostread_replayed("w", "k", &data, &len));
	hostread_set_journal(&j);
	hostread_record("w", "k", "live", 4);
	CHECK_EQ_STR(last_rec, "w/k/live");
	host_reads_set(false);
	hostread_record("w", "k", "no", 2); /* replaying: not recorded */
	CHECK_EQ_STR(last_rec, "w/k/live");
	CHECK(hostread_replayed("w", "k", &data, &len) && len == 6 && !memcmp(data, "answer", 6));
	CHECK(!hostread_replayed("w", "other", &data, &len) && data == NULL && len == 0);
	host_reads_set(true);
	hostread_set_journal(NULL);
}

TEST(not_a_capture)
{
	int events;
	const char *err;

	CHECK_EQ_INT(consume((const uint8_t *)"hello world, not a capture", 26, &events, &err),
		     -1);
	CHECK(strstr(err, "offset 0: not a saker capture") != NULL);
	CHECK(capture_reader_open(tmp_path("does-not-exist"), NULL, 0) == NULL);
}

int main(void)
{
	char cmd[300];

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(header_round_trip);
	RUN(frames_round_trip);
	RUN(compressed_round_trip);
	RUN(unknown_optional_frames_are_skipped);
	RUN(truncated_at_every_offset);
	RUN(random_byte_flips_never_crash);
	RUN(hostread_seam);
	RUN(not_a_capture);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd))
		fprintf(stderr, "# could not remove %s\n", tmpdir);
	return tap_done();
}
