#include "ruleset.h"

#include <stdlib.h>

struct bucket {
	const struct loaded_rule **rules;
	unsigned n;
};

struct ruleset {
	unsigned n_rules;
	struct bucket buckets[EVT_CODES];
	struct evtset all; /* union of the enabled rules' codes */
};

struct ruleset *ruleset_build(const struct rules_loaded *r)
{
	return ruleset_build_prio(r, RULES_PRIO_DEBUG);
}

static bool rule_on(const struct loaded_rule *lr, enum rules_priority least)
{
	return lr->src->enabled && lr->src->priority <= least;
}

struct ruleset *ruleset_build_prio(const struct rules_loaded *r, enum rules_priority least)
{
	struct ruleset *rs = calloc(1, sizeof(*rs));

	if (!rs)
		return NULL;
	/* Two passes: count, then fill, so each bucket is one exact allocation. */
	for (size_t i = 0; i < r->n_rules; i++) {
		if (!rule_on(&r->rules[i], least))
			continue;
		evtset_union(&rs->all, &r->rules[i].evttypes);
		rs->n_rules++;
		for (unsigned c = 0; c < EVT_CODES; c++)
			rs->buckets[c].n += evtset_has(&r->rules[i].evttypes, c);
	}
	for (unsigned c = 0; c < EVT_CODES; c++) {
		if (!rs->buckets[c].n)
			continue;
		rs->buckets[c].rules = calloc(rs->buckets[c].n, sizeof(*rs->buckets[c].rules));
		if (!rs->buckets[c].rules) {
			ruleset_free(rs);
			return NULL;
		}
		rs->buckets[c].n = 0;
	}
	for (size_t i = 0; i < r->n_rules; i++) {
		if (!rule_on(&r->rules[i], least))
			continue;
		for (unsigned c = 0; c < EVT_CODES; c++)
			if (evtset_has(&r->rules[i].evttypes, c))
				rs->buckets[c].rules[rs->buckets[c].n++] = &r->rules[i];
	}
	return rs;
}

void ruleset_free(struct ruleset *rs)
{
	if (!rs)
		return;
	for (unsigned c = 0; c < EVT_CODES; c++)
		free(rs->buckets[c].rules);
	free(rs);
}

unsigned ruleset_eval(const struct ruleset *rs, unsigned code, const struct vm_fieldsrc *src,
		      bool all, void (*on_match)(void *ctx, const struct loaded_rule *rule),
		      void *ctx)
{
	const struct bucket *b;
	unsigned matches = 0;

	if (code >= EVT_CODES)
		return 0;
	b = &rs->buckets[code];
	for (unsigned i = 0; i < b->n; i++) {
		if (vm_eval(b->rules[i]->prog, src) != 1)
			continue;
		matches++;
		if (on_match)
			on_match(ctx, b->rules[i]);
		if (!all)
			break;
	}
	return matches;
}

unsigned ruleset_n_rules(const struct ruleset *rs)
{
	return rs->n_rules;
}

unsigned ruleset_bucket_size(const struct ruleset *rs, unsigned code)
{
	return code < EVT_CODES ? rs->buckets[code].n : 0;
}

unsigned ruleset_syscalls(const struct ruleset *rs, uint64_t *bm)
{
	unsigned n = 0;

	for (unsigned c = 0; c < SK_NR_SYSCALLS; c++) {
		if (!evtset_has(&rs->all, c))
			continue;
		bm[c / 64] |= 1ull << (c % 64);
		n++;
	}
	return n;
}
