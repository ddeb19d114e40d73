/* Extractors of the fields that come from the state tables: proc.*, thread.*, user.*,
 * group.*, fd.*, fs.path.*, and the container and Kubernetes fields (container.h; for
 * host processes: container.id and container.name "host", the rest missing). */
#include <arpa/inet.h>
#include <stdlib.h>

#include "extract_impl.h"
#include "fields.h"
#include "pathutil.h"
#include "state.h"
#include "strbuf.h"
#include "timeutil.h"

/* ---- helpers ---- */

static struct proc *cur_proc(const struct extract_ctx *c)
{
	return c->ec ? c->ec->proc : NULL;
}

/* The argument of a field as a level or index; -1 when there is none. */
static long arg_index(const struct vm_field *f)
{
	char *end;
	long n;

	if (!f->arg)
		return -1;
	n = strtol(f->arg, &end, 10);
	return (*end || n < 0) ? -1 : n;
}

/* argv[from..] joined by spaces, into the arena. */
static int join_args(struct extract_ctx *c, const struct proc *p, unsigned from,
		     const char *prefix, struct vm_value *out)
{
	size_t cap = (prefix ? strlen(prefix) + 1 : 0) + p->args_len + 1, n = 0;
	char *buf = arena_alloc(&c->arena, cap);
	unsigned idx = 0;

	if (prefix) {
		n = strlen(prefix);
		memcpy(buf, prefix, n);
	}
	for (size_t i = 0; p->args && i < p->args_len;) {
		size_t len = strnlen(p->args + i, p->args_len - i);

		if (idx >= from) {
			if (n)
				buf[n++] = ' ';
			memcpy(buf + n, p->args + i, len);
			n += len;
		}
		idx++;
		i += len + 1;
	}
	buf[n] = 0;
	return v_str(out, buf, n);
}

/* argv[k] of p, or NULL. */
static const char *argv_at(const struct proc *p, unsigned k, size_t *len)
{
	unsigned idx = 0;

	for (size_t i = 0; p->args && i < p->args_len;) {
		size_t l = strnlen(p->args + i, p->args_len - i);

		if (idx++ == k) {
			*len = l;
			return p->args + i;
		}
		i += l + 1;
	}
	return NULL;
}

static unsigned argc_of(const struct proc *p)
{
	unsigned n = 0;

	for (size_t i = 0; p->args && i < p->args_len; n++)
		i += strnlen(p->args + i, p->args_len - i) + 1;
	return n;
}

/* proc.cmdline of p: comm then the arguments. */
static int cmdline_of(struct extract_ctx *c, const struct proc *p, struct vm_value *out)
{
	return join_args(c, p, 1, p->comm, out);
}

/* A value for one process, by which of the per-process string fields is asked. */
enum pfield {
	PF_NAME,
	PF_EXE,
	PF_EXEPATH,
	PF_CMDLINE,
	PF_PID,
	PF_ENV,
};

static int env_value(struct extract_ctx *c, struct proc *p, const char *name,
		     struct vm_value *out)
{
	size_t len, nlen = name ? strlen(name) : 0;
	const char *env = evctx_env(c->ec, p, &len);

	if (!env)
		return MISSING;
	if (!name) {
		char *buf = arena_alloc(&c->arena, len + 1);
		size_t n = 0;

		for (size_t i = 0; i < len;) {
			size_t l = strnlen(env + i, len - i);

			if (n)
				buf[n++] = ' ';
			memcpy(buf + n, env + i, l);
			n += l;
			i += l + 1;
		}
		buf[n] = 0;
		return v_str(out, buf, n);
	}
	for (size_t i = 0; i < len;) {
		size_t l = strnlen(env + i, len - i);

		if (l > nlen && !memcmp(env + i, name, nlen) && env[i + nlen] == '=')
			return v_str(out, env + i + nlen + 1, l - nlen - 1);
		i += l + 1;
	}
	return MISSING;
}

static int proc_value(struct extract_ctx *c, struct proc *p, enum pfield which,
		      const char *env_name, struct vm_value *out)
{
	switch (which) {
	case PF_NAME:
		return v_cstr(out, p->comm);
	case PF_EXE:
		return v_cstr(out, p->exe);
	case PF_EXEPATH:
		return v_cstr(out, p->exepath);
	case PF_CMDLINE:
		return cmdline_of(c, p, out);
	case PF_PID:
		return v_int(out, p->pid);
	case PF_ENV:
		return env_value(c, p, env_name, out);
	}
	return MISSING;
}

/* proc.aname[N] and friends: level N (1 the parent); without N, every ancestor as an
 * "any of" list. */
