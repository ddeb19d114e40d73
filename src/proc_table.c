#include "proc_table.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container.h"

struct proc_table {
	struct proc **pbuckets;
	struct thread **tbuckets;
	uint32_t nbuckets; /* power of two, for both */
	struct proc *oldest, *newest;
	size_t max_entries;
	char *procfs;
	struct proc_table_hooks hooks;
	struct proc_table_stats st;
};

static uint32_t bucket_of(const struct proc_table *t, uint32_t id)
{
	return (id * 2654435761u) & (t->nbuckets - 1);
}

struct proc_table *proc_table_new(size_t max_entries)
{
	struct proc_table *t = calloc(1, sizeof(*t));
	uint32_t nb = 64;

	if (!t)
		return NULL;
	/* A few entries at least, so that making room never has to evict the processes an
	 * event is working on (the caller and its new child are the most recently active). */
	t->max_entries = max_entries < 8 ? 8 : max_entries;
	while (nb < t->max_entries / 4 && nb < (1u << 22))
		nb *= 2;
	t->nbuckets = nb;
	t->pbuckets = calloc(nb, sizeof(*t->pbuckets));
	t->tbuckets = calloc(nb, sizeof(*t->tbuckets));
	if (!t->pbuckets || !t->tbuckets) {
		free(t->pbuckets);
		free(t->tbuckets);
		free(t);
		return NULL;
	}
	return t;
}

void proc_table_set_procfs(struct proc_table *t, const char *procfs)
{
	char *s = procfs ? strdup(procfs) : NULL;

	if (procfs && !s)
		return;
	free(t->procfs);
	t->procfs = s;
}

void proc_table_set_hooks(struct proc_table *t, const struct proc_table_hooks *h)
{
	if (h)
		t->hooks = *h;
	else
		memset(&t->hooks, 0, sizeof(t->hooks));
}

struct proc *proc_table_get(const struct proc_table *t, uint32_t pid)
{
	for (struct proc *p = t->pbuckets[bucket_of(t, pid)]; p; p = p->hnext)
		if (p->pid == pid)
			return p;
	return NULL;
}

struct thread *proc_table_thread(const struct proc_table *t, uint32_t tid)
{
	for (struct thread *th = t->tbuckets[bucket_of(t, tid)]; th; th = th->hnext)
		if (th->tid == tid)
			return th;
	return NULL;
}

struct proc *proc_table_lookup(const struct proc_table *t, uint32_t pid, uint32_t tid)
{
	struct thread *th = proc_table_thread(t, tid);

	return th ? th->proc : proc_table_get(t, pid);
}

void proc_set_str(char **dst, const void *src, size_t len)
{
	char *s = NULL;

	if (src) {
		s = malloc(len + 1);
		if (!s)
			return; /* keep the old value rather than lose both */
		if (len)
			memcpy(s, src, len);
		s[len] = '\0';
	}
	free(*dst);
	*dst = s;
}

