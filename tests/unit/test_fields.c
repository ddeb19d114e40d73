/* The field registry: resolution by longest prefix within a class, arguments, and the
 * fields real rulesets use. */
#include "fields.h"
#include "testlib.h"

static const struct field_def *resolve(const char *text, struct field_ref *ref, char *err)
{
	if (fields_resolve(text, strlen(text), ref, err, 256))
		return NULL;
	return ref->def;
}

static bool arg_is(const struct field_ref *ref, const char *want)
{
	return ref->has_arg && ref->arg_len == strlen(want) &&
	       memcmp(ref->arg, want, ref->arg_len) == 0;
}

TEST(plain_fields)
{
	struct field_ref r;
	char err[256];

	CHECK_EQ_STR(resolve("proc.name", &r, err)->name, "proc.name");
	CHECK(!r.has_arg);
	CHECK_EQ_STR(resolve("proc.exepath", &r, err)->name, "proc.exepath");
	CHECK_EQ_INT(r.def->type, FT_FSPATH);
	CHECK_EQ_STR(resolve("fd.sip.name", &r, err)->name, "fd.sip.name");
	CHECK_EQ_STR(resolve("fd.sip", &r, err)->name, "fd.sip");
	CHECK_EQ_STR(resolve("proc.exe_ino.ctime_duration_proc_start", &r, err)->name,
		     "proc.exe_ino.ctime_duration_proc_start");
	CHECK_EQ_STR(resolve("evt.args", &r, err)->name, "evt.args");
	CHECK_EQ_INT(r.def->type, FT_CHARBUF);
}

TEST(arguments)
{
	struct field_ref r;
	char err[256];

	CHECK_EQ_STR(resolve("proc.aname[2]", &r, err)->name, "proc.aname");
	CHECK(arg_is(&r, "2"));
	CHECK_EQ_STR(resolve("proc.aname", &r, err)->name, "proc.aname");
	CHECK(!r.has_arg);
	CHECK_EQ_STR(resolve("evt.arg.flags", &r, err)->name, "evt.arg");
	CHECK(arg_is(&r, "flags"));
	CHECK_EQ_STR(resolve("evt.arg[1]", &r, err)->name, "evt.arg");
	CHECK(arg_is(&r, "1"));
	CHECK_EQ_STR(resolve("container.mount.dest[/proc*]", &r, err)->name,
		     "container.mount.dest");
	CHECK(arg_is(&r, "/proc*"));
	CHECK_EQ_STR(resolve("k8s.pod.label[\"app.kubernetes.io/name\"]", &r, err)->name,
		     "k8s.pod.label");
	CHECK(arg_is(&r, "app.kubernetes.io/name"));
	CHECK_EQ_STR(resolve("k8s.pod.label.app", &r, err)->name, "k8s.pod.label");
	CHECK(arg_is(&r, "app"));
	CHECK_EQ_STR(resolve("proc.env[HOME]", &r, err)->name, "proc.env");
	CHECK(arg_is(&r, "HOME"));
}

TEST(unknown_and_bad_arguments)
{
	struct field_ref r;
	char err[256];

	CHECK(resolve("proc.nmae", &r, err) == NULL);
	CHECK_EQ_STR(err, "unknown field 'proc.nmae'");
	/* The longest prefix in the class decides, and must cover the whole text. */
	CHECK(resolve("proc.names", &r, err) == NULL);
	CHECK(resolve("proc.name[1]", &r, err) == NULL);
	CHECK_EQ_STR(err, "field 'proc.name' takes no argument");
	CHECK(resolve("fd.sip.nam", &r, err) == NULL);
	CHECK(resolve("nosuch.field", &r, err) == NULL);
	CHECK(strstr(err, "unknown field class") != NULL);
	CHECK(resolve("proc.aname[x]", &r, err) == NULL);
	CHECK(strstr(err, "takes a number in brackets") != NULL);
	CHECK(resolve("evt.arg", &r, err) == NULL);
	CHECK(strstr(err, "requires an argument") != NULL);
	CHECK(resolve("container.mount.dest", &r, err) == NULL);
	CHECK(resolve("proc.aname[]", &r, err) == NULL);
	CHECK(resolve("proc.aname[2", &r, err) == NULL);
	CHECK(resolve("", &r, err) == NULL);
}

TEST(parser_split_arguments)
{
	struct field_ref r;
	char err[256];

	CHECK(fields_resolve_arg("proc.aname", 10, "2", 1, &r, err, sizeof(err)) == 0);
	CHECK(arg_is(&r, "2"));
	CHECK(fields_resolve_arg("container.mount.dest", 20, "/a]b", 4, &r, err, sizeof(err)) == 0);
	CHECK(arg_is(&r, "/a]b"));
	CHECK(fields_resolve_arg("evt.arg.flags", 13, NULL, 0, &r, err, sizeof(err)) == 0);
	CHECK(arg_is(&r, "flags"));
	CHECK(fields_resolve_arg("proc.name", 9, "1", 1, &r, err, sizeof(err)) == -1);
	CHECK_EQ_STR(err, "field 'proc.name' takes no argument");
	CHECK(fields_resolve_arg("evt.arg.flags", 13, "1", 1, &r, err, sizeof(err)) == -1);
	CHECK_EQ_STR(err, "unknown field 'evt.arg.flags[1]'");
	CHECK(fields_resolve_arg("proc.aname", 10, "x", 1, &r, err, sizeof(err)) == -1);
	CHECK(strstr(err, "takes a number") != NULL);
}

