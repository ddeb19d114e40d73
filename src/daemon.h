/* The core loop: one thread, epoll over the ring buffer, a drain timer, signals and an
 * optional deadline. Each record is decoded, applied to the tables, checked against the
 * rules filed under its event type (an alert line per match) and, in dump mode, printed. */
#ifndef SAKER_DAEMON_H
#define SAKER_DAEMON_H

#include <stdbool.h>

#include "config.h"
#include "dump.h"
#include "rules_load.h"

struct daemon_opts {
	const struct config *cfg;
	enum dump_format dump_format;
	bool dump;	     /* print every event */
	bool unbuffered;     /* flush stdout after every line */
	unsigned duration_s; /* -M: stop after this long (0: run until a signal) */
	const struct rules_loaded *rules; /* evaluated on every event; NULL: none */
};

/* Runs until SIGINT/SIGTERM or the deadline. Returns the process exit code. */
int daemon_run(const struct daemon_opts *o);

#endif /* SAKER_DAEMON_H */
