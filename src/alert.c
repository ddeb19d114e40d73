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

/* The date and time of one second, formatted once per second and per thread: alerts come
 * in bursts, and localtime_r() and snprintf() cost more than the rest of a text alert. */
struct sec_text {
	int64_t secs; /* -1: nothing yet */
	size_t len;
	char text[32]; /* "HH:MM:SS." (local) or "YYYY-MM-DDTHH:MM:SS." (UTC) */
};

static _Thread_local struct sec_text sec_local = {.secs = -1}, sec_utc = {.secs = -1};

static const struct sec_text *sec_text(uint64_t wall_ns, bool utc)
{
	struct sec_text *c = utc ? &sec_utc : &sec_local;
	time_t secs = (time_t)(wall_ns / 1000000000ull);
	struct tm tm;
	int n;

	if (c->secs == (int64_t)secs)
		return c;
	if (utc) {
		gmtime_r(&secs, &tm);
		n = snprintf(c->text, sizeof(c->text), "%04d-%02d-%02dT%02d:%02d:%02d.",
			     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			     tm.tm_sec);
	} else {
		localtime_r(&secs, &tm);
		n = snprintf(c->text, sizeof(c->text), "%02d:%02d:%02d.", tm.tm_hour, tm.tm_min,
			     tm.tm_sec);
	}
	c->len = n > 0 && (size_t)n < sizeof(c->text) ? (size_t)n : 0;
	c->secs = (int64_t)secs;
	return c;
}

/* The nanoseconds of the second, 9 digits. */
static void ns9(char *p, uint64_t wall_ns)
{
	uint64_t ns = wall_ns % 1000000000ull;

	for (int i = 8; i >= 0; i--) {
		p[i] = (char)('0' + ns % 10);
		ns /= 10;
	}
}

/* The time of a text alert (iso: UTC with "+0000") or of a JSON one ('Z'); returns its
 * length. buf holds at least 48 bytes. */
static size_t time_text(uint64_t wall_ns, bool iso, bool json, char *buf)
{
	const struct sec_text *st = sec_text(wall_ns, iso || json);
	size_t n = st->len;

	memcpy(buf, st->text, n);
	ns9(buf + n, wall_ns);
	n += 9;
	if (json) {
		buf[n++] = 'Z';
	} else if (iso) {
		memcpy(buf + n, "+0000", 5);
		n += 5;
	}
	buf[n] = '\0';
	return n;
}

void alert_time_text(uint64_t wall_ns, bool iso, char *buf, size_t cap)
{
	char t[48];

	time_text(wall_ns, iso, false, t);
	snprintf(buf, cap, "%s", t);
}

/* Time-string fields print as text in the output but go to output_fields as the event time
 * in integer nanoseconds (spec d.4). */
static bool is_time_text_field(const char *name)
{
	static const char *const names[] = {"evt.time",	    "evt.time.s",     "evt.time.iso8601",
					    "evt.datetime", "evt.datetime.s", "evt.outputtime"};

	if (name[0] != 'e' || name[1] != 'v' || name[2] != 't' || name[3] != '.')
		return false;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i]))
			return true;
	return false;
}

