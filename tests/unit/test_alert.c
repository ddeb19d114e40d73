/* Output formats (spec d.2), text and JSON alerts (d.3, d.4), and the evt.* extractors over
 * synthetic events. */
#include <cJSON.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "alert.h"
#include "extract.h"
#include "evttypes.h"
#include "outfmt.h"
#include "strbuf.h"
#include "syscall_ids.h"
#include "testlib.h"

/* A field source with fixed values by name; anything else is missing. */
static int fake_extract(void *ctx, const struct vm_field *f, struct vm_value *out)
{
	const char *n = f->def->name;
	static struct vm_value items[2];

	(void)ctx;
	if (!strcmp(n, "proc.name")) {
		out->kind = VM_V_STR;
		out->str.s = "bash";
		out->str.len = 4;
	} else if (!strcmp(n, "fd.name")) {
		/* hostile: a newline, a quote, a backslash and an invalid UTF-8 byte */
		static const char s[] = "/tmp/a\nb\"c\\d\xff";

		out->kind = VM_V_STR;
		out->str.s = s;
		out->str.len = sizeof(s) - 1;
	} else if (!strcmp(n, "proc.pid")) {
		out->kind = VM_V_INT;
		out->i = -5;
	} else if (!strcmp(n, "user.uid")) {
		out->kind = VM_V_UINT;
		out->u = 1000;
	} else if (!strcmp(n, "proc.is_exe_from_memfd")) {
		out->kind = VM_V_BOOL;
		out->b = true;
	} else if (!strcmp(n, "fd.sip")) {
		out->kind = VM_V_IP;
		out->ip.family = AF_INET;
		memcpy(out->ip.addr, "\x0a\x00\x00\x01", 4);
	} else if (!strcmp(n, "fd.types")) {
		items[0].kind = VM_V_STR;
		items[0].str.s = "file";
		items[0].str.len = 4;
		items[1].kind = VM_V_STR;
		items[1].str.s = "ipv4";
		items[1].str.len = 4;
		out->kind = VM_V_LIST;
		out->list.items = items;
		out->list.n = 2;
	} else if (!strcmp(n, "proc.aname") && f->arg && !strcmp(f->arg, "2")) {
		out->kind = VM_V_STR;
		out->str.s = "sshd";
		out->str.len = 4;
	} else {
		return 1;
	}
	return 0;
}

static const struct vm_fieldsrc fake = {fake_extract, NULL};

/* Renders fmt through the fake source; returns a static copy, or NULL (err set). */
static char rendered[512], err[256];
static size_t err_at;

static const char *render(const char *fmt)
{
	struct outfmt *f = outfmt_compile(fmt, strlen(fmt), err, sizeof(err), &err_at);
	struct strbuf sb = STRBUF_INIT;

	if (!f)
		return NULL;
	outfmt_render(f, &fake, &sb);
	snprintf(rendered, sizeof(rendered), "%s", sb.buf ? sb.buf : "");
	sb_release(&sb);
	outfmt_free(f);
	return rendered;
}

TEST(outfmt_plain_fields)
{
	CHECK_EQ_STR(render("shell %proc.name pid=%proc.pid uid=%user.uid"),
		     "shell bash pid=-5 uid=1000");
	CHECK_EQ_STR(render("no fields at all"), "no fields at all");
	CHECK_EQ_STR(render("%proc.name"), "bash");
}

TEST(outfmt_missing_prints_na)
{
	CHECK_EQ_STR(render("user=%user.name x"), "user=<NA> x");
}

TEST(outfmt_longest_prefix)
{
	/* the token is the longest prefix that is a field */
	CHECK_EQ_STR(render("%proc.namexyz"), "bashxyz");
	CHECK_EQ_STR(render("(%proc.name)"), "(bash)");
	CHECK_EQ_STR(render("%proc.name."), "bash.");
	CHECK_EQ_STR(render("%proc.name,%proc.pid;"), "bash,-5;");
}

TEST(outfmt_arguments)
{
	CHECK_EQ_STR(render("g=%proc.aname[2]"), "g=sshd");
	CHECK_EQ_STR(render("g=%proc.aname[3]"), "g=<NA>");
}

