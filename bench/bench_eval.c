/*
 * Evaluation throughput of a whole ruleset on one core: a synthetic mix of events (opens
 * of ordinary and sensitive files, execs of shells and tools, outbound connects, a few
 * other syscalls), each run through the ruleset's index as the daemon will (only the rules
 * filed under the event's type), with field values from a table instead of the state
 * tables. Reports events per second and matches.
 *
 *   saker-bench-eval RULES.yaml [SECONDS]
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fields.h"
#include "ruleset.h"
#include "syscalls.h"

#define MAX_FIELDS 32

struct synth_field {
	const struct field_def *def;
	char *arg;
	struct vm_value v;
	unsigned char ip[16];
};

struct synth_event {
	unsigned code;
	struct synth_field f[MAX_FIELDS];
	int n;
	/* the field without argument at each registry index, or NULL: a direct lookup, as the
	 * daemon's dispatch by registry index (the cost of real extraction is measured
	 * separately, per field, by the state bench) */
	const struct synth_field **by_def;
};

static const struct field_def *registry;
static size_t n_registry;

/* Field values of one event, as "field=value" separated by '|'. */
static const char *const mix[] = {
    "evt.type=openat|fd.name=/usr/lib/x86_64-linux-gnu/libc.so.6|fd.directory=/usr/lib/"
    "x86_64-linux-gnu|fd.filename=libc.so.6|fd.typechar=f|fd.num=3|evt.is_open_read=true|"
    "evt.is_open_write=false|evt.arg.flags=O_RDONLY|O_CLOEXEC|proc.name=bash|proc.pname=sshd|"
    "proc.cmdline=bash -l|proc.exepath=/usr/bin/bash|user.name=root|evt.rawres=3|evt.num=1",
    "evt.type=openat|fd.name=/etc/shadow|fd.directory=/etc|fd.filename=shadow|fd.typechar=f|"
    "fd.num=4|evt.is_open_read=true|evt.is_open_write=false|evt.arg.flags=O_RDONLY|proc.name=cat|"
    "proc.pname=bash|proc.cmdline=cat /etc/shadow|proc.exepath=/usr/bin/cat|user.name=root|"
    "evt.rawres=4|proc.aname[2]=sshd|proc.aname[3]=systemd|evt.num=2",
    "evt.type=openat|fd.name=/home/u/notes.txt|fd.directory=/home/u|fd.filename=notes.txt|"
    "fd.typechar=f|fd.num=5|evt.is_open_read=false|evt.is_open_write=true|evt.arg.flags=O_WRONLY|"
    "O_CREAT|O_TRUNC|proc.name=vim|proc.pname=bash|proc.cmdline=vim notes.txt|user.name=u|"
    "evt.rawres=5|evt.num=3",
    "evt.type=execve|proc.name=sh|proc.pname=nginx|proc.cmdline=sh -c id|proc.exepath=/bin/sh|"
    "proc.exe=sh|proc.args=-c id|proc.tty=0|user.name=www-data|user.uid=33|evt.arg.flags=0|"
    "evt.res=SUCCESS|evt.rawres=0|container.id=host|proc.aname[2]=systemd|evt.num=4",
    "evt.type=execve|proc.name=ls|proc.pname=bash|proc.cmdline=ls -l|proc.exepath=/usr/bin/ls|"
    "proc.exe=ls|proc.args=-l|proc.tty=34816|user.name=u|user.uid=1000|evt.res=SUCCESS|"
    "evt.rawres=0|container.id=host|evt.num=5",
    "evt.type=connect|fd.name=10.0.0.5:41000->93.184.216.34:443|fd.typechar=4|fd.type=ipv4|"
    "fd.sip=93.184.216.34|fd.sport=443|fd.cip=10.0.0.5|fd.l4proto=tcp|fd.num=6|evt.rawres=0|"
    "evt.res=SUCCESS|proc.name=curl|proc.pname=bash|proc.cmdline=curl https://x|user.name=u|"
    "evt.num=6",
    "evt.type=close|fd.num=3|fd.name=/etc/hosts|fd.typechar=f|evt.rawres=0|proc.name=bash|"
    "evt.num=7",
    "evt.type=clone|proc.name=bash|proc.pname=sshd|evt.rawres=4242|evt.num=8",
};

static int extract(void *ctx, const struct vm_field *f, struct vm_value *out)
{
	const struct synth_event *e = ctx;

	if (!f->arg) {
		const struct synth_field *s = e->by_def[f->def - registry];

		if (!s)
			return 1;
		*out = s->v;
		return 0;
	}
	for (int i = 0; i < e->n; i++) {
		const struct synth_field *s = &e->f[i];

		if (s->def == f->def && (!s->arg == !f->arg) &&
		    (!s->arg || !strcmp(s->arg, f->arg))) {
			*out = s->v;
			return 0;
		}
	}
	return 1;
}

