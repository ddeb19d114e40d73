#include "syscall_set.h"

#include <string.h>

#include "log.h"
#include "syscalls.h"

/* What state.c applies: process lifecycle and credentials, every call that creates,
 * duplicates, closes or describes an fd, and the cwd. The datagram calls are here because
 * they name the peer of an unconnected socket (fd.name, fd.sip). */
static const char *const state_set[] = {
    "fork",	     "vfork",	      "clone",	       "clone3",	"execve",
    "execveat",	     "setuid",	      "setreuid",      "setresuid",	"setgid",
    "setregid",	     "setresgid",     "setsid",	       "setpgid",	"prctl",
    "unshare",	     "setns",	      "chdir",	       "fchdir",	"open",
    "openat",	     "openat2",	      "creat",	       "close",		"close_range",
    "dup",	     "dup2",	      "dup3",	       "fcntl",		"socket",
    "socketpair",    "pipe",	      "pipe2",	       "connect",	"accept",
    "accept4",	     "bind",	      "listen",	       "sendto",	"recvfrom",
    "sendmsg",	     "recvmsg",	      "eventfd",       "eventfd2",	"signalfd",
    "signalfd4",     "epoll_create",  "epoll_create1", "inotify_init",	"inotify_init1",
    "timerfd_create", "userfaultfd",  "io_uring_setup", "bpf",		"pidfd_open",
    "pidfd_getfd",   "memfd_create",  "perf_event_open", "fanotify_init",
};

/* A directory made in the cgroup v2 mount is a new cgroup, whose id is read while it
 * exists (docs/containers.md). */
static const char *const cgroup_set[] = {"mkdir", "mkdirat"};

bool syscall_in_state_set(unsigned id)
{
	const char *name = syscall_name(id);

	if (!name)
		return false;
	for (size_t i = 0; i < sizeof(state_set) / sizeof(state_set[0]); i++)
		if (!strcmp(state_set[i], name))
			return true;
	for (size_t i = 0; i < sizeof(cgroup_set) / sizeof(cgroup_set[0]); i++)
		if (!strcmp(cgroup_set[i], name))
			return true;
	return false;
}

unsigned syscall_set_build(uint64_t *bm, const struct config *c, const uint64_t *rules,
			   bool dump)
{
	bool custom_base = false;
	unsigned n = 0;

	memset(bm, 0, SK_BITMAP_WORDS * sizeof(*bm));
	/* Plain names of the custom set replace the state set. */
	for (size_t i = 0; i < c->custom_set.n; i++) {
		const char *name = c->custom_set.v[i];
		int id;

		if (name[0] == '!')
			continue;
		id = syscall_id(name);
		if (id < 0) {
			log_warn("base_syscalls.custom_set: unknown syscall '%s' (ignored)", name);
			continue;
		}
		syscall_set_add(bm, (unsigned)id);
		custom_base = true;
	}
	for (unsigned id = 0; id < syscall_max() && id < SK_NR_SYSCALLS; id++) {
		if (!syscall_name(id))
			continue;
		if (c->syscalls_all || (dump && syscall_is_decoded(id)) ||
		    (!custom_base && syscall_in_state_set(id)))
			syscall_set_add(bm, id);
	}
	if (rules)
		for (unsigned w = 0; w < SK_BITMAP_WORDS; w++)
			bm[w] |= rules[w];
	/* '!name' removes from the final set. */
	for (size_t i = 0; i < c->custom_set.n; i++) {
		const char *name = c->custom_set.v[i];
		int id;

		if (name[0] != '!')
			continue;
		id = syscall_id(name + 1);
		if (id < 0) {
			log_warn("base_syscalls.custom_set: unknown syscall '%s' (ignored)", name + 1);
			continue;
		}
		bm[id / 64] &= ~(1ull << (id % 64));
	}
	for (unsigned id = 0; id < SK_NR_SYSCALLS; id++)
		n += syscall_set_has(bm, id);
	return n;
}