TEST(outfmt_types)
{
	CHECK_EQ_STR(render("%proc.is_exe_from_memfd %fd.sip %fd.types"), "true 10.0.0.1 (file,ipv4)");
}

TEST(outfmt_width)
{
	CHECK_EQ_STR(render("[%8proc.name]"), "[bash    ]");
	CHECK_EQ_STR(render("[%2proc.name]"), "[ba]");
	CHECK_EQ_STR(render("[%4user.name]"), "[<NA>]");
}

TEST(outfmt_leading_star_dropped)
{
	CHECK_EQ_STR(render("*star %proc.name"), "star bash");
}

TEST(outfmt_errors)
{
	CHECK(render("") == NULL);
	CHECK(strstr(err, "empty") != NULL);
	CHECK(render("50% done") == NULL);
	CHECK(strstr(err, "not followed by a field") != NULL);
	CHECK_EQ_INT(err_at, 2);
	CHECK(render("the end %") == NULL);
	CHECK(strstr(err, "at the end") != NULL);
	CHECK(render("x %proc.nmae") == NULL);
	CHECK(strstr(err, "proc.nmae") != NULL);
	CHECK_EQ_INT(err_at, 3);
	CHECK(render("*") == NULL);
}

TEST(outfmt_hostile_format)
{
	/* long, full of '%' runs and brackets: must fail cleanly or render, never crash */
	static char big[70000];

	for (size_t i = 0; i < sizeof(big) - 1; i++)
		big[i] = "%proc.name[]x"[i % 13];
	big[sizeof(big) - 1] = 0;
	render(big);
	CHECK(render("%proc.aname[") == NULL || 1);
	CHECK(render("%[1]") == NULL);
}

static struct outfmt *fmt_of(const char *s)
{
	return outfmt_compile(s, strlen(s), err, sizeof(err), &err_at);
}

TEST(alert_text_is_one_escaped_line)
{
	struct outfmt *f = fmt_of("opened %fd.name by %proc.name");
	struct alert_rule r = {"r1", "Warning", NULL, 0, "syscall", f};
	struct alert_opts o = {.json = false, .time_iso = true, .hostname = "h"};
	struct strbuf sb = STRBUF_INIT;

	alert_format(&sb, &o, &r, &fake, 1767276309123456789ull);
	CHECK_EQ_STR(sb.buf, "2026-01-01T14:05:09.123456789+0000: Warning opened "
			     "/tmp/a\\nb\\\"c\\\\d\xef\xbf\xbd by bash");
	CHECK(strchr(sb.buf, '\n') == NULL);
	sb_release(&sb);
	outfmt_free(f);
}

