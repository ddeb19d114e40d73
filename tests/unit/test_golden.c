/*
 * The golden suite: tests/golden/NAME.tests, one check per row, one TAP line per row named
 * file:line. Row format (documented again at the top of each .tests file):
 *
 *   condition | event | expected
 *
 * split at the LAST two " | " separators (so a condition may itself contain '|').
 *   event     whitespace-separated field=value assignments, or "-" for none. A field absent
 *             from the event is MISSING. The name is the field with its argument in brackets
 *             (proc.aname[2], evt.arg[flags] also for evt.arg.flags). A value is bare, or
 *             "double-quoted" (escapes \" \\ \n \t), or a list [a, "b c", d]: IS_LIST fields
 *             take lists, and other fields given a list return it as "any of" (ancestors).
 *             Values are converted by the field's type (numbers decimal, IPs as text).
 *   expected  match | nomatch | error: <fragment of the parse, check or compile message>
 *
 * Each match/nomatch row is also run as "not (condition)", which must give the opposite.
 * Lines that are empty or start with '#' are skipped.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <stdlib.h>

#include "compile.h"
#include "cond_check.h"
#include "cond_parse.h"
#include "strbuf.h"
#include "testlib.h"

#define MAX_FIELDS 32
#define MAX_ITEMS  16

struct ev_field {
	char *name;
	bool is_list;
	char *vals[MAX_ITEMS];
	size_t n;
	struct vm_value items[MAX_ITEMS];
};

struct event {
	struct ev_field f[MAX_FIELDS];
	size_t n;
};

static const char *const macros[][2] = {
    {"spawned_process", "evt.type = execve"},	     {"is_shell", "proc.name in (bash, sh, zsh)"},
    {"shell_spawn", "spawned_process and is_shell"}, {"never_true", "evt.num = 0"},
    {"etc_dir", "fd.name startswith /etc/"},
};

static struct cond_node *macro_trees[sizeof(macros) / sizeof(macros[0])];

static const struct cond_node *macro_lookup(void *ctx, const char *name)
{
	(void)ctx;
	for (size_t i = 0; i < sizeof(macros) / sizeof(macros[0]); i++)
		if (strcmp(macros[i][0], name) == 0) {
			if (!macro_trees[i])
				macro_trees[i] =
				    cond_parse(macros[i][1], strlen(macros[i][1]), NULL);
			return macro_trees[i];
		}
	return NULL;
}

/* ---- event parsing ----------------------------------------------------------------- */

/* Reads one value at *p (bare up to a stop char, or quoted). Returns a malloc'd string. */
static char *read_value(const char **p, const char *stops)
{
	const char *s = *p;
	char *out = malloc(strlen(s) + 1), *o = out;

	if (*s == '"') {
		for (s++; *s && *s != '"'; s++) {
			if (*s == '\\' && s[1]) {
				s++;
				*o++ = *s == 'n' ? '\n' : *s == 't' ? '\t' : *s;
			} else {
				*o++ = *s;
			}
		}
		if (*s == '"')
			s++;
	} else {
		while (*s && !strchr(stops, *s))
			*o++ = *s++;
	}
	*o = '\0';
	*p = s;
	return out;
}

static int parse_event(const char *text, struct event *ev)
{
	const char *p = text;

	ev->n = 0;
	for (;;) {
		struct ev_field *f;
		const char *eq;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || (*p == '-' && (!p[1] || p[1] == ' ')))
			return 0;
		eq = strchr(p, '=');
		if (!eq || ev->n == MAX_FIELDS)
			return -1;
		f = &ev->f[ev->n++];
		memset(f, 0, sizeof(*f));
		f->name = strndup(p, (size_t)(eq - p));
		p = eq + 1;
		if (*p == '[') {
			f->is_list = true;
			p++;
			for (;;) {
				while (*p == ' ')
					p++;
				if (*p == ']') {
					p++;
					break;
				}
				if (!*p || f->n == MAX_ITEMS)
					return -1;
				f->vals[f->n++] = read_value(&p, ",]");
				if (*p == ',')
					p++;
			}
		} else {
			f->vals[f->n++] = read_value(&p, " \t");
		}
	}
}

static void free_event(struct event *ev)
{
	for (size_t i = 0; i < ev->n; i++) {
		free(ev->f[i].name);
		for (size_t j = 0; j < ev->f[i].n; j++)
			free(ev->f[i].vals[j]);
	}
	ev->n = 0;
}

static int to_value(enum field_type t, const char *s, struct vm_value *v)
{
	switch (t) {
	case FT_INT64:
		v->kind = VM_V_INT;
		v->i = strtoll(s, NULL, 10);
		return 0;
	case FT_UINT64:
	case FT_UINT32:
	case FT_PORT:
	case FT_RELTIME:
	case FT_ABSTIME:
		v->kind = VM_V_UINT;
		v->u = strtoull(s, NULL, 10);
		return 0;
	case FT_BOOL:
		v->kind = VM_V_BOOL;
		v->b = strcmp(s, "true") == 0;
		return 0;
	case FT_IPADDR:
	case FT_IPNET:
		v->kind = VM_V_IP;
		v->ip.family = strchr(s, '.') ? AF_INET : AF_INET6;
		memset(v->ip.addr, 0, sizeof(v->ip.addr));
		return inet_pton(v->ip.family, s, v->ip.addr) == 1 ? 0 : -1;
	default:
		v->kind = VM_V_STR;
		v->str.s = s;
		v->str.len = strlen(s);
		return 0;
	}
}

static int extracts; /* extractor calls, to check the per-event cache */

