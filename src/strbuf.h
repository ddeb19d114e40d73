/* A growable byte buffer that stays NUL-terminated, and escapers for hostile bytes
 * (filenames, argv and comm are attacker-controlled). */
#ifndef SAKER_STRBUF_H
#define SAKER_STRBUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct strbuf {
	char *buf;
	size_t len;
	size_t cap;
};

#define STRBUF_INIT                                                                                \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

void sb_release(struct strbuf *sb);
void sb_reset(struct strbuf *sb);
/* Growth failures abort: the daemon cannot run out of memory formatting one line. */
void sb_grow(struct strbuf *sb, size_t extra);
void sb_add(struct strbuf *sb, const void *data, size_t len);
void sb_addc(struct strbuf *sb, char c);
void sb_adds(struct strbuf *sb, const char *s);
void sb_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Decimal integers, without printf's cost. */
void sb_add_u64(struct strbuf *sb, uint64_t v);
void sb_add_i64(struct strbuf *sb, int64_t v);

/* Appends bytes as printable ASCII: \n, \t, \\, \" and \xNN for everything else outside
 * 0x20-0x7e, so any name stays on one line and can be read back unambiguously. */
void sb_add_cescaped(struct strbuf *sb, const void *data, size_t len);

/* Appends bytes as valid UTF-8 text: valid UTF-8 is kept, each byte of an invalid sequence
 * becomes the four characters \xNN. The result is safe to hand to a JSON encoder. */
void sb_add_utf8_sanitized(struct strbuf *sb, const void *data, size_t len);

/* Appends bytes as the inside of a JSON string (no quotes): '"' and '\\' escaped, control
 * characters as \n, \t, \r or \u00XX, each byte of an invalid UTF-8 sequence as U+FFFD. */
void sb_add_json_escaped(struct strbuf *sb, const void *data, size_t len);
/* The same, within double quotes. */
void sb_add_json_string(struct strbuf *sb, const void *data, size_t len);

/* Length of the valid UTF-8 sequence at p (1-4), or 0 when the bytes there are not one. */
size_t utf8_seq_len(const unsigned char *p, size_t avail);

#endif /* SAKER_STRBUF_H */
