#include "state.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/close_range.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container.h"
#include "hostread.h"
#include "pathutil.h"
#include "strbuf.h"
#include "syscalls.h"

/* x86-64 syscall ids by name: NR_open, NR_dup2, ... */
enum {
#define SYSCALL(id, name) NR_##name = id,
#include "syscalls.def"
#undef SYSCALL
};

#define CG_CACHE 256 /* power of two */

enum post_action {
	POST_NONE = 0,
	POST_CLOSE,
	POST_CLOSE_RANGE,
	POST_EXIT_THREAD,
	POST_EXIT_GROUP,
};

struct state {
	struct proc_table *procs;
	struct users *users;
	struct fdinfo *scratch;	      /* the stand-in fd of a failed call */
	struct strbuf raw[2], abs[2]; /* evctx.path_raw/path_abs when they need copies */
	struct strbuf tmp;
	uint64_t fd_arg0[SK_BITMAP_WORDS]; /* syscalls whose first argument is an fd */
	/* cgroup id -> path, for processes that exec in another cgroup than they were forked
	 * in (a container runtime moves its child, then execs the container's init). */
	struct {
		uint64_t id;
		char *path;
	} cg[CG_CACHE];
	int cg_mnt_fd;	   /* the cgroup v2 mount, for cgroup ids -> paths; -1 none */
	char *cg_mnt_path; /* where it is mounted */
	struct ctr_cache *ctrs;
	bool ctr_sweep_due;	 /* a container's process ended since the last sweep */
	uint64_t ctr_last_sweep; /* state_housekeeping's clock */
	struct state_stats st;
};

/* Syscalls whose first argument is the fd the event is about. */
static const char fd_first[] =
    "read write close fstat lseek ioctl pread64 pwrite64 readv writev sendfile "
    "connect accept sendto recvfrom sendmsg recvmsg shutdown bind listen getsockname "
    "getpeername setsockopt getsockopt fcntl flock fsync fdatasync ftruncate "
    "getdents fchdir fchmod fchown fstatfs readahead fsetxattr fgetxattr flistxattr "
    "fremovexattr getdents64 fadvise64 epoll_wait epoll_ctl splice tee "
    "sync_file_range fallocate accept4 dup dup2 dup3 preadv pwritev recvmmsg syncfs "
    "sendmmsg setns finit_module copy_file_range preadv2 pwritev2 ";

struct state *state_new(size_t max_procs)
{
	struct state *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->procs = proc_table_new(max_procs);
	st->users = users_new(NULL);
	st->scratch = fdinfo_new(FD_UNKNOWN);
	st->cg_mnt_fd = -1;
	st->ctrs = container_cache_new(STATE_CONTAINERS_DEFAULT);
	if (!st->procs || !st->users || !st->scratch || !st->ctrs) {
		state_free(st);
		return NULL;
	}
	for (const char *n = fd_first; *n;) {
		size_t len = strcspn(n, " ");
		char name[32];
		int id;

		snprintf(name, sizeof(name), "%.*s", (int)len, n);
		id = syscall_id(name);
		if (id >= 0 && id < SK_NR_SYSCALLS)
			st->fd_arg0[id / 64] |= 1ull << (id % 64);
		n += len + (n[len] == ' ');
	}
	return st;
}

void state_free(struct state *st)
{
	if (!st)
		return;
	proc_table_free(st->procs);
	users_free(st->users);
	container_cache_free(st->ctrs);
	if (st->cg_mnt_fd >= 0)
		close(st->cg_mnt_fd);
	free(st->cg_mnt_path);
	fdinfo_put(st->scratch);
	for (int i = 0; i < 2; i++) {
		sb_release(&st->raw[i]);
		sb_release(&st->abs[i]);
	}
	sb_release(&st->tmp);
	for (int i = 0; i < CG_CACHE; i++)
		free(st->cg[i].path);
	free(st);
}

/* The first cgroup2 mount in mountinfo (a hybrid host's /sys/fs/cgroup/unified, a v2
 * host's /sys/fs/cgroup). */
