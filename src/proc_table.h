/*
 * The process table: processes keyed by pid (thread group id), each with its threads
 * (looked up by tid), its fd table and a link to its parent process. Seeded from /proc at
 * start; the events that change it are applied by state.c (fork, exec, exit, credentials,
 * fds, cwd). docs/state.md describes what updates each field and the limits.
 *
 * Bounded: the table holds at most max_entries processes and max_entries threads; past
 * that, the least recently active process goes (with its threads), counted in evictions.
 *
 * Pointers to processes and threads stay valid until the entry is removed or evicted;
 * anything that inserts may evict, so do not keep one across an insertion (state.c pins
 * the process it works on).
 */
#ifndef SAKER_PROC_TABLE_H
#define SAKER_PROC_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "fd_table.h"

/* Ancestor walks stop after this many levels. */
#define PROC_MAX_DEPTH 64
/* /proc/PID/environ is read up to this much. */
#define PROC_ENV_MAX 32768

struct proc;

struct thread {
	uint32_t tid;
	uint32_t vtid;	     /* tid in the thread's pid namespace; 0 when unknown */
	uint32_t last_child; /* tid of the task this thread last created (the fork record),
			      * for the clone/fork exit that follows */
	struct proc *proc;
	struct thread *hnext;	      /* hash chain */
	struct thread *pnext, *pprev; /* the process's threads */
};

enum proc_flags {
	PROC_SEEDED = 1 << 0,	  /* read from /proc (at start, or later for an unknown pid) */
	PROC_PARTIAL = 1 << 1,	  /* made up from an event: /proc had nothing */
	PROC_EXECED = 1 << 2,	  /* image known from an exec record */
	PROC_SUBREAPER = 1 << 3,  /* prctl(PR_SET_CHILD_SUBREAPER) seen */
	PROC_CAPS_KNOWN = 1 << 4, /* cap_* hold real values */
	PROC_EXE_KNOWN = 1 << 5,  /* exe_ino, exe_ctime_ns, ... hold real values */
	PROC_ENV_TRUNC = 1 << 6,  /* env was cut at PROC_ENV_MAX */
	PROC_NEWPIDNS = 1 << 7,	  /* unshare/setns of a pid namespace: children go elsewhere */
};

enum proc_env_state {
	PROC_ENV_UNREAD = 0, /* read /proc/PID/environ on first use */
	PROC_ENV_READ,
	PROC_ENV_FAILED, /* the read failed (process gone, no permission): env stays NULL */
};

/* exe_flags */
#define PROC_EXE_MEMFD 1u /* the executable is a memfd (fileless) */
#define PROC_EXE_UPPER 2u /* the executable is in an overlayfs upper layer */

#define PROC_NO_LOGINUID 0xffffffffu

/* A process (thread group). Strings are NUL-terminated and may hold any other byte; NULL
 * means unknown. */
struct proc {
	uint32_t pid;
	uint32_t ppid;	      /* parent's pid; 0 for none (pid 1, kernel threads' parent) */
	uint32_t vpid, vpgid; /* in the process's own pid namespace; 0 when unknown */
	uint32_t pidns_ino;   /* inode of that namespace (/proc/PID/ns/pid); 0 unknown */
	uint32_t sid, pgid;   /* session and process group, in the initial namespace */
	uint32_t tty;	      /* controlling tty, kernel dev_t encoding; 0 for none */
	uint32_t uid, gid, euid, egid, suid, sgid;
	uint32_t loginuid;					/* PROC_NO_LOGINUID when unset */
	uint32_t flags;						/* enum proc_flags */
	uint64_t cap_effective, cap_permitted, cap_inheritable; /* PROC_CAPS_KNOWN */
	uint64_t start_ns;					/* CLOCK_BOOTTIME; 0 unknown */
	uint64_t cgroup_id;					/* 0 unknown */
	/* The executable's inode (PROC_EXE_KNOWN). */
	uint64_t exe_ino, exe_ctime_ns, exe_mtime_ns; /* times: epoch ns */
	uint32_t exe_mode, exe_uid, exe_gid;
	uint32_t exe_flags; /* PROC_EXE_* */
	char comm[16];
	char *exe;	/* proc.exe: argv[0] (the filename when argv is empty) */
	char *exepath;	/* proc.exepath: absolute, normalised executable path */
	char *filename; /* the filename given to exec, as passed; NULL if not seen */
	char *args;	/* the argv area: NUL-separated, argv[0] included */
	size_t args_len;
	char *cwd;    /* absolute, normalised */
	char *cgroup; /* path in the unified hierarchy (or the first v1 hierarchy) */
	/* Environment: NUL-separated like args; read lazily (proc_table_env). */
	char *env;
	size_t env_len;
	uint8_t env_state; /* enum proc_env_state */
	struct fd_table fds;

	uint32_t nthreads;
	struct thread *threads;
	/* Family: parent is the process with pid == ppid when it is known to be the same
	 * process (started no later than this one); children are linked through sib_*. */
	struct proc *parent, *children, *sib_next, *sib_prev;

	struct proc *hnext;	    /* hash chain */
	struct proc *lprev, *lnext; /* activity list, least recently active first */
};

struct proc_table_stats {
	uint64_t procs;
	uint64_t threads;
	uint64_t evictions; /* processes evicted (with their threads) to stay in bounds */
	uint64_t seeded;    /* processes read from /proc */
	uint64_t seeded_threads;
	uint64_t lazy_seeded;	  /* unknown pids read from /proc when an event named them */
	uint64_t reparented;	  /* children moved to a reaper when their parent died */
	uint64_t threads_dropped; /* threads not tracked: no room left */
	uint64_t env_reads;
	uint64_t cgroup_reads; /* cgroup paths read again after an exec into another cgroup */
	uint64_t fds_dropped;  /* fds not tracked by removed processes' tables (live ones: in
				* each fd_table.dropped) */
};

