#include "alert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fields.h"
#include "strbuf.h"
#include "timeutil.h"

const char *alert_hostname(void)
{
	static char name[256];
	const char *env = getenv("SAKER_HOSTNAME");

	if (!env || !*env)
		env = getenv("FALCO_HOSTNAME"); /* what Falco deployments already set */
	if (env && *env)
		return env;
	if (!name[0] && gethostname(name, sizeof(name) - 1))
		snprintf(name, sizeof(name), "localhost");
	return name;
}

void alert_time_text(uint64_t wall_ns, bool iso, char *buf, size_t cap)
{
	time_t secs = (time_t)(wall_ns / 1000000000ull);
	unsigned long long ns = wall_ns % 1000000000ull;
	struct tm tm;

	if (iso) {
		gmtime_r(&secs, &tm);
		snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%09llu+0000", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ns);
	} else {
		localtime_r(&secs, &tm);
		snprintf(buf, cap, "%02d:%02d:%02d.%09llu", tm.tm_hour, tm.tm_min, tm.tm_sec, ns);
	}
}

/* Time-string fields print as text in the output but go to output_fields as the event time
 * in integer nanoseconds (spec d.4). */
static bool is_time_text_field(const char *name)
{
	static const char *const names[] = {"evt.time",	    "evt.time.s",     "evt.time.iso8601",
					    "evt.datetime", "evt.datetime.s", "evt.outputtime"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i]))
			return true;
	return false;
}

static void json_value(struct strbuf *out, const struct field_def *def, const struct vm_value *v)
{
	switch (v->kind) {
	case VM_V_INT:
		sb_addf(out, "%lld", (long long)v->i);
		return;
	case VM_V_UINT:
		sb_addf(out, "%llu", (unsigned long long)v->u);
		return;
	case VM_V_BOOL:
		sb_adds(out, v->b ? "true" : "false");
		return;
	case VM_V_LIST:
		sb_addc(out, '[');
		for (size_t i = 0; i < v->list.n; i++) {
			if (i)
				sb_addc(out, ',');
			json_value(out, def, &v->list.items[i]);
		}
		sb_addc(out, ']');
		return;
	case VM_V_STR:
		sb_add_json_string(out, v->str.s, v->str.len);
		return;
	case VM_V_IP:
	case VM_V_NET: {
		struct strbuf t = STRBUF_INIT;

		outfmt_value_text(v, &t);
		sb_add_json_string(out, t.buf, t.len);
		sb_release(&t);
		return;
	}
	}
}

struct ofield {
	const char *name;
	const struct outfmt_token *tok; /* NULL: the prefix's time token */
};

static int ofield_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ofield *)a)->name, ((const struct ofield *)b)->name);
}

static void output_fields(struct strbuf *out, const struct alert_opts *o, const struct outfmt *f,
			  const struct vm_fieldsrc *src, uint64_t wall_ns)
{
	struct ofield stack[64], *of = stack;
	size_t n = 0, cap = sizeof(stack) / sizeof(stack[0]);

	if (f->n_tok + 1 > cap) {
		of = malloc((f->n_tok + 1) * sizeof(*of));
		if (!of)
			abort();
	}
	of[n++] = (struct ofield){o->time_iso ? "evt.time.iso8601" : "evt.time", NULL};
	for (size_t i = 0; i < f->n_tok; i++)
		if (f->tok[i].field.def)
			of[n++] = (struct ofield){f->tok[i].name, &f->tok[i]};
	qsort(of, n, sizeof(*of), ofield_cmp);

	sb_addc(out, '{');
	for (size_t i = 0, k = 0; i < n; i++) {
		struct vm_value v;

		if (i && !strcmp(of[i].name, of[i - 1].name))
			continue; /* duplicates collapse */
		if (k++)
			sb_addc(out, ',');
		sb_add_json_string(out, of[i].name, strlen(of[i].name));
		sb_addc(out, ':');
		if (!of[i].tok || is_time_text_field(of[i].tok->field.def->name)) {
			sb_addf(out, "%llu", (unsigned long long)wall_ns);
			continue;
		}
		if (src->extract(src->ctx, &of[i].tok->field, &v) == 0)
			json_value(out, of[i].tok->field.def, &v);
		else
			sb_adds(out, "null");
	}
	sb_addc(out, '}');
	if (of != stack)
		free(of);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void alert_format(struct strbuf *out, const struct alert_opts *o, const struct alert_rule *r,
		  const struct vm_fieldsrc *src, uint64_t wall_ns)
{
	struct strbuf msg = STRBUF_INIT;
	char tbuf[64];
	size_t msg_at;

	alert_time_text(wall_ns, o->time_iso, tbuf, sizeof(tbuf));
	sb_addf(&msg, "%s: %s ", tbuf, r->priority);
	msg_at = msg.len;
	outfmt_render(r->fmt, src, &msg);

	if (!o->json) {
		sb_add_json_escaped(out, msg.buf, msg.len);
		sb_release(&msg);
		return;
	}
	/* Keys in byte order, as the reference writes them. */
	sb_adds(out, "{\"hostname\":");
	sb_add_json_string(out, o->hostname, strlen(o->hostname));
	if (o->include_message) {
		sb_adds(out, ",\"message\":");
		sb_add_json_string(out, msg.buf + msg_at, msg.len - msg_at);
	}
	if (o->include_output) {
		sb_adds(out, ",\"output\":");
		sb_add_json_string(out, msg.buf, msg.len);
	}
	if (o->include_output_fields) {
		sb_adds(out, ",\"output_fields\":");
		output_fields(out, o, r->fmt, src, wall_ns);
	}
	sb_adds(out, ",\"priority\":");
	sb_add_json_string(out, r->priority, strlen(r->priority));
	sb_adds(out, ",\"rule\":");
	sb_add_json_string(out, r->name, strlen(r->name));
	sb_adds(out, ",\"source\":");
	sb_add_json_string(out, r->source, strlen(r->source));
	if (o->include_tags) {
		const char **tags = NULL;

		sb_adds(out, ",\"tags\":[");
		if (r->n_tags) {
			tags = malloc(r->n_tags * sizeof(*tags));
			if (!tags)
				abort();
			memcpy(tags, r->tags, r->n_tags * sizeof(*tags));
			qsort(tags, r->n_tags, sizeof(*tags), str_cmp);
		}
		for (size_t i = 0; i < r->n_tags; i++) {
			if (i)
				sb_addc(out, ',');
			sb_add_json_string(out, tags[i], strlen(tags[i]));
		}
		free(tags);
		sb_addc(out, ']');
	}
	time_format_iso(wall_ns, tbuf, sizeof(tbuf));
	sb_adds(out, ",\"time\":");
	sb_add_json_string(out, tbuf, strlen(tbuf));
	sb_addc(out, '}');
	sb_release(&msg);
}