static void find_cgroup2(struct state *st, const char *procfs_root)
{
	char path[4200], line[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/self/mountinfo", procfs_root);
	if (!(f = fopen(path, "re")))
		return;
	while (fgets(line, sizeof(line), f)) {
		char *dash = strstr(line, " - cgroup2 "), *mp = line;

		if (!dash)
			continue;
		for (int i = 0; i < 4 && mp; i++) /* id parent dev root mountpoint */
			if ((mp = strchr(mp, ' ')))
				mp++;
		if (!mp || mp > dash)
			continue;
		*strchrnul(mp, ' ') = '\0';
		st->cg_mnt_fd = open(mp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (st->cg_mnt_fd >= 0)
			st->cg_mnt_path = strdup(mp);
		break;
	}
	fclose(f);
	if (st->cg_mnt_fd >= 0 && !st->cg_mnt_path) {
		close(st->cg_mnt_fd);
		st->cg_mnt_fd = -1;
	}
}

size_t state_seed(struct state *st, const char *procfs_root)
{
	if (st->cg_mnt_fd < 0)
		find_cgroup2(st, procfs_root);
	return proc_table_seed(st->procs, procfs_root);
}

/* The path of cgroup id (the v2 hierarchy's, as bpf_get_current_cgroup_id gives it): the
 * id is the kernfs file handle of the cgroup's directory. Needs CAP_DAC_READ_SEARCH and a
 * cgroup that still exists. Returns a malloc'd path, or NULL. */
static char *cgroup_path_by_id(struct state *st, uint64_t id)
{
	union {
		struct file_handle fh;
		char buf[sizeof(struct file_handle) + sizeof(uint64_t)];
	} h;
	char link[64], target[4096];
	size_t mlen;
	ssize_t n;
	int fd;

	char key[24];
	const void *data;
	size_t dlen;
	char *path;

	/* a replay: what the live daemon found for this id during this event (docs/capture.md) */
	snprintf(key, sizeof(key), "%llx", (unsigned long long)id);
	if (!host_reads_allowed()) {
		if (!hostread_replayed("cgroup.id", key, &data, &dlen) || !dlen)
			return NULL;
		return strndup(data, dlen);
	}
	if (st->cg_mnt_fd < 0)
		return NULL;
	h.fh.handle_bytes = sizeof(uint64_t);
	h.fh.handle_type = 0xfe; /* FILEID_KERNFS */
	memcpy(h.fh.f_handle, &id, sizeof(id));
	fd = open_by_handle_at(st->cg_mnt_fd, &h.fh, O_RDONLY | O_CLOEXEC | O_PATH);
	if (fd < 0) {
		hostread_record("cgroup.id", key, "", 0);
		return NULL;
	}
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	close(fd);
	mlen = strlen(st->cg_mnt_path);
	if (n <= 0 || (size_t)n < mlen || memcmp(target, st->cg_mnt_path, mlen) ||
	    (target[mlen] != '/' && (size_t)n != mlen)) {
		hostread_record("cgroup.id", key, "", 0);
		return NULL;
	}
	target[n] = '\0';
	path = strdup((size_t)n == mlen ? "/" : target + mlen);
	if (path)
		hostread_record("cgroup.id", key, path, strlen(path));
	return path;
}

struct proc_table *state_procs(struct state *st)
{
	return st->procs;
}

struct users *state_users(struct state *st)
{
	return st->users;
}

int state_set_containers(struct state *st, size_t max, const struct ctr_source *src)
{
	struct ctr_cache *c = container_cache_new(max);

	if (!c)
		return -1;
	container_cache_set_source(c, src);
	container_cache_free(st->ctrs);
	st->ctrs = c;
	return 0;
}

struct ctr_cache *state_containers(struct state *st)
{
	return st->ctrs;
}

struct ctr_info *state_container(struct state *st, const struct proc *p)
{
	struct ctr_cgroup cg;

	if (!p || !container_from_cgroup(p->cgroup, &cg))
		return NULL;
	return container_cache_get(st->ctrs, &cg);
}

void state_sweep_containers(struct state *st)
{
	struct ctr_cgroup cg;

	container_cache_begin_sweep(st->ctrs);
	for (struct proc *p = proc_table_next(st->procs, NULL); p;
	     p = proc_table_next(st->procs, p))
		if (container_from_cgroup(p->cgroup, &cg))
			container_cache_keep(st->ctrs, &cg);
	container_cache_end_sweep(st->ctrs);
	st->ctr_sweep_due = false;
}

void state_housekeeping(struct state *st, uint64_t now_ms)
{
	if (st->ctr_sweep_due && container_cache_stats(st->ctrs)->entries &&
	    now_ms - st->ctr_last_sweep >= STATE_SWEEP_INTERVAL_MS) {
		state_sweep_containers(st);
		st->ctr_last_sweep = now_ms;
	}
}

const struct state_stats *state_stats(struct state *st)
{
	uint64_t dropped = proc_table_stats(st->procs)->fds_dropped;

	for (struct proc *p = proc_table_next(st->procs, NULL); p;
	     p = proc_table_next(st->procs, p))
		dropped += p->fds.dropped;
	st->st.fds_dropped = dropped;
	return &st->st;
}

/*
 * Helpers.
 */

/* A blob as a C string: in place when it holds its NUL, else copied into buf. NULL for an
 * empty blob. Stops at the first NUL. */
static const char *blob_str(const struct blob *b, struct strbuf *buf, size_t *len)
{
	size_t n;

	if (!b->p || !b->len)
		return NULL;
	n = strnlen((const char *)b->p, b->len);
	*len = n;
	if (n < b->len)
		return (const char *)b->p;
	sb_reset(buf);
	sb_add(buf, b->p, n);
	return buf->buf;
}

static bool blob_fds(struct state *st, const struct blob *b, int fds[2])
{
	if (b->len != 2 * sizeof(int)) {
		if (b->len)
			st->st.bad_blob++;
		return false;
	}
	memcpy(fds, b->p, 2 * sizeof(int));
	return fds[0] >= 0 && fds[1] >= 0;
}

static bool blob_tuple(struct state *st, const struct blob *b, struct sk_sock_tuple *t)
{
	if (b->len != sizeof(*t)) {
		if (b->len)
			st->st.bad_blob++;
		return false;
	}
	memcpy(t, b->p, sizeof(*t));
	return true;
}

/* A sockaddr blob. */
struct sa {
	int family; /* 0: none */
	uint8_t ip[16];
	uint16_t port;
	const uint8_t *path; /* AF_UNIX: sun_path bytes (abstract: starts with NUL) */
	size_t path_len;
};

static void parse_sockaddr(const struct blob *b, struct sa *sa)
{
	uint16_t fam;

	memset(sa, 0, sizeof(*sa));
	if (b->len < sizeof(fam))
		return;
	memcpy(&fam, b->p, sizeof(fam));
	if (fam == AF_INET && b->len >= 8) {
		memcpy(&sa->port, b->p + 2, 2);
		memcpy(sa->ip, b->p + 4, 4);
	} else if (fam == AF_INET6 && b->len >= 24) {
		memcpy(&sa->port, b->p + 2, 2);
		memcpy(sa->ip, b->p + 8, 16);
	} else if (fam == AF_UNIX) {
		sa->path = b->p + 2;
		sa->path_len = b->len - 2;
		if (sa->path_len && sa->path[0]) /* a path name ends at its NUL */
			sa->path_len = strnlen((const char *)sa->path, sa->path_len);
	} else if (fam != AF_UNSPEC) {
		sa->family = fam;
		return;
	}
	sa->family = fam;
	sa->port = ntohs(sa->port);
}

static enum fd_type fd_type_of_family(int family)
{
	switch (family) {
	case AF_INET:
		return FD_IPV4;
	case AF_INET6:
		return FD_IPV6;
	case AF_UNIX:
		return FD_UNIX;
	case AF_NETLINK:
		return FD_NETLINK;
	default:
		return FD_UNKNOWN;
	}
}

static bool is_ip(const struct fdinfo *fi)
{
	return fi->type == FD_IPV4 || fi->type == FD_IPV6;
}

static uint8_t l4_of(int sock_type, int protocol, int family)
{
	switch (sock_type & 0xf) {
	case SOCK_STREAM:
		return family == AF_INET || family == AF_INET6 ? L4_TCP : L4_NONE;
	case SOCK_DGRAM:
		if (family != AF_INET && family != AF_INET6)
			return L4_NONE;
		return protocol == IPPROTO_ICMP || protocol == IPPROTO_ICMPV6 ? L4_ICMP : L4_UDP;
	case SOCK_RAW:
		return family == AF_INET || family == AF_INET6 ? L4_RAW : L4_NONE;
	default:
		return L4_NONE;
	}
}

/* The kernel's view of a socket (the tuple blob) into fi: family, type, both ends. */
static void sock_from_tuple(struct fdinfo *fi, const struct sk_sock_tuple *tu)
{
	uint8_t type = (uint8_t)fd_type_of_family(tu->family);

	if (tu->type)
		fi->sock_type = (uint8_t)tu->type;
	if (type == FD_IPV4 || type == FD_IPV6) {
		size_t n = type == FD_IPV4 ? 4 : 16;

		memset(&fi->sock, 0, sizeof(fi->sock));
		memcpy(fi->sock.lip, tu->saddr, n);
		memcpy(fi->sock.rip, tu->daddr, n);
		fi->sock.lport = tu->sport;
		fi->sock.rport = tu->dport;
		fd_sock_unmap_v4(&type, &fi->sock);
		if (fi->l4proto == L4_NONE)
			fi->l4proto = l4_of(tu->type, 0, tu->family);
	}
	if (type != FD_UNKNOWN)
		fi->type = type;
}

/* The remote end from a sockaddr (connect, sendto, recvfrom). */
static void sock_remote_from_sa(struct fdinfo *fi, const struct sa *sa)
{
	if (sa->family == AF_INET && fi->type == FD_IPV4) {
		memset(fi->sock.rip, 0, 16);
		memcpy(fi->sock.rip, sa->ip, 4);
		fi->sock.rport = sa->port;
	} else if (sa->family == AF_INET6 && fi->type == FD_IPV6) {
		memcpy(fi->sock.rip, sa->ip, 16);
		fi->sock.rport = sa->port;
	} else if (sa->family == AF_INET6 && fi->type == FD_IPV4 &&
		   !memcmp(sa->ip, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12)) {
		memset(fi->sock.rip, 0, 16);
		memcpy(fi->sock.rip, sa->ip + 12, 4);
		fi->sock.rport = sa->port;
	}
}

static void sock_local_from_sa(struct fdinfo *fi, const struct sa *sa)
{
	if (sa->family == AF_INET && fi->type == FD_IPV4) {
		memset(fi->sock.lip, 0, 16);
		memcpy(fi->sock.lip, sa->ip, 4);
		fi->sock.lport = sa->port;
	} else if (sa->family == AF_INET6 && fi->type == FD_IPV6) {
		memcpy(fi->sock.lip, sa->ip, 16);
		fi->sock.lport = sa->port;
	}
}

/* A unix socket address as a name: the path made absolute, or "@name" when abstract. */
static bool unix_name(struct state *st, struct fdinfo *fi, const struct proc *p,
		      const struct sa *sa)
{
	struct strbuf *b = &st->tmp;

	if (sa->family != AF_UNIX || !sa->path_len)
		return false;
	sb_reset(b);
	if (sa->path[0] == '\0') {
		sb_addc(b, '@');
		sb_add(b, sa->path + 1, sa->path_len - 1);
	} else {
		path_resolve(b, p->cwd, (const char *)sa->path, sa->path_len);
	}
	return fdinfo_set_name(fi, b->buf, b->len);
}

/* The directory a *at syscall's dirfd names: the cwd for AT_FDCWD, else the fd's path. */
static const char *dir_base(const struct proc *p, uint64_t dirfd)
{
	const struct fdinfo *fi;

	if ((int)dirfd == AT_FDCWD)
		return p->cwd;
	fi = fd_table_get(&p->fds, (int)dirfd);
	return fi && fi->name[0] == '/' ? fi->name : NULL;
}

/*
 * Path arguments: which blob is a path, and what it is relative to.
 */
enum path_base {
	PB_NONE = 0,
	PB_CWD,
	PB_ARG0, /* dirfd in args[0] */
	PB_ARG1,
	PB_ARG2,
	PB_RAW, /* not a path (a symlink's target, a mount source): raw only */
};

static void path_bases(unsigned nr, uint8_t b[2])
{
	b[0] = b[1] = PB_NONE;
	switch (nr) {
	case NR_open:
	case NR_creat:
	case NR_chdir:
	case NR_chroot:
	case NR_mkdir:
	case NR_rmdir:
	case NR_unlink:
	case NR_chmod:
	case NR_chown:
	case NR_lchown:
	case NR_truncate:
	case NR_umount2:
	case NR_execve:
		b[0] = PB_CWD;
		break;
	case NR_openat:
	case NR_openat2:
	case NR_mkdirat:
	case NR_unlinkat:
	case NR_fchmodat:
	case NR_fchownat:
	case NR_execveat:
		b[0] = PB_ARG0;
		break;
	case NR_rename:
	case NR_link:
		b[0] = b[1] = PB_CWD;
		break;
	case NR_renameat:
	case NR_renameat2:
	case NR_linkat:
		b[0] = PB_ARG0;
		b[1] = PB_ARG2;
		break;
	case NR_symlink:
		b[0] = PB_RAW;
		b[1] = PB_CWD;
		break;
	case NR_symlinkat:
		b[0] = PB_RAW;
		b[1] = PB_ARG1;
		break;
	case NR_mount:
		b[0] = PB_RAW;
		b[1] = PB_CWD;
		break;
	case NR_memfd_create:
		b[0] = PB_RAW;
		break;
	}
}

static void fill_paths(struct state *st, const struct event *ev, struct evctx *cx)
{
	uint8_t bases[2];

	path_bases(ev->nr, bases);
	for (int i = 0; i < 2; i++) {
		const char *raw, *base = NULL;
		size_t len;

		if (bases[i] == PB_NONE)
			continue;
		raw = blob_str(&ev->blob[i], &st->raw[i], &len);
		if (!raw)
			continue;
		cx->path_raw[i] = raw;
		if (bases[i] == PB_RAW)
			continue;
		if (bases[i] == PB_CWD)
			base = cx->proc->cwd;
		else
			base = dir_base(cx->proc, ev->args[bases[i] - PB_ARG0]);
		sb_reset(&st->abs[i]);
		path_resolve(&st->abs[i], base, raw, len);
		cx->path_abs[i] = st->abs[i].buf;
	}
}

/*
 * The caller.
 */

static struct proc *caller(struct state *st, const struct event *ev, struct evctx *cx, bool create)
{
	struct proc_table *t = st->procs;
	struct thread *th = proc_table_thread(t, ev->tid);
	struct proc *p;

	if (th && th->proc->pid == ev->pid) {
		p = th->proc;
	} else {
		p = proc_table_get(t, ev->pid);
		if (!p && !create)
			return NULL;
		if (!p) {
			st->st.unknown_pid++;
			p = proc_table_seed_one(t, ev->pid, NULL);
			if (!p) {
				p = proc_table_upsert(t, ev->pid);
				if (!p)
					return NULL;
				p->flags |= PROC_PARTIAL;
				st->st.partial++;
			}
		}
		th = proc_table_add_thread(t, p, ev->tid);
		if (th && !th->vtid && p->vpid && p->vpid == p->pid)
			th->vtid = th->tid;
	}
	proc_table_touch(t, p);
	cx->proc = p;
	cx->thread = th;
	return p;
}

/*
 * Lifecycle records.
 */

static void apply_fork(struct state *st, const struct event *ev, struct evctx *cx)
{
	const struct sk_fork_ev *f = ev->fork;
	struct proc_table *t = st->procs;
	struct proc *parent = caller(st, ev, cx, true), *c;
	struct thread *th;

	if (!parent)
		return;
	if (cx->thread)
		cx->thread->last_child = f->child_tid;
	if (f->flags & SK_FORK_THREAD) {
		c = f->child_pid == parent->pid ? parent
						: proc_table_upsert_pinned(t, f->child_pid, parent);
		if (!c)
			return;
		th = proc_table_add_thread(t, c, f->child_tid);
		if (th && c->vpid && c->vpid == c->pid)
			th->vtid = th->tid;
		cx->child = c;
		return;
	}
	c = proc_table_get(t, f->child_pid);
	if (c == parent)
		return; /* a record that makes no sense: keep what we have */
	if (c) {
		/* Seeded while the fork was in flight: the same process, already read. */
		if ((c->flags & PROC_SEEDED) && c->start_ns + 20000000ull >= f->child_start_ns &&
		    c->start_ns <= f->child_start_ns + 20000000ull) {
			cx->child = c;
			return;
		}
		/* Else an entry whose exit we missed, for an earlier process with this pid. */
		proc_table_remove(t, c->pid);
		st->st.pid_reused++;
	}
	/* A thread id still attached elsewhere is stale too: proc_table_add_thread moves it. */
	c = proc_table_upsert_pinned(t, f->child_pid, parent);
	if (!c)
		return;
	proc_inherit(c, parent);
	c->start_ns = f->child_start_ns;
	memcpy(c->comm, f->comm, sizeof(c->comm));
	c->comm[sizeof(c->comm) - 1] = '\0';
	/* In the parent's pid namespace unless the clone made a new one (fixed up at the
	 * clone's exit, which returns the child's pid as the parent sees it). */
	if (parent->vpid && parent->vpid == parent->pid && !(parent->flags & PROC_NEWPIDNS))
		c->vpid = c->pid;
	proc_table_set_ppid(t, c, f->child_ppid);
	if (f->child_tid != f->child_pid)
		proc_table_add_thread(t, c, f->child_tid);
	th = proc_table_thread(t, f->child_tid);
	if (th && c->vpid)
		th->vtid = c->vpid;
	cx->child = c;
}

/* The clone/fork/vfork exit in the parent: the return value is the child's id as the
 * parent's pid namespace sees it, which is the child's own view unless it got a new one. */
static void clone_exit(struct state *st, const struct event *ev, struct evctx *cx)
{
	struct thread *th = cx->thread, *cth;
	uint64_t flags = 0;

	if (ev->ret <= 0 || !th || !th->last_child)
		return;
	if (ev->nr == NR_clone)
		flags = ev->args[0];
	else if (ev->nr == NR_clone3 && ev->blob[0].len == sizeof(flags))
		memcpy(&flags, ev->blob[0].p, sizeof(flags));
	cth = proc_table_thread(st->procs, th->last_child);
	th->last_child = 0;
	if (!cth)
		return;
	if ((flags & CLONE_NEWPID) && !(flags & CLONE_THREAD)) {
		cth->vtid = 1;
		cth->proc->vpid = 1;
		cth->proc->vpgid = 0;
		cth->proc->pidns_ino = 0;
		return;
	}
	if (cx->proc->flags & PROC_NEWPIDNS)
		return;
	cth->vtid = (uint32_t)ev->ret;
	if (cth->tid == cth->proc->pid)
		cth->proc->vpid = (uint32_t)ev->ret;
}

/* Where the fd number starts in an exec filename that names one of the caller's fds:
 * "/dev/fd/N", "/proc/self/fd/N", "/proc/thread-self/fd/N" or "/proc/PID/fd/N" with the
 * caller's pid; 0 for any other path. */
static size_t fd_path_prefix(const struct proc *p, const char *fn, size_t len)
{
	static const char *const fixed[] = {"/dev/fd/", "/proc/self/fd/", "/proc/thread-self/fd/"};
	char own[40];
	size_t n;

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		n = strlen(fixed[i]);
		if (len > n && !memcmp(fn, fixed[i], n) && fn[n] >= '0' && fn[n] <= '9')
			return n;
	}
	n = (size_t)snprintf(own, sizeof(own), "/proc/%u/fd/", p->pid);
	if (len > n && !memcmp(fn, own, n) && fn[n] >= '0' && fn[n] <= '9')
		return n;
	return 0;
}

/* The executable's path from the exec filename: "/dev/fd/N[/rel]" and the /proc forms
 * (fexecve, execveat) through the fd table, else relative to the cwd. */
static void exec_path(struct state *st, struct proc *p, const char *fn, size_t len)
{
	struct strbuf *out = &st->tmp;
	size_t at = fd_path_prefix(p, fn, len);

	sb_reset(out);
	if (at) {
		size_t i = at;
		long n = 0;
		const struct fdinfo *fi;

		while (i < len && fn[i] >= '0' && fn[i] <= '9' && n < INT32_MAX / 10)
			n = n * 10 + (fn[i++] - '0');
		fi = (i == len || fn[i] == '/') ? fd_table_get(&p->fds, (int)n) : NULL;
		if (fi && fi->type == FD_MEMFD && i == len) {
			sb_adds(out, fi->name);
			p->exe_flags |= PROC_EXE_MEMFD;
			return;
		}
		if (fi && fi->name[0] == '/') {
			if (i < len) /* skip the slash after the number */
				i++;
			path_resolve(out, fi->name, fn + i, len - i);
			return;
		}
	}
	path_resolve(out, p->cwd, fn, len);
}

static unsigned cg_slot(uint64_t id)
{
	return (unsigned)((id * 0x9e3779b97f4a7c15ull) >> 56) & (CG_CACHE - 1);
}

/* A directory made in the cgroup v2 mount is a new cgroup: its inode number is the cgroup
 * id the exec records of its processes will carry. Read now, while it exists, so that a
 * container whose processes and cgroup are gone before their exec is read still has its
 * path (a runtime makes the cgroup tens of milliseconds before the container's exec). */
static void cgroup_created(struct state *st, const char *abs)
{
	size_t mlen = st->cg_mnt_path ? strlen(st->cg_mnt_path) : 0;
	struct stat sb;
	unsigned slot;
	uint64_t ino;
	const char *rel;
	const void *data;
	size_t dlen;

	if (!host_reads_allowed()) {
		/* a replay: the id and path the live daemon found for this mkdir (journaled as
		 * 8 bytes of id, then the path in the mount) */
		if (!hostread_replayed("cgroup.mkdir", abs, &data, &dlen) || dlen <= 8)
			return;
		memcpy(&ino, data, 8);
		slot = cg_slot(ino);
		free(st->cg[slot].path);
		st->cg[slot].path = strndup((const char *)data + 8, dlen - 8);
		st->cg[slot].id = st->cg[slot].path ? ino : 0;
		st->st.cgroup_mkdirs++;
		return;
	}
	if (!mlen || strncmp(abs, st->cg_mnt_path, mlen) || abs[mlen] != '/' ||
	    fstatat(st->cg_mnt_fd, abs + mlen + 1, &sb, AT_SYMLINK_NOFOLLOW) ||
	    !S_ISDIR(sb.st_mode))
		return;
	ino = sb.st_ino;
	rel = abs + mlen;
	slot = cg_slot(ino);
	free(st->cg[slot].path);
	st->cg[slot].path = strdup(rel);
	st->cg[slot].id = st->cg[slot].path ? ino : 0;
	st->st.cgroup_mkdirs++;
	{
		size_t rl = strlen(rel);
		char *rec = malloc(8 + rl);

		if (rec) {
			memcpy(rec, &ino, 8);
			memcpy(rec + 8, rel, rl);
			hostread_record("cgroup.mkdir", abs, rec, 8 + rl);
			free(rec);
		}
	}
}

/* The cgroup path after an exec: the one inherited at fork, unless the exec record's
 * cgroup id says the process has moved since (a runtime moves its child into the
 * container's cgroup before exec): then the path of that id, from the cache, else from
 * the cgroup itself (open by id), else from /proc/PID/cgroup. When none of them knows
 * (a short-lived process and cgroup both gone), the path is unknown (NULL: container.id
 * is missing), not the old one. */
static void exec_cgroup(struct state *st, struct proc *p, uint64_t id)
{
	unsigned slot = cg_slot(id);
	char *path;

	if (!id || (id == p->cgroup_id && p->cgroup))
		return;
	if (st->cg[slot].id == id && st->cg[slot].path) {
		proc_set_str(&p->cgroup, st->cg[slot].path, strlen(st->cg[slot].path));
		return;
	}
	if ((path = cgroup_path_by_id(st, id))) {
		free(p->cgroup);
		p->cgroup = path;
		st->st.cgroup_by_id++;
	} else if (!proc_table_read_cgroup(st->procs, p) || !p->cgroup) {
		free(p->cgroup);
		p->cgroup = NULL;
		st->st.cgroup_unknown++;
		return;
	}
	free(st->cg[slot].path);
	st->cg[slot].path = strdup(p->cgroup);
	st->cg[slot].id = st->cg[slot].path ? id : 0;
}

/* The fields ABI v2 adds to the exec record. */
static void exec_v2_fields(struct proc *p, const struct sk_exec_ev *x)
{
#if SK_ABI_VERSION >= 2
	p->tty = x->tty;
	p->sid = x->sid;
	p->pgid = x->pgid;
	p->vpid = x->vpid;
	p->vpgid = x->vpgid;
	p->pidns_ino = x->pidns_ino;
	p->cap_effective = x->cap_effective;
	p->cap_permitted = x->cap_permitted;
	p->cap_inheritable = x->cap_inheritable;
	p->flags |= PROC_CAPS_KNOWN;
	p->exe_ino = x->exe_ino;
	p->exe_ctime_ns = x->exe_ctime_ns;
	p->exe_mtime_ns = x->exe_mtime_ns;
	p->exe_mode = x->exe_mode;
	p->exe_uid = x->exe_uid;
	p->exe_gid = x->exe_gid;
	p->exe_flags |= x->exe_flags & (PROC_EXE_MEMFD | PROC_EXE_UPPER);
	p->flags |= PROC_EXE_KNOWN;
#else
	/* v1 records say nothing of these: what the old image had no longer holds (tty, sid,
	 * pgid and vpids do not change across exec and are kept). */
	(void)x;
	p->flags &= ~(uint32_t)(PROC_CAPS_KNOWN | PROC_EXE_KNOWN);
#endif
}

static void apply_exec(struct state *st, const struct event *ev, struct evctx *cx)
{
	const struct sk_exec_ev *x = ev->exec;
	struct proc_table *t = st->procs;
	struct proc *p = proc_table_get(t, ev->pid);
	struct thread *th;
	const char *fn;
	size_t fnlen = 0, a0len;

	if (p && p->start_ns && x->start_ns &&
	    (p->start_ns > x->start_ns + 20000000ull || p->start_ns + 20000000ull < x->start_ns)) {
		/* Started at another time: an entry whose exit we missed. */
		proc_table_remove(t, p->pid);
		st->st.pid_reused++;
		p = NULL;
	}
	if (!p) {
		st->st.unknown_pid++;
		p = proc_table_upsert(t, ev->pid);
		if (!p)
			return;
	}
	proc_table_touch(t, p);
	/* One thread is left, with the leader's id. */
	while (p->threads && p->nthreads > 1) {
		struct thread *o = p->threads->tid != ev->tid ? p->threads : p->threads->pnext;

		proc_table_remove_thread(t, o->tid);
	}
	if (p->threads && p->threads->tid != ev->tid)
		proc_table_remove_thread(t, p->threads->tid);
	th = proc_table_add_thread(t, p, ev->tid);

	memcpy(p->comm, x->comm, sizeof(p->comm));
	p->comm[sizeof(p->comm) - 1] = '\0';
	fn = blob_str(&ev->filename, &st->raw[0], &fnlen);
	proc_set_str(&p->filename, fn ? fn : "", fnlen);
	proc_set_str(&p->args, ev->argv.p, ev->argv.len);
	p->args_len = p->args ? ev->argv.len : 0;
	a0len = p->args ? strnlen(p->args, p->args_len) : 0;
	if (a0len)
		proc_set_str(&p->exe, p->args, a0len);
	else
		proc_set_str(&p->exe, p->filename, p->filename ? strlen(p->filename) : 0);
	p->exe_flags = 0;
	exec_path(st, p, fn ? fn : "", fnlen);
	proc_set_str(&p->exepath, st->tmp.buf, st->tmp.len);
	p->uid = x->uid;
	p->gid = x->gid;
	p->euid = p->suid = x->euid;
	p->egid = p->sgid = x->egid;
	p->loginuid = x->loginuid;
	if (!p->cgroup) { /* made up from this record: the parent's, until we know better */
		struct proc *parent = proc_table_get(t, x->ppid);

		if (parent && parent != p && parent->cgroup) {
			proc_set_str(&p->cgroup, parent->cgroup, strlen(parent->cgroup));
			p->cgroup_id = parent->cgroup_id;
		}
	}
	exec_cgroup(st, p, x->cgroup_id);
	p->cgroup_id = x->cgroup_id;
	if (x->start_ns)
		p->start_ns = x->start_ns;
	p->flags = (p->flags | PROC_EXECED) & ~(uint32_t)(PROC_PARTIAL | PROC_ENV_TRUNC);
	exec_v2_fields(p, x);
	free(p->env);
	p->env = NULL;
	p->env_len = 0;
	p->env_state = PROC_ENV_UNREAD;
	/* The environment as the new image started, when the kernel side sent it whole (a rule
	 * wants proc.env): no /proc read later, which a short-lived process would not survive.
	 * A record that was cut leaves it to the lazy read (the whole of it, while the process
	 * lives). */
	if (ev->env.len && !(ev->flags & SK_F_TRUNC)) {
		proc_set_str(&p->env, (const char *)ev->env.p, ev->env.len);
		if (p->env) {
			p->env_len = ev->env.len;
			p->env_state = PROC_ENV_READ;
		}
	}
	proc_table_set_ppid(t, p, x->ppid);
	fd_table_exec(&p->fds);
	if (th && p->vpid)
		th->vtid = p->vpid;
	cx->proc = p;
	cx->thread = th;
}

static void apply_exit(struct state *st, const struct event *ev, struct evctx *cx)
{
	struct proc *p = caller(st, ev, cx, false);

	if (!p)
		return;
	cx->post = ev->exit->flags & SK_EXIT_GROUP_DEAD ? POST_EXIT_GROUP : POST_EXIT_THREAD;
}

/*
 * Syscalls.
 */

/* The stand-in description for a failed call's fd. */
static struct fdinfo *scratch(struct state *st, enum fd_type type)
{
	struct fdinfo *fi = st->scratch;

	fi->type = (uint8_t)type;
	fi->l4proto = fi->flags = fi->sock_type = 0;
	fi->open_flags = fi->dev = 0;
	fi->ino = 0;
	memset(&fi->sock, 0, sizeof(fi->sock));
	fdinfo_set_name(fi, "", 0);
	free(fi->nameraw);
	fi->nameraw = NULL;
	return fi;
}

/* Installs a new fd of the given type and name; sets it as the event's fd. */
static struct fdinfo *new_fd(struct state *st, struct evctx *cx, int64_t fd, enum fd_type type,
			     bool cloexec, const char *name)
{
	struct fdinfo *fi;

	if (fd < 0 || fd > INT32_MAX)
		return NULL;
	fi = fd_table_add(&cx->proc->fds, (int)fd, type, cloexec);
	if (fi && name)
		fdinfo_set_name(fi, name, strlen(name));
	cx->fd = fi;
	cx->fdnum = fd;
	return fi;
}

static void sys_open(struct state *st, const struct event *ev, struct evctx *cx)
{
	const uint64_t *a = ev->args;
	uint64_t flags = 0;
	enum fd_type type;
	struct fdinfo *fi;

	switch (ev->nr) {
	case NR_open:
		flags = a[1];
		break;
	case NR_openat:
		flags = a[2];
		break;
	case NR_openat2:
		if (ev->blob[1].len >= sizeof(flags))
			memcpy(&flags, ev->blob[1].p, sizeof(flags));
		break;
	case NR_creat:
		flags = O_CREAT | O_WRONLY | O_TRUNC;
		break;
	}
	type = (flags & O_DIRECTORY) && (flags & O_TMPFILE) != O_TMPFILE ? FD_DIRECTORY : FD_FILE;
	if (ev->ret >= 0)
		fi = new_fd(st, cx, ev->ret, type, flags & O_CLOEXEC, NULL);
	else
		fi = scratch(st, type);
	if (!fi)
		return;
	fi->open_flags = (uint32_t)flags & ~(uint32_t)O_CLOEXEC;
	if (cx->path_abs[0])
		fdinfo_set_name(fi, cx->path_abs[0], strlen(cx->path_abs[0]));
	if (cx->path_raw[0])
		fdinfo_set_nameraw(fi, cx->path_raw[0], strlen(cx->path_raw[0]));
	if (ev->ret < 0) {
		cx->fd = fi;
		cx->fdnum = -1;
	}
}

static void sys_socket(struct state *st, const struct event *ev, struct evctx *cx)
{
	int domain = (int)ev->args[0], type = (int)ev->args[1], proto = (int)ev->args[2];
	enum fd_type ft = fd_type_of_family(domain);
	struct fdinfo *fi;

	if (ev->ret >= 0) {
		fi = new_fd(st, cx, ev->ret, ft, type & SOCK_CLOEXEC, NULL);
	} else {
		fi = scratch(st, ft);
		cx->fd = fi;
		cx->fdnum = -1;
	}
	if (!fi)
		return;
	fi->sock_type = (uint8_t)(type & 0xf);
	fi->l4proto = l4_of(type, proto, domain);
	fi->open_flags = O_RDWR | (type & SOCK_NONBLOCK ? O_NONBLOCK : 0);
}

static void sys_pair(struct state *st, const struct event *ev, struct evctx *cx)
{
	int fds[2];
	bool pipe = ev->nr != NR_socketpair;
	uint64_t flags = ev->nr == NR_pipe2 ? ev->args[1] : pipe ? 0 : ev->args[1];
	enum fd_type type = pipe ? FD_PIPE : fd_type_of_family((int)ev->args[0]);
	struct fdinfo *fi[2];

	if (ev->ret < 0 || !blob_fds(st, &ev->blob[0], fds))
		return;
	for (int i = 0; i < 2; i++) {
		fi[i] = fd_table_add(&cx->proc->fds, fds[i], type,
				     flags & (pipe ? O_CLOEXEC : SOCK_CLOEXEC));
		if (!fi[i])
			continue;
		if (pipe) {
			fdinfo_set_name(fi[i], "pipe", 4);
			fi[i]->open_flags = (i ? O_WRONLY : O_RDONLY) | (flags & O_NONBLOCK);
		} else {
			fi[i]->sock_type = (uint8_t)(flags & 0xf);
			fi[i]->flags |= FDI_CONNECTED;
			fi[i]->open_flags = O_RDWR | (flags & SOCK_NONBLOCK ? O_NONBLOCK : 0);
		}
	}
	/* The second add may have grown the table: the descriptions did not move. */
	cx->fd = fi[0];
	cx->fdnum = fds[0];
	cx->fd2 = fi[1];
	cx->fdnum2 = fds[1];
}

static const char *bpf_fd_name(uint64_t cmd)
{
	switch (cmd) {
	case BPF_MAP_CREATE:
	case BPF_MAP_GET_FD_BY_ID:
		return "anon_inode:bpf-map";
	case BPF_PROG_LOAD:
	case BPF_PROG_GET_FD_BY_ID:
		return "anon_inode:bpf-prog";
	case BPF_RAW_TRACEPOINT_OPEN:
	case BPF_LINK_CREATE:
	case BPF_LINK_GET_FD_BY_ID:
		return "anon_inode:bpf_link";
	case BPF_BTF_LOAD:
	case BPF_BTF_GET_FD_BY_ID:
		return "anon_inode:btf";
	case BPF_ITER_CREATE:
		return "anon_inode:bpf_iter";
	case BPF_ENABLE_STATS:
		return "anon_inode:bpf-stats";
	case BPF_OBJ_GET:
		return "anon_inode:bpf";
	default:
		return NULL; /* commands that return no fd */
	}
}

/* Syscalls that make one anonymous fd. */
static bool sys_anon(struct state *st, const struct event *ev, struct evctx *cx)
{
	const uint64_t *a = ev->args;
	enum fd_type type = FD_UNKNOWN;
	const char *name = NULL;
	bool cloexec = false;
	struct fdinfo *fi;

	switch (ev->nr) {
	case NR_eventfd:
	case NR_eventfd2:
		type = FD_EVENT;
		name = "anon_inode:[eventfd]";
		cloexec = ev->nr == NR_eventfd2 && (a[1] & O_CLOEXEC);
		break;
	case NR_signalfd:
	case NR_signalfd4:
		type = FD_SIGNALFD;
		name = "anon_inode:[signalfd]";
		cloexec = ev->nr == NR_signalfd4 && (a[3] & O_CLOEXEC);
		if ((int)a[0] != -1) { /* changes the mask of an existing signalfd */
			cx->fd = fd_table_get(&cx->proc->fds, (int)a[0]);
			cx->fdnum = (int)a[0];
			return true;
		}
		break;
	case NR_epoll_create:
	case NR_epoll_create1:
		type = FD_EVENTPOLL;
		name = "anon_inode:[eventpoll]";
		cloexec = ev->nr == NR_epoll_create1 && (a[0] & O_CLOEXEC);
		break;
	case NR_inotify_init:
	case NR_inotify_init1:
		type = FD_INOTIFY;
		name = "anon_inode:inotify";
		cloexec = ev->nr == NR_inotify_init1 && (a[0] & O_CLOEXEC);
		break;
	case NR_timerfd_create:
		type = FD_TIMERFD;
		name = "anon_inode:[timerfd]";
		cloexec = a[1] & O_CLOEXEC;
		break;
	case NR_userfaultfd:
		type = FD_USERFAULTFD;
		name = "anon_inode:[userfaultfd]";
		cloexec = a[0] & O_CLOEXEC;
		break;
	case NR_io_uring_setup:
		type = FD_IOURING;
		name = "anon_inode:[io_uring]";
		cloexec = true;
		break;
	case NR_bpf:
		name = bpf_fd_name(a[0]);
		if (!name)
			return true;
		type = FD_BPF;
		cloexec = true;
		break;
	case NR_pidfd_open:
		name = "anon_inode:[pidfd]";
		cloexec = true;
		break;
	case NR_pidfd_getfd:
		cloexec = true;
		break;
	case NR_perf_event_open:
		name = "anon_inode:[perf_event]";
		cloexec = a[4] & 8; /* PERF_FLAG_FD_CLOEXEC */
		break;
	case NR_fanotify_init:
		name = "anon_inode:[fanotify]";
		cloexec = a[0] & 1; /* FAN_CLOEXEC */
		break;
	case NR_memfd_create:
		type = FD_MEMFD;
		cloexec = a[1] & 1; /* MFD_CLOEXEC */
		break;
	case NR_open_by_handle_at:
		type = FD_FILE;
		cloexec = a[2] & O_CLOEXEC;
		break;
	default:
		return false;
	}
	if (ev->ret < 0) {
		cx->fd = NULL;
		cx->fdnum = -1;
		return true;
	}
	fi = new_fd(st, cx, ev->ret, type, cloexec, name);
	if (fi && ev->nr == NR_memfd_create && cx->path_raw[0]) {
		struct strbuf *b = &st->tmp;

		sb_reset(b);
		sb_adds(b, "memfd:");
		sb_adds(b, cx->path_raw[0]);
		fdinfo_set_name(fi, b->buf, b->len);
		fdinfo_set_nameraw(fi, cx->path_raw[0], strlen(cx->path_raw[0]));
		fi->open_flags = O_RDWR;
	} else if (fi && ev->nr == NR_open_by_handle_at) {
		fi->open_flags = (uint32_t)a[2] & ~(uint32_t)O_CLOEXEC;
	}
	return true;
}

static void do_dup(struct state *st, struct evctx *cx, int oldfd, int64_t newfd, bool cloexec)
{
	struct fd_table *fds = &cx->proc->fds;

	cx->fdnum = oldfd;
	cx->fdnum2 = newfd;
	cx->fd = fd_table_get(fds, oldfd);
	if (newfd < 0 || newfd > INT32_MAX)
		return;
	if (!cx->fd) {
		/* Whatever newfd was, it is now something we do not know. */
		st->st.fd_unknown++;
		fd_table_remove(fds, (int)newfd);
		return;
	}
	cx->fd2 = fd_table_dup(fds, oldfd, (int)newfd, cloexec);
}

#define SETFL_MASK (O_APPEND | O_ASYNC | O_DIRECT | O_NOATIME | O_NONBLOCK)

static void sys_fcntl(struct state *st, const struct event *ev, struct evctx *cx)
{
	int fd = (int)ev->args[0];
	int cmd = (int)ev->args[1];
	struct fd_slot *s;

	if (ev->ret < 0)
		return;
	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		do_dup(st, cx, fd, ev->ret, cmd == F_DUPFD_CLOEXEC);
		break;
	case F_SETFD:
		s = fd_table_slot(&cx->proc->fds, fd);
		if (s)
			s->cloexec = ev->args[2] & FD_CLOEXEC;
		break;
	case F_SETFL:
		if (cx->fd)
			cx->fd->open_flags = (cx->fd->open_flags & ~(uint32_t)SETFL_MASK) |
					     ((uint32_t)ev->args[2] & SETFL_MASK);
		break;
	}
}

