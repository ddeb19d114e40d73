/* The buffer and the escapers that stand between hostile bytes and our output. */
#include "strbuf.h"
#include "testlib.h"

TEST(grow_and_format)
{
	struct strbuf sb = STRBUF_INIT;

	for (int i = 0; i < 1000; i++)
		sb_addf(&sb, "%d,", i);
	CHECK(sb.len > 3000);
	CHECK(strncmp(sb.buf, "0,1,2,", 6) == 0);
	CHECK_EQ_INT(strlen(sb.buf), sb.len);
	sb_reset(&sb);
	CHECK_EQ_INT(sb.len, 0);
	CHECK_EQ_STR(sb.buf, "");
	sb_release(&sb);
	CHECK(sb.buf == NULL);
}

TEST(cescape)
{
	struct strbuf sb = STRBUF_INIT;
	const char in[] = "a\nb\t\"q\"\\\x01\xff z";

	sb_add_cescaped(&sb, in, sizeof(in) - 1);
	CHECK_EQ_STR(sb.buf, "a\\nb\\t\\\"q\\\"\\\\\\x01\\xff z");
	sb_release(&sb);
}

TEST(cescape_keeps_nul_visible)
{
	struct strbuf sb = STRBUF_INIT;

	sb_add_cescaped(&sb, "a\0b", 3);
	CHECK_EQ_STR(sb.buf, "a\\x00b");
	sb_release(&sb);
}

TEST(utf8_valid_kept)
{
	struct strbuf sb = STRBUF_INIT;
	const char in[] = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";

	sb_add_utf8_sanitized(&sb, in, sizeof(in) - 1);
	CHECK_EQ_STR(sb.buf, in);
	sb_release(&sb);
}

TEST(utf8_invalid_escaped)
{
	struct strbuf sb = STRBUF_INIT;
	/* lone continuation, truncated 2-byte, overlong '/', surrogate, > U+10FFFF, 0xff */
	const char in[] = "\x80 \xc3 \xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80 \xff";

	sb_add_utf8_sanitized(&sb, in, sizeof(in) - 1);
	CHECK_EQ_STR(sb.buf, "\\x80 \\xc3 \\xc0\\xaf \\xed\\xa0\\x80 \\xf4\\x90\\x80\\x80 \\xff");
	sb_release(&sb);
}

TEST(utf8_truncated_at_end)
{
	struct strbuf sb = STRBUF_INIT;

	sb_add_utf8_sanitized(&sb, "ok\xe2\x82", 4);
	CHECK_EQ_STR(sb.buf, "ok\\xe2\\x82");
	sb_reset(&sb);
	sb_add_utf8_sanitized(&sb, "\0x", 2);
	CHECK_EQ_STR(sb.buf, "\\x00x");
	sb_release(&sb);
}

TEST(utf8_seq_len_table)
{
	CHECK_EQ_INT(utf8_seq_len((const unsigned char *)"a", 1), 1);
	CHECK_EQ_INT(utf8_seq_len((const unsigned char *)"\xc3\xa9", 2), 2);
	CHECK_EQ_INT(utf8_seq_len((const unsigned char *)"\xc3\xa9", 1), 0);
	CHECK_EQ_INT(utf8_seq_len((const unsigned char *)"\xe0\x80\x80", 3), 0);     /* overlong */
	CHECK_EQ_INT(utf8_seq_len((const unsigned char *)"\xf4\x8f\xbf\xbf", 4), 4); /* U+10FFFF */
	CHECK_EQ_INT(utf8_seq_len((const unsigned char *)"\xc1\xbf", 2), 0);
}

/* The JSON escaper's 8-bytes-at-a-time path against a byte-at-a-time reference, on random
 * bytes biased towards the ones that matter (controls, quotes, backslashes, 0x7f, UTF-8). */
static void json_escape_ref(struct strbuf *sb, const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len;) {
		unsigned char c = p[i];
		size_t n;

		if (c == '"' || c == '\\') {
			sb_addc(sb, '\\');
			sb_addc(sb, (char)c);
			i++;
		} else if (c == '\n' || c == '\t' || c == '\r') {
			sb_adds(sb, c == '\n' ? "\\n" : c == '\t' ? "\\t" : "\\r");
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			sb_addf(sb, "\\u00%02x", c);
			i++;
		} else if (c < 0x80) {
			sb_addc(sb, (char)c);
			i++;
		} else if ((n = utf8_seq_len(p + i, len - i)) == 0) {
			sb_adds(sb, "\xef\xbf\xbd");
			i++;
		} else {
			sb_add(sb, p + i, n);
			i += n;
		}
	}
}

TEST(json_escape_fast_path)
{
	static const unsigned char pick[] = {'a', 'Z', ' ', '~', '"', '\\', '\n', 0x01, 0x1f,
					     0x7f, 0x80, 0xc3, 0xa9, 0xe4, 0xb8, 0xad, 0xff, 0};
	unsigned seed = 12345;
	int bad = 0;

	for (int round = 0; round < 2000 && !bad; round++) {
		unsigned char buf[100];
		size_t len = (size_t)(round % 100);
		struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;

		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			/* mostly plain text, so that long plain runs occur */
			buf[i] = (seed >> 16) % 4 ? (unsigned char)('a' + (seed >> 20) % 26)
						  : pick[(seed >> 20) % sizeof(pick)];
		}
		sb_add_json_escaped(&a, buf, len);
		json_escape_ref(&b, buf, len);
		if (a.len != b.len || memcmp(a.buf ? a.buf : "", b.buf ? b.buf : "", a.len)) {
			printf("# round %d differs: %s | %s\n", round, a.buf, b.buf);
			bad = 1;
		}
		sb_release(&a);
		sb_release(&b);
	}
	CHECK(!bad);
}

int main(void)
{
	RUN(grow_and_format);
	RUN(cescape);
	RUN(cescape_keeps_nul_visible);
	RUN(utf8_valid_kept);
	RUN(utf8_invalid_escaped);
	RUN(utf8_truncated_at_end);
	RUN(utf8_seq_len_table);
	RUN(json_escape_fast_path);
	return tap_done();
}
