/* saker: command line, configuration, and the hand-off to the daemon loop. The only file
 * that calls exit(). Exit codes: 0 success, 1 runtime failure (the sensor could not load or
 * run), 2 bad usage or configuration. */
#include <bpf/libbpf.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "daemon.h"
#include "dump.h"
#include "events.h"
#include "fields.h"
#include "cond_ast.h"
#include "evttypes.h"
#include "rules_load.h"
#include <cJSON.h>
#include "strbuf.h"
#include "log.h"
#include "syscalls.h"
#include "version.h"

#define DEFAULT_CONFIG "/etc/saker/saker.yaml"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: saker [options]\n"
		"\n"
		"Watches the host's syscalls through eBPF and prints what processes do.\n"
		"\n"
		"  -c FILE            configuration file (default " DEFAULT_CONFIG " if present)\n"
		"  -o KEY=VALUE       override a configuration key (repeatable)\n"
		"  --dump[=FORMAT]    print one line per event: text (default) or json; none\n"
		"                     captures and tracks state without printing\n"
		"  -M SECONDS         stop after this many seconds\n"
		"  -U, --unbuffered   flush output after every line\n"
		"  -A                 capture every syscall (base_syscalls.all)\n"
		"  --dry-run          load the configuration and rules, report, and exit: 0\n"
		"                     when both are valid, 1 when a rule has errors\n"
		"  -v                 verbose: debug messages, libbpf's included\n"
		"  --list-events      list the syscalls saker knows and exit\n"
		"  -r FILE|DIR        rules file or directory (repeatable)\n"
		"  -L                 list the rules -r loads, with priority and tags, and exit\n"
		"  --explain-rule NAME  print a rule's expanded condition, event types and\n"
		"                     compiled program (from the -r files), and exit\n"
		"  -V, --validate FILE  check rules files (repeatable, loaded together) and exit:\n"
		"                     0 when valid, 1 when not\n"
		"  --list[=syscall]   list the fields conditions and outputs can use, and exit\n"
		"                     (-N: names only)\n"
		"  --print-config     print every configuration key with its value and exit\n"
		"  --version          print the version and exit\n"
		"  -h, --help         print this help and exit\n"
		"\n"
		"Exit status: 0 success, 1 the sensor could not load or run, 2 bad usage or "
		"configuration.\n");
}

/* --list: every field a condition or output may name (spec f). */
static int list_fields(const char *source, bool names_only)
{
	size_t n;
	const struct field_def *t = fields_table(&n);

	if (source && strcmp(source, "syscall") != 0) {
		log_error("--list: unknown event source '%s' (saker has one: syscall)", source);
		return 2;
	}
	for (size_t i = 0; i < n; i++) {
		if (names_only) {
			printf("%s\n", t[i].name);
			continue;
		}
		printf("%-42s %-8s %s%s\n", t[i].name, field_type_name(t[i].type), t[i].desc,
		       t[i].flags & FF_DEPRECATED ? " (deprecated)" : "");
	}
	return 0;
}

/* Whether a message is about path: the file itself, or a file in the directory path. */
static bool msg_is_about(const struct load_msg *m, const char *path)
{
	size_t n = strlen(path);

	return m->file && strncmp(m->file, path, n) == 0 &&
	       (m->file[n] == '\0' || m->file[n] == '/');
}

/* -V: loads every file given, together and in order (spec f: repeatable and cumulative),
 * and prints each one's result and messages. Exit status 0 when nothing is invalid. */
/* A JSON string of a C string that may be NULL (as ""). */
static cJSON *json_str(const char *s)
{
	return dump_json_string(s ? s : "", s ? strlen(s) : 0);
}

/* One message in the JSON shape of spec b.14. */
static cJSON *msg_json(const struct load_msg *m)
{
	cJSON *o = cJSON_CreateObject(), *ctx = cJSON_CreateObject(), *locs = cJSON_CreateArray();
	cJSON *loc = cJSON_CreateObject(), *pos = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "code", load_code_name(m->code));
	cJSON_AddStringToObject(o, "codedesc", load_code_desc(m->code));
	cJSON_AddItemToObject(o, "message", json_str(m->text));
	cJSON_AddStringToObject(loc, "item_type",
				m->item_kind == RULES_ITEM_UNKNOWN
				    ? "rules content"
				    : rules_item_kind_name(m->item_kind));
	cJSON_AddItemToObject(loc, "item_name", json_str(m->item_name));
	cJSON_AddItemToObject(pos, "name", json_str(m->file));
	cJSON_AddNumberToObject(pos, "line", m->line);
	cJSON_AddNumberToObject(pos, "column", m->col);
	cJSON_AddItemToObject(loc, "position", pos);
	cJSON_AddItemToArray(locs, loc);
	cJSON_AddItemToObject(ctx, "locations", locs);
	cJSON_AddItemToObject(ctx, "snippet", json_str(m->snippet));
	cJSON_AddItemToObject(o, "context", ctx);
	return o;
}

