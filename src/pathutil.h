/*
 * Paths as the state tables keep them: joined to a base directory and normalised lexically.
 *
 * Normalising removes empty components (duplicate slashes), "." components and a trailing
 * slash, and folds ".." into the component before it; ".." at the root stays at the root.
 * Symbolic links are not resolved (that would need the traced process's view of the
 * filesystem at the time of the call, which is gone by the time the event is read), so
 * "/a/link/.." becomes "/a" even if the kernel went elsewhere. Every byte but '/' is kept
 * as it is: names may hold newlines, control characters and invalid UTF-8, which escaping
 * on output handles. No length limit: the result grows as needed.
 */
#ifndef SAKER_PATHUTIL_H
#define SAKER_PATHUTIL_H

#include <stddef.h>

#include "strbuf.h"

/*
 * Appends to out the normalised form of path (len bytes, NUL bytes not expected) taken
 * relative to base (a NUL-terminated directory, or NULL). An absolute path ignores base. A
 * relative path with an absolute base becomes absolute. A relative path without an absolute
 * base stays relative: its leading ".." components are kept, and an empty result is ".".
 */
void path_resolve(struct strbuf *out, const char *base, const char *path, size_t len);

/* The same into a new string (malloc'd; NULL when out of memory). */
char *path_resolve_dup(const char *base, const char *path, size_t len);

/*
 * Splits a normalised path into directory and file name without copying: the directory is
 * the first *dir_len bytes of path, the file name starts at the returned pointer.
 *   "/etc/passwd" -> "/etc", "passwd"      "/passwd" -> "/", "passwd"
 *   "/"           -> "/", ""               "name"    -> "", "name"      "" -> "", ""
 */
const char *path_split(const char *path, size_t len, size_t *dir_len);

#endif /* SAKER_PATHUTIL_H */
