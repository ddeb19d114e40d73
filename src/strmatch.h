/*
 * String matching the VM's constants need, prepared once at compile time:
 *  - glob patterns (glob, iglob) matched against a subject of given length without copying
 *    it, with fnmatch(3)'s rules for flags 0 ('*' also crosses '/');
 *  - prefix and suffix sets (startswith / endswith anyof (...)) as tries, so a test walks the
 *    subject once whatever the number of items.
 */
#ifndef SAKER_STRMATCH_H
#define SAKER_STRMATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Whether pattern[0..plen) matches s[0..len) as fnmatch(pattern, s, 0) would; fold: ASCII
 * case-insensitive (iglob). A pattern or subject with a NUL byte never matches (fnmatch could
 * not see past it). Patterns with POSIX classes ("[:alpha:]") are handed to fnmatch. */
bool glob_match_n(const char *pattern, size_t plen, const char *s, size_t len, bool fold);

struct trie;

/* A trie of the n strings (items[i], lens[i]); reversed: of the reversed strings, for
 * suffixes. NULL when out of memory. */
struct trie *trie_build(const char *const *items, const size_t *lens, size_t n, bool reversed);
void trie_free(struct trie *t);

/* Whether some string of t is a prefix of s (a suffix, for a reversed trie). */
bool trie_match(const struct trie *t, const char *s, size_t len);

/* Whether n[0..nl) occurs in h[0..hl) (contains, bcontains). */
bool str_contains(const char *h, size_t hl, const char *n, size_t nl);

#endif /* SAKER_STRMATCH_H */