static int validate(const char *const *paths, size_t n, bool json)
{
	struct rules_loaded *r = rules_load(paths, n);
	struct strbuf sb = STRBUF_INIT;
	int rc;

	if (!r) {
		log_error("out of memory");
		return 1;
	}
	if (json) {
		cJSON *root = cJSON_CreateObject(), *results = cJSON_CreateArray();
		char *text;

		for (size_t i = 0; i < n; i++) {
			cJSON *res = cJSON_CreateObject(), *errs = cJSON_CreateArray();
			cJSON *warns = cJSON_CreateArray();
			bool ok = true;

			for (size_t j = 0; j < r->coll->msgs.n; j++) {
				const struct load_msg *m = &r->coll->msgs.v[j];

				if (!msg_is_about(m, paths[i]))
					continue;
				ok &= m->severity != LOAD_SEV_ERROR;
				cJSON_AddItemToArray(m->severity == LOAD_SEV_ERROR ? errs : warns,
						     msg_json(m));
			}
			cJSON_AddItemToObject(res, "name", json_str(paths[i]));
			cJSON_AddBoolToObject(res, "successful", ok);
			cJSON_AddBoolToObject(res, "schema_valid", true);
			cJSON_AddItemToObject(res, "schema_warnings", cJSON_CreateArray());
			cJSON_AddItemToObject(res, "errors", errs);
			cJSON_AddItemToObject(res, "warnings", warns);
			cJSON_AddItemToArray(results, res);
		}
		cJSON_AddItemToObject(root, "falco_load_results", results);
		text = cJSON_PrintUnformatted(root);
		if (text)
			puts(text);
		cJSON_free(text);
		cJSON_Delete(root);
		rc = r->coll->msgs.n_errors ? 1 : 0;
		rules_loaded_free(r);
		return rc;
	}
	for (size_t i = 0; i < n; i++) {
		size_t errors = 0, warnings = 0;

		for (size_t j = 0; j < r->coll->msgs.n; j++) {
			const struct load_msg *m = &r->coll->msgs.v[j];

			if (!msg_is_about(m, paths[i]))
				continue;
			if (m->severity == LOAD_SEV_ERROR)
				errors++;
			else
				warnings++;
		}
		printf("%s: %s\n", paths[i],
		       errors	  ? "Invalid"
		       : warnings ? "Ok, with warnings"
				  : "Ok");
		for (size_t j = 0; j < r->coll->msgs.n; j++) {
			if (!msg_is_about(&r->coll->msgs.v[j], paths[i]))
				continue;
			sb_reset(&sb);
			load_msg_format(&r->coll->msgs.v[j], true, &sb);
			fputs(sb.buf, stdout);
		}
	}
	/* Messages about no given file (a plugin requirement no file could meet, ...). */
	for (size_t j = 0; j < r->coll->msgs.n; j++) {
		bool about_one = false;

		for (size_t i = 0; i < n && !about_one; i++)
			about_one = msg_is_about(&r->coll->msgs.v[j], paths[i]);
		if (!about_one) {
			sb_reset(&sb);
			load_msg_format(&r->coll->msgs.v[j], true, &sb);
			fputs(sb.buf, stdout);
		}
	}
	printf("%zu rules (%zu compiled), %zu macros, %zu lists; %zu errors, %zu warnings\n",
	       r->coll->n_rules, r->n_rules, r->coll->n_macros, r->coll->n_lists,
	       r->coll->msgs.n_errors, r->coll->msgs.n_warnings);
	rc = r->coll->msgs.n_errors ? 1 : 0;
	sb_release(&sb);
	rules_loaded_free(r);
	return rc;
}