/* The fd a socket syscall names, created from the kernel's tuple when we did not know it. */
static struct fdinfo *sock_fd(struct state *st, struct evctx *cx, const struct sk_sock_tuple *tu)
{
	struct fdinfo *fi = cx->fd;

	if (!fi && tu && cx->fdnum >= 0)
		fi = new_fd(st, cx, cx->fdnum, fd_type_of_family(tu->family), false, NULL);
	if (fi && tu && (fi->type == FD_UNKNOWN || is_ip(fi) || fi->type == FD_UNIX))
		sock_from_tuple(fi, tu);
	return fi;
}

static void sys_connect(struct state *st, const struct event *ev, struct evctx *cx)
{
	struct sk_sock_tuple tu;
	bool have_tu = blob_tuple(st, &ev->blob[1], &tu);
	struct sa sa;
	struct fdinfo *fi;

	parse_sockaddr(&ev->blob[0], &sa);
	if (ev->ret != 0 && ev->ret != -EINPROGRESS) {
		/* Failed: the table keeps what it had; the event shows the attempt. */
		struct fdinfo *s =
		    scratch(st, cx->fd ? cx->fd->type : fd_type_of_family(sa.family));

		if (cx->fd) {
			s->l4proto = cx->fd->l4proto;
			s->sock_type = cx->fd->sock_type;
			s->sock = cx->fd->sock;
			fdinfo_set_name(s, cx->fd->name, strlen(cx->fd->name));
		}
		if (is_ip(s)) {
			sock_remote_from_sa(s, &sa);
			fdinfo_sock_rename(s);
		} else if (s->type == FD_UNIX) {
			unix_name(st, s, cx->proc, &sa);
		}
		cx->fd = s;
		return;
	}
	fi = sock_fd(st, cx, have_tu ? &tu : NULL);
	if (!fi && cx->fdnum >= 0 && sa.family)
		fi = new_fd(st, cx, cx->fdnum, fd_type_of_family(sa.family), false, NULL);
	if (!fi)
		return;
	if (sa.family == AF_UNSPEC && ev->blob[0].len) { /* dissolves a datagram association */
		fi->flags &= ~(uint8_t)FDI_CONNECTED;
		memset(fi->sock.rip, 0, sizeof(fi->sock.rip));
		fi->sock.rport = 0;
	} else {
		fi->flags = (fi->flags | FDI_CONNECTED) & ~(uint8_t)FDI_SERVER;
		if (!have_tu)
			sock_remote_from_sa(fi, &sa);
	}
	if (fi->type == FD_UNIX)
		cx->fd_name_changed = unix_name(st, fi, cx->proc, &sa);
	else
		cx->fd_name_changed = fdinfo_sock_rename(fi);
}

