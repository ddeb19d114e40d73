/* One readable line per event, for debugging and for the end-to-end tests: time, pid, tid,
 * ppid, comm, the event with its decoded arguments, and the return value. Text or JSON. */
#ifndef SAKER_DUMP_H
#define SAKER_DUMP_H

#include <cJSON.h>

#include "event.h"
#include "proc_table.h"
#include "strbuf.h"

enum dump_format {
	DUMP_TEXT,
	DUMP_JSON
};

/* Formats ev into sb (replacing its contents), without a trailing newline. procs supplies
 * ppid and comm; it may be NULL. */
void dump_event(struct strbuf *sb, const struct event *ev, const struct proc_table *procs,
		enum dump_format fmt);

/* A JSON string holding any bytes: valid UTF-8 kept, each byte of an invalid sequence as
 * the text \xNN (strbuf.h), so the JSON stays valid. NULL when out of memory. */
cJSON *dump_json_string(const void *p, size_t len);

/* The event's name: the syscall's name, or sched_process_fork/exec/exit. */
const char *dump_event_name(const struct event *ev, char *buf, size_t cap);

#endif /* SAKER_DUMP_H */
