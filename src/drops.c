#include "drops.h"

#include <string.h>

void drops_init(struct drops *d, double threshold, double rate, unsigned max_burst,
		int actions)
{
	memset(d, 0, sizeof(*d));
	d->threshold = threshold;
	d->rate = rate;
	d->burst = max_burst ? (double)max_burst : 1.0;
	d->actions = actions;
	d->tokens = d->burst; /* a full bucket: the first crossing is always reported */
}

static uint64_t lost(const struct sk_counters *k)
{
	return k->drop_full + k->drop_too_large + k->drop_read_fail;
}

int drops_tick(struct drops *d, const struct sk_counters *now, uint64_t now_ns,
	       struct drops_interval *iv)
{
	double ratio;

	memset(iv, 0, sizeof(*iv));
	if (!d->started) {
		d->started = true;
		d->prev = *now;
		d->last_ns = now_ns;
		return 0;
	}
	iv->ns = now_ns - d->last_ns;
	iv->seen = now->seen - d->prev.seen;
	iv->dropped = lost(now) - lost(&d->prev);
	iv->full = now->drop_full - d->prev.drop_full;
	iv->too_large = now->drop_too_large - d->prev.drop_too_large;
	iv->read_fail = now->drop_read_fail - d->prev.drop_read_fail;
	d->prev = *now;
	d->last_ns = now_ns;

	d->tokens += (double)iv->ns / 1e9 * d->rate;
	if (d->tokens > d->burst)
		d->tokens = d->burst;
	if (!iv->dropped || !d->actions)
		return 0;
	/* a drop counted in the probes is also counted as seen; guard the odd interval where
	 * the counters were read between the two increments */
	ratio = iv->seen ? (double)iv->dropped / (double)iv->seen : 1.0;
	if (ratio <= d->threshold)
		return 0;
	if (d->tokens < 1.0 - 1e-9) /* ten refills of 0.1 make one token, not 0.9999... */
		return 0;
	d->tokens -= 1.0;
	return d->actions;
}
