#include "dump.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cJSON.h>

#include "flags.h"
#include "syscall_ids.h"
#include "syscalls.h"
#include "timeutil.h"

/* An argument as both formats need it. Text values live in a side buffer (by offset,
 * since the buffer may move as it grows). */
enum arg_kind {
	ARG_INT,  /* signed number */
	ARG_HEX,  /* unsigned number shown in hex (raw registers, pointers) */
	ARG_SYM,  /* symbolic text (flag names, addresses): plain ASCII */
	ARG_STR,  /* bytes from the traced process: escaped */
	ARG_LIST, /* NUL-separated strings (argv) */
};

struct arg {
	const char *name;
	enum arg_kind kind;
	int64_t num;
	const uint8_t *p; /* ARG_STR, ARG_LIST */
	size_t len;
	size_t sym_off; /* ARG_SYM: offset in the side buffer, NUL-terminated */
};

#define MAX_ARGS 10

struct arglist {
	struct arg a[MAX_ARGS];
	unsigned n;
	struct strbuf sym;
};

static struct arg *arg_add(struct arglist *l, const char *name, enum arg_kind kind)
{
	struct arg *a = &l->a[l->n < MAX_ARGS ? l->n++ : MAX_ARGS - 1];

	memset(a, 0, sizeof(*a));
	a->name = name;
	a->kind = kind;
	return a;
}

static void arg_int(struct arglist *l, const char *name, int64_t v)
{
	arg_add(l, name, ARG_INT)->num = v;
}

static void arg_hex(struct arglist *l, const char *name, uint64_t v)
{
	arg_add(l, name, ARG_HEX)->num = (int64_t)v;
}

/* Starts a symbolic argument: the caller appends its text to l->sym. */
static void arg_sym_begin(struct arglist *l, const char *name)
{
	struct arg *a = arg_add(l, name, ARG_SYM);

	/* Each text ends where the next one's separator starts (the last at the buffer's
	 * own terminator). */
	sb_addc(&l->sym, '\0');
	a->sym_off = l->sym.len;
}

static const char *arg_sym(const struct arglist *l, const struct arg *a)
{
	return l->sym.buf ? l->sym.buf + a->sym_off : "";
}

/* A string blob: drops the terminating NUL the kernel side counted. */
static void arg_str(struct arglist *l, const char *name, const struct blob *b)
{
	struct arg *a = arg_add(l, name, ARG_STR);
	size_t len = b->len;

	if (len && b->p[len - 1] == '\0')
		len--;
	a->p = b->p;
	a->len = len;
}

static void arg_list(struct arglist *l, const char *name, const struct blob *b)
{
	struct arg *a = arg_add(l, name, ARG_LIST);

	a->p = b->p;
	a->len = b->len;
}

static void sockaddr_render(struct strbuf *sb, const struct blob *b)
{
	uint16_t family;
	char ip[INET6_ADDRSTRLEN];

	if (b->len < sizeof(family)) {
		sb_adds(sb, "<none>");
		return;
	}
	memcpy(&family, b->p, sizeof(family));
	if (family == AF_INET && b->len >= sizeof(struct sockaddr_in)) {
		struct sockaddr_in sin;

		memcpy(&sin, b->p, sizeof(sin));
		inet_ntop(AF_INET, &sin.sin_addr, ip, sizeof(ip));
		sb_addf(sb, "%s:%u", ip, ntohs(sin.sin_port));
	} else if (family == AF_INET6 && b->len >= sizeof(struct sockaddr_in6)) {
		struct sockaddr_in6 sin6;

		memcpy(&sin6, b->p, sizeof(sin6));
		inet_ntop(AF_INET6, &sin6.sin6_addr, ip, sizeof(ip));
		sb_addf(sb, "[%s]:%u", ip, ntohs(sin6.sin6_port));
	} else if (family == AF_UNIX) {
		const uint8_t *path = b->p + sizeof(family);
		size_t len = b->len - sizeof(family);

		sb_adds(sb, "unix:");
		/* An abstract socket's name starts with a NUL byte: shown with a leading '@'. */
		if (len && path[0] == '\0') {
			sb_addc(sb, '@');
			path++;
			len--;
		} else {
			len = strnlen((const char *)path, len);
		}
		sb_add_cescaped(sb, path, len);
	} else {
		sb_addf(sb, "family=%u", family);
	}
}