static char *dup_str(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* Lists. */

static void lru_unlink(struct proc_table *t, struct proc *p)
{
	if (p->lprev)
		p->lprev->lnext = p->lnext;
	else
		t->oldest = p->lnext;
	if (p->lnext)
		p->lnext->lprev = p->lprev;
	else
		t->newest = p->lprev;
	p->lprev = p->lnext = NULL;
}

static void lru_append(struct proc_table *t, struct proc *p)
{
	p->lprev = t->newest;
	p->lnext = NULL;
	if (t->newest)
		t->newest->lnext = p;
	else
		t->oldest = p;
	t->newest = p;
}

void proc_table_touch(struct proc_table *t, struct proc *p)
{
	if (t->newest != p) {
		lru_unlink(t, p);
		lru_append(t, p);
	}
}

static void family_unlink(struct proc *p)
{
	if (!p->parent)
		return;
	if (p->sib_prev)
		p->sib_prev->sib_next = p->sib_next;
	else
		p->parent->children = p->sib_next;
	if (p->sib_next)
		p->sib_next->sib_prev = p->sib_prev;
	p->parent = p->sib_next = p->sib_prev = NULL;
}

static void family_link(struct proc *p, struct proc *parent)
{
	p->parent = parent;
	p->sib_prev = NULL;
	p->sib_next = parent->children;
	if (parent->children)
		parent->children->sib_prev = p;
	parent->children = p;
}

/* Threads. */

static void thread_unhash(struct proc_table *t, struct thread *th)
{
	struct thread **pp = &t->tbuckets[bucket_of(t, th->tid)];

	while (*pp != th)
		pp = &(*pp)->hnext;
	*pp = th->hnext;
}

static void thread_detach(struct thread *th)
{
	struct proc *p = th->proc;

	if (th->pprev)
		th->pprev->pnext = th->pnext;
	else
		p->threads = th->pnext;
	if (th->pnext)
		th->pnext->pprev = th->pprev;
	th->pnext = th->pprev = NULL;
	p->nthreads--;
}

static void thread_attach(struct proc *p, struct thread *th)
{
	th->proc = p;
	th->pprev = NULL;
	th->pnext = p->threads;
	if (p->threads)
		p->threads->pprev = th;
	p->threads = th;
	p->nthreads++;
}

void proc_table_remove_thread(struct proc_table *t, uint32_t tid)
{
	struct thread *th = proc_table_thread(t, tid);

	if (!th)
		return;
	thread_unhash(t, th);
	thread_detach(th);
	t->st.threads--;
	free(th);
}

/* Processes. */

void proc_reset(struct proc_table *t, struct proc *p)
{
	free(p->exe);
	free(p->exepath);
	free(p->filename);
	free(p->args);
	free(p->cwd);
	free(p->cgroup);
	free(p->env);
	if (t)
		t->st.fds_dropped += p->fds.dropped;
	fd_table_clear(&p->fds);
	p->fds.dropped = 0;
	p->exe = p->exepath = p->filename = p->args = p->cwd = p->cgroup = p->env = NULL;
	p->args_len = p->env_len = 0;
	p->env_state = PROC_ENV_UNREAD;
	p->vpid = p->vpgid = p->pidns_ino = p->sid = p->pgid = p->tty = 0;
	p->uid = p->gid = p->euid = p->egid = p->suid = p->sgid = 0;
	p->loginuid = PROC_NO_LOGINUID;
	p->flags = 0;
	p->cap_effective = p->cap_permitted = p->cap_inheritable = 0;
	p->start_ns = p->cgroup_id = 0;
	p->exe_ino = p->exe_ctime_ns = p->exe_mtime_ns = 0;
	p->exe_mode = p->exe_uid = p->exe_gid = p->exe_flags = 0;
	memset(p->comm, 0, sizeof(p->comm));
}

static void proc_destroy(struct proc_table *t, struct proc *p)
{
	struct thread *th, *next;
	struct proc **pp = &t->pbuckets[bucket_of(t, p->pid)];

	for (th = p->threads; th; th = next) {
		next = th->pnext;
		thread_unhash(t, th);
		t->st.threads--;
		free(th);
	}
	p->threads = NULL;
	p->nthreads = 0;
	family_unlink(p);
	while (p->children) {
		struct proc *c = p->children;

		p->children = c->sib_next;
		c->parent = c->sib_next = c->sib_prev = NULL;
	}
	while (*pp != p)
		pp = &(*pp)->hnext;
	*pp = p->hnext;
	lru_unlink(t, p);
	proc_reset(t, p);
	t->st.procs--;
	free(p);
}

void proc_table_remove(struct proc_table *t, uint32_t pid)
{
	struct proc *p = proc_table_get(t, pid);

	if (p)
		proc_destroy(t, p);
}

void proc_table_free(struct proc_table *t)
{
	if (!t)
		return;
	while (t->oldest)
		proc_destroy(t, t->oldest);
	free(t->pbuckets);
	free(t->tbuckets);
	free(t->procfs);
	free(t);
}

/* Evicts until one more process (procs) and one more thread fit. */
static bool make_room(struct proc_table *t, const struct proc *pin, bool proc)
{
	while ((proc && t->st.procs >= t->max_entries) || t->st.threads >= t->max_entries) {
		struct proc *victim = t->oldest;

		if (victim == pin)
			victim = victim->lnext;
		if (!victim)
			return false;
		proc_destroy(t, victim);
		t->st.evictions++;
	}
	return true;
}

struct thread *proc_table_add_thread(struct proc_table *t, struct proc *p, uint32_t tid)
{
	struct thread *th = proc_table_thread(t, tid);
	uint32_t b;

	if (th) {
		if (th->proc != p) {
			thread_detach(th);
			thread_attach(p, th);
		}
		return th;
	}
	if (!make_room(t, p, false) || !(th = calloc(1, sizeof(*th)))) {
		t->st.threads_dropped++;
		return NULL;
	}
	th->tid = tid;
	b = bucket_of(t, tid);
	th->hnext = t->tbuckets[b];
	t->tbuckets[b] = th;
	thread_attach(p, th);
	t->st.threads++;
	return th;
}

struct proc *proc_table_upsert_pinned(struct proc_table *t, uint32_t pid, const struct proc *pin)
{
	struct proc *p = proc_table_get(t, pid);
	uint32_t b;

	if (p)
		return p;
	if (!make_room(t, pin, true))
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->pid = pid;
	p->loginuid = PROC_NO_LOGINUID;
	fd_table_init(&p->fds);
	b = bucket_of(t, pid);
	p->hnext = t->pbuckets[b];
	t->pbuckets[b] = p;
	lru_append(t, p);
	t->st.procs++;
	/* The main thread (a thread entry for tid == pid always exists until it exits). */
	proc_table_add_thread(t, p, pid);
	return p;
}

struct proc *proc_table_upsert(struct proc_table *t, uint32_t pid)
{
	return proc_table_upsert_pinned(t, pid, NULL);
}

/* Family. */

static bool may_be_parent(const struct proc *parent, const struct proc *child)
{
	if (parent == child)
		return false;
	/* A pid reused after the real parent died belongs to a younger process. */
	return !parent->start_ns || !child->start_ns || parent->start_ns <= child->start_ns;
}

struct proc *proc_table_parent(struct proc_table *t, struct proc *p)
{
	struct proc *q;

	if (p->parent)
		return p->parent;
	if (!p->ppid || p->ppid == p->pid)
		return NULL;
	q = proc_table_get(t, p->ppid);
	if (!q || !may_be_parent(q, p))
		return NULL;
	family_link(p, q);
	return q;
}

void proc_table_set_ppid(struct proc_table *t, struct proc *p, uint32_t ppid)
{
	if (p->ppid == ppid && p->parent)
		return;
	family_unlink(p);
	p->ppid = ppid;
	proc_table_parent(t, p);
}

struct proc *proc_table_ancestor(struct proc_table *t, struct proc *p, unsigned level)
{
	if (level > PROC_MAX_DEPTH)
		return NULL;
	while (p && level--)
		p = proc_table_parent(t, p);
	return p;
}

struct proc *proc_table_session_leader(struct proc_table *t, struct proc *p)
{
	struct proc *l;

	if (!p->sid)
		return NULL;
	if (p->sid == p->pid)
		return p;
	l = proc_table_get(t, p->sid);
	return l && may_be_parent(l, p) ? l : NULL;
}

void proc_table_reap(struct proc_table *t, uint32_t pid)
{
	struct proc *p = proc_table_get(t, pid), *reaper = NULL, *a;
	unsigned depth = 0;

	if (!p)
		return;
	if (p->children) {
		for (a = proc_table_parent(t, p); a && depth < PROC_MAX_DEPTH;
		     a = proc_table_parent(t, a), depth++) {
			if ((a->flags & PROC_SUBREAPER) || a->vpid == 1 || a->pid == 1) {
				reaper = a;
				break;
			}
		}
		if (!reaper)
			reaper = proc_table_get(t, 1);
		if (reaper == p)
			reaper = NULL;
	}
	while (p->children) {
		struct proc *c = p->children;

		family_unlink(c);
		c->ppid = reaper ? reaper->pid : 1;
		if (reaper)
			family_link(c, reaper);
		t->st.reparented++;
	}
	proc_destroy(t, p);
}

void proc_inherit(struct proc *c, const struct proc *parent)
{
	c->vpgid = parent->vpgid;
	c->pidns_ino = parent->flags & PROC_NEWPIDNS ? 0 : parent->pidns_ino;
	c->sid = parent->sid;
	c->pgid = parent->pgid;
	c->tty = parent->tty;
	c->uid = parent->uid;
	c->gid = parent->gid;
	c->euid = parent->euid;
	c->egid = parent->egid;
	c->suid = parent->suid;
	c->sgid = parent->sgid;
	c->loginuid = parent->loginuid;
	/* A child subreaper flag is not inherited across fork. */
	c->flags = parent->flags & ~(uint32_t)(PROC_SUBREAPER | PROC_SEEDED | PROC_NEWPIDNS);
	c->cap_effective = parent->cap_effective;
	c->cap_permitted = parent->cap_permitted;
	c->cap_inheritable = parent->cap_inheritable;
	c->cgroup_id = parent->cgroup_id;
	c->exe_ino = parent->exe_ino;
	c->exe_ctime_ns = parent->exe_ctime_ns;
	c->exe_mtime_ns = parent->exe_mtime_ns;
	c->exe_mode = parent->exe_mode;
	c->exe_uid = parent->exe_uid;
	c->exe_gid = parent->exe_gid;
	c->exe_flags = parent->exe_flags;
	memcpy(c->comm, parent->comm, sizeof(c->comm));
	c->exe = dup_str(parent->exe);
	c->exepath = dup_str(parent->exepath);
	c->filename = dup_str(parent->filename);
	if (parent->args) {
		proc_set_str(&c->args, parent->args, parent->args_len);
		c->args_len = c->args ? parent->args_len : 0;
	}
	c->cwd = dup_str(parent->cwd);
	c->cgroup = dup_str(parent->cgroup);
	if (parent->env_state == PROC_ENV_READ && parent->env) {
		proc_set_str(&c->env, parent->env, parent->env_len);
		c->env_len = c->env ? parent->env_len : 0;
		c->env_state = c->env ? PROC_ENV_READ : PROC_ENV_UNREAD;
	}
	if (fd_table_copy(&c->fds, &parent->fds))
		c->fds.dropped += parent->fds.n;
}

/*
 * Reading procfs.
 */

/* Reads a small file whole; returns its length or -1. */
static ssize_t read_small(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n, total = 0;

	if (fd < 0)
		return -1;
	while ((size_t)total < cap && (n = read(fd, buf + total, cap - (size_t)total)) > 0)
		total += n;
	close(fd);
	return total;
}

struct stat_line {
	char comm[16];
	int ppid, pgrp, session, tty;
	unsigned long long starttime;
};

static int parse_stat(const char *path, struct stat_line *s)
{
	char buf[1024];
	ssize_t n = read_small(path, buf, sizeof(buf) - 1);
	char *open_paren, *close_paren;
	size_t comm_len;

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* comm may hold spaces and parentheses: it runs from the first '(' to the last ')'. */
	open_paren = strchr(buf, '(');
	close_paren = strrchr(buf, ')');
	if (!open_paren || !close_paren || close_paren < open_paren)
		return -1;
	/* After comm: state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
	 * utime stime cutime cstime priority nice num_threads itrealvalue starttime */
	if (sscanf(close_paren + 1,
		   " %*c %d %d %d %d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
		   &s->ppid, &s->pgrp, &s->session, &s->tty, &s->starttime) != 5)
		return -1;
	memset(s->comm, 0, sizeof(s->comm));
	comm_len = (size_t)(close_paren - open_paren - 1);
	memcpy(s->comm, open_paren + 1,
	       comm_len < sizeof(s->comm) - 1 ? comm_len : sizeof(s->comm) - 1);
	return 0;
}

/* The last number of a "Key:\tn\tn..." status line (the innermost pid namespace's). */
static bool status_last(const char *line, uint32_t *out)
{
	const char *p = line, *last = NULL;

	while (*p && *p != '\n') {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p >= '0' && *p <= '9')
			last = p;
		while (*p && *p != '\n' && *p != ' ' && *p != '\t')
			p++;
	}
	if (!last)
		return false;
	*out = (uint32_t)strtoul(last, NULL, 10);
	return true;
}

