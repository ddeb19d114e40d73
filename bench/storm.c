/*
 * saker-bench-storm: makes captured syscalls at a controlled rate, from several threads, for
 * a fixed time, and prints exactly how many it made, so that bench/run-all can compare that
 * with what the sensor received and with its drop counters.
 *
 *   saker-bench-storm RATE SECONDS [THREADS]
 *
 * RATE is the total target in syscalls per second (0: as fast as the threads can go);
 * THREADS (default 2) share it evenly. Each thread works in 1 ms slices: at the start of
 * every slice it makes the slice's share of syscalls, then sleeps until the next slice
 * (an absolute clock, so a late slice is caught up, never lost).
 *
 * The syscall is fchdir(-1): captured by saker's default set (it keeps the cwd table
 * right), a fixed-size record, failing at once with EBADF so that the generator spends its
 * time in the hook and not in the file system, and rare enough on a host that the sensor's
 * per-type counter (saker_events_total{type="fchdir"}) counts this program's calls.
 *
 * Output, one line of "key=value" words:
 *   storm rate=R seconds=S threads=T made=N elapsed_ns=E achieved=A late_slices=L
 * achieved is N/E in syscalls per second; late_slices counts slices that started more than
 * one slice late (the generator could not keep the pace).
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define SLICE_NS 1000000ull
#define MAX_THREADS 64

struct worker {
	pthread_t tid;
	uint64_t per_slice; /* syscalls per slice; 0 for no pacing */
	uint64_t end_ns;
	uint64_t start_ns;
	uint64_t made;
	uint64_t late;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_until(uint64_t t)
{
	struct timespec ts = {.tv_sec = (time_t)(t / 1000000000ull),
			      .tv_nsec = (long)(t % 1000000000ull)};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static inline void one_call(void)
{
	long r = syscall(SYS_fchdir, -1);

	__asm__ volatile("" : : "r"(r) : "memory");
}

static void *run(void *arg)
{
	struct worker *w = arg;
	uint64_t slice = w->start_ns;

	if (!w->per_slice) {
		while (now_ns() < w->end_ns) {
			for (int i = 0; i < 1000; i++)
				one_call();
			w->made += 1000;
		}
		return NULL;
	}
	sleep_until(slice);
	while (slice < w->end_ns) {
		for (uint64_t i = 0; i < w->per_slice; i++)
			one_call();
		w->made += w->per_slice;
		slice += SLICE_NS;
		uint64_t t = now_ns();

		if (t > slice + SLICE_NS)
			w->late++;
		if (t < slice)
			sleep_until(slice);
	}
	return NULL;
}

static uint64_t parse_u64(const char *s, const char *what, int allow_zero)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (!*s || *end || s[0] == '-' || errno || (!allow_zero && v == 0)) {
		fprintf(stderr, "saker-bench-storm: %s: expected a number, got '%s'\n", what, s);
		exit(2);
	}
	return (uint64_t)v;
}

int main(int argc, char **argv)
{
	static struct worker w[MAX_THREADS];
	uint64_t rate, seconds, threads = 2, made = 0, late = 0, t0, t1;

	if (argc < 3 || argc > 4) {
		fputs("usage: saker-bench-storm RATE SECONDS [THREADS]\n", stderr);
		return 2;
	}
	rate = parse_u64(argv[1], "RATE", 1);
	seconds = parse_u64(argv[2], "SECONDS", 0);
	if (argc == 4)
		threads = parse_u64(argv[3], "THREADS", 0);
	if (threads > MAX_THREADS) {
		fprintf(stderr, "saker-bench-storm: at most %d threads\n", MAX_THREADS);
		return 2;
	}
	/* Starts a few slices from now so that every thread is running before the first one. */
	t0 = now_ns() + 5 * SLICE_NS;
	for (uint64_t i = 0; i < threads; i++) {
		/* the rate in syscalls per slice, shared out so that the total is exact */
		uint64_t share = rate / 1000 / threads + (i < rate / 1000 % threads ? 1 : 0);

		if (rate && !share)
			share = 1;
		w[i].per_slice = share;
		w[i].start_ns = t0;
		w[i].end_ns = t0 + seconds * 1000000000ull;
		if (pthread_create(&w[i].tid, NULL, run, &w[i])) {
			fprintf(stderr, "saker-bench-storm: pthread_create failed\n");
			return 1;
		}
	}
	for (uint64_t i = 0; i < threads; i++) {
		pthread_join(w[i].tid, NULL);
		made += w[i].made;
		late += w[i].late;
	}
	t1 = now_ns();
	if (t1 < t0)
		t1 = t0 + 1;
	printf("storm rate=%llu seconds=%llu threads=%llu made=%llu elapsed_ns=%llu achieved=%.0f "
	       "late_slices=%llu\n",
	       (unsigned long long)rate, (unsigned long long)seconds, (unsigned long long)threads,
	       (unsigned long long)made, (unsigned long long)(t1 - t0),
	       (double)made * 1e9 / (double)(t1 - t0), (unsigned long long)late);
	return 0;
}