TEST(alert_json_shape)
{
	struct outfmt *f = fmt_of("opened %fd.name by %proc.name (%user.name) %proc.name "
				  "pid=%proc.pid memfd=%proc.is_exe_from_memfd t=%evt.time.s");
	const char *tags[] = {"zeta", "alpha", "mitre_x"};
	struct alert_rule r = {"Rule \"one\"", "Critical", tags, 3, "syscall", f};
	struct alert_opts o = {.json = true,
			       .include_output = true,
			       .include_output_fields = true,
			       .include_tags = true,
			       .hostname = "worker-1"};
	struct strbuf sb = STRBUF_INIT;
	cJSON *j, *of, *it;
	const char *prev = "";

	alert_format(&sb, &o, &r, &fake, 1767276309123456789ull);
	CHECK(strchr(sb.buf, '\n') == NULL);
	j = cJSON_Parse(sb.buf);
	CHECK(j != NULL);
	if (!j)
		goto out;
	/* keys in byte order, and exactly these */
	{
		const char *want[] = {"hostname", "output", "output_fields", "priority",
				      "rule",	  "source", "tags",	     "time"};
		size_t k = 0;

		cJSON_ArrayForEach(it, j)
		{
			CHECK(k < 8 && !strcmp(it->string, want[k]));
			k++;
		}
		CHECK_EQ_INT(k, 8);
	}
	CHECK_EQ_STR(cJSON_GetObjectItem(j, "hostname")->valuestring, "worker-1");
	CHECK_EQ_STR(cJSON_GetObjectItem(j, "rule")->valuestring, "Rule \"one\"");
	CHECK_EQ_STR(cJSON_GetObjectItem(j, "priority")->valuestring, "Critical");
	CHECK_EQ_STR(cJSON_GetObjectItem(j, "source")->valuestring, "syscall");
	CHECK_EQ_STR(cJSON_GetObjectItem(j, "time")->valuestring,
		     "2026-01-01T14:05:09.123456789Z");
	it = cJSON_GetObjectItem(j, "tags");
	CHECK(cJSON_GetArraySize(it) == 3);
	CHECK_EQ_STR(cJSON_GetArrayItem(it, 0)->valuestring, "alpha");
	CHECK_EQ_STR(cJSON_GetArrayItem(it, 2)->valuestring, "zeta");
	CHECK(strstr(cJSON_GetObjectItem(j, "output")->valuestring, "Critical opened /tmp/a\nb") !=
	      NULL);

	of = cJSON_GetObjectItem(j, "output_fields");
	CHECK(of != NULL);
	if (!of)
		goto out;
	cJSON_ArrayForEach(it, of)
	{
		CHECK(strcmp(prev, it->string) < 0); /* sorted, duplicates collapsed */
		prev = it->string;
	}
	CHECK_EQ_INT(cJSON_GetArraySize(of), 7);
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(of, "user.name")));
	CHECK(cJSON_IsNumber(cJSON_GetObjectItem(of, "proc.pid")));
	CHECK_EQ_INT(cJSON_GetObjectItem(of, "proc.pid")->valuedouble, -5);
	CHECK(cJSON_IsTrue(cJSON_GetObjectItem(of, "proc.is_exe_from_memfd")));
	CHECK(cJSON_IsNumber(cJSON_GetObjectItem(of, "evt.time")));
	CHECK(cJSON_IsNumber(cJSON_GetObjectItem(of, "evt.time.s")));
	CHECK_EQ_STR(cJSON_GetObjectItem(of, "fd.name")->valuestring,
		     "/tmp/a\nb\"c\\d\xef\xbf\xbd");
out:
	cJSON_Delete(j);
	sb_release(&sb);
	outfmt_free(f);
}

TEST(alert_json_switches)
{
	struct outfmt *f = fmt_of("x %proc.name");
	struct alert_rule r = {"r", "Notice", NULL, 0, "syscall", f};
	struct alert_opts o = {.json = true, .include_message = true, .hostname = "h"};
	struct strbuf sb = STRBUF_INIT;
	cJSON *j;

	alert_format(&sb, &o, &r, &fake, 1000000000ull);
	j = cJSON_Parse(sb.buf);
	CHECK(j != NULL);
	if (j) {
		CHECK(cJSON_GetObjectItem(j, "output") == NULL);
		CHECK(cJSON_GetObjectItem(j, "output_fields") == NULL);
		CHECK(cJSON_GetObjectItem(j, "tags") == NULL);
		CHECK_EQ_STR(cJSON_GetObjectItem(j, "message")->valuestring, "x bash");
	}
	cJSON_Delete(j);
	sb_release(&sb);
	outfmt_free(f);
}

/* append_output extra_fields merged into output_fields in key order; a key the format
 * already has is the format's; bare fields typed, {key: format} as text. */
TEST(alert_json_extras)
{
	struct outfmt *f = fmt_of("x %proc.name %user.uid");
	struct outfmt_extra ex[] = {
	    {"aaa", fmt_of("pid=%proc.pid!"), false},
	    {"fd.sip", fmt_of("%fd.sip"), true},
	    {"proc.name", fmt_of("shadowed"), false},
	    {"proc.pid", fmt_of("%proc.pid"), true},
	    {"zz.missing", fmt_of("%user.name"), true},
	};
	struct alert_rule r = {"r", "Notice", NULL, 0, "syscall", f, ex, 5};
	struct alert_opts o = {.json = true, .include_output_fields = true, .hostname = "h"};
	struct strbuf sb = STRBUF_INIT;

	alert_format(&sb, &o, &r, &fake, 1000000000ull);
	CHECK(strstr(sb.buf, "\"output_fields\":{\"aaa\":\"pid=-5!\",\"evt.time\":1000000000,"
			     "\"fd.sip\":\"10.0.0.1\",\"proc.name\":\"bash\",\"proc.pid\":-5,"
			     "\"user.uid\":1000,\"zz.missing\":null}") != NULL);
	if (!strstr(sb.buf, "\"aaa\""))
		printf("# %s\n", sb.buf);
	sb_release(&sb);
	outfmt_free(f);
	for (size_t i = 0; i < 5; i++)
		outfmt_free(ex[i].fmt);
}

