/*
 * User and group names: uid -> {name, home directory, shell} and gid -> name, read from
 * ROOT/etc/passwd and ROOT/etc/group directly (the binary is static: no NSS, so users that
 * only exist in LDAP/sssd are unknown). ROOT is "/" unless set (users_set_root), so a sensor
 * in a container can read the host's files through a mount of the host's root.
 *
 * The files are read on the first lookup and again when one of them changes (mtime, size or
 * inode), checked by users_refresh at most once a second. An unknown id has no entry.
 * Duplicate ids: the first line wins, as getpwuid does. Malformed lines are skipped.
 */
#ifndef SAKER_USERS_H
#define SAKER_USERS_H

#include <stddef.h>
#include <stdint.h>

struct user_entry {
	uint32_t uid;
	uint32_t gid;
	const char *name;
	const char *home;
	const char *shell;
};

struct users_stats {
	uint64_t users;
	uint64_t groups;
	uint64_t loads;	    /* times the files were (re)read */
	uint64_t bad_lines; /* lines skipped in the last load */
};

struct users;

/* root: NULL for "/". NULL when out of memory. */
struct users *users_new(const char *root);
void users_free(struct users *u);
/* Changes the root directory; the files are read again at the next lookup. 0, or -1 when
 * out of memory (the old root stays). */
int users_set_root(struct users *u, const char *root);
const char *users_root(const struct users *u);

/* Rechecks the files if a second has passed since the last check (CLOCK_MONOTONIC) and
 * reloads them when they changed (nothing before the first lookup, which reads them). Entries
 * returned before a reload are invalid after it: call this between events, never while holding an
 * entry. */
void users_refresh(struct users *u);
/* The same with the current time given (nanoseconds, any monotonic clock): for tests. */
void users_refresh_at(struct users *u, uint64_t now_ns);
/* Reads the files now. */
void users_reload(struct users *u);

/* Lookups (the first one loads the files). NULL when the id is unknown. */
const struct user_entry *users_by_uid(struct users *u, uint32_t uid);
const char *users_group_name(struct users *u, uint32_t gid);

const struct users_stats *users_stats(const struct users *u);

/*
 * Captures and replays (docs/capture.md). users_set_observer: fn is called after every load
 * from the files with their text as read (NULL and 0 for a missing file). users_set_text:
 * the tables come from this text instead (copied), and the files are never read again:
 * lookups and refreshes stay off the host. Returns 0, or -1 when out of memory.
 */
void users_set_observer(struct users *u,
			void (*fn)(void *ctx, const char *passwd, size_t plen, const char *group,
				   size_t glen),
			void *ctx);
int users_set_text(struct users *u, const char *passwd, size_t plen, const char *group,
		   size_t glen);

#endif /* SAKER_USERS_H */
