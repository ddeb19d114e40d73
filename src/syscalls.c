#include "syscalls.h"

#include "evtargs.h"
#include "events.h"
#include "syscall_ids.h"

#include <string.h>

static const char *const names[] = {
#define SYSCALL(id, name) [id] = #name,
#include "syscalls.def"
#undef SYSCALL
};

#define N_NAMES (sizeof(names) / sizeof(names[0]))

const char *syscall_name(unsigned id)
{
	return id < N_NAMES ? names[id] : NULL;
}

int syscall_id(const char *name)
{
	for (unsigned i = 0; i < N_NAMES; i++)
		if (names[i] && strcmp(names[i], name) == 0)
			return (int)i;
	return -1;
}

unsigned syscall_max(void)
{
	return N_NAMES;
}

bool syscall_is_decoded(unsigned id)
{
	return evtargs_known(id);
}

#define SPEC_ENTRY(name, b0, b1) [SK_NR_##name] = {{b0, b1}},

static const struct sk_blob_spec blob_specs[SK_NR_SYSCALLS] = {SK_BLOB_SPECS(SPEC_ENTRY)};

const struct sk_blob_spec *syscall_blob_spec(unsigned id)
{
	static const struct sk_blob_spec none;

	return id < SK_NR_SYSCALLS ? &blob_specs[id] : &none;
}