/* saker's own alerts (spec d.5): no tags, string counters in key order, the text form. */
TEST(alert_internal_forms)
{
	const char *keys[] = {"n_evts", "n_drops", "ebpf_enabled"};
	const char *vals[] = {"100", "7", "1"};
	struct alert_internal a = {"saker internal: syscall event drop", "Debug", "7 dropped.",
				   keys, vals, 3};
	struct alert_opts o = {.json = true,
			       .include_output = true,
			       .include_output_fields = true,
			       .include_tags = true,
			       .time_iso = true,
			       .hostname = "h\"1"};
	struct strbuf sb = STRBUF_INIT;

	alert_format_internal(&sb, &o, &a, 1767276309123456789ull);
	CHECK_EQ_STR(sb.buf,
		     "{\"hostname\":\"h\\\"1\",\"output\":\"2026-01-01T14:05:09.123456789+0000: "
		     "Debug 7 dropped. (n_evts=\\\"100\\\" n_drops=\\\"7\\\" "
		     "ebpf_enabled=\\\"1\\\")\",\"output_fields\":{\"ebpf_enabled\":\"1\","
		     "\"n_drops\":\"7\",\"n_evts\":\"100\"},\"priority\":\"Debug\",\"rule\":"
		     "\"saker internal: syscall event drop\",\"source\":\"internal\",\"time\":"
		     "\"2026-01-01T14:05:09.123456789Z\"}");
	sb_reset(&sb);
	o.json = false;
	alert_format_internal(&sb, &o, &a, 1767276309123456789ull);
	CHECK_EQ_STR(sb.buf, "2026-01-01T14:05:09.123456789+0000: Debug 7 dropped. "
			     "(n_evts=\\\"100\\\" n_drops=\\\"7\\\" ebpf_enabled=\\\"1\\\")");
	sb_release(&sb);
}

/* ---- evt.* extractors over synthetic events ---- */

static int field_value(struct extract_ctx *c, const char *name, struct vm_value *v)
{
	struct field_ref ref;
	struct vm_field f;
	char e[128], arg[64] = "";

	if (fields_resolve(name, strlen(name), &ref, e, sizeof(e)))
		return -2;
	f.def = ref.def;
	f.arg = NULL;
	if (ref.has_arg) {
		snprintf(arg, sizeof(arg), "%.*s", (int)ref.arg_len, ref.arg);
		f.arg = arg;
	}
	return extract_field(c, &f, v);
}

static const char *str_of(struct extract_ctx *c, const char *name)
{
	static char buf[256];
	struct vm_value v;
	struct strbuf sb = STRBUF_INIT;

	if (field_value(c, name, &v))
		return "<missing>";
	outfmt_value_text(&v, &sb);
	snprintf(buf, sizeof(buf), "%s", sb.buf ? sb.buf : "");
	sb_release(&sb);
	return buf;
}