static void tuple_render(struct strbuf *sb, const struct sk_sock_tuple *t, bool local)
{
	char ip[INET6_ADDRSTRLEN];
	const uint8_t *addr = local ? t->saddr : t->daddr;
	unsigned port = local ? t->sport : t->dport;

	if (t->family == AF_INET) {
		inet_ntop(AF_INET, addr, ip, sizeof(ip));
		sb_addf(sb, "%s:%u", ip, port);
	} else if (t->family == AF_INET6) {
		inet_ntop(AF_INET6, addr, ip, sizeof(ip));
		sb_addf(sb, "[%s]:%u", ip, port);
	} else if (t->family == AF_UNIX) {
		sb_adds(sb, "unix");
	} else {
		sb_addf(sb, "family=%u", t->family);
	}
}

static void add_tuple(struct arglist *l, const struct blob *b)
{
	struct sk_sock_tuple t;

	if (b->len != sizeof(t))
		return;
	memcpy(&t, b->p, sizeof(t));
	arg_sym_begin(l, "socktype");
	sb_adds(&l->sym, sock_type_name(t.type));
	arg_sym_begin(l, "local");
	tuple_render(&l->sym, &t, true);
	arg_sym_begin(l, "remote");
	tuple_render(&l->sym, &t, false);
}

static void syscall_args(struct arglist *l, const struct event *ev, const struct proc *p)
{
	const uint64_t *a = ev->args;

	switch (ev->nr) {
	case SK_NR_open:
		arg_str(l, "path", &ev->blob[0]);
		arg_sym_begin(l, "flags");
		flags_open(&l->sym, a[1]);
		arg_int(l, "mode", (int64_t)(a[2] & 07777));
		break;
	case SK_NR_creat:
		arg_str(l, "path", &ev->blob[0]);
		arg_int(l, "mode", (int64_t)(a[1] & 07777));
		break;
	case SK_NR_openat:
		arg_sym_begin(l, "dirfd");
		flags_dirfd(&l->sym, (int64_t)a[0]);
		arg_str(l, "path", &ev->blob[0]);
		arg_sym_begin(l, "flags");
		flags_open(&l->sym, a[2]);
		arg_int(l, "mode", (int64_t)(a[3] & 07777));
		break;
	case SK_NR_openat2: {
		uint64_t how[3] = {0, 0, 0};

		arg_sym_begin(l, "dirfd");
		flags_dirfd(&l->sym, (int64_t)a[0]);
		arg_str(l, "path", &ev->blob[0]);
		if (ev->blob[1].len == sizeof(how))
			memcpy(how, ev->blob[1].p, sizeof(how));
		arg_sym_begin(l, "flags");
		flags_open(&l->sym, how[0]);
		arg_int(l, "mode", (int64_t)(how[1] & 07777));
		arg_hex(l, "resolve", how[2]);
		break;
	}
	case SK_NR_close:
		arg_int(l, "fd", (int)a[0]);
		break;
	case SK_NR_execve:
	case SK_NR_execveat:
		if (ev->nr == SK_NR_execveat) {
			arg_sym_begin(l, "dirfd");
			flags_dirfd(&l->sym, (int64_t)a[0]);
		}
		if (ev->ret < 0) {
			arg_str(l, "filename", &ev->blob[0]);
			arg_list(l, "argv", &ev->blob[1]);
		} else if (p && p->exe) {
			/* On success the new image came in the exec record just before, which
			 * the process table holds. */
			struct blob fn = {(const uint8_t *)p->exe, (uint32_t)strlen(p->exe)};
			struct blob av = {(const uint8_t *)p->args, (uint32_t)p->args_len};

			arg_str(l, "filename", &fn);
			arg_list(l, "argv", &av);
		}
		if (ev->nr == SK_NR_execveat) {
			arg_sym_begin(l, "flags");
			flags_at(&l->sym, a[4]);
		}
		break;
	case SK_NR_clone:
		arg_sym_begin(l, "flags");
		flags_clone(&l->sym, a[0]);
		break;
	case SK_NR_clone3: {
		uint64_t fl = 0;

		if (ev->blob[0].len == sizeof(fl))
			memcpy(&fl, ev->blob[0].p, sizeof(fl));
		arg_sym_begin(l, "flags");
		flags_clone(&l->sym, fl);
		break;
	}
	case SK_NR_fork:
	case SK_NR_vfork:
		break;
	case SK_NR_connect:
		arg_int(l, "fd", (int)a[0]);
		arg_sym_begin(l, "addr");
		sockaddr_render(&l->sym, &ev->blob[0]);
		add_tuple(l, &ev->blob[1]);
		break;
	case SK_NR_accept:
	case SK_NR_accept4:
		arg_int(l, "fd", (int)a[0]);
		if (ev->blob[0].len) {
			arg_sym_begin(l, "addr");
			sockaddr_render(&l->sym, &ev->blob[0]);
		}
		if (ev->nr == SK_NR_accept4) {
			arg_sym_begin(l, "flags");
			flags_accept4(&l->sym, a[3]);
		}
		add_tuple(l, &ev->blob[1]);
		break;
	default: {
		static const char *const regs[6] = {"arg0", "arg1", "arg2", "arg3", "arg4", "arg5"};

		for (int i = 0; i < 6; i++)
			arg_hex(l, regs[i], a[i]);
	}
	}
}

