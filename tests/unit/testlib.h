/*
 * A tiny unit test harness that speaks TAP, which meson reads per test case.
 *
 *   TEST(name) { CHECK(cond); CHECK_EQ_INT(a, b); CHECK_EQ_STR(a, b); }
 *   int main(void) { RUN(name); ...; return tap_done(); }
 *
 * Each TEST is one TAP line; a failed check prints its file, line and values as a TAP
 * diagnostic and marks the test "not ok" (the test goes on, so one run shows every failure).
 */
#ifndef SAKER_TESTLIB_H
#define SAKER_TESTLIB_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed_tests, tap_cur_failed;

#define TEST(name) static void test_##name(void)

#define RUN(name)                                                                                  \
	do {                                                                                       \
		tap_cur_failed = 0;                                                                \
		test_##name();                                                                     \
		tap_n++;                                                                           \
		printf("%sok %d - %s\n", tap_cur_failed ? "not " : "", tap_n, #name);              \
		if (tap_cur_failed)                                                                \
			tap_failed_tests++;                                                        \
		fflush(stdout);                                                                    \
	} while (0)

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			printf("# %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);          \
			tap_cur_failed = 1;                                                        \
		}                                                                                  \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                                         \
	do {                                                                                       \
		long long va_ = (long long)(a), vb_ = (long long)(b);                              \
		if (va_ != vb_) {                                                                  \
			printf("# %s:%d: %s == %s: %lld != %lld\n", __FILE__, __LINE__, #a, #b,    \
			       va_, vb_);                                                          \
			tap_cur_failed = 1;                                                        \
		}                                                                                  \
	} while (0)

#define CHECK_EQ_STR(a, b)                                                                         \
	do {                                                                                       \
		const char *sa_ = (a), *sb_ = (b);                                                 \
		if (!sa_ || !sb_ || strcmp(sa_, sb_) != 0) {                                       \
			printf("# %s:%d: %s == %s: \"%s\" != \"%s\"\n", __FILE__, __LINE__, #a,    \
			       #b, sa_ ? sa_ : "(null)", sb_ ? sb_ : "(null)");                    \
			tap_cur_failed = 1;                                                        \
		}                                                                                  \
	} while (0)

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed_tests ? 1 : 0;
}

#endif /* SAKER_TESTLIB_H */
