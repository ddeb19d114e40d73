#include "hostread.h"

/* One flag for the process: the daemon is one thread, and a replay never turns it back. */
static bool allowed = true;

bool host_reads_allowed(void)
{
	return allowed;
}

void host_reads_set(bool a)
{
	allowed = a;
}