/* Sets field text=value on e, the value converted by the field's type. */
static int add_field(struct synth_event *e, char *text, char *value)
{
	struct synth_field *s = &e->f[e->n];
	struct field_ref ref;
	char err[256];

	if (e->n == MAX_FIELDS || fields_resolve(text, strlen(text), &ref, err, sizeof(err))) {
		fprintf(stderr, "bench: %s\n", err);
		return -1;
	}
	s->def = ref.def;
	s->arg = ref.has_arg ? strndup(ref.arg, ref.arg_len) : NULL;
	switch (ref.def->type) {
	case FT_INT64:
		s->v.kind = VM_V_INT;
		s->v.i = strtoll(value, NULL, 10);
		break;
	case FT_UINT64:
	case FT_UINT32:
	case FT_PORT:
	case FT_RELTIME:
	case FT_ABSTIME:
		s->v.kind = VM_V_UINT;
		s->v.u = strtoull(value, NULL, 10);
		break;
	case FT_BOOL:
		s->v.kind = VM_V_BOOL;
		s->v.b = strcmp(value, "true") == 0;
		break;
	case FT_IPADDR:
		s->v.kind = VM_V_IP;
		s->v.ip.family = strchr(value, ':') ? AF_INET6 : AF_INET;
		inet_pton(s->v.ip.family, value, s->v.ip.addr);
		break;
	default:
		s->v.kind = VM_V_STR;
		s->v.str.s = value;
		s->v.str.len = strlen(value);
	}
	e->n++;
	return 0;
}

static int build(struct synth_event *e, const char *spec)
{
	char *copy = strdup(spec), *save = NULL;

	memset(e, 0, sizeof(*e));
	/* Split on '|' only where a new "field=" starts (flag values contain '|'). */
	for (char *item = strtok_r(copy, "|", &save); item; item = strtok_r(NULL, "|", &save)) {
		char *eq = strchr(item, '=');

		if (!eq) { /* a continuation of the previous value: O_RDONLY|O_CLOEXEC */
			struct synth_field *prev = &e->f[e->n - 1];
			size_t jl = prev->v.str.len + strlen(item) + 2;
			char *joined = malloc(jl);

			if (!joined)
				return -1;
			snprintf(joined, jl, "%s|%s", prev->v.str.s, item);
			prev->v.str.s = joined;
			prev->v.str.len = strlen(joined);
			continue;
		}
		*eq = '\0';
		if (add_field(e, item, eq + 1))
			return -1;
		if (strcmp(item, "evt.type") == 0)
			e->code = (unsigned)evttype_code(eq + 1, strlen(eq + 1));
	}
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	const char *paths[1];
	double secs = argc > 2 ? atof(argv[2]) : 2.0, t0, t;
	struct synth_event ev[sizeof(mix) / sizeof(mix[0])];
	size_t nev = sizeof(mix) / sizeof(mix[0]);
	unsigned long long n = 0, matches = 0, evaluated = 0;
	struct rules_loaded *r;
	struct ruleset *rs;

	if (argc < 2) {
		fprintf(stderr, "usage: saker-bench-eval RULES.yaml [SECONDS]\n");
		return 2;
	}
	paths[0] = argv[1];
	r = rules_load(paths, 1);
	if (!r || r->coll->msgs.n_errors) {
		fprintf(stderr, "bench: %s does not load cleanly\n", argv[1]);
		return 1;
	}
	rs = ruleset_build(r);
	registry = fields_table(&n_registry);
	for (size_t i = 0; i < nev; i++) {
		if (build(&ev[i], mix[i]))
			return 1;
		ev[i].by_def = calloc(n_registry, sizeof(*ev[i].by_def));
		if (!ev[i].by_def)
			return 1;
		for (int k = 0; k < ev[i].n; k++)
			if (!ev[i].f[k].arg)
				ev[i].by_def[ev[i].f[k].def - registry] = &ev[i].f[k];
	}
	for (size_t i = 0; i < nev; i++)
		evaluated += ruleset_bucket_size(rs, ev[i].code);
	t0 = now_s();
	do {
		for (int k = 0; k < 100000; k++, n++) {
			struct synth_event *e = &ev[n % nev];
			struct vm_fieldsrc src = {extract, e};

			matches += ruleset_eval(rs, e->code, &src, false, NULL, NULL);
		}
		t = now_s() - t0;
	} while (t < secs);
	/* The cost of each event of the mix alone, for finding the expensive ones. */
	if (getenv("BENCH_PER_EVENT")) {
		for (size_t i = 0; i < nev; i++) {
			struct vm_fieldsrc src = {extract, &ev[i]};
			double e0 = now_s();

			for (int k = 0; k < 200000; k++)
				ruleset_eval(rs, ev[i].code, &src, false, NULL, NULL);
			printf("  event %zu (%s, %u rules, %u prefiltered): %.0f ns\n", i,
			       syscall_name(ev[i].code) ? syscall_name(ev[i].code) : "?",
			       ruleset_bucket_size(rs, ev[i].code),
			       ruleset_prefiltered(rs, ev[i].code), (now_s() - e0) * 1e9 / 200000);
		}
	}
	printf("eval %s: %zu rules, %llu events in %.2f s: %.2f M events/s on one core "
	       "(%.0f ns/event, %.1f rule programs run per event, %.3f matches per event)\n",
	       argv[1], r->n_rules, n, t, (double)n / t / 1e6, t * 1e9 / (double)n,
	       (double)evaluated / (double)nev, (double)matches / (double)n);
	ruleset_free(rs);
	rules_loaded_free(r);
	return 0;
}