static int ancestors(struct extract_ctx *c, const struct vm_field *f, enum pfield which,
		     struct vm_value *out)
{
	long level = arg_index(f);
	struct vm_value *items;
	size_t n = 0;

	if (!cur_proc(c))
		return MISSING;
	if (level >= 0) {
		struct proc *a = level == 0 ? cur_proc(c) : evctx_ancestor(c->ec, (unsigned)level);

		return a ? proc_value(c, a, which, NULL, out) : MISSING;
	}
	items = arena_alloc(&c->arena, PROC_MAX_DEPTH * sizeof(*items));
	for (unsigned l = 1; l <= PROC_MAX_DEPTH; l++) {
		struct proc *a = evctx_ancestor(c->ec, l);

		if (!a)
			break;
		if (proc_value(c, a, which, NULL, &items[n]) == 0)
			n++;
	}
	out->kind = VM_V_LIST;
	out->list.items = items;
	out->list.n = n;
	return 0;
}

/* ---- proc.* ---- */

#define PROC_OR_MISSING(p)                                                                         \
	struct proc *p = cur_proc(c);                                                              \
	if (!p)                                                                                    \
	return MISSING

static int ex_proc_pid(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	(void)f;
	PROC_OR_MISSING(p);
	return v_int(out, p->pid);
}

static int ex_proc_exe(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	(void)f;
	PROC_OR_MISSING(p);
	return v_cstr(out, p->exe);
}

static int ex_proc_name(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	(void)f;
	PROC_OR_MISSING(p);
	return v_cstr(out, p->comm);
}

static int ex_proc_args(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	long k = arg_index(f);
	const char *a;
	size_t len;

	PROC_OR_MISSING(p);
	if (k < 0)
		return join_args(c, p, 1, NULL, out);
	/* proc.args[N]: the Nth argument after argv[0], from 1 */
	a = k > 0 ? argv_at(p, (unsigned)k, &len) : NULL;
	return a ? v_str(out, a, len) : MISSING;
}

static int ex_proc_cmdline(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	(void)f;
	PROC_OR_MISSING(p);
	return cmdline_of(c, p, out);
}

static int ex_proc_cmdnargs(struct extract_ctx *c, const struct vm_field *f,
			    struct vm_value *out)
{
	unsigned n;

	(void)f;
	PROC_OR_MISSING(p);
	n = argc_of(p);
	return v_uint(out, n ? n - 1 : 0);
}

static int ex_proc_cmdlenargs(struct extract_ctx *c, const struct vm_field *f,
			      struct vm_value *out)
{
	size_t total = 0, len;

	(void)f;
	PROC_OR_MISSING(p);
	for (unsigned k = 1; argv_at(p, k, &len); k++)
		total += len;
	return v_uint(out, total);
}

static int ex_proc_exeline(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	(void)f;
	PROC_OR_MISSING(p);
	return join_args(c, p, 1, p->exe ? p->exe : "", out);
}

static int ex_proc_env(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	PROC_OR_MISSING(p);
	return env_value(c, p, f->arg, out);
}

/* proc.cwd ends in '/', as the reference writes it ("/dev/shm/"): rules test it with
 * startswith "/dev/shm/". */
static int ex_proc_cwd(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	size_t len;
	char *s;

	(void)f;
	PROC_OR_MISSING(p);
	if (!p->cwd)
		return MISSING;
	len = strlen(p->cwd);
	if (len && p->cwd[len - 1] == '/')
		return v_str(out, p->cwd, len);
	s = arena_alloc(&c->arena, len + 2);
	memcpy(s, p->cwd, len);
	s[len] = '/';
	s[len + 1] = 0;
	return v_str(out, s, len + 1);
}

static int ex_proc_ppid(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	(void)f;
	PROC_OR_MISSING(p);
	return v_int(out, p->ppid);
}

static int parent_value(struct extract_ctx *c, enum pfield which, struct vm_value *out)
{
	struct proc *a;

	if (!cur_proc(c))
		return MISSING;
	a = evctx_ancestor(c->ec, 1);
	return a ? proc_value(c, a, which, NULL, out) : MISSING;
}

static int ex_proc_pname(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	(void)f;
	return parent_value(c, PF_NAME, out);
}

static int ex_proc_pcmdline(struct extract_ctx *c, const struct vm_field *f,
			    struct vm_value *out)
{
	(void)f;
	return parent_value(c, PF_CMDLINE, out);
}

static int ex_proc_pexe(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	(void)f;
	return parent_value(c, PF_EXE, out);
}

static int ex_proc_pexepath(struct extract_ctx *c, const struct vm_field *f,
			    struct vm_value *out)
{
	(void)f;
	return parent_value(c, PF_EXEPATH, out);
}

static int ex_proc_apid(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	return ancestors(c, f, PF_PID, out);
}

