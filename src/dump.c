#include "dump.h"

#include <stdio.h>
#include <string.h>

#include <cJSON.h>

#include "evtargs.h"
#include "flags.h"
#include "syscall_ids.h"
#include "syscalls.h"
#include "timeutil.h"

/* An argument as both formats need it. Text values live in a side buffer (by offset and
 * length, since the buffer may move as it grows). */
enum arg_kind {
	ARG_INT,  /* a number: JSON number; text: its symbolic form if it has one (0640) */
	ARG_HEX,  /* unsigned number shown in hex (raw registers, pointers) */
	ARG_SYM,  /* symbolic text (flag names, addresses): a JSON string */
	ARG_STR,  /* bytes from the traced process: escaped */
	ARG_LIST, /* NUL-separated strings (argv) */
};

struct arg {
	const char *name;
	enum arg_kind kind;
	int64_t num;
	const uint8_t *p; /* ARG_STR, ARG_LIST */
	size_t len;
	size_t sym_off, sym_len; /* ARG_SYM, and ARG_INT's text form if sym_len */
};

#define MAX_ARGS 24

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

/* Starts a symbolic argument: the caller appends its text to l->sym, then calls
 * arg_sym_end. */
static struct arg *arg_sym_begin(struct arglist *l, const char *name, enum arg_kind kind)
{
	struct arg *a = arg_add(l, name, kind);

	a->sym_off = l->sym.len;
	return a;
}

static void arg_sym_end(struct arglist *l, struct arg *a)
{
	a->sym_len = l->sym.len - a->sym_off;
}

static const char *arg_sym(const struct arglist *l, const struct arg *a)
{
	return l->sym.buf ? l->sym.buf + a->sym_off : "";
}

/* A string blob, up to its first NUL (the kernel side counts the terminator). */
static void arg_str(struct arglist *l, const char *name, const struct blob *b)
{
	struct arg *a = arg_add(l, name, ARG_STR);
	const uint8_t *nul = b->len ? memchr(b->p, '\0', b->len) : NULL;

	a->p = b->p;
	a->len = nul ? (size_t)(nul - b->p) : b->len;
}

static void arg_list(struct arglist *l, const char *name, const struct blob *b)
{
	struct arg *a = arg_add(l, name, ARG_LIST);

	a->p = b->p;
	a->len = b->len;
}

/* A socket tuple as three arguments: socktype, local, remote. */
static void add_tuple(struct arglist *l, const struct blob *b)
{
	struct sk_sock_tuple t;
	struct arg *a;

	if (b->len != sizeof(t))
		return;
	memcpy(&t, b->p, sizeof(t));
	a = arg_sym_begin(l, "socktype", ARG_SYM);
	sb_adds(&l->sym, sock_type_name(t.type));
	arg_sym_end(l, a);
	a = arg_sym_begin(l, "local", ARG_SYM);
	evtargs_tuple_end(&l->sym, &t, true);
	arg_sym_end(l, a);
	a = arg_sym_begin(l, "remote", ARG_SYM);
	evtargs_tuple_end(&l->sym, &t, false);
	arg_sym_end(l, a);
}

/* Every argument the schema (evtargs.h) knows, under its name; values the event does not
 * carry are left out. The exec family's filename and argv come, on success, from the
 * process table, which the exec record just before has updated. */
