/* Symbolic names for syscall flag arguments, joined by '|' as rules and alerts show them
 * ("O_RDONLY|O_CLOEXEC"). Bits without a name are shown in hex at the end. */
#ifndef SAKER_FLAGS_H
#define SAKER_FLAGS_H

#include <stdint.h>

#include "strbuf.h"

void flags_open(struct strbuf *sb, uint64_t flags);
void flags_clone(struct strbuf *sb, uint64_t flags);
/* AT_FDCWD, or the number. */
void flags_dirfd(struct strbuf *sb, int64_t dirfd);
/* execveat's AT_EMPTY_PATH/AT_SYMLINK_NOFOLLOW. */
void flags_at(struct strbuf *sb, uint64_t flags);
void flags_accept4(struct strbuf *sb, uint64_t flags);
/* "SOCK_STREAM", "SOCK_DGRAM", ... */
const char *sock_type_name(unsigned type);
/* "ENOENT", ... or NULL. */
const char *errno_name(int err);

#endif /* SAKER_FLAGS_H */