static int ex_proc_aname(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	return ancestors(c, f, PF_NAME, out);
}

static int ex_proc_aexe(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	return ancestors(c, f, PF_EXE, out);
}

static int ex_proc_aexepath(struct extract_ctx *c, const struct vm_field *f,
			    struct vm_value *out)
{
	return ancestors(c, f, PF_EXEPATH, out);
}

static int ex_proc_acmdline(struct extract_ctx *c, const struct vm_field *f,
			    struct vm_value *out)
{
	return ancestors(c, f, PF_CMDLINE, out);
}

static int ex_proc_aenv(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	/* [N]: the environment of ancestor N; without: of the parent */
	long level = arg_index(f);
	struct proc *a;

	if (!cur_proc(c))
		return MISSING;
	a = evctx_ancestor(c->ec, level < 0 ? 1 : (unsigned)level);
	return a ? env_value(c, a, NULL, out) : MISSING;
}

static bool is_shell(const char *comm)
{
	static const char *const shells[] = {"sh",  "bash", "zsh",  "ksh", "csh",
					     "tcsh", "dash", "fish", "ash", "mksh"};

	for (size_t i = 0; i < sizeof(shells) / sizeof(shells[0]); i++)
		if (!strcmp(comm, shells[i]))
			return true;
	return false;
}

static int ex_proc_loginshellid(struct extract_ctx *c, const struct vm_field *f,
				struct vm_value *out)
{
	struct proc *found = NULL;

	(void)f;
	PROC_OR_MISSING(p);
	/* the oldest shell among the process and its ancestors */
	for (unsigned l = 0; l <= PROC_MAX_DEPTH; l++) {
		struct proc *a = l ? evctx_ancestor(c->ec, l) : p;

		if (!a)
			break;
		if (is_shell(a->comm))
			found = a;
	}
	return found ? v_int(out, found->pid) : MISSING;
}

static int ex_proc_duration(struct extract_ctx *c, const struct vm_field *f,
			    struct vm_value *out)
{
	(void)f;
	PROC_OR_MISSING(p);
	if (!p->start_ns || c->ev->ts_ns < p->start_ns)
		return MISSING;
	return v_uint(out, c->ev->ts_ns - p->start_ns);
}

static int ex_proc_exepath(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	(void)f;
	PROC_OR_MISSING(p);
	return v_cstr(out, p->exepath);
}

static int ex_proc_exe_ino(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	const char *which = f->def->name + strlen("proc.exe_ino");

	PROC_OR_MISSING(p);
	if (!(p->flags & PROC_EXE_KNOWN))
		return MISSING;
	if (!*which)
		return v_uint(out, p->exe_ino);
	if (!strcmp(which, ".ctime"))
		return v_uint(out, p->exe_ctime_ns);
	if (!strcmp(which, ".mtime"))
		return v_uint(out, p->exe_mtime_ns);
	/* .ctime_duration_proc_start: from the inode's last change to the process start */
	if (!p->start_ns)
		return MISSING;
	{
		uint64_t start = time_boot_to_wall(p->start_ns);

		return v_uint(out, start > p->exe_ctime_ns ? start - p->exe_ctime_ns : 0);
	}
}

static int ex_proc_is_exe_writable(struct extract_ctx *c, const struct vm_field *f,
				   struct vm_value *out)
{
	bool w;

	(void)f;
	PROC_OR_MISSING(p);
	if (!(p->flags & PROC_EXE_KNOWN))
		return MISSING;
	w = p->euid == 0 || (p->exe_mode & 02) || (p->euid == p->exe_uid && (p->exe_mode & 0200)) ||
	    (p->egid == p->exe_gid && (p->exe_mode & 020));
	return v_bool(out, w);
}

static int ex_proc_exe_flag(struct extract_ctx *c, const struct vm_field *f,
			    struct vm_value *out)
{
	unsigned flag = strstr(f->def->name, "memfd") ? PROC_EXE_MEMFD : PROC_EXE_UPPER;

	PROC_OR_MISSING(p);
	if (!(p->flags & PROC_EXE_KNOWN))
		return v_bool(out, false);
	return v_bool(out, (p->exe_flags & flag) != 0);
}

static int ex_proc_sid(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	const char *which = f->def->name;
	struct proc *l;

	PROC_OR_MISSING(p);
	if (!strcmp(which, "proc.sid"))
		return v_int(out, p->sid);
	if (!strcmp(which, "proc.is_sid_leader"))
		return v_bool(out, p->sid == p->pid);
	l = proc_table_session_leader(state_procs(c->ec->st), p);
	if (!l)
		return MISSING;
	if (!strcmp(which, "proc.sname"))
		return v_cstr(out, l->comm);
	if (!strcmp(which, "proc.sid.exe"))
		return v_cstr(out, l->exe);
	return v_cstr(out, l->exepath);
}

