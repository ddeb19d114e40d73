/* The decoded event the daemon works with, independent of the wire layout. Pointers refer
 * into the ring buffer record and are valid only while its callback runs. */
#ifndef SAKER_EVENT_H
#define SAKER_EVENT_H

#include <stdint.h>

#include "counters.h"
#include "events.h"

struct blob {
	const uint8_t *p;
	uint32_t len;
};

struct event {
	uint16_t kind;	/* enum sk_event_type */
	uint8_t flags;	/* enum sk_record_flags */
	uint64_t ts_ns; /* CLOCK_BOOTTIME */
	uint32_t pid;
	uint32_t tid;

	/* SK_EV_SYSCALL */
	uint16_t nr;
	int64_t ret;
	uint64_t args[6];
	struct blob blob[2];

	/* The fixed part of the other kinds, as sent. */
	const struct sk_fork_ev *fork;
	const struct sk_exec_ev *exec;
	const struct sk_exit_ev *exit;
	/* SK_EV_EXEC */
	struct blob filename;
	struct blob argv;
	struct blob env; /* len 0: not sent (no rule wants proc.env) */
};

#endif /* SAKER_EVENT_H */
