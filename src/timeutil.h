/* Event timestamps are CLOCK_BOOTTIME nanoseconds; people read wall clock time. */
#ifndef SAKER_TIMEUTIL_H
#define SAKER_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Measures the current offset between CLOCK_REALTIME and CLOCK_BOOTTIME. */
void time_sync(void);
/* The offset time_sync measured (wall minus boot, ns), and setting it (a replay uses the
 * capture's, so times come out as they did live). */
int64_t time_offset(void);
void time_set_offset(int64_t off);
/* Wall-clock nanoseconds since the epoch for a CLOCK_BOOTTIME timestamp. */
uint64_t time_boot_to_wall(uint64_t boot_ns);
uint64_t time_boot_now(void);
/* "2026-11-29T08:00:00.123456789Z" into buf (at least 32 bytes). */
void time_format_iso(uint64_t wall_ns, char *buf, size_t cap);

#endif /* SAKER_TIMEUTIL_H */