/* -L: the rules that -r loads, in evaluation order, with priority and tags. */
static int list_rules(const char *const *paths, size_t n)
{
	struct rules_loaded *r;
	struct strbuf sb = STRBUF_INIT;
	int rc;

	if (!n) {
		log_error("-L: no rules files given (use -r FILE|DIR)");
		return 2;
	}
	r = rules_load(paths, n);
	if (!r) {
		log_error("out of memory");
		return 1;
	}
	for (size_t j = 0; j < r->coll->msgs.n; j++) {
		sb_reset(&sb);
		load_msg_format(&r->coll->msgs.v[j], false, &sb);
		fputs(sb.buf, stderr);
	}
	for (size_t i = 0; i < r->coll->n_rules; i++) {
		const struct rules_rule *rule = &r->coll->rules[i];

		printf("%s\n    priority: %s%s%s\n    tags: [", rule->name,
		       rules_priority_name(rule->priority), rule->enabled ? "" : " (disabled)",
		       rule->unknown_source ? " (unknown source)" : "");
		for (size_t t = 0; t < rule->n_tags; t++)
			printf("%s%s", t ? ", " : "", rule->tags[t]);
		{
			const char *d = rule->desc ? rule->desc : "";
			size_t dl = strlen(d);

			while (dl && (d[dl - 1] == '\n' || d[dl - 1] == ' '))
				dl--;
			printf("]\n    %.*s\n", (int)dl, d);
		}
	}
	rc = r->coll->msgs.n_errors ? 1 : 0;
	sb_release(&sb);
	rules_loaded_free(r);
	return rc;
}

/* Every message of a load, as log lines (errors as errors, the rest as warnings). */
static void log_load_msgs(const struct rules_loaded *r)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t j = 0; j < r->coll->msgs.n; j++) {
		const struct load_msg *m = &r->coll->msgs.v[j];

		sb_reset(&sb);
		load_msg_format(m, false, &sb);
		while (sb.len && sb.buf[sb.len - 1] == '\n')
			sb.buf[--sb.len] = 0;
		if (m->severity == LOAD_SEV_ERROR)
			log_error("%s", sb.buf);
		else
			log_warn("%s", sb.buf);
	}
	sb_release(&sb);
}

/* The daemon's rules: every message logged; the good rules run even when some are bad
 * (each error names its file, line and column). NULL when nothing at all could be loaded. */
static struct rules_loaded *load_for_daemon(const char *const *paths, size_t n,
					    const struct config *c)
{
	struct rules_loaded *r = rules_load_appended(paths, n, c->appends, c->n_appends);

	if (!r) {
		log_error("out of memory");
		return NULL;
	}
	log_load_msgs(r);
	if (r->coll->msgs.n_errors) {
		if (!r->n_rules) {
			log_error("no rule could be loaded (%zu errors): not starting",
				  r->coll->msgs.n_errors);
			rules_loaded_free(r);
			return NULL;
		}
		log_error("%zu errors in the rules files: running with the %zu rules that loaded",
			  r->coll->msgs.n_errors, r->n_rules);
	}
	log_info("rules: %zu loaded from %zu path%s (%zu macros, %zu lists)", r->n_rules, n,
		 n == 1 ? "" : "s", r->coll->n_macros, r->coll->n_lists);
	return r;
}

/* What SIGHUP reads again: the same config file, -o overrides and -r paths as at start. */
struct reload_ctx {
	const char *config_path;
	const char *const *overrides;
	int n_overrides;
	const char *const *rules_paths; /* -r: replaces rules_files */
	size_t n_rules_paths;
};

/* The daemon's reload callback: a new configuration and rules, or -1 when either has an
 * error (every message logged), so the running ones stay. Unlike at start, a ruleset with any
 * error is refused as a whole: a reload must not silently drop rules that were running. */
static int reload_config_and_rules(void *ctx, struct config **out_cfg, struct rules_loaded **out)
{
	const struct reload_ctx *rc = ctx;
	struct config *c = calloc(1, sizeof(*c));
	struct rules_loaded *r = NULL;
	const char *const *paths;
	size_t n;

	*out_cfg = NULL;
	*out = NULL;
	if (!c) {
		log_error("out of memory");
		return -1;
	}
	config_defaults(c);
	if (rc->config_path && config_load_file(c, rc->config_path))
		goto fail;
	for (int i = 0; i < rc->n_overrides; i++)
		if (config_apply_override(c, rc->overrides[i]))
			goto fail;
	if (config_check(c))
		goto fail;
	paths = rc->n_rules_paths ? rc->rules_paths : (const char *const *)c->rules_files.v;
	n = rc->n_rules_paths ? rc->n_rules_paths : c->rules_files.n;
	if (n) {
		r = rules_load_appended(paths, n, c->appends, c->n_appends);
		if (!r) {
			log_error("out of memory");
			goto fail;
		}
		log_load_msgs(r);
		if (r->coll->msgs.n_errors) {
			log_error("SIGHUP: %zu errors in the new rules", r->coll->msgs.n_errors);
			rules_loaded_free(r);
			goto fail;
		}
	}
	*out_cfg = c;
	*out = r;
	return 0;
fail:
	config_free(c);
	free(c);
	return -1;
}