static void sys_accept(struct state *st, const struct event *ev, struct evctx *cx)
{
	struct fdinfo *lfi = cx->fd, *fi;
	struct sk_sock_tuple tu;
	bool have_tu = blob_tuple(st, &ev->blob[1], &tu);
	uint64_t flags = ev->nr == NR_accept4 ? ev->args[3] : 0;
	struct sa sa;

	cx->fd = NULL;
	cx->fdnum = -1;
	if (ev->ret < 0)
		return;
	fi = new_fd(st, cx, ev->ret,
		    lfi	      ? (enum fd_type)lfi->type
		    : have_tu ? fd_type_of_family(tu.family)
			      : FD_UNKNOWN,
		    flags & SOCK_CLOEXEC, NULL);
	if (!fi)
		return;
	fi->open_flags = O_RDWR | (flags & SOCK_NONBLOCK ? O_NONBLOCK : 0);
	if (lfi) {
		fi->l4proto = lfi->l4proto;
		fi->sock_type = lfi->sock_type;
		fi->sock = lfi->sock;
	}
	if (have_tu) {
		sock_from_tuple(fi, &tu);
	} else {
		parse_sockaddr(&ev->blob[0], &sa);
		sock_remote_from_sa(fi, &sa);
	}
	fi->flags |= FDI_SERVER | FDI_CONNECTED;
	if (fi->type == FD_UNIX) {
		if (lfi)
			fdinfo_set_name(fi, lfi->name, strlen(lfi->name));
	} else {
		fdinfo_sock_rename(fi);
	}
}

