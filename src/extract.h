/*
 * Field extractors: the values of the registry's fields (fields.h) for one event, read from
 * the decoded record and the state tables. This is the struct vm_fieldsrc the rule VM and
 * the output formatter use.
 *
 * Every registry field has exactly one extractor here (the dispatch table is keyed by field
 * name and checked against the registry by tests/unit/test_extract.c). A field with no value
 * for the event returns "missing" (spec a.8).
 *
 * Strings built for an event (command lines, rendered arguments) live in a per-event arena
 * that extract_begin() resets, so they stay valid until the next event.
 */
#ifndef SAKER_EXTRACT_H
#define SAKER_EXTRACT_H

#include <stdint.h>

#include "event.h"
#include "vm.h"

struct state;
struct evctx;

struct arena_chunk;

struct arena {
	struct arena_chunk *head; /* newest first */
};

/* Facts that do not come from the event: set once by the daemon. */
struct extract_env {
	const char *hostname;
	uint64_t start_boot_ns; /* when the sensor started: evt.reltime is relative to it */
};

struct extract_ctx {
	const struct extract_env *env;
	const struct event *ev;
	const struct evctx *ec; /* the state's view of the event: process, fd (state.h) */
	uint64_t num;		/* evt.num */
	uint64_t wall_ns;	/* the event time, ns since the epoch */
	unsigned code;		/* the event-type code (evttypes.h) */
	struct arena arena;
};

/* Prepares ctx for the next event. */
void extract_begin(struct extract_ctx *ctx, const struct event *ev, const struct evctx *ec,
		   uint64_t num);
/* Frees the arena. */
void extract_release(struct extract_ctx *ctx);

/* The vm_fieldsrc callback: ctx is a struct extract_ctx. */
int extract_field(void *ctx, const struct vm_field *f, struct vm_value *out);

/* A field source over ctx. */
static inline struct vm_fieldsrc extract_src(struct extract_ctx *ctx)
{
	struct vm_fieldsrc s = {extract_field, ctx};
	return s;
}

/* The event-type code of a decoded event (a syscall's id, EVT_PROCEXIT, ...), or -1 when
 * rules are not evaluated on it (fork and exec records only update the state). */
int extract_event_code(const struct event *ev);

/* Names of registry fields without an extractor, for the test; NULL when all have one. */
const char *extract_missing_field(size_t *index);

/* Copies len bytes (plus a NUL) into the event's arena. */
char *arena_strdup(struct arena *a, const char *s, size_t len);
void *arena_alloc(struct arena *a, size_t size);

#endif /* SAKER_EXTRACT_H */