static int extract(void *ctx, const struct vm_field *fld, struct vm_value *out)
{
	struct event *ev = ctx;
	char key[256];

	extracts++;
	if (fld->arg)
		snprintf(key, sizeof(key), "%s[%s]", fld->def->name, fld->arg);
	else
		snprintf(key, sizeof(key), "%s", fld->def->name);
	for (size_t i = 0; i < ev->n; i++) {
		struct ev_field *f = &ev->f[i];

		if (strcmp(f->name, key))
			continue;
		for (size_t j = 0; j < f->n; j++)
			if (to_value(fld->def->type, f->vals[j], &f->items[j]))
				return -1;
		if (!f->is_list) {
			*out = f->items[0];
			return 0;
		}
		out->kind = VM_V_LIST;
		out->list.items = f->items;
		out->list.n = f->n;
		return 0;
	}
	return 1;
}

/* ---- rows -------------------------------------------------------------------------- */

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* Compiles cond; returns the program or NULL with the error in msg. */
static struct vm_prog *build(const char *cond, char *msg, size_t msglen)
{
	struct check_env env = {.macro = macro_lookup};
	struct cond_error perr;
	struct check_error cerr;
	struct cond_node *ast, *checked;
	struct vm_prog *prog = NULL;

	ast = cond_parse(cond, strlen(cond), &perr);
	if (!ast) {
		snprintf(msg, msglen, "%s", perr.msg);
		return NULL;
	}
	checked = cond_check(ast, &env, &cerr);
	cond_node_free(ast);
	if (!checked) {
		snprintf(msg, msglen, "%s", cerr.msg);
		return NULL;
	}
	if (compile_rule(checked, &prog, msg, msglen))
		prog = NULL;
	cond_node_free(checked);
	return prog;
}

/* The per-event cache extracts each field slot at most once. */
static int field_slots(const struct vm_prog *prog)
{
	int n = 0;

	for (size_t i = 0; i < prog->n_slots; i++)
		n += prog->slots[i].is_field;
	return n;
}

static void run_row(const char *file, unsigned lineno, char *line)
{
	char *sep2 = NULL, *sep1 = NULL, *cond, *evtext, *expected, msg[512];
	char notcond[4096];
	struct event ev = {0};
	struct vm_fieldsrc src = {.extract = extract, .ctx = &ev};
	struct vm_prog *prog, *nprog;
	const char *why = NULL;

	for (char *q = strstr(line, " | "); q; q = strstr(q + 1, " | ")) {
		sep1 = sep2;
		sep2 = q;
	}
	tap_cur_failed = 0;
	if (!sep1) {
		why = "malformed row";
		goto out;
	}
	*sep1 = '\0';
	*sep2 = '\0';
	cond = trim(line);
	evtext = trim(sep1 + 3);
	expected = trim(sep2 + 3);
	if (parse_event(evtext, &ev)) {
		why = "malformed event";
		goto out;
	}
	prog = build(cond, msg, sizeof(msg));
	if (strncmp(expected, "error:", 6) == 0) {
		const char *frag = trim(expected + 6);

		if (prog)
			why = "compiled, expected an error";
		else if (!strstr(msg, frag)) {
			printf("# got error: %s\n", msg);
			why = "wrong error";
		}
		vm_prog_free(prog);
		goto out;
	}
	if (!prog) {
		printf("# error: %s\n", msg);
		why = "did not compile";
		goto out;
	}
	extracts = 0;
	if (strcmp(expected, "match") && strcmp(expected, "nomatch")) {
		why = "bad expectation";
	} else if (vm_eval(prog, &src) != (strcmp(expected, "match") == 0)) {
		why = "wrong result";
	} else if (extracts > field_slots(prog)) {
		why = "a field was extracted more than once";
	} else {
		snprintf(notcond, sizeof(notcond), "not (%s)", cond);
		nprog = build(notcond, msg, sizeof(msg));
		if (!nprog || vm_eval(nprog, &src) != (strcmp(expected, "nomatch") == 0))
			why = "negation gave the same result";
		vm_prog_free(nprog);
	}
	if (why) {
		struct strbuf sb = STRBUF_INIT;

		vm_prog_dump(prog, &sb);
		printf("# program:\n");
		for (char *l = strtok(sb.buf, "\n"); l; l = strtok(NULL, "\n"))
			printf("#   %s\n", l);
		sb_release(&sb);
	}
	vm_prog_free(prog);
out:
	free_event(&ev);
	tap_n++;
	if (why) {
		tap_failed_tests++;
		printf("not ok %d - %s:%u (%s)\n", tap_n, file, lineno, why);
	} else {
		printf("ok %d - %s:%u\n", tap_n, file, lineno);
	}
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int only_tests(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 6 && strcmp(d->d_name + n - 6, ".tests") == 0;
}

int main(void)
{
	const char *root = getenv("SAKER_SOURCE_DIR");
	char dir[1024], path[1536], line[4096];
	struct dirent **names;
	int n;

	snprintf(dir, sizeof(dir), "%s/tests/golden", root ? root : ".");
	n = scandir(dir, &names, only_tests, by_name);
	if (n <= 0) {
		printf("Bail out! no .tests files in %s\n", dir);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		FILE *f;
		unsigned lineno = 0;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		f = fopen(path, "r");
		if (!f) {
			printf("Bail out! cannot open %s\n", path);
			return 1;
		}
		while (fgets(line, sizeof(line), f)) {
			char *t;

			lineno++;
			t = trim(line);
			if (!*t || *t == '#')
				continue;
			run_row(names[i]->d_name, lineno, t);
		}
		fclose(f);
		free(names[i]);
	}
	free(names);
	for (size_t i = 0; i < sizeof(macros) / sizeof(macros[0]); i++)
		cond_node_free(macro_trees[i]);
	return tap_done();
}