static void sys_bind_listen(struct state *st, const struct event *ev, struct evctx *cx)
{
	struct sk_sock_tuple tu;
	bool have_tu = blob_tuple(st, &ev->blob[1], &tu);
	struct fdinfo *fi;
	struct sa sa;

	if (ev->ret != 0)
		return;
	parse_sockaddr(&ev->blob[0], &sa);
	fi = sock_fd(st, cx, have_tu ? &tu : NULL);
	if (!fi && ev->nr == NR_bind && cx->fdnum >= 0 && sa.family)
		fi = new_fd(st, cx, cx->fdnum, fd_type_of_family(sa.family), false, NULL);
	if (!fi)
		return;
	if (ev->nr == NR_listen)
		fi->flags |= FDI_LISTENING | FDI_SERVER;
	else if (!have_tu)
		sock_local_from_sa(fi, &sa);
	if (fi->type == FD_UNIX)
		cx->fd_name_changed = ev->nr == NR_bind && unix_name(st, fi, cx->proc, &sa);
	else
		cx->fd_name_changed = fdinfo_sock_rename(fi);
}

/* sendto, recvfrom, sendmsg, recvmsg: on an unconnected datagram socket the peer is the
 * address of this datagram, and the fd's name follows it. */
static void sys_sendrecv(struct state *st, const struct event *ev, struct evctx *cx)
{
	struct sk_sock_tuple tu;
	bool have_tu = blob_tuple(st, &ev->blob[1], &tu);
	bool recv = ev->nr == NR_recvfrom || ev->nr == NR_recvmsg;
	struct fdinfo *fi;
	struct sa sa;

	if (ev->ret < 0)
		return;
	parse_sockaddr(&ev->blob[0], &sa);
	fi = sock_fd(st, cx, have_tu ? &tu : NULL);
	if (!fi || (fi->flags & FDI_CONNECTED))
		goto name;
	if (is_ip(fi) && (sa.family == AF_INET || sa.family == AF_INET6)) {
		sock_remote_from_sa(fi, &sa);
		if (recv)
			fi->flags |= FDI_SERVER;
		else
			fi->flags &= ~(uint8_t)FDI_SERVER;
	} else if (fi->type == FD_UNIX && !recv) {
		cx->fd_name_changed = unix_name(st, fi, cx->proc, &sa);
		return;
	}
name:
	if (fi && is_ip(fi))
		cx->fd_name_changed = fdinfo_sock_rename(fi);
}

