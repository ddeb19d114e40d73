#include "syscall_set.h"

#include <string.h>

#include "log.h"
#include "syscalls.h"

unsigned syscall_set_build(uint64_t *bm, const struct config *c)
{
	unsigned n = 0;

	memset(bm, 0, SK_BITMAP_WORDS * sizeof(*bm));
	for (unsigned id = 0; id < syscall_max() && id < SK_NR_SYSCALLS; id++) {
		if (!syscall_name(id))
			continue;
		if (c->syscalls_all || syscall_is_decoded(id))
			syscall_set_add(bm, id);
	}
	for (size_t i = 0; i < c->custom_set.n; i++) {
		const char *name = c->custom_set.v[i];
		int remove = name[0] == '!';
		int id = syscall_id(name + remove);

		if (id < 0) {
			log_warn("base_syscalls.custom_set: unknown syscall '%s' (ignored)",
				 name + remove);
			continue;
		}
		if (remove)
			bm[id / 64] &= ~(1ull << (id % 64));
		else
			syscall_set_add(bm, (unsigned)id);
	}
	for (unsigned id = 0; id < SK_NR_SYSCALLS; id++)
		n += syscall_set_has(bm, id);
	return n;
}
