#include "evttypes.h"

#include <string.h>

#include "syscalls.h"

static const struct {
	const char *name;
	unsigned code;
} others[] = {
    {"procexit", EVT_PROCEXIT},		  {"container", EVT_CONTAINER},
    {"signaldeliver", EVT_SIGNALDELIVER}, {"asyncevent", EVT_ASYNCEVENT},
    {"pluginevent", EVT_PLUGINEVENT},
};

/* The reference engine's names for syscalls the kernel names differently. */
static const struct {
	const char *alias, *syscall;
} aliases[] = {
    {"pread", "pread64"},
    {"pwrite", "pwrite64"},
    {"umount", "umount2"},
    {"fstatat", "newfstatat"},
};

int evttype_code(const char *name, size_t len)
{
	char buf[64];
	int id;

	if (len == 0 || len >= sizeof(buf) || memchr(name, '\0', len))
		return -1;
	memcpy(buf, name, len);
	buf[len] = '\0';
	id = syscall_id(buf);
	if (id >= 0 && id < SK_NR_SYSCALLS)
		return id;
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (strcmp(buf, aliases[i].alias) == 0)
			return syscall_id(aliases[i].syscall);
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		if (strcmp(buf, others[i].name) == 0)
			return (int)others[i].code;
	return -1;
}

const char *evttype_name(unsigned code)
{
	if (code < SK_NR_SYSCALLS)
		return syscall_name(code);
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		if (others[i].code == code)
			return others[i].name;
	return NULL;
}

bool evttype_valid(unsigned code)
{
	return evttype_name(code) != NULL;
}

void evtset_clear(struct evtset *s)
{
	memset(s, 0, sizeof(*s));
}

void evtset_add(struct evtset *s, unsigned code)
{
	if (code < EVT_CODES)
		s->w[code / 64] |= 1ull << (code % 64);
}

bool evtset_has(const struct evtset *s, unsigned code)
{
	return code < EVT_CODES && (s->w[code / 64] >> (code % 64) & 1);
}

void evtset_all(struct evtset *s)
{
	evtset_clear(s);
	for (unsigned c = 0; c < EVT_CODES; c++)
		if (evttype_valid(c))
			evtset_add(s, c);
}

void evtset_union(struct evtset *dst, const struct evtset *src)
{
	for (size_t i = 0; i < EVT_CODES / 64; i++)
		dst->w[i] |= src->w[i];
}

void evtset_intersect(struct evtset *dst, const struct evtset *src)
{
	for (size_t i = 0; i < EVT_CODES / 64; i++)
		dst->w[i] &= src->w[i];
}

void evtset_invert(struct evtset *dst)
{
	struct evtset all;

	evtset_all(&all);
	for (size_t i = 0; i < EVT_CODES / 64; i++)
		dst->w[i] = ~dst->w[i] & all.w[i];
}

size_t evtset_count(const struct evtset *s)
{
	size_t n = 0;

	for (size_t i = 0; i < EVT_CODES / 64; i++)
		n += (size_t)__builtin_popcountll(s->w[i]);
	return n;
}
