#include "hostread.h"

#include <string.h>

/* Process-wide: the daemon is one thread, and a replay never turns reads back on. */
static bool allowed = true;
static struct hostread_journal journal;

bool host_reads_allowed(void)
{
	return allowed;
}

void host_reads_set(bool a)
{
	allowed = a;
}

void hostread_set_journal(const struct hostread_journal *j)
{
	if (j)
		journal = *j;
	else
		memset(&journal, 0, sizeof(journal));
}

void hostread_record(const char *what, const char *key, const void *data, size_t len)
{
	if (journal.record && allowed)
		journal.record(journal.ctx, what, key ? key : "", data, len);
}

bool hostread_replayed(const char *what, const char *key, const void **data, size_t *len)
{
	*data = NULL;
	*len = 0;
	return journal.replayed && journal.replayed(journal.ctx, what, key ? key : "", data, len);
}
