/*
 * The process table: one entry per thread, keyed by tid, seeded from /proc at start and
 * kept current by the fork, exec and exit records. This first version holds what the event
 * dump shows (pid, ppid, comm, exe, args); the state issue grows it.
 *
 * Bounded: past max_entries the oldest entry is evicted and counted.
 */
#ifndef SAKER_PROC_TABLE_H
#define SAKER_PROC_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

struct proc {
	uint32_t tid;
	uint32_t pid;  /* thread group id */
	uint32_t ppid; /* the thread group's parent */
	char comm[16];
	char *exe;  /* the path exec'd, as passed (NUL-terminated, may hold any byte) */
	char *args; /* argv area: NUL-separated */
	size_t args_len;
	uint64_t start_ns; /* CLOCK_BOOTTIME */

	struct proc *hnext;	    /* hash chain */
	struct proc *lprev, *lnext; /* age list, oldest first */
};

struct proc_table_stats {
	uint64_t entries;
	uint64_t evictions;
	uint64_t seeded;
	uint64_t missing; /* events about a tid the table did not know */
};

struct proc_table;

struct proc_table *proc_table_new(size_t max_entries);
void proc_table_free(struct proc_table *t);

struct proc *proc_table_get(const struct proc_table *t, uint32_t tid);
/* Returns the entry for tid, creating an empty one (evicting if full) when absent. */
struct proc *proc_table_upsert(struct proc_table *t, uint32_t tid);
void proc_table_remove(struct proc_table *t, uint32_t tid);

/* Reads every thread under procfs (a path, normally "/proc"). Returns the threads read. */
size_t proc_table_seed(struct proc_table *t, const char *procfs);

/* Applies a fork, exec or exit record. Other kinds are ignored. */
void proc_table_apply(struct proc_table *t, const struct event *ev);

const struct proc_table_stats *proc_table_stats(const struct proc_table *t);

#endif /* SAKER_PROC_TABLE_H */