/* --explain-rule NAME: the rule's checked condition and its compiled program. */
static int explain_rule(const char *const *paths, size_t n, const char *name)
{
	struct rules_loaded *r = rules_load(paths, n);
	const struct loaded_rule *lr;
	struct strbuf sb = STRBUF_INIT;
	struct evtset all;
	int rc = 0;

	if (!r) {
		log_error("out of memory");
		return 1;
	}
	lr = rules_loaded_find(r, name);
	if (!lr) {
		log_error("--explain-rule: no rule '%s' compiled from the -r files%s", name,
			  r->coll->msgs.n_errors ? " (they have errors: see -V)" : "");
		rc = 1;
	} else {
		evtset_all(&all);
		cond_node_print(&sb, lr->cond);
		printf("rule: %s\ncondition: %s\nevent types: ", name, sb.buf);
		if (evtset_count(&lr->evttypes) == evtset_count(&all)) {
			printf("all");
		} else {
			for (unsigned c = 0, k = 0; c < EVT_CODES; c++)
				if (evtset_has(&lr->evttypes, c))
					printf("%s%s", k++ ? " " : "", evttype_name(c));
		}
		sb_reset(&sb);
		vm_prog_dump(lr->prog, &sb);
		printf("\nprogram:\n%s", sb.buf);
	}
	sb_release(&sb);
	rules_loaded_free(r);
	return rc;
}

static void list_events(void)
{
	for (unsigned id = 0; id < syscall_max(); id++)
		if (syscall_name(id))
			printf("%u %s%s\n", id, syscall_name(id),
			       syscall_is_decoded(id) ? " decoded" : "");
	printf("- sched_process_fork decoded\n- sched_process_exec decoded\n"
	       "- sched_process_exit decoded\n");
}

