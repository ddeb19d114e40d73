/* Watching the kernel's drop counters (spec e, syscall_event_drops): once a second the
 * daemon hands the counters to drops_tick, which compares the events dropped in that
 * interval with the events seen; above the threshold, and when the token bucket (rate,
 * max_burst) has a token, it returns the configured actions to run. Pure: no clock, no
 * I/O, so the rate limiting is unit-tested. */
#ifndef SAKER_DROPS_H
#define SAKER_DROPS_H

#include <stdbool.h>
#include <stdint.h>

#include "counters.h"

struct drops {
	double threshold; /* share of the interval's events */
	double rate;	  /* tokens per second */
	double burst;	  /* bucket size */
	int actions;	  /* DROP_ACTION_* (config.h) */
	double tokens;
	uint64_t last_ns; /* time of the previous tick */
	struct sk_counters prev;
	bool started;
};

/* What one interval saw. */
struct drops_interval {
	uint64_t seen, dropped;			 /* events that reached the probes; lost */
	uint64_t full, too_large, read_fail;	 /* the lost ones by reason */
	uint64_t ns;				 /* the interval's length */
};

void drops_init(struct drops *d, double threshold, double rate, unsigned max_burst,
		int actions);

/* Takes the counters read at now_ns (monotonic). Returns the actions to run now (0: none),
 * with iv describing the interval since the previous call. The first call only records. */
int drops_tick(struct drops *d, const struct sk_counters *now, uint64_t now_ns,
	       struct drops_interval *iv);

#endif /* SAKER_DROPS_H */
