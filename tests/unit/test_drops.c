/* The drop check's arithmetic (src/drops.c): intervals, the threshold, the token bucket. */
#include "testlib.h"

#include <string.h>

#include "config.h"
#include "drops.h"

#define SEC 1000000000ull

static struct sk_counters at(uint64_t seen, uint64_t full, uint64_t large, uint64_t fail)
{
	struct sk_counters k;

	memset(&k, 0, sizeof(k));
	k.seen = seen;
	k.drop_full = full;
	k.drop_too_large = large;
	k.drop_read_fail = fail;
	return k;
}

TEST(first_tick_only_records)
{
	struct drops d;
	struct drops_interval iv;
	struct sk_counters k = at(1000, 900, 0, 0);

	drops_init(&d, 0.1, 1.0, 1, DROP_ACTION_LOG);
	CHECK_EQ_INT(drops_tick(&d, &k, 5 * SEC, &iv), 0);
	CHECK_EQ_INT(iv.dropped, 0);
}

TEST(interval_deltas_and_reasons)
{
	struct drops d;
	struct drops_interval iv;
	struct sk_counters a = at(1000, 10, 1, 2), b = at(3000, 410, 51, 2);

	drops_init(&d, 0.1, 1.0, 1, DROP_ACTION_LOG | DROP_ACTION_ALERT);
	drops_tick(&d, &a, SEC, &iv);
	CHECK_EQ_INT(drops_tick(&d, &b, 2 * SEC, &iv), DROP_ACTION_LOG | DROP_ACTION_ALERT);
	CHECK_EQ_INT(iv.seen, 2000);
	CHECK_EQ_INT(iv.dropped, 450);
	CHECK_EQ_INT(iv.full, 400);
	CHECK_EQ_INT(iv.too_large, 50);
	CHECK_EQ_INT(iv.read_fail, 0);
	CHECK_EQ_INT(iv.ns, SEC);
}

TEST(threshold_is_exclusive)
{
	struct drops d;
	struct drops_interval iv;
	struct sk_counters a = at(0, 0, 0, 0), b = at(1000, 100, 0, 0), c = at(2000, 201, 0, 0);

	drops_init(&d, 0.1, 100.0, 10, DROP_ACTION_LOG);
	drops_tick(&d, &a, SEC, &iv);
	CHECK_EQ_INT(drops_tick(&d, &b, 2 * SEC, &iv), 0); /* exactly 10%: not above */
	CHECK_EQ_INT(drops_tick(&d, &c, 3 * SEC, &iv), DROP_ACTION_LOG); /* 10.1% */
}

TEST(zero_threshold_any_drop)
{
	struct drops d;
	struct drops_interval iv;
	struct sk_counters a = at(0, 0, 0, 0), b = at(1000000, 0, 0, 1);

	drops_init(&d, 0.0, 1.0, 1, DROP_ACTION_ALERT);
	drops_tick(&d, &a, SEC, &iv);
	CHECK_EQ_INT(drops_tick(&d, &b, 2 * SEC, &iv), DROP_ACTION_ALERT);
}

TEST(no_drops_no_action)
{
	struct drops d;
	struct drops_interval iv;
	struct sk_counters a = at(0, 0, 0, 0), b = at(5, 0, 0, 0);

	drops_init(&d, 0.0, 1.0, 1, DROP_ACTION_ALERT);
	drops_tick(&d, &a, SEC, &iv);
	CHECK_EQ_INT(drops_tick(&d, &b, 2 * SEC, &iv), 0);
}

TEST(drops_without_seen_count_as_all)
{
	struct drops d;
	struct drops_interval iv;
	struct sk_counters a = at(100, 0, 0, 0), b = at(100, 3, 0, 0);

	drops_init(&d, 0.5, 1.0, 1, DROP_ACTION_LOG);
	drops_tick(&d, &a, SEC, &iv);
	CHECK_EQ_INT(drops_tick(&d, &b, 2 * SEC, &iv), DROP_ACTION_LOG);
}

/* One token, a rate of one per 10 s: a storm of ticks acts once, then again 10 s later. */
TEST(token_bucket)
{
	struct drops d;
	struct drops_interval iv;
	uint64_t seen = 0, lost = 0, t = SEC;
	int acted[40];
	struct sk_counters k = at(0, 0, 0, 0);

	drops_init(&d, 0.1, 0.1, 1, DROP_ACTION_LOG);
	drops_tick(&d, &k, t, &iv);
	for (int i = 0; i < 40; i++) {
		seen += 1000;
		lost += 500;
		t += SEC;
		k = at(seen, lost, 0, 0);
		acted[i] = drops_tick(&d, &k, t, &iv) != 0;
	}
	CHECK_EQ_INT(acted[0], 1);
	for (int i = 1; i < 10; i++)
		CHECK_EQ_INT(acted[i], 0);
	CHECK_EQ_INT(acted[10], 1); /* 10 s of refill at 0.1/s: one token again */
	{
		int n = 0;

		for (int i = 0; i < 40; i++)
			n += acted[i];
		CHECK_EQ_INT(n, 4); /* seconds 1, 11, 21, 31 */
	}
}