struct proc_table;

/* max_entries: processes and threads (at least 8). NULL when out of memory. */
struct proc_table *proc_table_new(size_t max_entries);
void proc_table_free(struct proc_table *t);

/* Where /proc is, for lazy reads (environment, unknown pids). NULL (the default) disables
 * them. proc_table_seed sets it. */
void proc_table_set_procfs(struct proc_table *t, const char *procfs);

/*
 * The lazy reads (an unknown pid, an environment, a cgroup path after an exec) are the
 * table's only contact with the live host after the seed. Hooks let a capture record what
 * they found and a replay answer them from the capture instead (docs/capture.md). Every
 * member may be NULL.
 */
struct proc_table_hooks {
	void *ctx;
	/* Replay: asked instead of procfs (set procfs NULL). seed_one fills a process into the
	 * table (proc_table_upsert_pinned with pin) or returns NULL: /proc had nothing. env sets
	 * p->env, env_len and PROC_ENV_TRUNC and returns true, or false: the read failed.
	 * cgroup sets p->cgroup (freeing the old one) and returns true, or false: unchanged. */
	struct proc *(*seed_one)(void *ctx, struct proc_table *t, uint32_t pid,
				 const struct proc *pin);
	bool (*env)(void *ctx, struct proc *p);
	bool (*cgroup)(void *ctx, struct proc *p);
	/* Capture: called after a lazy read from procfs succeeded, with what it found. */
	void (*seeded_one)(void *ctx, const struct proc *p);
	void (*env_read)(void *ctx, const struct proc *p);
	void (*cgroup_read)(void *ctx, const struct proc *p);
};

/* Replaces the hooks (NULL: none). */
void proc_table_set_hooks(struct proc_table *t, const struct proc_table_hooks *h);

struct proc *proc_table_get(const struct proc_table *t, uint32_t pid);
struct thread *proc_table_thread(const struct proc_table *t, uint32_t tid);
/* The process of thread tid, else the process pid. */
struct proc *proc_table_lookup(const struct proc_table *t, uint32_t pid, uint32_t tid);

/* Returns process pid, creating an empty one (with main thread pid) when absent. Room is
 * made by evicting the least recently active process other than pin. NULL when out of
 * memory or nothing can be evicted. */
struct proc *proc_table_upsert_pinned(struct proc_table *t, uint32_t pid, const struct proc *pin);
struct proc *proc_table_upsert(struct proc_table *t, uint32_t pid);
/* Adds thread tid to p (moving it from another process if it was there). NULL when there is
 * no room (counted in threads_dropped). */
struct thread *proc_table_add_thread(struct proc_table *t, struct proc *p, uint32_t tid);
void proc_table_remove_thread(struct proc_table *t, uint32_t tid);
/* Removes a process and its threads. Its children lose their parent link (they keep ppid). */
void proc_table_remove(struct proc_table *t, uint32_t pid);
/* Removes a process that died: its children are reparented as the kernel does, to the
 * nearest subreaper ancestor or the init of the pid namespace (vpid 1), else to pid 1. */
void proc_table_reap(struct proc_table *t, uint32_t pid);
/* Marks p as the most recently active. */
void proc_table_touch(struct proc_table *t, struct proc *p);

/* Sets ppid and the parent link. */
void proc_table_set_ppid(struct proc_table *t, struct proc *p, uint32_t ppid);
/* The parent process, linking it on first use; NULL when unknown, when the pid was reused
 * by a younger process, or for pid 0. */
struct proc *proc_table_parent(struct proc_table *t, struct proc *p);
/* The ancestor level levels up (0: p itself, 1: parent, ...); NULL past the known chain or
 * PROC_MAX_DEPTH. */
struct proc *proc_table_ancestor(struct proc_table *t, struct proc *p, unsigned level);
/* The leader of p's session (pid == sid), or NULL. */
struct proc *proc_table_session_leader(struct proc_table *t, struct proc *p);

/* The environment (NUL-separated), read from /proc/PID/environ on first use and cached
 * until the next exec. NULL when unknown. */
const char *proc_table_env(struct proc_table *t, struct proc *p, size_t *len);

/* Frees p's strings and fds and clears every field but identity, links and threads. */
void proc_reset(struct proc_table *t, struct proc *p);
/* Copies what a forked child inherits from parent into c (a fresh or reset entry):
 * everything but pid, threads, family links and start time. The fd table is shared
 * description by description. */
void proc_inherit(struct proc *c, const struct proc *parent);
/* Replaces *dst with a copy of len bytes and a NUL (NULL src: *dst = NULL). */
void proc_set_str(char **dst, const void *src, size_t len);

/* Reads every process and thread under procfs (a path, normally "/proc"), with their fds
 * (sockets placed through each network namespace's /proc/PID/net tables). Returns the
 * processes read. */
size_t proc_table_seed(struct proc_table *t, const char *procfs);
/* Reads one process from the procfs set with proc_table_set_procfs (for a pid an event
 * named that the table did not know). NULL when it is not there. */
struct proc *proc_table_seed_one(struct proc_table *t, uint32_t pid, const struct proc *pin);

/* Iteration, least recently active first: pass NULL for the first process. The table must
 * not change during the walk. */
struct proc *proc_table_next(const struct proc_table *t, const struct proc *prev);

/* Reads p's cgroup path again from the procfs set with proc_table_set_procfs. Returns false
 * (p->cgroup unchanged) when it cannot. */
bool proc_table_read_cgroup(struct proc_table *t, struct proc *p);

const struct proc_table_stats *proc_table_stats(const struct proc_table *t);

#endif /* SAKER_PROC_TABLE_H */