static bool privileged(const struct proc *p, unsigned cap)
{
	if (p->flags & PROC_CAPS_KNOWN)
		return p->cap_effective & (1ull << cap);
	return p->euid == 0;
}

/* capabilities(7), "Effect of user ID changes on capabilities" (without securebits). */
static void caps_after_setuid(struct proc *p, uint32_t r0, uint32_t e0, uint32_t s0)
{
	if (!(p->flags & PROC_CAPS_KNOWN))
		return;
	if ((r0 == 0 || e0 == 0 || s0 == 0) && p->uid && p->euid && p->suid) {
		p->cap_permitted = 0;
		p->cap_effective = 0;
	} else if (e0 == 0 && p->euid) {
		p->cap_effective = 0;
	} else if (e0 != 0 && p->euid == 0) {
		p->cap_effective = p->cap_permitted;
	}
}

#define NOID 0xffffffffu

static void sys_creds(struct state *st, const struct event *ev, struct evctx *cx)
{
	struct proc *p = cx->proc;
	uint32_t a0 = (uint32_t)ev->args[0], a1 = (uint32_t)ev->args[1];
	uint32_t a2 = (uint32_t)ev->args[2];
	uint32_t r0 = p->uid, e0 = p->euid, s0 = p->suid;

	if (ev->ret != 0)
		return;
	switch (ev->nr) {
	case NR_setuid:
		if (privileged(p, 7)) /* CAP_SETUID */
			p->uid = p->suid = a0;
		p->euid = a0;
		break;
	case NR_setreuid:
		if (a0 != NOID)
			p->uid = a0;
		if (a1 != NOID)
			p->euid = a1;
		if (a0 != NOID || (a1 != NOID && a1 != r0))
			p->suid = p->euid;
		break;
	case NR_setresuid:
		if (a0 != NOID)
			p->uid = a0;
		if (a1 != NOID)
			p->euid = a1;
		if (a2 != NOID)
			p->suid = a2;
		break;
	case NR_setgid:
		if (privileged(p, 6)) /* CAP_SETGID */
			p->gid = p->sgid = a0;
		p->egid = a0;
		return;
	case NR_setregid:
		if (a0 != NOID)
			p->gid = a0;
		if (a1 != NOID)
			p->egid = a1;
		if (a0 != NOID || (a1 != NOID && a1 != p->gid))
			p->sgid = p->egid;
		return;
	case NR_setresgid:
		if (a0 != NOID)
			p->gid = a0;
		if (a1 != NOID)
			p->egid = a1;
		if (a2 != NOID)
			p->sgid = a2;
		return;
	}
	caps_after_setuid(p, r0, e0, s0);
}

