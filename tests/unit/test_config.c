/* Configuration: defaults, YAML files, -o overrides, and the errors for bad input. */
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "testlib.h"

static char path[64];

/* Writes text to a temporary file and returns its path. */
static const char *yaml_file(const char *text)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/saker-test-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return NULL;
	if (write(fd, text, strlen(text)) < 0)
		path[0] = '\0';
	close(fd);
	return path;
}

TEST(defaults)
{
	struct config c;

	config_defaults(&c);
	CHECK_EQ_INT(c.ringbuf_size_mb, 4);
	CHECK_EQ_INT(c.drain_interval_ms, 1);
	CHECK_EQ_INT(c.attach, ATTACH_AUTO);
	CHECK(!c.syscalls_all);
	CHECK_EQ_INT(c.custom_set.n, 0);
	CHECK_EQ_INT(c.rules_files.n, 1);
	if (c.rules_files.n == 1)
		CHECK_EQ_STR(c.rules_files.v[0], "@default");
	CHECK_EQ_INT(c.priority, 7);
	CHECK_EQ_INT(c.rule_matching, RULE_MATCHING_FIRST);
	CHECK(c.json_include_output && c.json_include_fields && c.json_include_tags);
	CHECK(!c.json_include_message);
	config_free(&c);
}

TEST(rules_keys)
{
	struct config c;
	const char *p = yaml_file("rules_files: [a.yaml, /abs/b.yaml, '@default']\n"
				  "priority: INFO\n"
				  "rule_matching: all\n"
				  "json_include_tags_property: false\n");
	const char *slash = strrchr(p, '/');
	char want[512];

	config_defaults(&c);
	CHECK_EQ_INT(config_load_file(&c, p), 0);
	CHECK_EQ_INT(c.rules_files.n, 3);
	if (c.rules_files.n == 3) {
		/* relative paths are taken from the config file's directory */
		snprintf(want, sizeof(want), "%.*s/a.yaml", (int)(slash - p), p);
		CHECK_EQ_STR(c.rules_files.v[0], want);
		CHECK_EQ_STR(c.rules_files.v[1], "/abs/b.yaml");
		CHECK_EQ_STR(c.rules_files.v[2], "@default");
	}
	CHECK_EQ_INT(c.priority, 6); /* informational */
	CHECK_EQ_INT(c.rule_matching, RULE_MATCHING_ALL);
	CHECK(!c.json_include_tags);
	CHECK_EQ_INT(config_apply_override(&c, "priority=Critical"), 0);
	CHECK_EQ_INT(c.priority, 2);
	CHECK_EQ_INT(config_apply_override(&c, "priority=loud"), -1);
	CHECK_EQ_INT(config_apply_override(&c, "rule_matching=some"), -1);
	CHECK_EQ_INT(config_apply_override(&c, "rules_files="), 0);
	CHECK_EQ_INT(c.rules_files.n, 0);
	CHECK(c.host_root == NULL);
	CHECK_EQ_INT(config_apply_override(&c, "state.host_root=/host"), 0);
	CHECK_EQ_STR(c.host_root, "/host");
	CHECK_EQ_INT(config_apply_override(&c, "state.host_root=/other"), 0);
	CHECK_EQ_STR(c.host_root, "/other");
	config_free(&c);
	unlink(p);
}

TEST(file_values)
{
	struct config c;
	const char *p = yaml_file("# comment\n"
				  "log_level: debug\n"
				  "engine:\n"
				  "  ringbuf_size_mb: 16\n"
				  "  drain_interval_ms: 5\n"
				  "  attach: raw_tp\n"
				  "base_syscalls:\n"
				  "  all: false\n"
				  "  custom_set: [getppid, '!close']\n");

	config_defaults(&c);
	CHECK_EQ_INT(config_load_file(&c, p), 0);
	CHECK_EQ_INT(c.log_level, SK_LOG_DEBUG);
	CHECK_EQ_INT(c.ringbuf_size_mb, 16);
	CHECK_EQ_INT(c.drain_interval_ms, 5);
	CHECK_EQ_INT(c.attach, ATTACH_RAW_TP);
	CHECK_EQ_INT(c.custom_set.n, 2);
	if (c.custom_set.n == 2) {
		CHECK_EQ_STR(c.custom_set.v[0], "getppid");
		CHECK_EQ_STR(c.custom_set.v[1], "!close");
	}
	config_free(&c);
	unlink(p);
}

TEST(unknown_keys_are_not_errors)
{
	struct config c;
	const char *p = yaml_file("engine:\n  bogus: 1\nnot_a_key: true\n"
				  "stdout_output:\n  enabled: true\n");

	config_defaults(&c);
	CHECK_EQ_INT(config_load_file(&c, p), 0);
	CHECK_EQ_INT(c.ringbuf_size_mb, 4);
	config_free(&c);
	unlink(p);
}