static void json_value(struct strbuf *out, const struct field_def *def, const struct vm_value *v)
{
	switch (v->kind) {
	case VM_V_INT:
		sb_add_i64(out, v->i);
		return;
	case VM_V_UINT:
		sb_add_u64(out, v->u);
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

/* Keys in byte order: the format's own order (outfmt.h), the prefix's time token and the
 * append_output extra fields merged into it. On a name shared by several, the time token
 * comes first, then the format's field, then an extra field. */
static void output_fields(struct strbuf *out, const struct alert_opts *o, const struct alert_rule *r,
			  const struct vm_fieldsrc *src, uint64_t wall_ns)
{
	const char *tname = o->time_iso ? "evt.time.iso8601" : "evt.time";
	const struct outfmt *f = r->fmt;
	bool time_done = false;
	size_t j = 0, e = 0, k = 0;

	sb_addc(out, '{');
	for (;;) {
		const struct outfmt_token *t = j < f->n_order ? &f->tok[f->order[j]] : NULL;
		const struct outfmt_extra *x = e < r->n_extras ? &r->extras[e] : NULL;
		const char *name = time_done ? NULL : tname;
		struct vm_value v;

		if (t && (!name || strcmp(t->name, name) < 0))
			name = t->name;
		if (x && (!name || strcmp(x->key, name) < 0))
			name = x->key;
		if (!name)
			break;
		if (k++)
			sb_addc(out, ',');
		sb_add_json_string(out, name, strlen(name));
		sb_addc(out, ':');
		if (!time_done && strcmp(name, tname) == 0) {
			sb_add_u64(out, wall_ns);
		} else if (t && strcmp(name, t->name) == 0) {
			if (is_time_text_field(t->field.def->name))
				sb_add_u64(out, wall_ns);
			else if (src->extract(src->ctx, &t->field, &v) == 0)
				json_value(out, t->field.def, &v);
			else
				sb_adds(out, "null");
		} else if (x->raw) {
			const struct outfmt_token *xt = &x->fmt->tok[0];

			if (is_time_text_field(xt->field.def->name))
				sb_add_u64(out, wall_ns);
			else if (src->extract(src->ctx, &xt->field, &v) == 0)
				json_value(out, xt->field.def, &v);
			else
				sb_adds(out, "null");
		} else {
			struct strbuf txt = STRBUF_INIT;

			outfmt_render(x->fmt, src, &txt);
			sb_add_json_string(out, txt.buf ? txt.buf : "", txt.len);
			sb_release(&txt);
		}
		/* everything of this name is done */
		if (!time_done && strcmp(name, tname) == 0)
			time_done = true;
		if (t && strcmp(name, t->name) == 0)
			j++;
		if (x && strcmp(name, x->key) == 0)
			e++;
	}
	sb_addc(out, '}');
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The text line's start: "<time>: <Priority> ". */
static void line_start(struct strbuf *msg, const struct alert_opts *o, const char *priority,
		       uint64_t wall_ns)
{
	char tbuf[48];

	sb_add(msg, tbuf, time_text(wall_ns, o->time_iso, false, tbuf));
	sb_add(msg, ": ", 2);
	sb_adds(msg, priority);
	sb_addc(msg, ' ');
}

/* The text form of an alert (its line escaped; msg released), or the start of its JSON
 * object. Returns true when the JSON object is to be continued. */
static bool text_or_json_start(struct strbuf *out, const struct alert_opts *o,
			       struct strbuf *msg)
{
	if (!o->json) {
		sb_add_json_escaped(out, msg->buf, msg->len);
		sb_release(msg);
		return false;
	}
	/* keys in byte order, as the reference writes them */
	sb_adds(out, "{\"hostname\":");
	sb_add_json_string(out, o->hostname, strlen(o->hostname));
	return true;
}

void alert_format(struct strbuf *out, const struct alert_opts *o, const struct alert_rule *r,
		  const struct vm_fieldsrc *src, uint64_t wall_ns)
{
	struct strbuf msg = STRBUF_INIT;
	char tbuf[48];
	size_t msg_at;

	sb_grow(&msg, 512); /* one allocation for most alerts */
	line_start(&msg, o, r->priority, wall_ns);
	msg_at = msg.len;
	outfmt_render(r->fmt, src, &msg);
	if (!text_or_json_start(out, o, &msg))
		return;
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
		output_fields(out, o, r, src, wall_ns);
	}
	sb_adds(out, ",\"priority\":");
	sb_add_json_string(out, r->priority, strlen(r->priority));
	sb_adds(out, ",\"rule\":");
	sb_add_json_string(out, r->name, strlen(r->name));
	sb_adds(out, ",\"source\":");
	sb_add_json_string(out, r->source, strlen(r->source));
	if (o->include_tags) {
		const char *stack[32], **tags = stack;

		sb_adds(out, ",\"tags\":[");
		if (r->n_tags > sizeof(stack) / sizeof(stack[0])) {
			tags = malloc(r->n_tags * sizeof(*tags));
			if (!tags)
				abort();
		}
		if (r->n_tags) {
			memcpy(tags, r->tags, r->n_tags * sizeof(*tags));
			qsort(tags, r->n_tags, sizeof(*tags), str_cmp);
		}
		for (size_t i = 0; i < r->n_tags; i++) {
			if (i)
				sb_addc(out, ',');
			sb_add_json_string(out, tags[i], strlen(tags[i]));
		}
		if (tags != stack)
			free(tags);
		sb_addc(out, ']');
	}
	sb_adds(out, ",\"time\":\"");
	sb_add(out, tbuf, time_text(wall_ns, true, true, tbuf));
	sb_addc(out, '"');
	sb_addc(out, '}');
	sb_release(&msg);
}

void alert_format_internal(struct strbuf *out, const struct alert_opts *o,
			   const struct alert_internal *a, uint64_t wall_ns)
{
	struct strbuf msg = STRBUF_INIT;
	const size_t *order;
	size_t stack[16], *sorted = stack;
	char tbuf[48];

	/* the text: "<time>: <Priority> <message> (k1="v1" k2="v2" ...)", values as JSON */
	line_start(&msg, o, a->priority, wall_ns);
	sb_adds(&msg, a->message);
	if (a->n) {
		sb_adds(&msg, " (");
		for (size_t i = 0; i < a->n; i++) {
			if (i)
				sb_addc(&msg, ' ');
			sb_adds(&msg, a->keys[i]);
			sb_addc(&msg, '=');
			sb_add_json_string(&msg, a->values[i], strlen(a->values[i]));
		}
		sb_addc(&msg, ')');
	}
	if (!text_or_json_start(out, o, &msg))
		return;
	if (o->include_output) {
		sb_adds(out, ",\"output\":");
		sb_add_json_string(out, msg.buf, msg.len);
	}
	if (o->include_output_fields) {
		/* keys in byte order, like every other object saker writes */
		if (a->n > sizeof(stack) / sizeof(stack[0])) {
			sorted = malloc(a->n * sizeof(*sorted));
			if (!sorted)
				abort();
		}
		for (size_t i = 0; i < a->n; i++) {
			size_t j = i;

			while (j && strcmp(a->keys[sorted[j - 1]], a->keys[i]) > 0) {
				sorted[j] = sorted[j - 1];
				j--;
			}
			sorted[j] = i;
		}
		order = sorted;
		sb_adds(out, ",\"output_fields\":{");
		for (size_t i = 0; i < a->n; i++) {
			if (i)
				sb_addc(out, ',');
			sb_add_json_string(out, a->keys[order[i]], strlen(a->keys[order[i]]));
			sb_addc(out, ':');
			sb_add_json_string(out, a->values[order[i]], strlen(a->values[order[i]]));
		}
		sb_addc(out, '}');
		if (sorted != stack)
			free(sorted);
	}
	sb_adds(out, ",\"priority\":");
	sb_add_json_string(out, a->priority, strlen(a->priority));
	sb_adds(out, ",\"rule\":");
	sb_add_json_string(out, a->rule, strlen(a->rule));
	sb_adds(out, ",\"source\":\"internal\",\"time\":\"");
	sb_add(out, tbuf, time_text(wall_ns, true, true, tbuf));
	sb_adds(out, "\"}");
	sb_release(&msg);
}