static int ex_proc_tty(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	(void)f;
	PROC_OR_MISSING(p);
	return v_uint(out, p->tty);
}

static int ex_proc_vpid(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	const char *which = f->def->name;

	PROC_OR_MISSING(p);
	if (!strcmp(which, "proc.pvpid")) {
		struct proc *a = evctx_ancestor(c->ec, 1);

		return a && a->vpid ? v_int(out, a->vpid) : MISSING;
	}
	if (!p->vpid)
		return MISSING;
	if (!strcmp(which, "proc.vpid"))
		return v_int(out, p->vpid);
	if (!strcmp(which, "proc.vpgid"))
		return p->vpgid ? v_int(out, p->vpgid) : MISSING;
	return v_bool(out, p->vpgid && p->vpid == p->vpgid); /* is_vpgid_leader */
}

static int ex_proc_nthreads(struct extract_ctx *c, const struct vm_field *f,
			    struct vm_value *out)
{
	(void)f;
	PROC_OR_MISSING(p);
	return v_uint(out, p->nthreads);
}

static int ex_proc_nchilds(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	uint64_t n = 0;

	(void)f;
	PROC_OR_MISSING(p);
	for (const struct proc *k = p->children; k && n < 1000000; k = k->sib_next)
		n++;
	return v_uint(out, n);
}

/* ---- thread.* ---- */

static int ex_thread_tid(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	(void)f;
	return v_int(out, c->ev->tid);
}

static int ex_thread_vtid(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	(void)f;
	if (!c->ec || !c->ec->thread || !c->ec->thread->vtid)
		return MISSING;
	return v_int(out, c->ec->thread->vtid);
}

static int ex_thread_ismain(struct extract_ctx *c, const struct vm_field *f,
			   struct vm_value *out)
{
	(void)f;
	return v_bool(out, c->ev->tid == c->ev->pid);
}