static void event_args(struct arglist *l, const struct event *ev, const struct proc *p)
{
	switch (ev->kind) {
	case SK_EV_SYSCALL:
		syscall_args(l, ev, p);
		break;
	case SK_EV_FORK:
		arg_int(l, "child_pid", ev->fork->child_pid);
		arg_int(l, "child_tid", ev->fork->child_tid);
		arg_int(l, "child_ppid", ev->fork->child_ppid);
		arg_int(l, "thread", (ev->fork->flags & SK_FORK_THREAD) != 0);
		break;
	case SK_EV_EXEC:
		arg_str(l, "filename", &ev->filename);
		arg_list(l, "argv", &ev->argv);
		arg_int(l, "old_tid", ev->exec->old_tid);
		arg_int(l, "uid", ev->exec->uid);
		arg_int(l, "euid", ev->exec->euid);
		arg_int(l, "loginuid", (int32_t)ev->exec->loginuid);
		arg_int(l, "cgroup_id", (int64_t)ev->exec->cgroup_id);
		break;
	case SK_EV_EXIT:
		arg_int(l, "status", ev->exit->exit_code >> 8 & 0xff);
		arg_int(l, "signal", ev->exit->exit_code & 0x7f);
		arg_int(l, "group_dead", (ev->exit->flags & SK_EXIT_GROUP_DEAD) != 0);
		break;
	}
}

const char *dump_event_name(const struct event *ev, char *buf, size_t cap)
{
	const char *name;

	switch (ev->kind) {
	case SK_EV_FORK:
		return "sched_process_fork";
	case SK_EV_EXEC:
		return "sched_process_exec";
	case SK_EV_EXIT:
		return "sched_process_exit";
	default:
		name = syscall_name(ev->nr);
		if (name)
			return name;
		snprintf(buf, cap, "syscall_%u", ev->nr);
		return buf;
	}
}

/* Iterates the NUL-separated strings of an argv blob. */
static size_t list_next(const uint8_t *p, size_t len, size_t off, size_t *item_len)
{
	const uint8_t *end = memchr(p + off, '\0', len - off);

	*item_len = end ? (size_t)(end - (p + off)) : len - off;
	return off + *item_len + 1;
}

static void text_line(struct strbuf *sb, const struct event *ev, const struct arglist *l,
		      const char *name, const char *when, uint32_t ppid, const char *comm)
{
	sb_addf(sb, "%s pid=%u tid=%u ppid=%u comm=", when, ev->pid, ev->tid, ppid);
	sb_add_cescaped(sb, comm, strlen(comm));
	sb_addf(sb, " %s(", name);
	for (unsigned i = 0; i < l->n; i++) {
		const struct arg *a = &l->a[i];

		sb_addf(sb, "%s%s=", i ? ", " : "", a->name);
		switch (a->kind) {
		case ARG_INT:
			sb_addf(sb, "%lld", (long long)a->num);
			break;
		case ARG_HEX:
			sb_addf(sb, "0x%llx", (unsigned long long)a->num);
			break;
		case ARG_SYM:
			sb_adds(sb, arg_sym(l, a));
			break;
		case ARG_STR:
			sb_addc(sb, '"');
			sb_add_cescaped(sb, a->p, a->len);
			sb_addc(sb, '"');
			break;
		case ARG_LIST:
			sb_addc(sb, '[');
			for (size_t off = 0, n; off < a->len;) {
				size_t next = list_next(a->p, a->len, off, &n);

				sb_addf(sb, "%s\"", off ? ", " : "");
				sb_add_cescaped(sb, a->p + off, n);
				sb_addc(sb, '"');
				off = next;
			}
			sb_addc(sb, ']');
			break;
		}
	}
	sb_addc(sb, ')');
	if (ev->kind == SK_EV_SYSCALL) {
		const char *en = ev->ret < 0 ? errno_name((int)-ev->ret) : NULL;

		sb_addf(sb, " = %lld", (long long)ev->ret);
		if (en)
			sb_addf(sb, " %s", en);
	}
	if (ev->flags & SK_F_TRUNC)
		sb_adds(sb, " [truncated]");
	if (ev->flags & SK_F_READ_FAIL)
		sb_adds(sb, " [read_failed]");
}