int main(int argc, char **argv)
{
	enum {
		OPT_DUMP = 256,
		OPT_LIST_EVENTS,
		OPT_LIST_FIELDS,
		OPT_EXPLAIN,
		OPT_PRINT_CONFIG,
		OPT_VERSION,
		OPT_DRY_RUN
	};
	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"unbuffered", no_argument, NULL, 'U'},
	    {"dump", optional_argument, NULL, OPT_DUMP},
	    {"list-events", no_argument, NULL, OPT_LIST_EVENTS},
	    {"list", optional_argument, NULL, OPT_LIST_FIELDS},
	    {"validate", required_argument, NULL, 'V'},
	    {"explain-rule", required_argument, NULL, OPT_EXPLAIN},
	    {"print-config", no_argument, NULL, OPT_PRINT_CONFIG},
	    {"version", no_argument, NULL, OPT_VERSION},
	    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
	    {NULL, 0, NULL, 0},
	};
	struct config cfg;
	struct daemon_opts dopts = {.dump = false, .dump_format = DUMP_TEXT};
	bool dump_set = false, explicit_rules = false, dry_run = false, all_syscalls = false;
	struct rules_loaded *loaded = NULL;
	const char *config_path = NULL;
	int n_overrides = 0, opt, verbose = 0, rc;
	bool print_config = false, list_fields_wanted = false, names_only = false;
	const char *list_source = NULL;
	/* Live as long as the process (static, so leak checkers see them as reachable at any
	 * of main's exits). */
	static const char **overrides, **validate_paths, **rules_paths;
	size_t n_validate = 0, n_rules_paths = 0;
	bool list_rules_wanted = false;
	const char *explain = NULL;

	overrides = calloc((size_t)argc + 1, sizeof(*overrides));
	validate_paths = calloc((size_t)argc + 1, sizeof(*validate_paths));
	rules_paths = calloc((size_t)argc + 1, sizeof(*rules_paths));
	if (!overrides || !validate_paths || !rules_paths) {
		fputs("saker: error: out of memory\n", stderr);
		exit(1);
	}
	while ((opt = getopt_long(argc, argv, "hc:o:M:UvNV:r:LA", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			usage(stdout);
			exit(0);
		case 'c':
			config_path = optarg;
			break;
		case 'o':
			overrides[n_overrides++] = optarg;
			break;
		case 'M': {
			char *end;
			unsigned long s = strtoul(optarg, &end, 10);

			if (!*optarg || *end || optarg[0] == '-' || s > 31536000) {
				log_error("-M: expected a number of seconds, got '%s'", optarg);
				exit(2);
			}
			dopts.duration_s = (unsigned)s;
			break;
		}
		case 'U':
			dopts.unbuffered = true;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'r':
			rules_paths[n_rules_paths++] = optarg;
			break;
		case 'L':
			list_rules_wanted = true;
			break;
		case OPT_EXPLAIN:
			explain = optarg;
			break;
		case 'V':
			validate_paths[n_validate++] = optarg;
			break;
		case 'N':
			names_only = true;
			break;
		case OPT_LIST_FIELDS:
			list_fields_wanted = true;
			list_source = optarg;
			break;
		case OPT_DUMP:
			if (!optarg || strcmp(optarg, "text") == 0) {
				dopts.dump_format = DUMP_TEXT;
			} else if (strcmp(optarg, "json") == 0) {
				dopts.dump_format = DUMP_JSON;
			} else if (strcmp(optarg, "none") == 0) {
				dopts.dump = false;
				dump_set = true;
				break;
			} else {
				log_error("--dump: unknown format '%s' (text, json or none)",
					  optarg);
				exit(2);
			}
			dopts.dump = true;
			dump_set = true;
			break;
		case OPT_LIST_EVENTS:
			list_events();
			exit(0);
		case OPT_DRY_RUN:
			dry_run = true;
			break;
		case 'A':
			all_syscalls = true;
			break;
		case OPT_PRINT_CONFIG:
			print_config = true;
			break;
		case OPT_VERSION:
			printf("saker %s (event ABI %d, libbpf %s)\n", SAKER_VERSION,
			       SK_ABI_VERSION, libbpf_version_string());
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (list_fields_wanted)
		exit(list_fields(list_source, names_only));
	if (optind < argc) {
		log_error("unexpected argument '%s'", argv[optind]);
		usage(stderr);
		exit(2);
	}

	config_defaults(&cfg);
	if (!config_path) {
		FILE *f = fopen(DEFAULT_CONFIG, "r");

		if (f) {
			fclose(f);
			config_path = DEFAULT_CONFIG;
		}
	}
	if (config_path && config_load_file(&cfg, config_path))
		exit(2);
	for (int i = 0; i < n_overrides; i++)
		if (config_apply_override(&cfg, overrides[i]))
			exit(2);
	log_set_level(verbose ? SK_LOG_DEBUG : (enum sk_log_level)cfg.log_level);
	log_install_libbpf();
	/* -r replaces rules_files entirely (spec f). */
	explicit_rules = n_rules_paths > 0;
	if (!n_rules_paths && !n_validate) {
		for (size_t i = 0; i < cfg.rules_files.n; i++)
			rules_paths[n_rules_paths++] = cfg.rules_files.v[i];
	}
	if (all_syscalls)
		cfg.syscalls_all = true; /* -A: as base_syscalls.all */
	if (explain)
		exit(explain_rule(rules_paths, n_rules_paths, explain));
	if (list_rules_wanted && !n_validate)
		exit(list_rules(rules_paths, n_rules_paths));
	if (n_validate)
		exit(validate(validate_paths, n_validate, cfg.json_output));
	if (print_config) {
		config_describe(&cfg);
		exit(0);
	}
	if (config_check(&cfg))
		exit(2);

	if (n_rules_paths) {
		loaded = load_for_daemon(rules_paths, n_rules_paths, &cfg);
		if (!loaded)
			exit(1);
	} else {
		log_warn("no rules files (rules_files in the config, or -r): no alerts, events "
			 "are printed");
	}
	if (dry_run) {
		size_t errors = loaded ? loaded->coll->msgs.n_errors : 0;

		log_info("--dry-run: the configuration is valid; %zu rules load, %zu errors; not "
			 "starting the sensor",
			 loaded ? loaded->n_rules : 0, errors);
		rules_loaded_free(loaded);
		config_free(&cfg);
		exit(errors ? 1 : 0);
	}
	/* Without rules the event dump is what there is to see. */
	if (!dump_set)
		dopts.dump = loaded == NULL;
	dopts.cfg = &cfg;
	dopts.rules = loaded;
	{
		static struct reload_ctx rctx;

		rctx.config_path = config_path;
		rctx.overrides = overrides;
		rctx.n_overrides = n_overrides;
		rctx.rules_paths = explicit_rules ? rules_paths : NULL;
		rctx.n_rules_paths = explicit_rules ? n_rules_paths : 0;
		dopts.reload = reload_config_and_rules;
		dopts.reload_ctx = &rctx;
	}
	rc = daemon_run(&dopts);
	rules_loaded_free(loaded);
	config_free(&cfg);
	exit(rc);
}