static const char *status_field(const char *buf, const char *key)
{
	size_t kl = strlen(key);
	const char *p = buf;

	while (p && *p) {
		if (!strncmp(p, key, kl))
			return p + kl;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

static void parse_status(const char *path, struct proc *p)
{
	char buf[4096];
	ssize_t n = read_small(path, buf, sizeof(buf) - 1);
	const char *f;
	unsigned u[4];

	if (n <= 0)
		return;
	buf[n] = '\0';
	if ((f = status_field(buf, "Uid:")) && sscanf(f, "%u %u %u", &u[0], &u[1], &u[2]) == 3) {
		p->uid = u[0];
		p->euid = u[1];
		p->suid = u[2];
	}
	if ((f = status_field(buf, "Gid:")) && sscanf(f, "%u %u %u", &u[0], &u[1], &u[2]) == 3) {
		p->gid = u[0];
		p->egid = u[1];
		p->sgid = u[2];
	}
	if ((f = status_field(buf, "CapInh:")))
		p->cap_inheritable = strtoull(f, NULL, 16);
	if ((f = status_field(buf, "CapPrm:")))
		p->cap_permitted = strtoull(f, NULL, 16);
	if ((f = status_field(buf, "CapEff:"))) {
		p->cap_effective = strtoull(f, NULL, 16);
		p->flags |= PROC_CAPS_KNOWN;
	}
	if ((f = status_field(buf, "NSpid:")))
		status_last(f, &p->vpid);
	if ((f = status_field(buf, "NSpgid:")))
		status_last(f, &p->vpgid);
}

/* The cgroup path: the unified hierarchy's ("0::"), unless only a v1 hierarchy names a
 * container (a hybrid host where the runtime did not use the unified tree, a v1 host whose
 * first line is a controller the runtime left at /); else the first line's. */
static void parse_cgroup(const char *path, struct proc *p)
{
	char buf[8192];
	ssize_t n = read_small(path, buf, sizeof(buf) - 1);
	const char *line, *unified = NULL, *first = NULL, *ctr = NULL, *best, *end;

	if (n <= 0)
		return;
	buf[n] = '\0';
	for (line = buf; line && *line; line = end ? end + 1 : NULL) {
		const char *c1 = strchr(line, ':'), *c2;

		end = strchr(line, '\n');
		if (!c1 || (end && c1 > end))
			continue;
		c2 = strchr(c1 + 1, ':');
		if (!c2 || (end && c2 > end))
			continue;
		if (!first)
			first = c2 + 1;
		if (!strncmp(line, "0::", 3))
			unified = c2 + 1;
		if (!ctr) {
			char one[4096];
			size_t len = end ? (size_t)(end - (c2 + 1)) : strlen(c2 + 1);

			if (len < sizeof(one)) {
				memcpy(one, c2 + 1, len);
				one[len] = '\0';
				if (container_from_cgroup(one, NULL))
					ctr = c2 + 1;
			}
		}
	}
	best = unified ? unified : first;
	if (ctr && ctr != unified) {
		char one[4096];
		size_t len;

		end = strchr(best, '\n');
		len = end ? (size_t)(end - best) : strlen(best);
		if (len < sizeof(one)) {
			memcpy(one, best, len);
			one[len] = '\0';
			if (!container_from_cgroup(one, NULL))
				best = ctr;
		}
	}
	if (best) {
		end = strchr(best, '\n');
		proc_set_str(&p->cgroup, best, end ? (size_t)(end - best) : strlen(best));
	}
}

static uint64_t ns_of(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000ull + (uint64_t)ts->tv_nsec;
}

/* The inode number of a namespace link ("net:[4026531840]"), 0 when unreadable. */
static uint64_t ns_ino(const char *path)
{
	char buf[64];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	char *b;

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	b = strchr(buf, '[');
	return b ? strtoull(b + 1, NULL, 10) : 0;
}

static uint64_t ticks_ns(void)
{
	long hz = sysconf(_SC_CLK_TCK);

	return hz > 0 ? 1000000000ull / (uint64_t)hz : 10000000ull;
}

/* Reads process pid (and its threads and fds) from procfs into the table. */
static struct proc *seed_proc(struct proc_table *t, const char *procfs, uint32_t pid,
			      struct sock_index *sx, const struct proc *pin, uint64_t tick_ns)
{
	char path[4200], *buf;
	struct stat_line sl;
	struct proc *p;
	ssize_t n;
	struct stat st;
	DIR *td;
	struct dirent *te;

	snprintf(path, sizeof(path), "%s/%u/stat", procfs, pid);
	if (parse_stat(path, &sl))
		return NULL;
	p = proc_table_upsert_pinned(t, pid, pin);
	if (!p)
		return NULL;
	proc_reset(t, p);
	memcpy(p->comm, sl.comm, sizeof(p->comm));
	p->pgid = (uint32_t)sl.pgrp;
	p->sid = (uint32_t)sl.session;
	p->tty = (uint32_t)sl.tty;
	p->start_ns = sl.starttime * tick_ns;
	p->flags |= PROC_SEEDED;
	snprintf(path, sizeof(path), "%s/%u/status", procfs, pid);
	parse_status(path, p);
	snprintf(path, sizeof(path), "%s/%u/loginuid", procfs, pid);
	buf = malloc((SK_ARGV_MAX > 4096 ? SK_ARGV_MAX : 4096) + 1);
	if (!buf)
		return p;
	n = read_small(path, buf, 32);
	if (n > 0) {
		buf[n] = '\0';
		p->loginuid = (uint32_t)strtoul(buf, NULL, 10);
	}
	/* The argv area, cut where an exec record would cut it. */
	snprintf(path, sizeof(path), "%s/%u/cmdline", procfs, pid);
	n = read_small(path, buf, SK_ARGV_MAX);
	if (n > 0) {
		proc_set_str(&p->args, buf, (size_t)n);
		p->args_len = p->args ? (size_t)n : 0;
		proc_set_str(&p->exe, buf, strnlen(buf, (size_t)n));
	}
	snprintf(path, sizeof(path), "%s/%u/exe", procfs, pid);
	n = readlink(path, buf, 4096);
	if (n > 0) {
		proc_set_str(&p->exepath, buf, (size_t)n);
		if (!strncmp(p->exepath, "/memfd:", 7))
			p->exe_flags |= PROC_EXE_MEMFD;
		if (!stat(path, &st)) {
			p->exe_ino = st.st_ino;
			p->exe_ctime_ns = ns_of(&st.st_ctim);
			p->exe_mtime_ns = ns_of(&st.st_mtim);
			p->exe_mode = st.st_mode;
			p->exe_uid = st.st_uid;
			p->exe_gid = st.st_gid;
			p->flags |= PROC_EXE_KNOWN;
		}
	}
	if (!p->exe && p->exepath) /* kernel threads and zombies have no argv */
		p->exe = strdup(p->exepath);
	snprintf(path, sizeof(path), "%s/%u/cwd", procfs, pid);
	n = readlink(path, buf, 4096);
	if (n > 0)
		proc_set_str(&p->cwd, buf, (size_t)n);
	free(buf);
	snprintf(path, sizeof(path), "%s/%u/cgroup", procfs, pid);
	parse_cgroup(path, p);

	snprintf(path, sizeof(path), "%s/%u/ns/pid", procfs, pid);
	p->pidns_ino = (uint32_t)ns_ino(path);
	if (sx) {
		char netdir[4200];

		snprintf(path, sizeof(path), "%s/%u/ns/net", procfs, pid);
		snprintf(netdir, sizeof(netdir), "%s/%u/net", procfs, pid);
		sock_index_load(sx, netdir, ns_ino(path));
	}
	fd_table_seed(&p->fds, procfs, pid, sx);

	/* The threads; the main thread exists already. */
	snprintf(path, sizeof(path), "%s/%u/task", procfs, pid);
	td = opendir(path);
	if (td) {
		while ((te = readdir(td))) {
			char *end;
			unsigned long tid = strtoul(te->d_name, &end, 10);
			struct thread *th;

			if (te->d_name[0] < '1' || te->d_name[0] > '9' || *end || tid > UINT32_MAX)
				continue;
			th = proc_table_add_thread(t, p, (uint32_t)tid);
			if (!th)
				continue;
			t->st.seeded_threads++;
			if (p->vpid == p->pid) {
				th->vtid = th->tid;
			} else if (p->vpid) {
				char sp[4300], sbuf[2048];
				const char *f;
				ssize_t m;

				snprintf(sp, sizeof(sp), "%s/%u/task/%lu/status", procfs, pid, tid);
				m = read_small(sp, sbuf, sizeof(sbuf) - 1);
				if (m > 0) {
					sbuf[m] = '\0';
					if ((f = status_field(sbuf, "NSpid:")))
						status_last(f, &th->vtid);
				}
			}
		}
		closedir(td);
	}
	/* The main thread of a process whose leader has exited is not in task/. */
	if (p->vpid == p->pid) {
		struct thread *th = proc_table_thread(t, pid);

		if (th && !th->vtid)
			th->vtid = pid;
	} else if (p->vpid) {
		struct thread *th = proc_table_thread(t, pid);

		if (th && !th->vtid)
			th->vtid = p->vpid;
	}
	/* The parent is linked last (it may come later in the directory). */
	family_unlink(p);
	p->ppid = (uint32_t)sl.ppid;
	t->st.seeded++;
	return p;
}

size_t proc_table_seed(struct proc_table *t, const char *procfs)
{
	DIR *d = opendir(procfs);
	struct dirent *de;
	uint64_t before = t->st.seeded;
	uint64_t tick = ticks_ns();
	struct sock_index *sx = sock_index_new();
	char netdir[4200];

	proc_table_set_procfs(t, procfs);
	if (!d) {
		sock_index_free(sx);
		return 0;
	}
	/* Sockets of namespaces whose processes do not show their own net dir. */
	if (sx) {
		snprintf(netdir, sizeof(netdir), "%s/net", procfs);
		sock_index_load(sx, netdir, 0);
	}
	while ((de = readdir(d))) {
		char *end;
		unsigned long pid = strtoul(de->d_name, &end, 10);

		if (de->d_name[0] < '1' || de->d_name[0] > '9' || *end || pid > UINT32_MAX)
			continue;
		seed_proc(t, procfs, (uint32_t)pid, sx, NULL, tick);
	}
	closedir(d);
	sock_index_free(sx);
	/* Parent links, now that every parent has been read. */
	for (struct proc *p = t->oldest; p; p = p->lnext)
		if (!p->parent)
			proc_table_parent(t, p);
	return (size_t)(t->st.seeded - before);
}

struct proc *proc_table_seed_one(struct proc_table *t, uint32_t pid, const struct proc *pin)
{
	struct proc *p;

	if (t->hooks.seed_one) {
		p = t->hooks.seed_one(t->hooks.ctx, t, pid, pin);
	} else {
		if (!t->procfs)
			return NULL;
		/* No socket index: loading every socket table for one process costs more than
		 * the socket names are worth; its sockets show as "socket:[INODE]" until used. */
		p = seed_proc(t, t->procfs, pid, NULL, pin, ticks_ns());
		if (p) {
			t->st.seeded--;
			if (t->hooks.seeded_one)
				t->hooks.seeded_one(t->hooks.ctx, p);
		}
	}
	if (p) {
		t->st.lazy_seeded++;
		proc_table_parent(t, p);
	}
	return p;
}

const char *proc_table_env(struct proc_table *t, struct proc *p, size_t *len)
{
	if (p->env_state == PROC_ENV_UNREAD) {
		char path[4200], *buf;
		ssize_t n = -1;

		p->env_state = PROC_ENV_FAILED;
		if (t->hooks.env) {
			if (t->hooks.env(t->hooks.ctx, p) && p->env)
				p->env_state = PROC_ENV_READ;
			t->st.env_reads++;
		} else if (t->procfs && (buf = malloc(PROC_ENV_MAX))) {
			snprintf(path, sizeof(path), "%s/%u/environ", t->procfs, p->pid);
			n = read_small(path, buf, PROC_ENV_MAX);
			if (n >= 0) {
				proc_set_str(&p->env, buf, (size_t)n);
				if (p->env) {
					p->env_len = (size_t)n;
					p->env_state = PROC_ENV_READ;
					if (n == PROC_ENV_MAX)
						p->flags |= PROC_ENV_TRUNC;
					if (t->hooks.env_read)
						t->hooks.env_read(t->hooks.ctx, p);
				}
			}
			free(buf);
			t->st.env_reads++;
		}
	}
	if (len)
		*len = p->env ? p->env_len : 0;
	return p->env;
}

bool proc_table_read_cgroup(struct proc_table *t, struct proc *p)
{
	char path[4200], *old = p->cgroup;

	if (t->hooks.cgroup) {
		t->st.cgroup_reads++;
		return t->hooks.cgroup(t->hooks.ctx, p);
	}
	if (!t->procfs)
		return false;
	snprintf(path, sizeof(path), "%s/%u/cgroup", t->procfs, p->pid);
	p->cgroup = NULL;
	parse_cgroup(path, p);
	t->st.cgroup_reads++;
	if (!p->cgroup) {
		p->cgroup = old;
		return false;
	}
	free(old);
	if (t->hooks.cgroup_read)
		t->hooks.cgroup_read(t->hooks.ctx, p);
	return true;
}

struct proc *proc_table_next(const struct proc_table *t, const struct proc *prev)
{
	return prev ? prev->lnext : t->oldest;
}

const struct proc_table_stats *proc_table_stats(const struct proc_table *t)
{
	return &t->st;
}
