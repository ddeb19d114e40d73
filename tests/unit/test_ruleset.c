/* Rules indexed by event type: which rules each event runs, first/all matching, and the
 * syscalls the kernel must let through. */
#include <stdlib.h>

#include <sys/socket.h>

#include "ruleset.h"
#include "strbuf.h"
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

static struct rules_loaded *load_file(const char *rel)
{
	char path[512];
	const char *paths[1] = {path};

	snprintf(path, sizeof(path), "%s/%s", getenv("SAKER_SOURCE_DIR"), rel);
	return rules_load(paths, 1);
}

static const char *dump_of(const struct vm_prog *p)
{
	static char buf[4096];
	struct strbuf sb = STRBUF_INIT;

	if (!p)
		return "(not filed)";
	vm_prog_dump(p, &sb);
	snprintf(buf, sizeof(buf), "%s", sb.buf ? sb.buf : "");
	sb_release(&sb);
	return buf;
}

static bool is_accept(const struct vm_prog *p)
{
	return p && p->n_insns == 1 && p->insns[0].op == VM_OP_ACCEPT;
}

/* Per bucket, the evt.type and evt.dir checks are folded away (specialize.h). */
TEST(specialised_programs)
{
	struct rules_loaded *r = load_file("tests/rules/specialize.yaml");
	struct ruleset *rs = ruleset_build(r);
	unsigned openat = (unsigned)syscall_id("openat"), open = (unsigned)syscall_id("open");
	unsigned connect = (unsigned)syscall_id("connect"), execve = (unsigned)syscall_id("execve");
	unsigned execveat = (unsigned)syscall_id("execveat");
	const char *d;

	CHECK_EQ_INT(r->coll->msgs.n_errors, 0);
	/* nothing left to check: every openat matches */
	CHECK(is_accept(ruleset_prog(rs, openat, "type only")));
	CHECK(is_accept(ruleset_prog(rs, open, "type or name")));
	CHECK(!is_accept(ruleset_prog(rs, connect, "type or name")));
	d = dump_of(ruleset_prog(rs, connect, "type or name"));
	CHECK(strstr(d, "proc.name") && !strstr(d, "evt.type"));
	/* filed under execve by the event-type analysis, but folded to false there */
	CHECK(ruleset_prog(rs, execve, "not this type") == NULL);
	CHECK(ruleset_prog(rs, openat, "not this type") == NULL);
	d = dump_of(ruleset_prog(rs, (unsigned)syscall_id("unlink"), "not this type"));
	CHECK(strstr(d, "zsh") && !strstr(d, "evt.type"));
	d = dump_of(ruleset_prog(rs, execve, "nested"));
	CHECK(strstr(d, "bash") && !strstr(d, "evt.type") && !strstr(d, "fd.name"));
	d = dump_of(ruleset_prog(rs, openat, "nested"));
	CHECK(strstr(d, "fd.name") && !strstr(d, "evt.type"));
	/* execveat: "proc.name = bash and not proc.name = bash": never, but not folded (only
	 * type and direction checks are) */
	d = dump_of(ruleset_prog(rs, execveat, "nested"));
	CHECK(strstr(d, "bash") && !strstr(d, "evt.type"));
	ruleset_free(rs);
	rules_loaded_free(r);
}

/* Field values drawn from small pools, so that checks hit as well as miss. */
struct rand_event {
	unsigned code;
	uint64_t seed;
};

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