static void syscall_args(struct arglist *l, const struct event *ev, const struct proc *p)
{
	unsigned n = evtargs_count(ev->nr);

	if (!evtargs_known(ev->nr)) {
		static const char *const regs[6] = {"arg0", "arg1", "arg2", "arg3", "arg4", "arg5"};

		for (int i = 0; i < 6; i++)
			arg_hex(l, regs[i], ev->args[i]);
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		const char *name = evtargs_name(ev->nr, (int)i);
		int type = evtargs_type(ev->nr, (int)i);
		int blob = -1;
		uint64_t v;
		struct arg *a;

		switch (type) {
		case EAT_PATH:
		case EAT_ARGV:
		case EAT_TUPLE:
			blob = evtargs_blob(ev->nr, (int)i);
			if (blob >= 0 && !ev->blob[blob].len)
				blob = -1;
			if (blob < 0) {
				if ((ev->nr == SK_NR_execve || ev->nr == SK_NR_execveat) &&
				    ev->ret >= 0 && p && p->filename) {
					struct blob fn = {(const uint8_t *)p->filename,
							  (uint32_t)strlen(p->filename)};
					struct blob av = {(const uint8_t *)p->args,
							  (uint32_t)p->args_len};

					if (type == EAT_PATH)
						arg_str(l, name, &fn);
					else if (type == EAT_ARGV)
						arg_list(l, name, &av);
				}
				continue;
			}
			if (type == EAT_PATH)
				arg_str(l, name, &ev->blob[blob]);
			else if (type == EAT_ARGV)
				arg_list(l, name, &ev->blob[blob]);
			else
				add_tuple(l, &ev->blob[blob]);
			continue;
		case EAT_FD:
		case EAT_INT:
		case EAT_LONG:
		case EAT_UINT:
		case EAT_UID:
		case EAT_MODE:
			if (evtargs_raw(ev, (int)i, &v))
				continue;
			a = arg_sym_begin(l, name, ARG_INT);
			a->num = type == EAT_UID && v == UINT32_MAX ? -1 : (int64_t)v;
			evtargs_render(ev, (int)i, &l->sym);
			arg_sym_end(l, a);
			continue;
		case EAT_HEX:
			if (evtargs_raw(ev, (int)i, &v) == 0)
				arg_hex(l, name, v);
			continue;
		default:
			/* dirfds, flags, named values, sockaddrs: text */
			a = arg_sym_begin(l, name, ARG_SYM);
			if (evtargs_render(ev, (int)i, &l->sym)) {
				l->n--;
				continue;
			}
			arg_sym_end(l, a);
			continue;
		}
	}
}

static void arg_time(struct arglist *l, const char *name, uint64_t epoch_ns)
{
	struct arg *a = arg_sym_begin(l, name, ARG_SYM);
	char when[40];

	time_format_iso(epoch_ns, when, sizeof(when));
	sb_adds(&l->sym, when);
	arg_sym_end(l, a);
}

/* The rest of the exec record: session and ids, capabilities, the executable's inode. */
static void exec_args(struct arglist *l, const struct sk_exec_ev *x)
{
	struct arg *a;

	arg_int(l, "tty", x->tty);
	arg_int(l, "sid", x->sid);
	arg_int(l, "pgid", x->pgid);
	arg_int(l, "vpid", x->vpid);
	arg_int(l, "vpgid", x->vpgid);
	arg_int(l, "pidns_ino", x->pidns_ino);
	arg_hex(l, "cap_effective", x->cap_effective);
	arg_hex(l, "cap_permitted", x->cap_permitted);
	arg_hex(l, "cap_inheritable", x->cap_inheritable);
	arg_int(l, "exe_ino", (int64_t)x->exe_ino);
	a = arg_sym_begin(l, "exe_mode", ARG_INT);
	a->num = x->exe_mode;
	sb_addf(&l->sym, "0%o", x->exe_mode);
	arg_sym_end(l, a);
	arg_int(l, "exe_uid", x->exe_uid);
	arg_int(l, "exe_gid", x->exe_gid);
	a = arg_sym_begin(l, "exe_flags", ARG_SYM);
	flags_render(&l->sym, FLAGS_EXE, x->exe_flags);
	arg_sym_end(l, a);
	arg_time(l, "exe_ctime", x->exe_ctime_ns);
	arg_time(l, "exe_mtime", x->exe_mtime_ns);
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
		exec_args(l, ev->exec);
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
			if (a->sym_len)
				sb_add(sb, arg_sym(l, a), a->sym_len);
			else
				sb_addf(sb, "%lld", (long long)a->num);
			break;
		case ARG_HEX:
			sb_addf(sb, "0x%llx", (unsigned long long)a->num);
			break;
		case ARG_SYM:
			sb_add_cescaped(sb, arg_sym(l, a), a->sym_len);
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
			v = dump_json_string((const uint8_t *)arg_sym(l, a), a->sym_len);
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
	const struct proc *p = procs ? proc_table_lookup(procs, ev->pid, ev->tid) : NULL;
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
