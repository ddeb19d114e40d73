/* Rules indexed by event type: which rules each event runs, first/all matching, and the
 * syscalls the kernel must let through. */
#include <stdlib.h>

#include "ruleset.h"
#include "syscalls.h"
#include "testlib.h"

struct fake_event {
	const char *evt_type, *proc_name, *fd_name;
};

static int extract(void *ctx, const struct vm_field *f, struct vm_value *out)
{
	const struct fake_event *e = ctx;
	const char *v = NULL;

	if (strcmp(f->def->name, "evt.type") == 0)
		v = e->evt_type;
	else if (strcmp(f->def->name, "proc.name") == 0)
		v = e->proc_name;
	else if (strcmp(f->def->name, "fd.name") == 0)
		v = e->fd_name;
	if (!v)
		return 1;
	out->kind = VM_V_STR;
	out->str.s = v;
	out->str.len = strlen(v);
	return 0;
}

static char matched[4][64];
static int n_matched;

static void on_match(void *ctx, const struct loaded_rule *r)
{
	(void)ctx;
	if (n_matched < 4)
		snprintf(matched[n_matched++], sizeof(matched[0]), "%s", r->src->name);
}

static struct rules_loaded *load(void)
{
	char path[512];
	const char *paths[1] = {path};

	snprintf(path, sizeof(path), "%s/tests/rules/ruleset.yaml", getenv("SAKER_SOURCE_DIR"));
	return rules_load(paths, 1);
}

TEST(buckets)
{
	struct rules_loaded *r = load();
	struct ruleset *rs = ruleset_build(r);

	CHECK_EQ_INT(r->coll->msgs.n_errors, 0);
	CHECK_EQ_INT(r->n_rules, 4);
	CHECK_EQ_INT(ruleset_bucket_size(rs, (unsigned)syscall_id("openat")), 3);
	CHECK_EQ_INT(ruleset_bucket_size(rs, (unsigned)syscall_id("execve")), 2);
	CHECK_EQ_INT(ruleset_bucket_size(rs, (unsigned)syscall_id("getppid")), 1);
	CHECK_EQ_INT(ruleset_bucket_size(rs, EVT_CODES + 5), 0);
	ruleset_free(rs);
	rules_loaded_free(r);
}

TEST(first_and_all)
{
	struct rules_loaded *r = load();
	struct ruleset *rs = ruleset_build(r);
	struct fake_event e = {"openat", "bash", "/etc/passwd"};
	struct vm_fieldsrc src = {extract, &e};
	unsigned openat = (unsigned)syscall_id("openat");

	n_matched = 0;
	CHECK_EQ_INT(ruleset_eval(rs, openat, &src, false, on_match, NULL), 1);
	CHECK_EQ_STR(matched[0], "etc opened");
	n_matched = 0;
	CHECK_EQ_INT(ruleset_eval(rs, openat, &src, true, on_match, NULL), 2);
	CHECK_EQ_STR(matched[1], "bash opens or execs");
	/* The disabled rule would match every openat: it is not filed at all. */
	e.proc_name = "cat";
	e.fd_name = "/tmp/x";
	CHECK_EQ_INT(ruleset_eval(rs, openat, &src, true, NULL, NULL), 0);
	/* execve does not run the openat-only rule. */
	e.evt_type = "execve";
	e.proc_name = "bash";
	e.fd_name = "/etc/x";
	n_matched = 0;
	CHECK_EQ_INT(ruleset_eval(rs, (unsigned)syscall_id("execve"), &src, true, on_match, NULL),
		     1);
	CHECK_EQ_STR(matched[0], "bash opens or execs");
	/* A missing field fails its check: no match, no crash. */
	e.evt_type = "openat";
	e.proc_name = NULL;
	CHECK_EQ_INT(ruleset_eval(rs, openat, &src, true, NULL, NULL), 1);
	ruleset_free(rs);
	rules_loaded_free(r);
}

TEST(kernel_syscalls)
{
	struct rules_loaded *r = load();
	struct ruleset *rs = ruleset_build(r);
	uint64_t bm[SK_BITMAP_WORDS] = {0};

	/* "zsh anything" has no event-type restriction: every syscall. */
	CHECK(ruleset_syscalls(rs, bm) > 350);
	CHECK(bm[0] & 1); /* read */
	ruleset_free(rs);
	rules_loaded_free(r);
}

int main(void)
{
	RUN(buckets);
	RUN(first_and_all);
	RUN(kernel_syscalls);
	return tap_done();
}