static void sys_setpgid(struct state *st, const struct event *ev, struct evctx *cx)
{
	struct proc *p = cx->proc, *target = NULL;
	uint32_t pid = (uint32_t)ev->args[0], pgid = (uint32_t)ev->args[1];
	bool host_ns = p->vpid && p->vpid == p->pid;

	if (ev->ret != 0)
		return;
	if (pid == 0 || (p->vpid && pid == p->vpid))
		target = p;
	else if (host_ns)
		target = proc_table_get(st->procs, pid);
	if (!target)
		return;
	if (pgid == 0) {
		target->pgid = target->pid;
		target->vpgid = target->vpid;
	} else if (host_ns) {
		target->pgid = target->vpgid = pgid;
	} else {
		target->vpgid = pgid;
		if (pgid == p->vpgid)
			target->pgid = p->pgid;
		else if (pgid == p->vpid)
			target->pgid = p->pid;
	}
}

static void apply_syscall(struct state *st, const struct event *ev, struct evctx *cx)
{
	const uint64_t *a = ev->args;
	struct proc *p = caller(st, ev, cx, true);

	if (!p)
		return;
	fill_paths(st, ev, cx);
	if (ev->nr < SK_NR_SYSCALLS && (st->fd_arg0[ev->nr / 64] & (1ull << (ev->nr % 64))) &&
	    (int)a[0] >= 0) {
		cx->fdnum = (int)a[0];
		cx->fd = fd_table_get(&p->fds, (int)a[0]);
		if (!cx->fd && ev->ret >= 0)
			st->st.fd_unknown++;
	}
	if (sys_anon(st, ev, cx))
		return;
	switch (ev->nr) {
	case NR_open:
	case NR_openat:
	case NR_openat2:
	case NR_creat:
		sys_open(st, ev, cx);
		break;
	case NR_close:
		if (ev->ret != -EBADF) {
			cx->post = POST_CLOSE;
			cx->post_a = (int)a[0];
		}
		break;
	case NR_close_range:
		if (ev->ret != 0)
			break;
		if (a[2] & CLOSE_RANGE_CLOEXEC) {
			fd_table_close_range(&p->fds, (unsigned)a[0], (unsigned)a[1], true);
		} else {
			cx->post = POST_CLOSE_RANGE;
			cx->post_a = (unsigned)a[0];
			cx->post_b = (unsigned)a[1];
		}
		break;
	case NR_dup:
		if (ev->ret >= 0)
			do_dup(st, cx, (int)a[0], ev->ret, false);
		break;
	case NR_dup2:
	case NR_dup3:
		if (ev->ret >= 0 && (int)a[0] != (int)a[1])
			do_dup(st, cx, (int)a[0], (int)a[1],
			       ev->nr == NR_dup3 && (a[2] & O_CLOEXEC));
		break;
	case NR_fcntl:
		sys_fcntl(st, ev, cx);
		break;
	case NR_socket:
		sys_socket(st, ev, cx);
		break;
	case NR_socketpair:
	case NR_pipe:
	case NR_pipe2:
		sys_pair(st, ev, cx);
		break;
	case NR_connect:
		sys_connect(st, ev, cx);
		break;
	case NR_accept:
	case NR_accept4:
		sys_accept(st, ev, cx);
		break;
	case NR_bind:
	case NR_listen:
		sys_bind_listen(st, ev, cx);
		break;
	case NR_sendto:
	case NR_recvfrom:
	case NR_sendmsg:
	case NR_recvmsg:
		sys_sendrecv(st, ev, cx);
		break;
	case NR_chdir:
		if (ev->ret == 0 && cx->path_abs[0] && cx->path_abs[0][0] == '/')
			proc_set_str(&p->cwd, cx->path_abs[0], strlen(cx->path_abs[0]));
		break;
	case NR_fchdir:
		if (ev->ret == 0 && cx->fd && cx->fd->name[0] == '/')
			proc_set_str(&p->cwd, cx->fd->name, strlen(cx->fd->name));
		break;
	case NR_mkdir:
	case NR_mkdirat:
		if (ev->ret == 0 && cx->path_abs[0])
			cgroup_created(st, cx->path_abs[0]);
		break;
	case NR_setuid:
	case NR_setreuid:
	case NR_setresuid:
	case NR_setgid:
	case NR_setregid:
	case NR_setresgid:
		sys_creds(st, ev, cx);
		break;
	case NR_setsid:
		if (ev->ret >= 0) {
			p->sid = p->pgid = p->pid;
			p->vpgid = p->vpid;
			p->tty = 0;
		}
		break;
	case NR_setpgid:
		sys_setpgid(st, ev, cx);
		break;
	case NR_prctl:
		if (ev->ret == 0 && a[0] == PR_SET_CHILD_SUBREAPER) {
			if (a[1])
				p->flags |= PROC_SUBREAPER;
			else
				p->flags &= ~(uint32_t)PROC_SUBREAPER;
		}
		break;
	case NR_unshare:
		if (ev->ret == 0 && (a[0] & CLONE_NEWPID))
			p->flags |= PROC_NEWPIDNS;
		break;
	case NR_setns:
		if (ev->ret == 0 && ((a[1] & CLONE_NEWPID) ||
				     (!a[1] && cx->fd && !strncmp(cx->fd->name, "pid:", 4))))
			p->flags |= PROC_NEWPIDNS;
		break;
	case NR_clone:
	case NR_clone3:
	case NR_fork:
	case NR_vfork:
		clone_exit(st, ev, cx);
		break;
	}
}