TEST(bad_values_are_errors)
{
	struct config c;
	const char *bad[] = {
	    "engine:\n  ringbuf_size_mb: abc\n",
	    "engine:\n  ringbuf_size_mb: 3\n",
	    "engine:\n  ringbuf_size_mb: 2048\n",
	    "engine:\n  ringbuf_size_mb: -8\n",
	    "engine:\n  attach: kprobe\n",
	    "base_syscalls:\n  all: maybe\n",
	    "engine: [1, 2]\n",
	    "engine:\n  ringbuf_size_mb: [8]\n",
	    "base_syscalls:\n  custom_set: read\n",
	    "log_level: loud\n",
	    "- just\n- a list\n",
	    "engine: {ringbuf_size_mb: 8\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *p = yaml_file(bad[i]);

		config_defaults(&c);
		if (config_load_file(&c, p) != -1) {
			printf("# accepted: %s", bad[i]);
			CHECK(0);
		}
		config_free(&c);
		unlink(p);
	}
	config_defaults(&c);
	CHECK_EQ_INT(config_load_file(&c, "/nonexistent/saker.yaml"), -1);
	config_free(&c);
}

TEST(overrides)
{
	struct config c;

	config_defaults(&c);
	CHECK_EQ_INT(config_apply_override(&c, "engine.ringbuf_size_mb=32"), 0);
	CHECK_EQ_INT(c.ringbuf_size_mb, 32);
	CHECK_EQ_INT(config_apply_override(&c, "engine.attach=tp_btf"), 0);
	CHECK_EQ_INT(c.attach, ATTACH_TP_BTF);
	CHECK_EQ_INT(config_apply_override(&c, "base_syscalls.custom_set=a,b"), 0);
	CHECK_EQ_INT(c.custom_set.n, 2);
	CHECK_EQ_INT(config_apply_override(&c, "engine.ringbuf_size_mb=3"), -1);
	CHECK_EQ_INT(config_apply_override(&c, "engine.nope=3"), -1);
	CHECK_EQ_INT(config_apply_override(&c, "noequals"), -1);
	CHECK_EQ_INT(config_apply_override(&c, "=5"), -1);
	CHECK_EQ_INT(c.ringbuf_size_mb, 32);
	config_free(&c);
}

TEST(append_output)
{
	struct config c;
	const char *f;

	config_defaults(&c);
	CHECK_EQ_INT(c.n_appends, 0); /* built-in default: none */
	f = yaml_file("append_output:\n"
		      "  - suggested_output: true\n"
		      "  - match: {source: syscall, tags: [container, shell], rule: R}\n"
		      "    extra_output: 'x=%proc.name'\n");
	CHECK_EQ_INT(config_load_file(&c, f), 0);
	unlink(f);
	CHECK_EQ_INT(c.n_appends, 2);
	if (c.n_appends == 2) {
		CHECK(c.appends[0].suggested && !c.appends[0].extra_output);
		CHECK_EQ_STR(c.appends[1].source, "syscall");
		CHECK_EQ_STR(c.appends[1].rule, "R");
		CHECK_EQ_INT(c.appends[1].tags.n, 2);
		CHECK_EQ_STR(c.appends[1].extra_output, "x=%proc.name");
		CHECK(!c.appends[1].suggested);
	}
	/* a second file replaces the list */
	f = yaml_file("append_output: []\n");
	CHECK_EQ_INT(config_load_file(&c, f), 0);
	unlink(f);
	CHECK_EQ_INT(c.n_appends, 0);
	f = yaml_file("append_output: {suggested_output: true}\n");
	CHECK_EQ_INT(config_load_file(&c, f), -1);
	unlink(f);
	f = yaml_file("append_output:\n  - suggested_output: maybe\n");
	CHECK_EQ_INT(config_load_file(&c, f), -1);
	unlink(f);
	f = yaml_file("append_output:\n  - match: {nope: 1}\n");
	CHECK_EQ_INT(config_load_file(&c, f), -1);
	unlink(f);
	f = yaml_file("append_output:\n  - [1]\n");
	CHECK_EQ_INT(config_load_file(&c, f), -1);
	unlink(f);
	CHECK_EQ_INT(config_apply_override(&c, "append_output=x"), -1);
	config_free(&c);
}

TEST(shipped_config_loads)
{
	struct config c;
	const char *src = getenv("SAKER_SOURCE_DIR");
	char p[512];

	if (!src) {
		printf("# SAKER_SOURCE_DIR not set\n");
		CHECK(0);
		return;
	}
	snprintf(p, sizeof(p), "%s/config/saker.yaml", src);
	config_defaults(&c);
	CHECK_EQ_INT(config_load_file(&c, p), 0);
	CHECK_EQ_INT(c.ringbuf_size_mb, 4);
	config_free(&c);
}

int main(void)
{
	log_set_level(SK_LOG_ERROR);
	RUN(defaults);
	RUN(rules_keys);
	RUN(file_values);
	RUN(unknown_keys_are_not_errors);
	RUN(bad_values_are_errors);
	RUN(overrides);
	RUN(append_output);
	RUN(shipped_config_loads);
	return tap_done();
}