TEST(profile_fields_all_known)
{
	/* Every field the three community rulesets use (ruleset-profile section 5). */
	static const char *const used[] = {
	    "evt.arg.cmd",
	    "evt.arg.domain",
	    "evt.arg.fd",
	    "evt.arg.filename",
	    "evt.arg.flags",
	    "evt.arg.linkpath",
	    "evt.arg.mode",
	    "evt.arg.name",
	    "evt.arg.newpath",
	    "evt.arg.oldpath",
	    "evt.arg.path",
	    "evt.arg.request",
	    "evt.arg.target",
	    "evt.arg.uid",
	    "evt.args",
	    "evt.buffer",
	    "evt.is_open_exec",
	    "evt.is_open_read",
	    "evt.is_open_write",
	    "evt.num",
	    "evt.rawres",
	    "evt.res",
	    "evt.type",
	    "proc.aexe",
	    "proc.aexepath",
	    "proc.aname",
	    "proc.args",
	    "proc.cmdline",
	    "proc.cwd",
	    "proc.duration",
	    "proc.env",
	    "proc.exe",
	    "proc.exe_ino.ctime",
	    "proc.exe_ino.ctime_duration_proc_start",
	    "proc.exe_ino.mtime",
	    "proc.exepath",
	    "proc.is_exe_from_memfd",
	    "proc.is_exe_upper_layer",
	    "proc.is_vpgid_leader",
	    "proc.name",
	    "proc.pcmdline",
	    "proc.pexe",
	    "proc.pexepath",
	    "proc.pname",
	    "proc.sname",
	    "proc.tty",
	    "proc.vpid",
	    "thread.cap_effective",
	    "thread.cap_permitted",
	    "user.loginname",
	    "user.loginuid",
	    "user.name",
	    "user.uid",
	    "group.gid",
	    "group.name",
	    "fd.cip",
	    "fd.cip.name",
	    "fd.cnet",
	    "fd.connected",
	    "fd.directory",
	    "fd.filename",
	    "fd.ip",
	    "fd.l4proto",
	    "fd.lip.name",
	    "fd.lport",
	    "fd.name",
	    "fd.name_changed",
	    "fd.nameraw",
	    "fd.net",
	    "fd.num",
	    "fd.port",
	    "fd.rip",
	    "fd.rip.name",
	    "fd.rnet",
	    "fd.rport",
	    "fd.sip",
	    "fd.sip.name",
	    "fd.snet",
	    "fd.sockfamily",
	    "fd.sport",
	    "fd.type",
	    "fd.typechar",
	    "container.id",
	    "container.image.repository",
	    "container.mount.dest[/etc]",
	    "container.mounts",
	    "container.privileged",
	    "container.start_ts",
	    "k8s.ns.name",
	    "k8s.pod.name",
	    "proc.aname[7]",
	    "proc.aexe[2]",
	    "proc.aexepath[2]",
	};
	struct field_ref r;
	char err[256];

	for (size_t i = 0; i < sizeof(used) / sizeof(used[0]); i++) {
		if (!resolve(used[i], &r, err)) {
			printf("# %s: %s\n", used[i], err);
			CHECK(0);
		}
	}
}

TEST(types_and_flags_as_profiled)
{
	struct field_ref r;
	char err[256];

	CHECK_EQ_INT(resolve("fd.sport", &r, err)->type, FT_PORT);
	CHECK_EQ_INT(resolve("fd.snet", &r, err)->type, FT_IPNET);
	CHECK(r.def->flags & FF_FILTER_ONLY);
	CHECK_EQ_INT(resolve("user.loginuid", &r, err)->type, FT_INT64);
	CHECK_EQ_INT(resolve("proc.tty", &r, err)->type, FT_UINT32);
	CHECK_EQ_INT(resolve("evt.buffer", &r, err)->type, FT_BYTEBUF);
	CHECK_EQ_INT(resolve("proc.duration", &r, err)->type, FT_RELTIME);
	CHECK_EQ_INT(resolve("evt.is_open_read", &r, err)->type, FT_BOOL);
	CHECK(resolve("evt.dir", &r, err)->flags & FF_DEPRECATED);
	CHECK(resolve("proc.aname", &r, err)->flags & FF_NO_RHS);
	CHECK(field_type_is_numeric(FT_PORT));
	CHECK(!field_type_is_numeric(FT_CHARBUF));
	CHECK_EQ_STR(field_type_name(FT_IPNET), "IPNET");
}

TEST(table_is_well_formed)
{
	size_t n;
	const struct field_def *t = fields_table(&n);

	CHECK(n > 150);
	for (size_t i = 0; i < n; i++) {
		CHECK(t[i].desc && t[i].desc[0]);
		CHECK(strchr(t[i].name, '.') != NULL);
		CHECK((t[i].flags & FF_ARG_REQUIRED) == 0 || t[i].arg != FA_NONE);
		for (size_t j = i + 1; j < n; j++)
			if (strcmp(t[i].name, t[j].name) == 0) {
				printf("# duplicate field %s\n", t[i].name);
				CHECK(0);
			}
	}
}

int main(void)
{
	RUN(plain_fields);
	RUN(arguments);
	RUN(unknown_and_bad_arguments);
	RUN(parser_split_arguments);
	RUN(profile_fields_all_known);
	RUN(types_and_flags_as_profiled);
	RUN(table_is_well_formed);
	return tap_done();
}
