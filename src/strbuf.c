#include "strbuf.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sb_release(struct strbuf *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->cap = 0;
}

void sb_reset(struct strbuf *sb)
{
	sb->len = 0;
	if (sb->buf)
		sb->buf[0] = '\0';
}

void sb_grow(struct strbuf *sb, size_t extra)
{
	size_t need = sb->len + extra + 1;
	size_t cap;
	char *p;

	if (need < sb->len) {
		fputs("saker: error: string buffer size overflow\n", stderr);
		abort();
	}
	if (need <= sb->cap)
		return;
	cap = sb->cap ? sb->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	p = realloc(sb->buf, cap);
	if (!p) {
		fputs("saker: error: out of memory\n", stderr);
		abort();
	}
	sb->buf = p;
	sb->cap = cap;
}

void sb_add(struct strbuf *sb, const void *data, size_t len)
{
	if (len >= sb->cap - sb->len) /* no room for len bytes and the NUL (cap 0 included) */
		sb_grow(sb, len);
	memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
}

void sb_addc(struct strbuf *sb, char c)
{
	if (sb->cap - sb->len < 2)
		sb_grow(sb, 1);
	sb->buf[sb->len++] = c;
	sb->buf[sb->len] = '\0';
}

void sb_adds(struct strbuf *sb, const char *s)
{
	sb_add(sb, s, strlen(s));
}

void sb_addf(struct strbuf *sb, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	/* Most pieces are short: format on the stack first, and again in place if not. */
	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(tmp)) {
		sb_add(sb, tmp, (size_t)n);
		return;
	}
	sb_grow(sb, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

void sb_add_u64(struct strbuf *sb, uint64_t v)
{
	char d[20];
	size_t n = sizeof(d);

	do {
		d[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	sb_add(sb, d + n, sizeof(d) - n);
}

void sb_add_i64(struct strbuf *sb, int64_t v)
{
	if (v < 0) {
		sb_addc(sb, '-');
		sb_add_u64(sb, -(uint64_t)v);
	} else {
		sb_add_u64(sb, (uint64_t)v);
	}
}

static void add_hex_escape(struct strbuf *sb, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char e[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};

	sb_add(sb, e, 4);
}

void sb_add_cescaped(struct strbuf *sb, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = p[i];

		switch (c) {
		case '\n':
			sb_add(sb, "\\n", 2);
			break;
		case '\t':
			sb_add(sb, "\\t", 2);
			break;
		case '\\':
			sb_add(sb, "\\\\", 2);
			break;
		case '"':
			sb_add(sb, "\\\"", 2);
			break;
		default:
			if (c >= 0x20 && c < 0x7f)
				sb_addc(sb, (char)c);
			else
				add_hex_escape(sb, c);
		}
	}
}

size_t utf8_seq_len(const unsigned char *p, size_t avail)
{
	unsigned char c = p[0];
	size_t n;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (avail < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* Overlong forms, UTF-16 surrogates and values past U+10FFFF are not UTF-8. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

void sb_add_utf8_sanitized(struct strbuf *sb, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t i = 0;

	while (i < len) {
		size_t n = p[i] ? utf8_seq_len(p + i, len - i) : 0;

		if (n == 0) {
			add_hex_escape(sb, p[i]);
			i++;
		} else {
			sb_add(sb, p + i, n);
			i += n;
		}
	}
}

/* Bytes a JSON string carries as they are: printable ASCII but '"' and '\\'. */
static const unsigned char json_plain[256] = {
    [0x20 ... 0x21] = 1,
    [0x23 ... 0x5b] = 1,
    [0x5d ... 0x7e] = 1,
};

/* Whether all 8 bytes of x are plain (json_plain), with word arithmetic: no byte below
 * 0x20, none '"', '\\' or 0x7f, none with the high bit. (v - 0x01..) & ~v & 0x80.. is
 * non-zero exactly when a byte of v is zero. */
static bool word_plain(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
	uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\'), d = x ^ (ones * 0x7f);

	return !((((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b) |
		  ((d - ones) & ~d) | x) &
		 highs);
}

void sb_add_json_escaped(struct strbuf *sb, const void *data, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = data;
	size_t i = 0;

	while (i < len) {
		unsigned char c;
		size_t n, run = i;

		/* the common case: a run of plain bytes, copied at once */
		for (uint64_t x; run + 8 <= len; run += 8) {
			memcpy(&x, p + run, 8);
			if (!word_plain(x))
				break;
		}
		while (run < len && json_plain[p[run]])
			run++;
		if (run > i) {
			sb_add(sb, p + i, run - i);
			i = run;
			if (i == len)
				break;
		}
		c = p[i];

		if (c == '"' || c == '\\') {
			sb_addc(sb, '\\');
			sb_addc(sb, (char)c);
			i++;
			continue;
		}
		if (c < 0x20 || c == 0x7f) {
			switch (c) {
			case '\n':
				sb_add(sb, "\\n", 2);
				break;
			case '\t':
				sb_add(sb, "\\t", 2);
				break;
			case '\r':
				sb_add(sb, "\\r", 2);
				break;
			default: {
				char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};

				sb_add(sb, u, sizeof(u));
			}
			}
			i++;
			continue;
		}
		if (c < 0x80) {
			sb_addc(sb, (char)c);
			i++;
			continue;
		}
		n = utf8_seq_len(p + i, len - i);
		if (n == 0) {
			sb_add(sb, "\xef\xbf\xbd", 3); /* U+FFFD */
			i++;
		} else {
			sb_add(sb, p + i, n);
			i += n;
		}
	}
}

void sb_add_json_string(struct strbuf *sb, const void *data, size_t len)
{
	sb_addc(sb, '"');
	sb_add_json_escaped(sb, data, len);
	sb_addc(sb, '"');
}
