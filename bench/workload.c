/*
 * saker-bench-workload: runs one syscall workload in a tight loop and prints the time per
 * iteration, so bench/run can compare the same loop with and without a sensor attached.
 *
 *   saker-bench-workload NAME --calibrate MS      print how many iterations take about MS ms
 *   saker-bench-workload NAME ITERS [REPS]        run REPS timed repetitions of ITERS iterations
 *
 * NAME is one of:
 *   getppid       raw syscall(SYS_getppid): a syscall the sensor does not capture, so what
 *                 it pays is the bare cost of the sys_exit hook (bitmap check and return)
 *   openat_close  openat(O_RDONLY) of a fixed existing file, then close: two captured events
 *   fork_exec     fork, execve("/bin/true") in the child, waitpid in the parent
 *
 * and two that bench/run does not use, for taking the per-event cost apart by hand:
 *   close_badfd   close(-1): a captured syscall whose record is fixed-size, with no work
 *                 in the kernel besides the failed lookup
 *   openat_enoent openat of a path that does not exist: a captured syscall whose record
 *                 carries the path, with little file-system work
 *
 * Output, one line per repetition and a summary, all "key=value" words for bench/run:
 *   rep workload=NAME iters=N cpu_ns_per_op=C ns_per_op=X
 *   result workload=NAME iters=N reps=R median_ns=X min_ns=Y max_ns=Z
 *
 * Times are CLOCK_MONOTONIC around the whole loop of each repetition. An untimed run of a
 * tenth of ITERS comes first, to warm caches and the file's dentry. cpu_ns_per_op is this
 * process's own CPU time (user + system, getrusage; children not included) over the same
 * loop: on a machine shared with other work it moves much less than the wall time, since
 * time spent waiting for a CPU is not in it (the sensor's kernel side is: it runs in the
 * traced syscall).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_REPS 64

/* A file that exists on every Debian system and that nothing rewrites during a run. */
static const char *const open_path = "/etc/hostname";

static void die(const char *what)
{
	fprintf(stderr, "saker-bench-workload: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts))
		die("clock_gettime");
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void loop_getppid(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		long r = syscall(SYS_getppid);

		/* keeps the call from being treated as dead and the loop from being folded */
		__asm__ volatile("" : : "r"(r) : "memory");
	}
}

static void loop_openat_close(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		int fd = openat(AT_FDCWD, open_path, O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			die(open_path);
		if (close(fd))
			die("close");
	}
}

static void loop_fork_exec(uint64_t n)
{
	static char *const argv[] = {(char *)"true", NULL};
	static char *const envp[] = {NULL};

	for (uint64_t i = 0; i < n; i++) {
		int status;
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (pid == 0) {
			execve("/bin/true", argv, envp);
			_exit(127);
		}
		if (waitpid(pid, &status, 0) != pid)
			die("waitpid");
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "saker-bench-workload: /bin/true failed (status %#x)\n",
				status);
			exit(1);
		}
	}
}

static void loop_close_badfd(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		int r = close(-1);

		__asm__ volatile("" : : "r"(r) : "memory");
	}
}

static void loop_openat_enoent(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		int fd = openat(AT_FDCWD, "/nonexistent-saker-bench/x", O_RDONLY | O_CLOEXEC);

		if (fd >= 0)
			close(fd);
	}
}

struct workload {
	const char *name;
	void (*loop)(uint64_t n);
};

static const struct workload workloads[] = {
    {"getppid", loop_getppid},
    {"openat_close", loop_openat_close},
    {"fork_exec", loop_fork_exec},
    {"close_badfd", loop_close_badfd},
    {"openat_enoent", loop_openat_enoent},
};

static uint64_t parse_u64(const char *s, const char *what)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (!*s || *end || s[0] == '-' || errno || v == 0) {
		fprintf(stderr, "saker-bench-workload: %s: expected a positive number, got '%s'\n",
			what, s);
		exit(2);
	}
	return (uint64_t)v;
}

static uint64_t cpu_ns(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		die("getrusage");
	return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000ull +
	       ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000ull;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Doubles the iteration count until one timed loop takes a tenth of the target, then
 * scales; the answer is rounded to two significant digits so that it reads well. */
static uint64_t calibrate(const struct workload *w, uint64_t target_ms)
{
	uint64_t n = 1, t;
	double per_op, want, scale;

	for (;;) {
		uint64_t t0 = now_ns();

		w->loop(n);
		t = now_ns() - t0;
		if (t >= target_ms * 100000ull || n >= (1ull << 40))
			break;
		n *= 2;
	}
	per_op = (double)t / (double)n;
	want = (double)target_ms * 1e6 / per_op;
	if (want < 1)
		want = 1;
	scale = 1;
	while (want >= 100 * scale)
		scale *= 10;
	want = (double)(uint64_t)(want / scale + 0.5) * scale;
	return (uint64_t)want;
}

static void usage(void)
{
	fputs("usage: saker-bench-workload WORKLOAD ITERS [REPS]\n"
	      "       saker-bench-workload WORKLOAD --calibrate MS\n"
	      "WORKLOAD: getppid, openat_close, fork_exec, close_badfd or openat_enoent\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	const struct workload *w = NULL;
	double ns[MAX_REPS], cpu[MAX_REPS], sorted[MAX_REPS];
	uint64_t iters, reps = 5;

	if (argc < 3)
		usage();
	for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++)
		if (strcmp(argv[1], workloads[i].name) == 0)
			w = &workloads[i];
	if (!w)
		usage();
	if (strcmp(argv[2], "--calibrate") == 0) {
		if (argc != 4)
			usage();
		printf("%llu\n", (unsigned long long)calibrate(w, parse_u64(argv[3], "MS")));
		return 0;
	}
	if (argc > 4)
		usage();
	iters = parse_u64(argv[2], "ITERS");
	if (argc == 4)
		reps = parse_u64(argv[3], "REPS");
	if (reps > MAX_REPS) {
		fprintf(stderr, "saker-bench-workload: at most %d repetitions\n", MAX_REPS);
		return 2;
	}

	w->loop(iters / 10 ? iters / 10 : 1);
	for (uint64_t r = 0; r < reps; r++) {
		uint64_t c0 = cpu_ns(), t0 = now_ns();

		w->loop(iters);
		ns[r] = (double)(now_ns() - t0) / (double)iters;
		cpu[r] = (double)(cpu_ns() - c0) / (double)iters;
	}
	/* ns_per_op last: bench/run takes what follows its last "ns_per_op=" */
	for (uint64_t r = 0; r < reps; r++)
		printf("rep workload=%s iters=%llu cpu_ns_per_op=%.1f ns_per_op=%.1f\n", w->name,
		       (unsigned long long)iters, cpu[r], ns[r]);
	memcpy(sorted, ns, reps * sizeof(ns[0]));
	qsort(sorted, reps, sizeof(sorted[0]), cmp_double);
	printf("result workload=%s iters=%llu reps=%llu median_ns=%.1f min_ns=%.1f max_ns=%.1f\n",
	       w->name, (unsigned long long)iters, (unsigned long long)reps,
	       reps % 2 ? sorted[reps / 2] : (sorted[reps / 2 - 1] + sorted[reps / 2]) / 2,
	       sorted[0], sorted[reps - 1]);
	return 0;
}
