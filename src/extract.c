#include "extract.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "strbuf.h"

#include "evtargs.h"
#include "evttypes.h"
#include "state.h"
#include "fields.h"
#include "syscall_ids.h"
#include "timeutil.h"

/* ---- the per-event arena ---- */

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, cap;
	char data[];
};

#define ARENA_CHUNK 16384

void *arena_alloc(struct arena *a, size_t size)
{
	struct arena_chunk *c = a->head;
	void *p;

	size = (size + 15) & ~(size_t)15;
	if (!c || c->cap - c->used < size) {
		size_t cap = size > ARENA_CHUNK ? size : ARENA_CHUNK;

		c = malloc(sizeof(*c) + cap);
		if (!c)
			abort();
		c->used = 0;
		c->cap = cap;
		c->next = a->head;
		a->head = c;
	}
	p = c->data + c->used;
	c->used += size;
	return p;
}

char *arena_strdup(struct arena *a, const char *s, size_t len)
{
	char *p = arena_alloc(a, len + 1);

	memcpy(p, s, len);
	p[len] = 0;
	return p;
}

/* Keeps the newest chunk (emptied) and frees the rest. */
static void arena_reset(struct arena *a)
{
	struct arena_chunk *c = a->head;

	if (!c)
		return;
	while (c->next) {
		struct arena_chunk *n = c->next;

		c->next = n->next;
		free(n);
	}
	c->used = 0;
}

void extract_release(struct extract_ctx *ctx)
{
	struct arena_chunk *c = ctx->arena.head;

	while (c) {
		struct arena_chunk *n = c->next;

		free(c);
		c = n;
	}
	ctx->arena.head = NULL;
}

int extract_event_code(const struct event *ev)
{
	switch (ev->kind) {
	case SK_EV_SYSCALL:
		return ev->nr;
	case SK_EV_EXIT:
		return EVT_PROCEXIT;
	default:
		return -1;
	}
}

void extract_begin(struct extract_ctx *ctx, const struct event *ev, const struct evctx *ec,
		   uint64_t num)
{
	int code = extract_event_code(ev);

	arena_reset(&ctx->arena);
	ctx->ev = ev;
	ctx->ec = ec;
	ctx->num = num;
	ctx->wall_ns = time_boot_to_wall(ev->ts_ns);
	ctx->code = code < 0 ? 0 : (unsigned)code;
}

#include "extract_impl.h"

static bool is_syscall(const struct extract_ctx *c)
{
	return c->ev->kind == SK_EV_SYSCALL;
}

/* ---- evt.* ---- */

static int ex_evt_num(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	(void)f;
	return v_uint(out, c->num);
}

static void split_time(uint64_t wall_ns, bool utc, struct tm *tm, unsigned long *ns)
{
	time_t secs = (time_t)(wall_ns / 1000000000ull);

	*ns = (unsigned long)(wall_ns % 1000000000ull);
	if (utc)
		gmtime_r(&secs, tm);
	else
		localtime_r(&secs, tm);
}