TEST(extract_evt_fields)
{
	struct extract_env env = {.hostname = "node-7", .start_boot_ns = 1000};
	struct extract_ctx c = {.env = &env};
	struct event ev = {.kind = SK_EV_SYSCALL, .nr = SK_NR_openat, .ret = -2, .ts_ns = 5000};

	ev.args[2] = O_WRONLY | O_CREAT;
	ev.args[3] = 0755;
	extract_begin(&c, &ev, NULL, 42);
	CHECK_EQ_STR(str_of(&c, "evt.type"), "openat");
	CHECK_EQ_STR(str_of(&c, "evt.res"), "ENOENT");
	CHECK_EQ_STR(str_of(&c, "evt.rawres"), "-2");
	CHECK_EQ_STR(str_of(&c, "evt.failed"), "true");
	CHECK_EQ_STR(str_of(&c, "evt.num"), "42");
	CHECK_EQ_STR(str_of(&c, "evt.reltime"), "4000");
	CHECK_EQ_STR(str_of(&c, "evt.hostname"), "node-7");
	CHECK_EQ_STR(str_of(&c, "evt.source"), "syscall");
	CHECK_EQ_STR(str_of(&c, "evt.dir"), "<");
	CHECK_EQ_STR(str_of(&c, "evt.category"), "file");
	CHECK_EQ_STR(str_of(&c, "evt.is_open_read"), "false");
	CHECK_EQ_STR(str_of(&c, "evt.is_open_write"), "true");
	CHECK_EQ_STR(str_of(&c, "evt.is_open_create"), "true");
	CHECK_EQ_STR(str_of(&c, "evt.is_open_exec"), "true");
	CHECK_EQ_STR(str_of(&c, "evt.buffer"), "<missing>");

	ev.nr = SK_NR_creat;
	ev.ret = 3;
	ev.args[1] = 0644;
	extract_begin(&c, &ev, NULL, 43);
	CHECK_EQ_STR(str_of(&c, "evt.type"), "creat");
	CHECK_EQ_STR(str_of(&c, "evt.res"), "SUCCESS");
	CHECK_EQ_STR(str_of(&c, "evt.is_open_write"), "true");
	CHECK_EQ_STR(str_of(&c, "evt.is_open_exec"), "false");

	ev.kind = SK_EV_EXIT;
	extract_begin(&c, &ev, NULL, 44);
	CHECK_EQ_INT(extract_event_code(&ev), EVT_PROCEXIT);
	CHECK_EQ_STR(str_of(&c, "evt.type"), "procexit");
	CHECK_EQ_STR(str_of(&c, "evt.res"), "<missing>");
	ev.kind = SK_EV_FORK;
	CHECK_EQ_INT(extract_event_code(&ev), -1);
	extract_release(&c);
}

TEST(extract_time_fields)
{
	struct extract_env env = {.hostname = "h"};
	struct extract_ctx c = {.env = &env};
	struct event ev = {.kind = SK_EV_SYSCALL, .nr = SK_NR_close};
	struct vm_value v;

	extract_begin(&c, &ev, NULL, 1);
	c.wall_ns = 1767276309123456789ull;
	CHECK_EQ_STR(str_of(&c, "evt.time.iso8601"), "2026-01-01T14:05:09.123456789Z");
	CHECK_EQ_STR(str_of(&c, "evt.rawtime.s"), "1767276309");
	CHECK_EQ_STR(str_of(&c, "evt.rawtime.ns"), "123456789");
	CHECK(field_value(&c, "evt.rawtime", &v) == 0 && v.kind == VM_V_UINT &&
	      v.u == 1767276309123456789ull);
	CHECK(strlen(str_of(&c, "evt.time")) == 18);
	extract_release(&c);
}

TEST(every_registry_field_has_an_extractor)
{
	size_t it = 0;
	const char *name;
	int missing = 0;

	while ((name = extract_missing_field(&it))) {
		printf("# no extractor: %s\n", name);
		missing++;
	}
	CHECK_EQ_INT(missing, 0);
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	RUN(outfmt_plain_fields);
	RUN(outfmt_missing_prints_na);
	RUN(outfmt_longest_prefix);
	RUN(outfmt_arguments);
	RUN(outfmt_types);
	RUN(outfmt_width);
	RUN(outfmt_leading_star_dropped);
	RUN(outfmt_errors);
	RUN(outfmt_hostile_format);
	RUN(alert_text_is_one_escaped_line);
	RUN(alert_json_shape);
	RUN(alert_json_switches);
	RUN(alert_json_extras);
	RUN(alert_internal_forms);
	RUN(extract_evt_fields);
	RUN(extract_time_fields);
	RUN(every_registry_field_has_an_extractor);
	return tap_done();
}
