/*
 * Alert formatting rate on one core: the text alert line and the JSON alert (src/alert.c)
 * of a realistic rule output (14 fields, as the default ruleset's "Shadow password file read
 * by unexpected program"), with field values from a table instead of the state tables. Then
 * the same JSON alerts handed to outputs_emit() with a file output writing to /dev/null: the
 * event loop's whole share of an alert (format, copy, enqueue), the channel's thread writing
 * on another core.
 *
 *   saker-bench-alerts [SECONDS]
 *
 * BENCH_HOSTILE=1: a file name with a newline, quotes and invalid UTF-8 and a 300-byte
 * command line, to see what escaping costs.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert.h"
#include "config.h"
#include "fields.h"
#include "outfmt.h"
#include "outputs.h"
#include "strbuf.h"

static const char FORMAT[] =
    "Password hashes read by an unexpected program (file=%fd.name proc=%proc.name "
    "pid=%proc.pid exe=%proc.exepath cmdline=%proc.cmdline parent=%proc.pname "
    "gparent=%proc.aname[2] user=%user.name uid=%user.uid loginuid=%user.loginuid "
    "tty=%proc.tty container=%container.id image=%container.image.repository)";

static const char *const TAGS[] = {"filesystem", "mitre_credential_access", "T1003.008", "host",
				   "container"};

struct fake {
	const struct outfmt *fmt;
	struct vm_value *vals; /* by token index; kind VM_V_LIST with n 0: missing */
	bool *missing;
};

/* The token's own value, found from the field's address inside its token: O(1), as the
 * daemon's extractors are (no name comparison per call). */
static int fake_extract(void *ctx, const struct vm_field *f, struct vm_value *out)
{
	const struct fake *fk = ctx;
	const struct outfmt_token *t =
	    (const struct outfmt_token *)((const char *)f - offsetof(struct outfmt_token, field));
	size_t i = (size_t)(t - fk->fmt->tok);

	if (fk->missing[i])
		return 1;
	*out = fk->vals[i];
	return 0;
}