static int ex_evt_time(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	const char *name = f->def->name;
	unsigned long ns;
	struct tm tm;

	if (!strcmp(name, "evt.time.iso8601")) {
		split_time(c->wall_ns, true, &tm, &ns);
		return v_fmt(c, out, "%04d-%02d-%02dT%02d:%02d:%02d.%09luZ", tm.tm_year + 1900,
			     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ns);
	}
	split_time(c->wall_ns, false, &tm, &ns);
	if (!strcmp(name, "evt.time.s"))
		return v_fmt(c, out, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (!strcmp(name, "evt.datetime"))
		return v_fmt(c, out, "%04d-%02d-%02d %02d:%02d:%02d.%09lu", tm.tm_year + 1900,
			     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ns);
	return v_fmt(c, out, "%02d:%02d:%02d.%09lu", tm.tm_hour, tm.tm_min, tm.tm_sec, ns);
}

static int ex_evt_rawtime(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	const char *name = f->def->name;

	if (!strcmp(name, "evt.rawtime.s"))
		return v_uint(out, c->wall_ns / 1000000000ull);
	if (!strcmp(name, "evt.rawtime.ns"))
		return v_uint(out, c->wall_ns % 1000000000ull);
	return v_uint(out, c->wall_ns);
}

static int ex_evt_reltime(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	(void)f;
	if (c->ev->ts_ns < c->env->start_boot_ns)
		return v_uint(out, 0);
	return v_uint(out, c->ev->ts_ns - c->env->start_boot_ns);
}

static int ex_evt_type(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	(void)f;
	if (c->ev->kind != SK_EV_SYSCALL && c->ev->kind != SK_EV_EXIT)
		return MISSING;
	return v_cstr(out, evttype_name(c->code));
}

static int ex_evt_dir(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	(void)c;
	(void)f;
	return v_str(out, "<", 1);
}

static int ex_missing(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	(void)c;
	(void)f;
	(void)out;
	return MISSING;
}

static int ex_evt_rawres(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	(void)f;
	if (!is_syscall(c))
		return MISSING;
	return v_int(out, c->ev->ret);
}

static int ex_evt_res(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	const char *name;

	(void)f;
	if (!is_syscall(c))
		return MISSING;
	if (c->ev->ret >= 0)
		return v_str(out, "SUCCESS", 7);
	name = c->ev->ret >= -4095 ? strerrorname_np((int)-c->ev->ret) : NULL;
	if (name)
		return v_cstr(out, name);
	return v_fmt(c, out, "%lld", (long long)c->ev->ret);
}

static int ex_evt_failed(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	(void)f;
	if (!is_syscall(c))
		return MISSING;
	return v_bool(out, c->ev->ret < 0);
}

/* The open flags of an open-family exit, and whether it is one. */
static bool open_flags(const struct extract_ctx *c, uint64_t *flags, uint64_t *mode)
{
	const struct event *ev = c->ev;

	if (!is_syscall(c))
		return false;
	switch (ev->nr) {
	case SK_NR_open:
		*flags = ev->args[1];
		*mode = ev->args[2];
		return true;
	case SK_NR_openat:
		*flags = ev->args[2];
		*mode = ev->args[3];
		return true;
	case SK_NR_creat:
		*flags = O_CREAT | O_WRONLY | O_TRUNC;
		*mode = ev->args[1];
		return true;
	case SK_NR_openat2:
		if (ev->blob[1].len < 16)
			return false;
		memcpy(flags, ev->blob[1].p, 8);
		memcpy(mode, ev->blob[1].p + 8, 8);
		return true;
	default:
		return false;
	}
}

/* evt.is_open_read, _write, _create, _exec: false for anything but an open-family exit. */
static int ex_evt_is_open_read(struct extract_ctx *c, const struct vm_field *f,
			       struct vm_value *out)
{
	uint64_t flags, mode;

	(void)f;
	if (!open_flags(c, &flags, &mode))
		return v_bool(out, false);
	return v_bool(out, (flags & O_ACCMODE) == O_RDONLY || (flags & O_ACCMODE) == O_RDWR);
}

static int ex_evt_is_open_write(struct extract_ctx *c, const struct vm_field *f,
				struct vm_value *out)
{
	uint64_t flags, mode;

	(void)f;
	if (!open_flags(c, &flags, &mode))
		return v_bool(out, false);
	return v_bool(out, (flags & O_ACCMODE) == O_WRONLY || (flags & O_ACCMODE) == O_RDWR);
}

static int ex_evt_is_open_create(struct extract_ctx *c, const struct vm_field *f,
				 struct vm_value *out)
{
	uint64_t flags, mode;

	(void)f;
	if (!open_flags(c, &flags, &mode))
		return v_bool(out, false);
	return v_bool(out, (flags & O_CREAT) != 0);
}

/* created with an execute bit */
static int ex_evt_is_open_exec(struct extract_ctx *c, const struct vm_field *f,
			       struct vm_value *out)
{
	uint64_t flags, mode;

	(void)f;
	if (!open_flags(c, &flags, &mode))
		return v_bool(out, false);
	return v_bool(out, (flags & O_CREAT) && (mode & 0111));
}

static const char *category(const struct extract_ctx *c)
{
	if (c->ev->kind == SK_EV_EXIT)
		return "process";
	switch (c->ev->nr) {
	case SK_NR_open:
	case SK_NR_openat:
	case SK_NR_openat2:
	case SK_NR_creat:
	case SK_NR_close:
		return "file";
	case SK_NR_connect:
	case SK_NR_accept:
	case SK_NR_accept4:
		return "net";
	case SK_NR_execve:
	case SK_NR_execveat:
	case SK_NR_clone:
	case SK_NR_clone3:
	case SK_NR_fork:
	case SK_NR_vfork:
		return "process";
	default:
		return "other";
	}
}

static int ex_evt_category(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	(void)f;
	return v_cstr(out, category(c));
}

static int ex_evt_hostname(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	(void)f;
	return v_cstr(out, c->env->hostname);
}

static int ex_evt_source(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	(void)c;
	(void)f;
	return v_str(out, "syscall", 7);
}

/* evt.arg.NAME, evt.arg[N]: the argument as text; evt.rawarg.NAME: as a number. */
static int ex_evt_arg(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	struct strbuf sb = STRBUF_INIT;
	bool raw = f->def->name[4] == 'r';
	uint64_t v;
	char *end;
	long idx;
	int rc;

	if (!is_syscall(c) || !f->arg || !evtargs_known(c->ev->nr))
		return MISSING;
	idx = strtol(f->arg, &end, 10);
	if (*end || end == f->arg)
		idx = evtargs_index(c->ev->nr, f->arg);
	if (idx < 0 || (unsigned long)idx >= evtargs_count(c->ev->nr))
		return MISSING;
	if (raw) {
		if (evtargs_raw(c->ev, (int)idx, &v))
			return MISSING;
		return v_fmt(c, out, "%lld", (long long)v);
	}
	switch (evtargs_type(c->ev->nr, (int)idx)) {
	case EAT_PATH: {
		/* Paths as the reference shows them: resolved against the cwd or the dirfd
		 * (a symlink's target, which is not a path to resolve, stays as written). A
		 * successful exec carries no filename: it is the process's now. */
		int b = evtargs_blob(c->ev->nr, (int)idx);
		const char *abs = c->ec && b >= 0 && b < 2 ? c->ec->path_abs[b] : NULL;

		if (abs)
			return v_cstr(out, abs);
		if ((c->ev->nr == SK_NR_execve || c->ev->nr == SK_NR_execveat) &&
		    c->ev->ret == 0 && c->ec && c->ec->proc && c->ec->proc->filename)
			return v_cstr(out, c->ec->proc->filename);
		break;
	}
	case EAT_UID: {
		/* user and group ids by name, as the reference renders them */
		uint64_t id;
		const char *name = NULL;

		if (!c->ec || evtargs_raw(c->ev, (int)idx, &id) || (uint32_t)id == UINT32_MAX)
			break;
		if (strstr(evtargs_name(c->ev->nr, (int)idx), "gid")) {
			name = evctx_group_name(c->ec, (uint32_t)id);
		} else {
			const struct user_entry *u = evctx_user(c->ec, (uint32_t)id);

			name = u ? u->name : NULL;
		}
		if (name)
			return v_cstr(out, name);
		break;
	}
	default:
		break;
	}
	if (evtargs_render(c->ev, (int)idx, &sb)) {
		sb_release(&sb);
		return MISSING;
	}
	rc = v_str(out, arena_strdup(&c->arena, sb.buf ? sb.buf : "", sb.len), sb.len);
	sb_release(&sb);
	return rc;
}

static int ex_evt_args(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	struct strbuf sb = STRBUF_INIT;
	int rc;

	(void)f;
	if (!is_syscall(c))
		return MISSING;
	evtargs_render_all(c->ev, &sb);
	rc = v_str(out, arena_strdup(&c->arena, sb.buf ? sb.buf : "", sb.len), sb.len);
	sb_release(&sb);
	return rc;
}

/* ---- dispatch ---- */

static const struct extractor extractors[] = {
    {"evt.num", ex_evt_num},
    {"evt.time", ex_evt_time},
    {"evt.time.s", ex_evt_time},
    {"evt.time.iso8601", ex_evt_time},
    {"evt.datetime", ex_evt_time},
    {"evt.rawtime", ex_evt_rawtime},
    {"evt.rawtime.s", ex_evt_rawtime},
    {"evt.rawtime.ns", ex_evt_rawtime},
    {"evt.reltime", ex_evt_reltime},
    {"evt.type", ex_evt_type},
    {"evt.dir", ex_evt_dir},
    {"evt.latency", ex_missing}, /* only exits are delivered */
    {"evt.cpu", ex_missing},     /* not recorded */
    {"evt.args", ex_evt_args},
    {"evt.arg", ex_evt_arg},
    {"evt.rawarg", ex_evt_arg},
    {"evt.res", ex_evt_res},
    {"evt.rawres", ex_evt_rawres},
    {"evt.failed", ex_evt_failed},
    {"evt.is_open_read", ex_evt_is_open_read},
    {"evt.is_open_write", ex_evt_is_open_write},
    {"evt.is_open_exec", ex_evt_is_open_exec},
    {"evt.is_open_create", ex_evt_is_open_create},
    {"evt.buffer", ex_missing}, /* I/O buffers are not captured */
    {"evt.buflen", ex_missing},
    {"evt.category", ex_evt_category},
    {"evt.hostname", ex_evt_hostname},
    {"evt.source", ex_evt_source},
    {"evt.pluginname", ex_missing}, /* no plugins */
};

#define N_EXTRACTORS (sizeof(extractors) / sizeof(extractors[0]))

static extract_fn *by_index; /* by registry index */
static size_t n_fields;

static void build_dispatch(void)
{
	const struct field_def *tab = fields_table(&n_fields);

	by_index = calloc(n_fields, sizeof(*by_index));
	if (!by_index)
		abort();
	for (size_t i = 0; i < n_fields; i++) {
		for (size_t k = 0; k < N_EXTRACTORS && !by_index[i]; k++)
			if (!strcmp(tab[i].name, extractors[k].name))
				by_index[i] = extractors[k].fn;
		for (size_t k = 0; k < extract_state_table_len && !by_index[i]; k++)
			if (!strcmp(tab[i].name, extract_state_table[k].name))
				by_index[i] = extract_state_table[k].fn;
		/* Container and Kubernetes fields the runtimes' state does not give (mounts,
		 * labels, IPs, start time): missing (docs/containers.md). */
		if (!by_index[i] &&
		    (!strncmp(tab[i].name, "container.", 10) || !strncmp(tab[i].name, "k8s.", 4)))
			by_index[i] = ex_missing;
	}
}

const char *extract_missing_field(size_t *index)
{
	const struct field_def *tab;

	if (!by_index)
		build_dispatch();
	tab = fields_table(&n_fields);
	for (size_t i = index ? *index : 0; i < n_fields; i++)
		if (!by_index[i]) {
			if (index)
				*index = i + 1;
			return tab[i].name;
		}
	return NULL;
}

int extract_field(void *ctx, const struct vm_field *f, struct vm_value *out)
{
	struct extract_ctx *c = ctx;
	size_t i;

	if (!by_index)
		build_dispatch();
	i = (size_t)(f->def - fields_table(&n_fields));
	if (i >= n_fields || !by_index[i])
		return MISSING;
	return by_index[i](c, f, out);
}