static int rand_extract(void *ctx, const struct vm_field *f, struct vm_value *out)
{
	static const char *const pool[] = {"bash", "sh", "/etc/shadow", "/etc/passwd", "sshd",
					   "nc", "/dev/shm/x", "/tmp/a", "-c", "true", "f", "4",
					   "docker", "host", "root", "", "O_RDONLY", "id_rsa"};
	const struct rand_event *e = ctx;
	uint64_t h = mix64(e->seed ^ (uintptr_t)f->def ^ (f->arg ? (uint64_t)f->arg[0] << 40 : 0));

	if (!strcmp(f->def->name, "evt.type")) {
		out->kind = VM_V_STR;
		out->str.s = evttype_name(e->code);
		out->str.len = strlen(out->str.s);
		return 0;
	}
	if (!strcmp(f->def->name, "evt.dir")) {
		out->kind = VM_V_STR;
		out->str.s = "<";
		out->str.len = 1;
		return 0;
	}
	if (h % 11 == 0)
		return 1; /* missing */
	switch (f->def->type) {
	case FT_BOOL:
		out->kind = VM_V_BOOL;
		out->b = h & 1;
		return 0;
	case FT_INT64:
	case FT_UINT64:
	case FT_UINT32:
	case FT_PORT:
	case FT_RELTIME:
	case FT_ABSTIME:
		out->kind = f->def->type == FT_INT64 ? VM_V_INT : VM_V_UINT;
		out->u = (h >> 8) % 4 == 0 ? 0 : (h >> 8) % 70000;
		return 0;
	case FT_IPADDR:
	case FT_IPNET:
		out->kind = VM_V_IP;
		out->ip.family = AF_INET;
		memset(out->ip.addr, 0, sizeof(out->ip.addr));
		out->ip.addr[0] = (h >> 16) & 1 ? 10 : 127;
		out->ip.addr[3] = 1;
		return 0;
	default:
		out->kind = VM_V_STR;
		out->str.s = pool[(h >> 8) % (sizeof(pool) / sizeof(pool[0]))];
		out->str.len = strlen(out->str.s);
		return 0;
	}
}

/* The specialised programs decide every event exactly as the rules' own programs do. */
TEST(specialised_equivalent_on_stable_ruleset)
{
	struct rules_loaded *r = load_file("../shared/corpus/falco-rules/falco_rules.yaml");
	struct rules_loaded *mine = load_file("rules/saker_rules.yaml");
	struct rules_loaded *sets[2] = {r, mine};
	unsigned long checked = 0, differ = 0;

	for (int k = 0; k < 2; k++) {
		struct ruleset *rs = ruleset_build(sets[k]);

		CHECK(sets[k]->n_rules > 20);
		for (size_t i = 0; i < sets[k]->n_rules; i++) {
			const struct loaded_rule *lr = &sets[k]->rules[i];

			for (unsigned c = 0; c < EVT_CODES; c++) {
				const struct vm_prog *sp;

				if (!evtset_has(&lr->evttypes, c))
					continue;
				sp = ruleset_prog(rs, c, lr->src->name);
				for (uint64_t seed = 0; seed < 300; seed++) {
					struct rand_event e = {c, seed * 7919 + i};
					struct vm_fieldsrc src = {rand_extract, &e};
					int want = vm_eval(lr->prog, &src);
					int got = sp ? vm_eval(sp, &src) : 0;

					checked++;
					if (want != got && differ++ < 5)
						printf("# %s under %s seed %llu: %d != %d\n",
						       lr->src->name, evttype_name(c),
						       (unsigned long long)seed, got, want);
				}
			}
		}
		/* and whole buckets, sharing checks and fields through the memo */
		for (unsigned c = 0; c < EVT_CODES; c++) {
			if (!ruleset_bucket_size(rs, c))
				continue;
			for (uint64_t seed = 0; seed < 300; seed++) {
				struct rand_event e = {c, seed * 104729 + c};
				struct vm_fieldsrc src = {rand_extract, &e};
				unsigned want = 0, got;

				for (size_t i = 0; i < sets[k]->n_rules; i++)
					if (sets[k]->rules[i].src->enabled &&
					    evtset_has(&sets[k]->rules[i].evttypes, c))
						want += vm_eval(sets[k]->rules[i].prog, &src) == 1;
				got = ruleset_eval(rs, c, &src, true, NULL, NULL);
				checked++;
				if (want != got && differ++ < 5)
					printf("# bucket %s seed %llu: %u matches, want %u\n",
					       evttype_name(c), (unsigned long long)seed, got, want);
			}
		}
		ruleset_free(rs);
	}
	printf("# %lu (rule, type, event) verdicts compared\n", checked);
	CHECK(checked > 10000);
	CHECK_EQ_INT(differ, 0);
	rules_loaded_free(r);
	rules_loaded_free(mine);
}

int main(void)
{
	RUN(buckets);
	RUN(first_and_all);
	RUN(kernel_syscalls);
	RUN(specialised_programs);
	RUN(specialised_equivalent_on_stable_ruleset);
	return tap_done();
}