/*
 * The entry points.
 */

/* A blob without bytes is empty, whatever its length says. */
static void blob_sane(struct blob *b)
{
	if (!b->p)
		b->len = 0;
}

void state_pre(struct state *st, const struct event *orig, struct evctx *cx)
{
	struct event copy = *orig, *ev = &copy;

	blob_sane(&copy.blob[0]);
	blob_sane(&copy.blob[1]);
	blob_sane(&copy.filename);
	blob_sane(&copy.argv);
	memset(cx, 0, sizeof(*cx));
	cx->ev = orig;
	cx->st = st;
	cx->fdnum = -1;
	cx->fdnum2 = -1;
	st->st.events++;
	users_refresh_at(st->users, ev->ts_ns);
	switch (ev->kind) {
	case SK_EV_SYSCALL:
		apply_syscall(st, ev, cx);
		break;
	case SK_EV_FORK:
		apply_fork(st, ev, cx);
		break;
	case SK_EV_EXEC:
		apply_exec(st, ev, cx);
		break;
	case SK_EV_EXIT:
		apply_exit(st, ev, cx);
		break;
	}
}

void state_post(struct state *st, struct evctx *cx)
{
	const struct event *ev = cx->ev;
	struct proc *p;

	if (!cx->post)
		return;
	p = proc_table_get(st->procs, ev->pid);
	switch (cx->post) {
	case POST_CLOSE:
		if (p)
			fd_table_remove(&p->fds, (int)cx->post_a);
		break;
	case POST_CLOSE_RANGE:
		if (p)
			fd_table_close_range(&p->fds, (unsigned)cx->post_a, (unsigned)cx->post_b,
					     false);
		break;
	case POST_EXIT_THREAD:
		proc_table_remove_thread(st->procs, ev->tid);
		break;
	case POST_EXIT_GROUP:
		if (cx->proc && container_from_cgroup(cx->proc->cgroup, NULL))
			st->ctr_sweep_due = true;
		proc_table_remove_thread(st->procs, ev->tid);
		proc_table_reap(st->procs, ev->pid);
		break;
	}
	cx->post = POST_NONE;
}

void state_apply(struct state *st, const struct event *ev)
{
	struct evctx cx;

	state_pre(st, ev, &cx);
	state_post(st, &cx);
}
