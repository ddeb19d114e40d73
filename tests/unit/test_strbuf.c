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

int main(void)
{
	RUN(grow_and_format);
	RUN(cescape);
	RUN(cescape_keeps_nul_visible);
	RUN(utf8_valid_kept);
	RUN(utf8_invalid_escaped);
	RUN(utf8_truncated_at_end);
	RUN(utf8_seq_len_table);
	return tap_done();
}