static void set_str(struct vm_value *v, const char *s)
{
	v->kind = VM_V_STR;
	v->str.s = s;
	v->str.len = strlen(s);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Formats alerts for about seconds; returns alerts per second, *bytes the mean size. */
static double run(const struct alert_opts *ao, const struct alert_rule *ar,
		  const struct vm_fieldsrc *src, double seconds, double *bytes,
		  struct outputs *outs)
{
	struct strbuf sb = STRBUF_INIT;
	uint64_t n = 0, total = 0, wall = 1795953772189916747ull;
	double t0 = now_s(), t;

	do {
		for (int i = 0; i < 10000; i++) {
			sb_reset(&sb);
			alert_format(&sb, ao, ar, src, wall + n);
			total += sb.len;
			if (outs)
				outputs_emit(outs, sb.buf, sb.len, 4);
			n++;
		}
		t = now_s() - t0;
	} while (t < seconds);
	sb_release(&sb);
	*bytes = (double)total / (double)n;
	return (double)n / t;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 2.0, bytes, rate;
	bool hostile = getenv("BENCH_HOSTILE") && *getenv("BENCH_HOSTILE") == '1';
	char err[256], cmdline[400];
	size_t err_off;
	struct outfmt *fmt = outfmt_compile(FORMAT, strlen(FORMAT), err, sizeof(err), &err_off);
	struct fake fk;
	struct vm_fieldsrc src = {fake_extract, &fk};
	struct alert_rule ar = {"Shadow password file read by unexpected program",
				"Warning",
				TAGS,
				sizeof(TAGS) / sizeof(TAGS[0]),
				"syscall",
				NULL};
	struct alert_opts ao = {.include_output = true,
				.include_output_fields = true,
				.include_tags = true,
				.hostname = "worker-1"};
	struct config c;
	struct outputs *outs;
	struct output_stats st[OUTPUT_NKINDS];

	if (!fmt) {
		fprintf(stderr, "format: %s\n", err);
		return 1;
	}
	ar.fmt = fmt;
	fk.fmt = fmt;
	fk.vals = calloc(fmt->n_tok, sizeof(*fk.vals));
	fk.missing = calloc(fmt->n_tok, sizeof(*fk.missing));
	snprintf(cmdline, sizeof(cmdline), "cat /etc/shadow");
	if (hostile) {
		memset(cmdline, 'A', 300);
		memcpy(cmdline, "python3 -c \"import os; print('\\t')\" ", 37);
		cmdline[300] = '\0';
	}
	for (size_t i = 0; i < fmt->n_tok; i++) {
		const char *name = fmt->tok[i].name;
		struct vm_value *v = &fk.vals[i];

		if (!fmt->tok[i].field.def)
			continue;
		if (!strcmp(name, "fd.name"))
			set_str(v, hostile ? "/tmp/x\n\"evil\"\\\xff\xfe.txt" : "/etc/shadow");
		else if (!strcmp(name, "proc.name"))
			set_str(v, "cat");
		else if (!strcmp(name, "proc.exepath"))
			set_str(v, "/usr/bin/cat");
		else if (!strcmp(name, "proc.cmdline"))
			set_str(v, cmdline);
		else if (!strcmp(name, "proc.pname"))
			set_str(v, "bash");
		else if (!strcmp(name, "proc.aname[2]"))
			set_str(v, "sshd");
		else if (!strcmp(name, "user.name"))
			set_str(v, "root");
		else if (!strcmp(name, "container.id"))
			set_str(v, "host");
		else if (!strcmp(name, "proc.pid") || !strcmp(name, "proc.tty") ||
			 !strcmp(name, "user.loginuid")) {
			v->kind = VM_V_INT;
			v->i = !strcmp(name, "proc.pid")   ? 20218
			       : !strcmp(name, "proc.tty") ? 34816
							   : -1;
		} else if (!strcmp(name, "user.uid")) {
			v->kind = VM_V_UINT;
			v->u = 0;
		} else {
			fk.missing[i] = true; /* container.image.repository: <NA>, null */
		}
	}

	printf("alert formatting, one core, %.1f s per line%s\n", seconds,
	       hostile ? " (hostile values)" : "");
	ao.json = false;
	rate = run(&ao, &ar, &src, seconds, &bytes, NULL);
	printf("  text line:                 %6.2f M alerts/s  %5.0f ns/alert  %4.0f bytes\n",
	       rate / 1e6, 1e9 / rate, bytes);
	ao.json = true;
	rate = run(&ao, &ar, &src, seconds, &bytes, NULL);
	printf("  JSON object:               %6.2f M alerts/s  %5.0f ns/alert  %4.0f bytes\n",
	       rate / 1e6, 1e9 / rate, bytes);

	config_defaults(&c);
	c.stdout_enabled = false;
	c.file_enabled = true;
	c.file_keep_alive = true;
	c.file_name = strdup("/dev/null");
	outs = outputs_new(&c, NULL);
	if (!outs)
		return 1;
	rate = run(&ao, &ar, &src, seconds, &bytes, outs);
	outputs_shutdown(outs, 2000);
	outputs_stats(outs, st);
	printf("  JSON + outputs_emit(file): %6.2f M alerts/s  %5.0f ns/alert  "
	       "(file thread: sent %llu, dropped %llu of %llu)\n",
	       rate / 1e6, 1e9 / rate, (unsigned long long)st[OUTPUT_FILE].sent,
	       (unsigned long long)st[OUTPUT_FILE].dropped,
	       (unsigned long long)(st[OUTPUT_FILE].sent + st[OUTPUT_FILE].dropped +
				    st[OUTPUT_FILE].failed + st[OUTPUT_FILE].dropped_exit));
	outputs_free(outs);
	config_free(&c);
	outfmt_free(fmt);
	free(fk.vals);
	free(fk.missing);
	return 0;
}
