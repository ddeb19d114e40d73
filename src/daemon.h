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
	bool verbose;	     /* -v: debug logs, whatever log_level says (also after SIGHUP) */
	unsigned duration_s; /* -M: stop after this long (0: run until a signal) */
	const struct rules_loaded *rules; /* evaluated on every event; NULL: none */
	/* SIGHUP: reads the configuration and rules again. Returns 0 with a new config and
	 * rules (both owned by the daemon from then on; rules NULL: none), or -1 after logging
	 * why the new ones were refused (the running ones stay). NULL: SIGHUP is ignored. */
	int (*reload)(void *ctx, struct config **cfg, struct rules_loaded **rules);
	void *reload_ctx;
	/* what watch_config_files watches: the config file (NULL: none) and the -r paths
	 * (none: the configuration's rules_files) */
	const char *config_path;
	const char *const *rules_paths;
	size_t n_rules_paths;

	/* Captures (docs/capture.md). */
	const char *capture_path; /* -w: write what the sensor sees to this file */
	/* --capture-filter: events it rejects are not written (unless they change the state);
	 * NULL: every event is written */
	const struct loaded_rule *capture_filter;
	const char *replay_path; /* -e: read the events from this capture, not the kernel */
};

/* Runs until SIGINT/SIGTERM or the deadline (live), or to the end of the capture (-e).
 * Returns the process exit code. */
int daemon_run(const struct daemon_opts *o);

#endif /* SAKER_DAEMON_H */