TEST(burst_then_rate)
{
	struct drops d;
	struct drops_interval iv;
	uint64_t t = SEC;
	int n = 0;
	struct sk_counters k = at(0, 0, 0, 0);

	drops_init(&d, 0.0, 0.001, 3, DROP_ACTION_LOG);
	drops_tick(&d, &k, t, &iv);
	for (int i = 1; i <= 20; i++) {
		k = at((uint64_t)i * 10, (uint64_t)i, 0, 0);
		t += SEC;
		n += drops_tick(&d, &k, t, &iv) != 0;
	}
	CHECK_EQ_INT(n, 3);
}

TEST(ignore_means_no_actions)
{
	struct drops d;
	struct drops_interval iv;
	struct sk_counters a = at(0, 0, 0, 0), b = at(10, 10, 0, 0), c = at(20, 20, 0, 0);

	drops_init(&d, 0.0, 1.0, 1, 0);
	drops_tick(&d, &a, SEC, &iv);
	CHECK_EQ_INT(drops_tick(&d, &b, 2 * SEC, &iv), 0);
	CHECK_EQ_INT(iv.dropped, 10); /* still measured */
	/* actions set later (a reload) apply from the next interval, counters kept */
	d.actions = DROP_ACTION_EXIT;
	CHECK_EQ_INT(drops_tick(&d, &c, 3 * SEC, &iv), DROP_ACTION_EXIT);
	CHECK_EQ_INT(iv.dropped, 10);
}

TEST(config_actions)
{
	struct config c;
	char why[128];

	config_defaults(&c);
	CHECK_EQ_INT(config_drop_actions(&c, why, sizeof(why)), DROP_ACTION_LOG | DROP_ACTION_ALERT);
	CHECK_EQ_INT(config_apply_override(&c, "syscall_event_drops.actions=[exit, log]"), 0);
	CHECK_EQ_INT(config_drop_actions(&c, why, sizeof(why)), DROP_ACTION_LOG | DROP_ACTION_EXIT);
	CHECK_EQ_INT(config_apply_override(&c, "syscall_event_drops.actions=[ignore]"), 0);
	CHECK_EQ_INT(config_drop_actions(&c, why, sizeof(why)), 0);
	CHECK_EQ_INT(config_apply_override(&c, "syscall_event_drops.actions=[]"), 0);
	CHECK_EQ_INT(config_drop_actions(&c, why, sizeof(why)), 0);
	CHECK_EQ_INT(config_apply_override(&c, "syscall_event_drops.actions=[ignore, alert]"), 0);
	CHECK_EQ_INT(config_drop_actions(&c, why, sizeof(why)), -1);
	CHECK(strstr(why, "'ignore' cannot be combined") != NULL);
	CHECK_EQ_INT(config_check(&c), -1);
	CHECK_EQ_INT(config_apply_override(&c, "syscall_event_drops.actions=[mail]"), 0);
	CHECK_EQ_INT(config_drop_actions(&c, why, sizeof(why)), -1);
	CHECK(strstr(why, "'mail' is not one of") != NULL);
	config_free(&c);
}

TEST(config_doubles)
{
	struct config c;

	config_defaults(&c);
	CHECK(c.drops_threshold == 0.1);
	CHECK(c.drops_rate == 0.03333);
	CHECK_EQ_INT(c.drops_max_burst, 1);
	CHECK_EQ_INT(config_apply_override(&c, "syscall_event_drops.threshold=0"), 0);
	CHECK(c.drops_threshold == 0.0);
	CHECK_EQ_INT(config_apply_override(&c, "syscall_event_drops.threshold=1"), 0);
	CHECK_EQ_INT(config_apply_override(&c, "syscall_event_drops.threshold=1.0001"), -1);
	CHECK_EQ_INT(config_apply_override(&c, "syscall_event_drops.threshold=-0.5"), -1);
	CHECK_EQ_INT(config_apply_override(&c, "syscall_event_drops.threshold=nan"), -1);
	CHECK_EQ_INT(config_apply_override(&c, "syscall_event_drops.threshold=0.5x"), -1);
	CHECK_EQ_INT(config_apply_override(&c, "syscall_event_drops.threshold="), -1);
	CHECK_EQ_INT(config_apply_override(&c, "syscall_event_drops.rate=0"), -1);
	CHECK_EQ_INT(config_apply_override(&c, "syscall_event_drops.rate=2.5"), 0);
	CHECK(c.drops_rate == 2.5);
	CHECK(c.drops_threshold == 1.0); /* the refused ones changed nothing */
	config_free(&c);
}

int main(void)
{
	RUN(first_tick_only_records);
	RUN(interval_deltas_and_reasons);
	RUN(threshold_is_exclusive);
	RUN(zero_threshold_any_drop);
	RUN(no_drops_no_action);
	RUN(drops_without_seen_count_as_all);
	RUN(token_bucket);
	RUN(burst_then_rate);
	RUN(ignore_means_no_actions);
	RUN(config_actions);
	RUN(config_doubles);
	return tap_done();
}
