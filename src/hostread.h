/*
 * Reading the live host while events are processed, and replaying it (docs/capture.md).
 *
 * host_reads_allowed() is true when running live; false while a capture is replayed (-e),
 * where everything must come from the capture so that a replay on any machine gives the
 * same alerts. Any module that looks something up on the host while events are processed
 * (/proc, /etc, a container runtime's state files, ...) follows this pattern:
 *
 *	if (host_reads_allowed()) {
 *		n = read_the_thing(key, buf);        // live
 *		if (n >= 0)
 *			hostread_record("runtime.config", key, buf, n);
 *	} else if (!hostread_replayed("runtime.config", key, &data, &n)) {
 *		// nothing was read live for this key while this event was processed: unknown
 *	}
 *
 * hostread_record() journals the answer into the capture being written (-w), if any;
 * hostread_replayed() gives it back during the replay of the same event. `what` names the
 * kind of lookup (a short constant string of the module's choosing), `key` what was looked
 * up. Answers are matched to the event during which they were read: a lookup made live
 * while processing event N is answered during the replay of event N only. A module that
 * caches answers keeps doing so; replay gives it the same misses and hits as live.
 */
#ifndef SAKER_HOSTREAD_H
#define SAKER_HOSTREAD_H

#include <stdbool.h>
#include <stddef.h>

bool host_reads_allowed(void);
void host_reads_set(bool allowed);

/* Live: journal what was read (no-op without a capture being written). */
void hostread_record(const char *what, const char *key, const void *data, size_t len);
/* Replay: the data journaled live for (what, key) during this event; false when none. The
 * data stays valid until the end of the event. */
bool hostread_replayed(const char *what, const char *key, const void **data, size_t *len);

/* The daemon's side: where records go and where replayed answers come from. */
struct hostread_journal {
	void *ctx;
	void (*record)(void *ctx, const char *what, const char *key, const void *data,
		       size_t len);
	bool (*replayed)(void *ctx, const char *what, const char *key, const void **data,
			 size_t *len);
};
/* NULL: none (the default). */
void hostread_set_journal(const struct hostread_journal *j);

#endif /* SAKER_HOSTREAD_H */
