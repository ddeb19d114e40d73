/*
 * Load and check time of a ruleset: rules_load() (read YAML, collect, expand lists, parse
 * and check every macro and rule, event-type sets) run N times in this process, reporting
 * the median, fastest and slowest wall time of one load.
 *
 *   saker-bench-rules RULES.yaml [N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "rules_load.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	int n = argc > 2 ? atoi(argv[2]) : 50;
	double *t;
	size_t rules = 0, errors = 0;

	if (argc < 2 || n <= 0) {
		fprintf(stderr, "usage: saker-bench-rules RULES.yaml [N]\n");
		return 2;
	}
	t = calloc((size_t)n, sizeof(*t));
	if (!t)
		return 1;
	for (int i = 0; i < n; i++) {
		const char *paths[1] = {argv[1]};
		double t0 = now_ms();
		struct rules_loaded *r = rules_load(paths, 1);

		t[i] = now_ms() - t0;
		if (!r)
			return 1;
		rules = r->n_rules;
		errors = r->coll->msgs.n_errors;
		rules_loaded_free(r);
	}
	qsort(t, (size_t)n, sizeof(*t), cmp_double);
	printf("rules_load %s: %zu rules compiled, %zu errors; %d loads: median %.2f ms, "
	       "fastest %.2f ms, slowest %.2f ms\n",
	       argv[1], rules, errors, n, t[n / 2], t[0], t[n - 1]);
	free(t);
	return errors ? 1 : 0;
}
