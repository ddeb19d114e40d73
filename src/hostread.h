/*
 * Whether the daemon may read the live host to learn about events: /proc, /etc, a container
 * runtime's state files, the host name, the clocks. True when running live; false while a
 * capture is replayed (-e), where everything must come from the capture so that a replay on
 * any machine gives the same alerts (docs/capture.md).
 *
 * Any module that looks something up on the host while events are processed must check
 * host_reads_allowed() first and, when it is false, answer "unknown" (or take the answer from
 * the capture). A lookup whose answer a replay should see must also be recorded in the
 * capture when one is being written: see capture.h (CAP_K_* journal records).
 */
#ifndef SAKER_HOSTREAD_H
#define SAKER_HOSTREAD_H

#include <stdbool.h>

bool host_reads_allowed(void);
void host_reads_set(bool allowed);

#endif /* SAKER_HOSTREAD_H */