static const char *const cap_names[] = {
    "CAP_CHOWN",	    "CAP_DAC_OVERRIDE",	  "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
    "CAP_FSETID",	    "CAP_KILL",		  "CAP_SETGID",		 "CAP_SETUID",
    "CAP_SETPCAP",	    "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",	    "CAP_NET_RAW",	  "CAP_IPC_LOCK",	 "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",	    "CAP_SYS_RAWIO",	  "CAP_SYS_CHROOT",	 "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",	    "CAP_SYS_ADMIN",	  "CAP_SYS_BOOT",	 "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",	    "CAP_SYS_TIME",	  "CAP_SYS_TTY_CONFIG",	 "CAP_MKNOD",
    "CAP_LEASE",	    "CAP_AUDIT_WRITE",	  "CAP_AUDIT_CONTROL",	 "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",	    "CAP_MAC_ADMIN",	  "CAP_SYSLOG",		 "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",    "CAP_AUDIT_READ",	  "CAP_PERFMON",	 "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

static int ex_thread_caps(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	const char *which = f->def->name + strlen("thread.cap_");
	struct strbuf sb = STRBUF_INIT;
	uint64_t caps;
	int rc;

	PROC_OR_MISSING(p);
	if (!(p->flags & PROC_CAPS_KNOWN))
		return MISSING;
	caps = !strcmp(which, "effective")   ? p->cap_effective
	       : !strcmp(which, "permitted") ? p->cap_permitted
					     : p->cap_inheritable;
	for (unsigned i = 0; i < 64; i++) {
		if (!(caps & (1ull << i)))
			continue;
		if (sb.len)
			sb_addc(&sb, ' ');
		if (i < sizeof(cap_names) / sizeof(cap_names[0]))
			sb_adds(&sb, cap_names[i]);
		else
			sb_addf(&sb, "CAP_%u", i);
	}
	rc = v_str(out, arena_strdup(&c->arena, sb.buf ? sb.buf : "", sb.len), sb.len);
	sb_release(&sb);
	return rc;
}

/* ---- user.*, group.* ---- */

static int ex_user_name(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	const struct user_entry *u;

	(void)f;
	PROC_OR_MISSING(p);
	u = evctx_user(c->ec, p->uid);
	return u ? v_cstr(out, u->name) : MISSING;
}

static int ex_user_uid(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	(void)f;
	PROC_OR_MISSING(p);
	return v_uint(out, p->uid);
}

static int ex_user(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	const char *which = f->def->name + strlen("user.");
	const struct user_entry *u;

	PROC_OR_MISSING(p);
	if (!strcmp(which, "uid"))
		return v_uint(out, p->uid);
	if (!strcmp(which, "loginuid"))
		return v_int(out, p->loginuid == PROC_NO_LOGINUID ? -1 : (int64_t)p->loginuid);
	if (!strcmp(which, "loginname")) {
		if (p->loginuid == PROC_NO_LOGINUID)
			return MISSING;
		u = evctx_user(c->ec, p->loginuid);
		return u ? v_cstr(out, u->name) : MISSING;
	}
	u = evctx_user(c->ec, p->uid);
	if (!u)
		return MISSING;
	if (!strcmp(which, "name"))
		return v_cstr(out, u->name);
	if (!strcmp(which, "homedir"))
		return v_cstr(out, u->home);
	return v_cstr(out, u->shell);
}

static int ex_group(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	PROC_OR_MISSING(p);
	if (!strcmp(f->def->name, "group.gid"))
		return v_uint(out, p->gid);
	return v_cstr(out, evctx_group_name(c->ec, p->gid));
}

/* ---- fd.* ---- */

static const struct fdinfo *cur_fd(const struct extract_ctx *c)
{
	return c->ec ? c->ec->fd : NULL;
}

static bool fd_is_ip(const struct fdinfo *fi)
{
	return fi->type == FD_IPV4 || fi->type == FD_IPV6;
}

static int ex_fd_num(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	(void)f;
	if (!c->ec || (!c->ec->fd && c->ec->fdnum < 0))
		return MISSING;
	return v_int(out, c->ec->fdnum);
}

static int ex_fd_type(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	const struct fdinfo *fi = cur_fd(c);

	(void)f;
	return fi ? v_cstr(out, fd_type_name((enum fd_type)fi->type)) : MISSING;
}

static int ex_fd_typechar(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	/* one static string per type: no allocation per event */
	static char chars[FD_NTYPES][2];
	const struct fdinfo *fi = cur_fd(c);

	(void)f;
	if (!fi || fi->type >= FD_NTYPES)
		return MISSING;
	if (!chars[fi->type][0])
		chars[fi->type][0] = fd_type_char((enum fd_type)fi->type);
	return v_str(out, chars[fi->type], 1);
}

static int ex_fd_name(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	const struct fdinfo *fi = cur_fd(c);

	(void)f;
	return fi ? v_cstr(out, fi->name) : MISSING;
}

static int ex_fd_nameraw(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	const struct fdinfo *fi = cur_fd(c);

	(void)f;
	if (!fi)
		return MISSING;
	return v_cstr(out, fi->nameraw ? fi->nameraw : fi->name);
}

/* fd.directory and fd.filename: files and directories only. */
static const char *fd_path_split(const struct extract_ctx *c, size_t *dir_len)
{
	const struct fdinfo *fi = cur_fd(c);

	if (!fi || (fi->type != FD_FILE && fi->type != FD_DIRECTORY))
		return NULL;
	return path_split(fi->name, strlen(fi->name), dir_len);
}

static int ex_fd_directory(struct extract_ctx *c, const struct vm_field *f,
			   struct vm_value *out)
{
	size_t dlen;

	(void)f;
	if (!fd_path_split(c, &dlen))
		return MISSING;
	return v_str(out, cur_fd(c)->name, dlen);
}

static int ex_fd_filename(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	size_t dlen;
	const char *base = fd_path_split(c, &dlen);

	(void)f;
	return base ? v_cstr(out, base) : MISSING;
}

static int ex_fd_types(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	struct proc *p = cur_proc(c);
	long k = arg_index(f);
	bool seen[FD_NTYPES] = {false};
	struct vm_value *items;
	size_t n = 0, it = 0;
	const struct fd_slot *s;

	if (!p)
		return MISSING;
	if (k >= 0) {
		const struct fdinfo *fi = fd_table_get(&p->fds, (int)k);

		if (!fi)
			return MISSING;
		items = arena_alloc(&c->arena, sizeof(*items));
		v_cstr(&items[0], fd_type_name((enum fd_type)fi->type));
		n = 1;
	} else {
		items = arena_alloc(&c->arena, FD_NTYPES * sizeof(*items));
		while ((s = fd_table_next(&p->fds, &it))) {
			if (s->fi->type >= FD_NTYPES || seen[s->fi->type])
				continue;
			seen[s->fi->type] = true;
			v_cstr(&items[n++], fd_type_name((enum fd_type)s->fi->type));
		}
	}
	out->kind = VM_V_LIST;
	out->list.items = items;
	out->list.n = n;
	return 0;
}

static void ip_value(const struct fdinfo *fi, const uint8_t ip[16], struct vm_value *out)
{
	out->kind = VM_V_IP;
	out->ip.family = fi->type == FD_IPV4 ? AF_INET : AF_INET6;
	out->ip.prefix = 0;
	memset(out->ip.addr, 0, sizeof(out->ip.addr));
	memcpy(out->ip.addr, ip, fi->type == FD_IPV4 ? 4 : 16);
}

/* Which end a field names: l(ocal), r(emote), c(lient), s(erver), or both ("fd.ip"). */
static int fd_end(const struct fdinfo *fi, char which)
{
	bool server = fi->flags & FDI_SERVER;

	switch (which) {
	case 'l':
		return 0;
	case 'r':
		return 1;
	case 'c':
		return server ? 1 : 0;
	case 's':
		return server ? 0 : 1;
	default:
		return -1;
	}
}

static int ex_fd_addr(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	const struct fdinfo *fi = cur_fd(c);
	const char *name = f->def->name + strlen("fd.");
	bool port = strstr(name, "port") != NULL;
	int end;

	if (!fi || !fd_is_ip(fi))
		return MISSING;
	/* "ip", "port", "net" (either end) or "cip", "sport", "lnet", ... */
	end = (!strncmp(name, "ip", 2) || !strncmp(name, "port", 4) || !strncmp(name, "net", 3))
		  ? -1
		  : fd_end(fi, name[0]);
	if (end < 0) {
		struct vm_value *items = arena_alloc(&c->arena, 2 * sizeof(*items));

		for (int e = 0; e < 2; e++) {
			if (port)
				v_uint(&items[e], e ? fi->sock.rport : fi->sock.lport);
			else
				ip_value(fi, e ? fi->sock.rip : fi->sock.lip, &items[e]);
		}
		out->kind = VM_V_LIST;
		out->list.items = items;
		out->list.n = 2;
		return 0;
	}
	if (port)
		return v_uint(out, end ? fi->sock.rport : fi->sock.lport);
	ip_value(fi, end ? fi->sock.rip : fi->sock.lip, out);
	return 0;
}

static int ex_fd_l4proto(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	const struct fdinfo *fi = cur_fd(c);
	const char *s;

	(void)f;
	if (!fi || !fi->l4proto)
		return MISSING;
	s = fd_l4proto_name((enum fd_l4proto)fi->l4proto);
	return s && *s ? v_cstr(out, s) : MISSING;
}

static int ex_fd_sockfamily(struct extract_ctx *c, const struct vm_field *f,
			    struct vm_value *out)
{
	const struct fdinfo *fi = cur_fd(c);

	(void)f;
	if (!fi)
		return MISSING;
	if (fd_is_ip(fi))
		return v_str(out, "ip", 2);
	if (fi->type == FD_UNIX)
		return v_str(out, "unix", 4);
	return MISSING;
}

static int ex_fd_flag(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	const struct fdinfo *fi = cur_fd(c);
	const char *which = f->def->name + strlen("fd.");

	if (!fi)
		return MISSING;
	if (!strcmp(which, "is_server"))
		return fd_is_ip(fi) || fi->type == FD_UNIX ? v_bool(out, fi->flags & FDI_SERVER)
							     : MISSING;
	if (!strcmp(which, "connected"))
		return v_bool(out, (fi->flags & FDI_CONNECTED) != 0);
	return v_bool(out, c->ec->fd_name_changed); /* name_changed */
}

static int ex_fd_dev(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	const struct fdinfo *fi = cur_fd(c);
	const char *which = f->def->name + strlen("fd.");

	if (!fi)
		return MISSING;
	if (!strcmp(which, "ino"))
		return fi->ino ? v_uint(out, fi->ino) : MISSING;
	if (!fi->dev)
		return MISSING;
	if (!strcmp(which, "dev.major"))
		return v_uint(out, fd_dev_major(fi->dev));
	if (!strcmp(which, "dev.minor"))
		return v_uint(out, fd_dev_minor(fi->dev));
	return v_uint(out, fi->dev);
}

/* ---- fs.path.* ---- */

static int ex_fs_path(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	const char *which = f->def->name + strlen("fs.path.");
	bool raw = strstr(which, "raw") != NULL;
	int k = !strncmp(which, "target", 6) ? 1 : 0;
	const char *v;

	if (!c->ec)
		return MISSING;
	if (!strncmp(which, "name", 4) && c->ec->path_raw[1] && !c->ec->path_raw[0])
		k = 1;
	v = raw ? c->ec->path_raw[k] : (c->ec->path_abs[k] ? c->ec->path_abs[k]
							    : c->ec->path_raw[k]);
	return v_cstr(out, v);
}

/* ---- container.*, k8s.* ---- */

/* container.id/full_id from the cgroup layout alone; the rest from the container cache
 * (state_container: looked up in the runtimes' state on first use). Host processes:
 * container.id and container.name say "host", the rest is missing. */
static int ex_container_id(struct extract_ctx *c, const struct vm_field *f,
			   struct vm_value *out)
{
	struct ctr_cgroup cg;

	PROC_OR_MISSING(p);
	if (!p->cgroup) /* not known (an exec into a cgroup gone before it was read) */
		return MISSING;
	if (!container_from_cgroup(p->cgroup, &cg))
		return v_str(out, "host", 4);
	return v_str(out, arena_strdup(&c->arena, cg.id, CTR_ID_LEN),
		     strcmp(f->def->name, "container.full_id") ? 12 : CTR_ID_LEN);
}

static int ex_container(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	const char *n = f->def->name;
	const struct ctr_info *ci;
	const struct ctr_meta *m;
	const char *v = NULL;
	int tri = -1;

	PROC_OR_MISSING(p);
	if (!p->cgroup || !c->ec)
		return MISSING;
	if (!(ci = state_container(c->ec->st, p)))
		return strcmp(n, "container.name") ? MISSING : v_str(out, "host", 4);
	m = &ci->meta;
	if (!strcmp(n, "container.name"))
		v = m->name;
	else if (!strcmp(n, "container.image"))
		v = m->image;
	else if (!strcmp(n, "container.image.repository"))
		v = ci->repo;
	else if (!strcmp(n, "container.image.tag"))
		v = ci->tag;
	else if (!strcmp(n, "container.image.digest"))
		v = ci->digest;
	else if (!strcmp(n, "container.image.id"))
		v = m->image_id;
	else if (!strcmp(n, "container.type"))
		v = m->type ? m->type : container_layout_name(ci->cg.layout);
	else if (!strcmp(n, "k8s.pod.name"))
		v = m->pod_name;
	else if (!strcmp(n, "k8s.ns.name"))
		v = m->pod_ns;
	else if (!strcmp(n, "k8s.pod.uid") || !strcmp(n, "k8s.pod.id"))
		v = m->pod_uid;
	else if (!strcmp(n, "k8s.pod.full_sandbox_id"))
		v = m->sandbox_id;
	else if (!strcmp(n, "k8s.pod.sandbox_id"))
		return m->sandbox_id ? v_str(out,
					     arena_strdup(&c->arena, m->sandbox_id,
							  strnlen(m->sandbox_id, 12)),
					     strnlen(m->sandbox_id, 12))
				     : MISSING;
	else if (!strcmp(n, "container.privileged"))
		tri = m->privileged;
	else if (!strcmp(n, "container.host_pid"))
		tri = m->host_pid;
	else if (!strcmp(n, "container.host_network"))
		tri = m->host_network;
	else
		return MISSING;
	if (f->def->type == FT_BOOL)
		return tri < 0 ? MISSING : v_bool(out, tri == 1);
	/* A copy: a later lookup in this event may evict the entry (a full cache). */
	return v ? v_str(out, arena_strdup(&c->arena, v, strlen(v)), strlen(v)) : MISSING;
}

static int ex_missing(struct extract_ctx *c, const struct vm_field *f, struct vm_value *out)
{
	(void)c;
	(void)f;
	(void)out;
	return MISSING;
}

const struct extractor extract_state_table[] = {
    {"proc.pid", ex_proc_pid},
    {"proc.exe", ex_proc_exe},
    {"proc.name", ex_proc_name},
    {"proc.args", ex_proc_args},
    {"proc.cmdline", ex_proc_cmdline},
    {"proc.cmdnargs", ex_proc_cmdnargs},
    {"proc.cmdlenargs", ex_proc_cmdlenargs},
    {"proc.exeline", ex_proc_exeline},
    {"proc.env", ex_proc_env},
    {"proc.cwd", ex_proc_cwd},
    {"proc.ppid", ex_proc_ppid},
    {"proc.pname", ex_proc_pname},
    {"proc.pcmdline", ex_proc_pcmdline},
    {"proc.pexe", ex_proc_pexe},
    {"proc.pexepath", ex_proc_pexepath},
    {"proc.apid", ex_proc_apid},
    {"proc.aname", ex_proc_aname},
    {"proc.aexe", ex_proc_aexe},
    {"proc.aexepath", ex_proc_aexepath},
    {"proc.acmdline", ex_proc_acmdline},
    {"proc.aenv", ex_proc_aenv},
    {"proc.loginshellid", ex_proc_loginshellid},
    {"proc.duration", ex_proc_duration},
    {"proc.exepath", ex_proc_exepath},
    {"proc.exe_ino", ex_proc_exe_ino},
    {"proc.exe_ino.ctime", ex_proc_exe_ino},
    {"proc.exe_ino.mtime", ex_proc_exe_ino},
    {"proc.exe_ino.ctime_duration_proc_start", ex_proc_exe_ino},
    {"proc.is_exe_writable", ex_proc_is_exe_writable},
    {"proc.is_exe_upper_layer", ex_proc_exe_flag},
    {"proc.is_exe_from_memfd", ex_proc_exe_flag},
    {"proc.sid", ex_proc_sid},
    {"proc.sname", ex_proc_sid},
    {"proc.sid.exe", ex_proc_sid},
    {"proc.sid.exepath", ex_proc_sid},
    {"proc.is_sid_leader", ex_proc_sid},
    {"proc.tty", ex_proc_tty},
    {"proc.vpid", ex_proc_vpid},
    {"proc.pvpid", ex_proc_vpid},
    {"proc.vpgid", ex_proc_vpid},
    {"proc.is_vpgid_leader", ex_proc_vpid},
    {"proc.nthreads", ex_proc_nthreads},
    {"proc.nchilds", ex_proc_nchilds},
    {"thread.tid", ex_thread_tid},
    {"thread.vtid", ex_thread_vtid},
    {"thread.ismain", ex_thread_ismain},
    {"thread.cap_effective", ex_thread_caps},
    {"thread.cap_permitted", ex_thread_caps},
    {"thread.cap_inheritable", ex_thread_caps},
    {"user.uid", ex_user_uid},
    {"user.name", ex_user_name},
    {"user.homedir", ex_user},
    {"user.shell", ex_user},
    {"user.loginuid", ex_user},
    {"user.loginname", ex_user},
    {"group.gid", ex_group},
    {"group.name", ex_group},
    {"fd.num", ex_fd_num},
    {"fd.type", ex_fd_type},
    {"fd.typechar", ex_fd_typechar},
    {"fd.name", ex_fd_name},
    {"fd.nameraw", ex_fd_nameraw},
    {"fd.directory", ex_fd_directory},
    {"fd.filename", ex_fd_filename},
    {"fd.types", ex_fd_types},
    {"fd.ip", ex_fd_addr},
    {"fd.cip", ex_fd_addr},
    {"fd.sip", ex_fd_addr},
    {"fd.lip", ex_fd_addr},
    {"fd.rip", ex_fd_addr},
    {"fd.port", ex_fd_addr},
    {"fd.cport", ex_fd_addr},
    {"fd.sport", ex_fd_addr},
    {"fd.lport", ex_fd_addr},
    {"fd.rport", ex_fd_addr},
    {"fd.net", ex_fd_addr},
    {"fd.cnet", ex_fd_addr},
    {"fd.snet", ex_fd_addr},
    {"fd.lnet", ex_fd_addr},
    {"fd.rnet", ex_fd_addr},
    {"fd.l4proto", ex_fd_l4proto},
    {"fd.sockfamily", ex_fd_sockfamily},
    {"fd.is_server", ex_fd_flag},
    {"fd.connected", ex_fd_flag},
    {"fd.name_changed", ex_fd_flag},
    /* port numbers to service names and addresses to DNS names: not resolved */
    {"fd.proto", ex_missing},
    {"fd.cproto", ex_missing},
    {"fd.sproto", ex_missing},
    {"fd.lproto", ex_missing},
    {"fd.rproto", ex_missing},
    {"fd.cip.name", ex_missing},
    {"fd.sip.name", ex_missing},
    {"fd.lip.name", ex_missing},
    {"fd.rip.name", ex_missing},
    {"fd.dev", ex_fd_dev},
    {"fd.dev.major", ex_fd_dev},
    {"fd.dev.minor", ex_fd_dev},
    {"fd.ino", ex_fd_dev},
    {"fs.path.name", ex_fs_path},
    {"fs.path.nameraw", ex_fs_path},
    {"fs.path.source", ex_fs_path},
    {"fs.path.sourceraw", ex_fs_path},
    {"fs.path.target", ex_fs_path},
    {"fs.path.targetraw", ex_fs_path},
    {"container.id", ex_container_id},
    {"container.full_id", ex_container_id},
    {"container.name", ex_container},
    {"container.image", ex_container},
    {"container.image.repository", ex_container},
    {"container.image.tag", ex_container},
    {"container.image.digest", ex_container},
    {"container.image.id", ex_container},
    {"container.type", ex_container},
    {"container.privileged", ex_container},
    {"container.host_pid", ex_container},
    {"container.host_network", ex_container},
    {"k8s.pod.name", ex_container},
    {"k8s.ns.name", ex_container},
    {"k8s.pod.uid", ex_container},
    {"k8s.pod.id", ex_container},
    {"k8s.pod.sandbox_id", ex_container},
    {"k8s.pod.full_sandbox_id", ex_container},
};

const size_t extract_state_table_len = sizeof(extract_state_table) / sizeof(extract_state_table[0]);