cJSON *dump_json_string(const void *p, size_t len)
{
	struct strbuf tmp = STRBUF_INIT;
	cJSON *s;

	sb_add_utf8_sanitized(&tmp, p, len);
	s = cJSON_CreateString(tmp.buf ? tmp.buf : "");
	sb_release(&tmp);
	return s;
}

static void json_line(struct strbuf *sb, const struct event *ev, const struct arglist *l,
		      const char *name, const char *when, uint32_t ppid, const char *comm)
{
	cJSON *root = cJSON_CreateObject(), *args = cJSON_CreateObject();
	char *out;

	cJSON_AddStringToObject(root, "time", when);
	cJSON_AddNumberToObject(root, "ts", (double)ev->ts_ns);
	cJSON_AddNumberToObject(root, "pid", ev->pid);
	cJSON_AddNumberToObject(root, "tid", ev->tid);
	cJSON_AddNumberToObject(root, "ppid", ppid);
	cJSON_AddItemToObject(root, "comm", dump_json_string((const uint8_t *)comm, strlen(comm)));
	cJSON_AddStringToObject(root, "event", name);
	for (unsigned i = 0; i < l->n; i++) {
		const struct arg *a = &l->a[i];
		cJSON *v = NULL;

		switch (a->kind) {
		case ARG_INT:
		case ARG_HEX:
			/* JSON numbers are doubles: registers above 2^53 go as hex strings. */
			if (a->kind == ARG_INT || (uint64_t)a->num < (1ull << 53)) {
				v = cJSON_CreateNumber((double)a->num);
			} else {
				char hex[24];

				snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)a->num);
				v = cJSON_CreateString(hex);
			}
			break;
		case ARG_SYM:
			v = dump_json_string((const uint8_t *)arg_sym(l, a), strlen(arg_sym(l, a)));
			break;
		case ARG_STR:
			v = dump_json_string(a->p, a->len);
			break;
		case ARG_LIST:
			v = cJSON_CreateArray();
			for (size_t off = 0, n; off < a->len;) {
				size_t next = list_next(a->p, a->len, off, &n);

				cJSON_AddItemToArray(v, dump_json_string(a->p + off, n));
				off = next;
			}
			break;
		}
		cJSON_AddItemToObject(args, a->name, v);
	}
	cJSON_AddItemToObject(root, "args", args);
	if (ev->kind == SK_EV_SYSCALL) {
		const char *en = ev->ret < 0 ? errno_name((int)-ev->ret) : NULL;

		cJSON_AddNumberToObject(root, "ret", (double)ev->ret);
		if (en)
			cJSON_AddStringToObject(root, "errno", en);
	}
	if (ev->flags) {
		cJSON *fl = cJSON_AddArrayToObject(root, "flags");

		if (ev->flags & SK_F_TRUNC)
			cJSON_AddItemToArray(fl, cJSON_CreateString("truncated"));
		if (ev->flags & SK_F_READ_FAIL)
			cJSON_AddItemToArray(fl, cJSON_CreateString("read_failed"));
	}
	out = cJSON_PrintUnformatted(root);
	if (out)
		sb_adds(sb, out);
	cJSON_free(out);
	cJSON_Delete(root);
}

void dump_event(struct strbuf *sb, const struct event *ev, const struct proc_table *procs,
		enum dump_format fmt)
{
	struct arglist l = {.n = 0, .sym = STRBUF_INIT};
	const struct proc *p = procs ? proc_table_get(procs, ev->tid) : NULL;
	char when[40], namebuf[24];
	const char *name = dump_event_name(ev, namebuf, sizeof(namebuf));
	const char *comm = p ? p->comm : "<NA>";
	uint32_t ppid = p ? p->ppid : 0;

	time_format_iso(time_boot_to_wall(ev->ts_ns), when, sizeof(when));
	event_args(&l, ev, p);
	sb_reset(sb);
	if (fmt == DUMP_JSON)
		json_line(sb, ev, &l, name, when, ppid, comm);
	else
		text_line(sb, ev, &l, name, when, ppid, comm);
	sb_release(&l.sym);
}
