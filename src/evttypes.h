/*
 * Event types as rules name them (evt.type values): every x86-64 syscall by name, a few
 * names of the reference engine's event table that differ from the kernel's (pread for
 * pread64, umount for umount2, ...), and the non-syscall events. Codes: a syscall's code is
 * its x86-64 id; the others follow SK_NR_SYSCALLS. A rule's set of codes (cond_check.h) is a
 * struct evtset.
 */
#ifndef SAKER_EVTTYPES_H
#define SAKER_EVTTYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "events.h"

enum {
	EVT_PROCEXIT = SK_NR_SYSCALLS, /* a process or thread ended (sched_process_exit) */
	EVT_CONTAINER,		       /* a container started (metadata event) */
	EVT_SIGNALDELIVER,	       /* a signal was delivered */
	EVT_ASYNCEVENT,		       /* events from plugins or the engine itself */
	EVT_PLUGINEVENT,	       /* plugin events */
	EVT_COUNT_ALIGNED = SK_NR_SYSCALLS + 64,
};

#define EVT_CODES EVT_COUNT_ALIGNED

struct evtset {
	uint64_t w[EVT_CODES / 64];
};

/* The code of an event name, or -1 when no event has it. */
int evttype_code(const char *name, size_t len);
/* The name of a code ("openat", "procexit"), or NULL. */
const char *evttype_name(unsigned code);
/* Whether code names an event saker can produce (a known syscall or a non-syscall event). */
bool evttype_valid(unsigned code);

void evtset_clear(struct evtset *s);
/* Every valid code. */
void evtset_all(struct evtset *s);
void evtset_add(struct evtset *s, unsigned code);
bool evtset_has(const struct evtset *s, unsigned code);
void evtset_union(struct evtset *dst, const struct evtset *src);
void evtset_intersect(struct evtset *dst, const struct evtset *src);
/* dst = every valid code not in dst */
void evtset_invert(struct evtset *dst);
size_t evtset_count(const struct evtset *s);

#endif /* SAKER_EVTTYPES_H */
