/*
 * The sensor's picture of the system: processes and threads (proc_table.h), their fds
 * (fd_table.h), and user and group names (users.h), kept current by the events.
 *
 * An event is applied in two steps around rule evaluation:
 *
 *	struct evctx cx;
 *
 *	state_pre(st, &ev, &cx);	// apply what the event did; fill cx
 *	... evaluate rules, format outputs: read cx (and the tables through it) ...
 *	state_post(st, &cx);		// finish: drop what the event ended
 *
 * so a rule sees the world as it is right after the syscall, with what the syscall ended
 * still visible:
 *   - open/socket/accept/pipe/dup/...: the new fd is in the table (cx.fd is it);
 *   - connect/bind/listen/sendto/...: the fd's addresses are updated (cx.fd_name_changed);
 *   - execve (the exec record, and the execve syscall record after it): the new image;
 *   - fork: the child exists (cx.child), a copy of the parent;
 *   - close/close_range: the fd is still there (cx.fd), removed by state_post;
 *   - exit (sched_process_exit): the thread and process are still there, removed by
 *     state_post (children of a dead process are reparented then).
 * state_apply does both steps, for a consumer that evaluates nothing.
 *
 * Everything cx points to is valid from state_pre to state_post, and must not be kept
 * longer. Field extractors must not change the tables, but may call the lookup helpers
 * below (ancestors, environment, users), which only fill caches.
 */
#ifndef SAKER_STATE_H
#define SAKER_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "container.h"
#include "event.h"
#include "fd_table.h"
#include "proc_table.h"
#include "users.h"

struct state;

/*
 * What the rule fields read for one event. Which fd the event is "about":
 *   open, openat, openat2, creat, open_by_handle_at   the new fd; on failure a stand-in
 *       description (type file, or directory with O_DIRECTORY; the resolved name) and
 *       fdnum -1, so `fd.typechar='f' and fd.num=-1` matches a failed open as in Falco
 *   socket                                 the new fd; on failure a stand-in of the
 *                                          domain's type, fdnum -1
 *   accept, accept4                        the new fd (NULL, -1 on failure)
 *   pipe, pipe2, socketpair                fds[0]; fd2 is fds[1]
 *   memfd_create, eventfd*, signalfd*, epoll_create*, inotify_init*, timerfd_create,
 *   userfaultfd, io_uring_setup, bpf (fd-returning commands), pidfd_open, pidfd_getfd,
 *   perf_event_open, fanotify_init        the new fd (NULL, -1 on failure)
 *   dup, dup2, dup3, fcntl(F_DUPFD*)       the old fd (fdnum = oldfd); fd2 is the new one
 *                                          (same description)
 *   close                                  the fd being closed (still in the table)
 *   any syscall whose first argument is an fd (read, write, connect, bind, listen,
 *   sendto, recvmsg, fchmod, fchdir, ioctl, finit_module, setns, ...)   that fd, when known
 *   anything else                          NULL, -1
 */
struct evctx {
	const struct event *ev;
	struct state *st;
	struct proc *proc;     /* the caller's process (NULL only when out of memory) */
	struct thread *thread; /* the caller's thread (NULL if it could not be tracked) */
	struct proc *child;    /* SK_EV_FORK: the new process (or, for a thread, the caller's) */

	struct fdinfo *fd; /* fd.*: see above; NULL for none */
	int64_t fdnum;	   /* fd.num: -1 when none or the call failed */
	struct fdinfo *fd2;
	int64_t fdnum2;
	bool fd_name_changed; /* fd.name_changed: this event changed fd->name */

	/* fs.path.*: the event's path arguments (blob 0 and 1: path / source and target, see
	 * the table in docs/state.md). raw: as passed (NUL-terminated; NULL when the event has
	 * no such path). abs: resolved against the cwd or the dirfd as it was before the
	 * event, normalised (NULL when raw is NULL or is not a path, like a symlink's target;
	 * relative when the base directory is unknown). */
	const char *path_raw[2];
	const char *path_abs[2];

	/* Private to state.c. */
	uint8_t post;
	int64_t post_a, post_b;
};

struct state_stats {
	uint64_t events;
	uint64_t unknown_pid; /* events from a pid the table did not know */
	uint64_t partial;     /* ... which /proc did not have either: made up from the event */
	uint64_t pid_reused;  /* stale entries (exit missed) replaced by a new process */
	uint64_t fd_unknown;  /* events naming an fd the table did not know */
	uint64_t fds_dropped; /* fds not tracked (tables full), all processes */
	uint64_t bad_blob;    /* blobs of the wrong size for their syscall */
	uint64_t cgroup_by_id;	 /* cgroup paths found by opening the exec record's cgroup id */
	uint64_t cgroup_unknown; /* execs into a cgroup whose path nothing knew any more */
	uint64_t cgroup_mkdirs;	 /* cgroups seen made (mkdir in the cgroup v2 mount) */
};

/* max_procs bounds processes and threads (proc_table_new). NULL when out of memory. */
struct state *state_new(size_t max_procs);
void state_free(struct state *st);

/* Reads procfs_root (normally "/proc") into the tables; later lookups of unknown pids and
 * of environments read it too. Returns the processes read. */
size_t state_seed(struct state *st, const char *procfs_root);

void state_pre(struct state *st, const struct event *ev, struct evctx *cx);
void state_post(struct state *st, struct evctx *cx);
void state_apply(struct state *st, const struct event *ev);

struct proc_table *state_procs(struct state *st);
struct users *state_users(struct state *st);
/* Counters; fds_dropped is summed over the live processes when asked. */
const struct state_stats *state_stats(struct state *st);

/* Containers (container.h). The cache holds at most max containers (it starts with
 * STATE_CONTAINERS_DEFAULT and no metadata source); src NULL: no metadata, container ids
 * only. Returns -1 when out of memory (the old cache stays). */
#define STATE_CONTAINERS_DEFAULT 1024
int state_set_containers(struct state *st, size_t max, const struct ctr_source *src);
struct ctr_cache *state_containers(struct state *st);
/* The container p is in, looked up on first use; NULL for a host process. */
struct ctr_info *state_container(struct state *st, const struct proc *p);
/* Drops the cached containers no process in the table is in. */
void state_sweep_containers(struct state *st);
/* Between events, on a millisecond clock: sweeps the container cache when a container's
 * process ended and the last sweep is STATE_SWEEP_INTERVAL_MS old. */
#define STATE_SWEEP_INTERVAL_MS 100
void state_housekeeping(struct state *st, uint64_t now_ms);

/* Lookups for the field extractors. */

/* proc.aname[N] and friends: level 0 is the process itself, 1 its parent. */
static inline struct proc *evctx_ancestor(const struct evctx *cx, unsigned level)
{
	return cx->proc ? proc_table_ancestor(state_procs(cx->st), cx->proc, level) : NULL;
}

/* proc.env: NUL-separated "NAME=value" strings (read lazily, see proc_table_env). */
static inline const char *evctx_env(const struct evctx *cx, struct proc *p, size_t *len)
{
	return proc_table_env(state_procs(cx->st), p, len);
}

/* user.name, user.homedir, user.shell (by uid), user.loginname (by loginuid). */
static inline const struct user_entry *evctx_user(const struct evctx *cx, uint32_t uid)
{
	return users_by_uid(state_users(cx->st), uid);
}

static inline const char *evctx_group_name(const struct evctx *cx, uint32_t gid)
{
	return users_group_name(state_users(cx->st), gid);
}

#endif /* SAKER_STATE_H */
