#include "decode.h"

#include <string.h>

#include "syscalls.h"

static const size_t fixed_size[SK_EV_MAX] = {
    [SK_EV_SYSCALL] = sizeof(struct sk_syscall_ev),
    [SK_EV_FORK] = sizeof(struct sk_fork_ev),
    [SK_EV_EXEC] = sizeof(struct sk_exec_ev),
    [SK_EV_EXIT] = sizeof(struct sk_exit_ev),
};

const char *decode_error_name(enum decode_error e)
{
	static const char *const names[DECODE_NERRORS] = {
	    [DECODE_OK] = "ok",
	    [DECODE_SHORT] = "short",
	    [DECODE_SIZE] = "size_mismatch",
	    [DECODE_ABI] = "abi_version",
	    [DECODE_TYPE] = "unknown_type",
	    [DECODE_BLOBS] = "bad_blob_length",
	    [DECODE_BLOB_SPEC] = "blob_against_spec",
	};
	return (unsigned)e < DECODE_NERRORS ? names[e] : "?";
}

/* Whether a blob of len bytes is one the rule can produce (0 is always allowed: nothing
 * read, or not on this outcome). Downstream code may then rely on fixed sizes. */
static bool blob_allowed(const struct sk_blob_rule *r, uint32_t len)
{
	if (len == 0)
		return true;
	switch (r->kind) {
	case SK_BK_STR:
		return len <= SK_PATH_MAX;
	case SK_BK_MEM:
		return len == r->size;
	case SK_BK_SOCKADDR:
	case SK_BK_SOCKADDR_OUT:
	case SK_BK_MSG_NAME:
		return len <= SK_SOCKADDR_MAX;
	case SK_BK_TUPLE:
	case SK_BK_TUPLE_RET:
		return len == sizeof(struct sk_sock_tuple);
	case SK_BK_ARGV:
		return len <= SK_ARGV_MAX;
	default:
		return false;
	}
}

static enum decode_error fail(struct decode_stats *st, enum decode_error e)
{
	st->errors[e]++;
	return e;
}

enum decode_error decode_record(const void *data, size_t size, struct event *ev,
				struct decode_stats *st)
{
	const uint8_t *p = data;
	struct sk_hdr h;
	size_t off;

	st->records++;
	if (size < sizeof(h))
		return fail(st, DECODE_SHORT);
	memcpy(&h, p, sizeof(h));
	if (h.size != size)
		return fail(st, DECODE_SIZE);
	if (h.abi != SK_ABI_VERSION)
		return fail(st, DECODE_ABI);
	if (h.type == 0 || h.type >= SK_EV_MAX)
		return fail(st, DECODE_TYPE);
	if (size < fixed_size[h.type])
		return fail(st, DECODE_SHORT);

	memset(ev, 0, sizeof(*ev));
	ev->kind = h.type;
	ev->flags = h.flags;
	ev->ts_ns = h.ts_ns;
	ev->pid = h.pid;
	ev->tid = h.tid;
	off = fixed_size[h.type];

	switch (h.type) {
	case SK_EV_SYSCALL: {
		const struct sk_syscall_ev *s = data;
		const struct sk_blob_spec *spec = syscall_blob_spec(s->nr);

		ev->nr = s->nr;
		ev->ret = s->ret;
		memcpy(ev->args, s->args, sizeof(ev->args));
		for (int i = 0; i < 2; i++) {
			if (s->blob_len[i] > size - off)
				return fail(st, DECODE_BLOBS);
			if (!blob_allowed(&spec->b[i], s->blob_len[i]))
				return fail(st, DECODE_BLOB_SPEC);
			ev->blob[i].p = s->blob_len[i] ? p + off : NULL;
			ev->blob[i].len = s->blob_len[i];
			off += s->blob_len[i];
		}
		break;
	}
	case SK_EV_EXEC: {
		const struct sk_exec_ev *x = data;

		ev->exec = x;
		if (x->filename_len > size - off)
			return fail(st, DECODE_BLOBS);
		ev->filename.p = p + off;
		ev->filename.len = x->filename_len;
		off += x->filename_len;
		if (x->argv_len > size - off)
			return fail(st, DECODE_BLOBS);
		ev->argv.p = p + off;
		ev->argv.len = x->argv_len;
		off += x->argv_len;
		/* the environment, when sent, is the rest of the record */
		ev->env.p = size > off ? p + off : NULL;
		ev->env.len = (uint32_t)(size - off);
		off = size;
		break;
	}
	case SK_EV_FORK:
		ev->fork = data;
		break;
	case SK_EV_EXIT:
		ev->exit = data;
		break;
	}
	if (off != size)
		return fail(st, DECODE_BLOBS);
	st->by_kind[h.type]++;
	return DECODE_OK;
}
