#include "timeutil.h"

#include <stdio.h>
#include <time.h>

static int64_t boot_to_wall_offset;

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void time_sync(void)
{
	uint64_t b1 = clock_ns(CLOCK_BOOTTIME);
	uint64_t w = clock_ns(CLOCK_REALTIME);
	uint64_t b2 = clock_ns(CLOCK_BOOTTIME);

	boot_to_wall_offset = (int64_t)(w - (b1 + (b2 - b1) / 2));
}

int64_t time_offset(void)
{
	return boot_to_wall_offset;
}

void time_set_offset(int64_t off)
{
	boot_to_wall_offset = off;
}

uint64_t time_boot_to_wall(uint64_t boot_ns)
{
	/* Unsigned arithmetic: a nonsense stamp wraps instead of overflowing. */
	return boot_ns + (uint64_t)boot_to_wall_offset;
}

uint64_t time_boot_now(void)
{
	return clock_ns(CLOCK_BOOTTIME);
}

void time_format_iso(uint64_t wall_ns, char *buf, size_t cap)
{
	time_t secs = (time_t)(wall_ns / 1000000000ull);
	struct tm tm;

	gmtime_r(&secs, &tm);
	snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%09lluZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned long long)(wall_ns % 1000000000ull));
}
