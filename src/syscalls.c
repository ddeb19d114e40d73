#include "syscalls.h"

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
	switch (id) {
	case SK_NR_open:
	case SK_NR_close:
	case SK_NR_connect:
	case SK_NR_accept:
	case SK_NR_clone:
	case SK_NR_fork:
	case SK_NR_vfork:
	case SK_NR_execve:
	case SK_NR_creat:
	case SK_NR_openat:
	case SK_NR_accept4:
	case SK_NR_execveat:
	case SK_NR_clone3:
	case SK_NR_openat2:
		return true;
	default:
		return false;
	}
}
