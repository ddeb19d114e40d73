#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>
#include <yaml.h>

#include "log.h"
#include "outputs.h"
#include "rules_yaml.h"
#include "version.h"

enum key_type {
	KEY_UINT,
	KEY_BOOL,
	KEY_ENUM,
	KEY_STRLIST,
	KEY_STRING /* a char * owned by the config; NULL: unset */
};

struct key {
	const char *name;
	enum key_type type;
	size_t offset;
	unsigned min, max;	    /* KEY_UINT bounds */
	bool pow2;		    /* KEY_UINT must be a power of two */
	const char *const *choices; /* KEY_ENUM: NULL-terminated names, value = index */
	bool paths; /* KEY_STRLIST of paths: relative ones are taken from the file's dir */
	const char *help;
	const char *(*check)(const char *v); /* KEY_STRING: NULL when v is fine, else why not */
};

static const char *const log_levels[] = {"error", "warning", "info", "debug", NULL};
static const char *const attach_modes[] = {"auto", "tp_btf", "raw_tp", NULL};
/* In enum rules_priority order (most severe first). */
static const char *const priorities[] = {"emergency", "alert",	"critical", "error", "warning",
					 "notice",    "informational", "debug", NULL};
static const char *const matchings[] = {"first", "all", NULL};

#define OFF(f) offsetof(struct config, f)

static const char *check_ip(const char *v)
{
	unsigned char a[sizeof(struct in6_addr)];

	if (inet_pton(AF_INET, v, a) == 1 || inet_pton(AF_INET6, v, a) == 1)
		return NULL;
	return "expected an IPv4 or IPv6 address (127.0.0.1, 0.0.0.0, ::1), not a host name";
}

static const char *check_url_path(const char *v)
{
	if (v[0] != '/')
		return "expected a path starting with '/'";
	if (strlen(v) > 256)
		return "the path is longer than 256 bytes";
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || *p == '?' || *p == '#')
			return "the path may only hold visible ASCII, without '?' or '#'";
	return NULL;
}

static const char *check_socket_path(const char *v)
{
	if (!*v)
		return NULL; /* /dev/log */
	if (strlen(v) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return "longer than a socket path can be (107 bytes)";
	return NULL;
}

static const char *check_http_url(const char *v)
{
	static char why[256];
	struct http_url u;

	if (!*v || !http_url_parse(v, &u, why, sizeof(why)))
		return NULL;
	return why;
}

static const struct key keys[] = {
    {"log_level", KEY_ENUM, OFF(log_level), 0, 0, false, log_levels, false,
     "least severe log message written to stderr: error, warning, info or debug"},
    {"engine.ringbuf_size_mb", KEY_UINT, OFF(ringbuf_size_mb), 1, 1024, true, NULL, false,
     "size of the kernel-to-daemon ring buffer in MiB (a power of two)"},
    {"engine.drain_interval_ms", KEY_UINT, OFF(drain_interval_ms), 1, 1000, false, NULL, false,
     "how often the daemon drains the ring buffer, in milliseconds"},
    {"engine.attach", KEY_ENUM, OFF(attach), 0, 0, false, attach_modes, false,
     "program type for the tracepoints: auto (tp_btf, else raw_tp), tp_btf or raw_tp"},
    {"base_syscalls.all", KEY_BOOL, OFF(syscalls_all), 0, 0, false, NULL, false,
     "capture every syscall, not only the ones rules and state need"},
    {"base_syscalls.custom_set", KEY_STRLIST, OFF(custom_set), 0, 0, false, NULL, false,
     "syscall names to capture in addition; a name prefixed with '!' is removed"},
    {"state.proc_table_size", KEY_UINT, OFF(proc_table_size), 64, 4194304, false, NULL, false,
     "most threads the process table holds before it evicts the oldest"},
    {"json_output", KEY_BOOL, OFF(json_output), 0, 0, false, NULL, false,
     "JSON instead of text: for -V results now, for alerts when they arrive"},
    {"stats_interval_s", KEY_UINT, OFF(stats_interval_s), 0, 86400, false, NULL, false,
     "log the event and drop counters every this many seconds (0: only at exit)"},
    {"state.host_root", KEY_STRING, OFF(host_root), 0, 0, false, NULL, false,
     "where the host's root is mounted (a DaemonSet pod: /host): its /etc/passwd and "
     "/etc/group name users, its /proc is read at start; empty: /"},
    {"containers.metadata", KEY_BOOL, OFF(ctr_metadata), 0, 0, false, NULL, false,
     "read container names, images and pods from the runtimes' state files (false: "
     "container ids only)"},
    {"containers.cache_size", KEY_UINT, OFF(ctr_cache_size), 16, 1048576, false, NULL, false,
     "most containers whose metadata is cached (least recently used evicted past it)"},
    {"containers.docker_dirs", KEY_STRLIST, OFF(ctr_docker), 0, 0, false, NULL, false,
     "Docker's data roots (containers/<id>/config.v2.json), under state.host_root"},
    {"containers.containerd_dirs", KEY_STRLIST, OFF(ctr_containerd), 0, 0, false, NULL, false,
     "containerd's state dirs (io.containerd.runtime.v2.task/<ns>/<id>/config.json), under "
     "state.host_root"},
    {"containers.storage_dirs", KEY_STRLIST, OFF(ctr_storage), 0, 0, false, NULL, false,
     "containers/storage run and graph roots of podman and CRI-O "
     "(overlay-containers/<id>/userdata/config.json), under state.host_root"},
    {"containers.runc_dirs", KEY_STRLIST, OFF(ctr_runc), 0, 0, false, NULL, false,
     "runc state roots (<name>/state.json) for containers run by runc alone, under "
     "state.host_root"},
    {"rules_files", KEY_STRLIST, OFF(rules_files), 0, 0, false, NULL, true,
     "rules files or directories, loaded in order (relative paths: from this file's dir)"},
    {"priority", KEY_ENUM, OFF(priority), 0, 0, false, priorities, false,
     "least severe rule priority to load: emergency ... debug"},
    {"rule_matching", KEY_ENUM, OFF(rule_matching), 0, 0, false, matchings, false,
     "first: one alert per event (the first rule that matches); all: one per matching rule"},
    {"json_include_output_property", KEY_BOOL, OFF(json_include_output), 0, 0, false, NULL,
     false, "JSON alerts carry 'output', the whole text line"},
    {"json_include_message_property", KEY_BOOL, OFF(json_include_message), 0, 0, false, NULL,
     false, "JSON alerts carry 'message', the rule output without time and priority"},
    {"json_include_output_fields_property", KEY_BOOL, OFF(json_include_fields), 0, 0, false,
     NULL, false, "JSON alerts carry 'output_fields', each field of the output typed"},
    {"json_include_tags_property", KEY_BOOL, OFF(json_include_tags), 0, 0, false, NULL, false,
     "JSON alerts carry the rule's 'tags'"},
    {"time_format_iso_8601", KEY_BOOL, OFF(time_iso), 0, 0, false, NULL, false,
     "text alerts start with the UTC time in ISO 8601 instead of local HH:MM:SS"},
    {"webserver.enabled", KEY_BOOL, OFF(web_enabled), 0, 0, false, NULL, false,
     "serve /healthz and /metrics over HTTP (docs/operations.md)"},
    {"webserver.listen_address", KEY_STRING, OFF(web_address), 0, 0, false, NULL, false,
     "IP address the HTTP server listens on (127.0.0.1: this host only; 0.0.0.0: all)",
     check_ip},
    {"webserver.listen_port", KEY_UINT, OFF(web_port), 0, 65535, false, NULL, false,
     "TCP port of the HTTP server (0: any free port, logged at start)"},
    {"webserver.k8s_healthz_endpoint", KEY_STRING, OFF(web_healthz), 0, 0, false, NULL, false,
     "path of the health check: 200 {\"status\":\"ok\"} while events flow, else 503",
     check_url_path},
    {"webserver.prometheus_metrics_enabled", KEY_BOOL, OFF(web_metrics), 0, 0, false, NULL,
     false, "serve /metrics in the Prometheus text format"},
    /* alert outputs (src/outputs.c, docs/outputs.md) */
    {"stdout_output.enabled", KEY_BOOL, OFF(stdout_enabled), 0, 0, false, NULL, false,
     "write alerts to stdout, one per line"},
    {"file_output.enabled", KEY_BOOL, OFF(file_enabled), 0, 0, false, NULL, false,
     "append alerts to file_output.filename (created with mode 0600)"},
    {"file_output.keep_alive", KEY_BOOL, OFF(file_keep_alive), 0, 0, false, NULL, false,
     "keep the file open (SIGUSR1 reopens it); false: opened and closed for each write"},
    {"file_output.filename", KEY_STRING, OFF(file_name), 0, 0, false, NULL, false,
     "the alerts file (required when file_output.enabled)"},
    {"syslog_output.enabled", KEY_BOOL, OFF(syslog_enabled), 0, 0, false, NULL, false,
     "send alerts to the local syslog socket, with the rule priority as severity"},
    {"syslog_output.socket", KEY_STRING, OFF(syslog_socket), 0, 0, false, NULL, false,
     "the local syslog socket (a saker extension)", check_socket_path},
    {"syslog_output.facility", KEY_ENUM, OFF(syslog_facility), 0, 0, false,
     outputs_syslog_facilities, false,
     "syslog facility: user, daemon, auth, authpriv, syslog, local0 ... local7 (a saker "
     "extension)"},
    {"program_output.enabled", KEY_BOOL, OFF(program_enabled), 0, 0, false, NULL, false,
     "write alerts to the stdin of 'sh -c program_output.program', one per line"},
    {"program_output.keep_alive", KEY_BOOL, OFF(program_keep_alive), 0, 0, false, NULL, false,
     "one long-running program (restarted if it exits); false: one program per alert"},
    {"program_output.program", KEY_STRING, OFF(program), 0, 0, false, NULL, false,
     "the shell command (required when program_output.enabled)"},
    {"http_output.enabled", KEY_BOOL, OFF(http_enabled), 0, 0, false, NULL, false,
     "POST each alert to http_output.url"},
    {"http_output.url", KEY_STRING, OFF(http_url), 0, 0, false, NULL, false,
     "http://host[:port][/path] (no https: saker has no TLS; required when enabled)",
     check_http_url},
    {"http_output.user_agent", KEY_STRING, OFF(http_user_agent), 0, 0, false, NULL, false,
     "the User-Agent header of the requests"},
    {"http_output.keep_alive", KEY_BOOL, OFF(http_keep_alive), 0, 0, false, NULL, false,
     "reuse one connection for successive requests"},
    {"http_output.headers", KEY_STRLIST, OFF(http_headers), 0, 0, false, NULL, false,
     "extra request headers, each 'Name: value' (a saker extension)"},
    {"http_output.max_retries", KEY_UINT, OFF(http_retries), 0, 10, false, NULL, false,
     "times a request is sent again after a network error, a 5xx, 408 or 429, with a backoff "
     "from 100 ms (a saker extension)"},
    {"buffered_outputs", KEY_BOOL, OFF(buffered_outputs), 0, 0, false, NULL, false,
     "let stdio buffer stdout alerts (-U forces false); false: flushed as written"},
    {"outputs_queue.capacity", KEY_UINT, OFF(queue_capacity), 0, 1000000, false, NULL, false,
     "alerts each output can hold while it is slow; past it new alerts are dropped for that "
     "output (counted, logged). 0 (unbounded in Falco) keeps saker's bound, 10000"},
    {"output_timeout", KEY_UINT, OFF(output_timeout_ms), 10, 600000, false, NULL, false,
     "ms: a network send or HTTP request fails after this long; an output blocked longer is "
     "logged; the most saker waits at exit to deliver what is queued"},
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static int strlist_add(struct strlist *l, const char *s);

void config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->log_level = 2; /* info */
	c->ringbuf_size_mb = 4;
	c->drain_interval_ms = 1;
	c->attach = ATTACH_AUTO;
	c->proc_table_size = 262144;
	c->stats_interval_s = 0;
	c->priority = 7; /* debug: every rule */
	strlist_add(&c->rules_files, "@default");
	c->ctr_metadata = true;
	c->ctr_cache_size = 1024;
	strlist_add(&c->ctr_docker, "/var/lib/docker");
	strlist_add(&c->ctr_containerd, "/run/containerd");
	strlist_add(&c->ctr_storage, "/run/containers/storage");
	strlist_add(&c->ctr_storage, "/var/lib/containers/storage");
	strlist_add(&c->ctr_runc, "/run/runc");
	c->rule_matching = RULE_MATCHING_FIRST;
	c->json_include_output = true;
	c->json_include_fields = true;
	c->json_include_tags = true;
	c->web_enabled = true;
	c->web_address = strdup("127.0.0.1");
	c->web_port = 8765;
	c->web_healthz = strdup("/healthz");
	c->web_metrics = true;
	c->stdout_enabled = true;
	c->syslog_socket = strdup("/dev/log");
	c->http_user_agent = strdup("saker/" SAKER_VERSION);
	c->http_keep_alive = true;
	c->http_retries = 2;
	c->queue_capacity = 10000;
	c->output_timeout_ms = 2000;
}

static void strlist_clear(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int strlist_add(struct strlist *l, const char *s)
{
	char **v = realloc(l->v, (l->n + 1) * sizeof(*v));

	if (!v)
		return -1;
	l->v = v;
	v[l->n] = strdup(s);
	if (!v[l->n])
		return -1;
	l->n++;
	return 0;
}

static void appends_free(struct config *c)
{
	for (size_t i = 0; i < c->n_appends; i++) {
		struct output_append *a = &c->appends[i];

		free(a->source);
		free(a->rule);
		free(a->extra_output);
		strlist_clear(&a->tags);
	}
	free(c->appends);
	c->appends = NULL;
	c->n_appends = 0;
}

void config_free(struct config *c)
{
	appends_free(c);
	for (size_t i = 0; i < NKEYS; i++) {
		if (keys[i].type == KEY_STRLIST)
			strlist_clear((struct strlist *)((char *)c + keys[i].offset));
		if (keys[i].type == KEY_STRING) {
			char **sp = (char **)((char *)c + keys[i].offset);

			free(*sp);
			*sp = NULL;
		}
	}
}

/* Adds item; when it is a relative path read from the file at base, relative to base's
 * directory. */
static int strlist_add_path(struct strlist *l, const char *item, const char *base)
{
	const char *slash = base ? strrchr(base, '/') : NULL;
	char *joined;
	int rc;

	if (!base || item[0] == '/' || item[0] == '@' || !item[0] || !slash)
		return strlist_add(l, item);
	if (asprintf(&joined, "%.*s/%s", (int)(slash - base), base, item) < 0)
		return -1;
	rc = strlist_add(l, joined);
	free(joined);
	return rc;
}

static const struct key *key_find(const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static bool key_is_prefix(const char *prefix)
{
	size_t n = strlen(prefix);

	for (size_t i = 0; i < NKEYS; i++)
		if (strncmp(keys[i].name, prefix, n) == 0 && keys[i].name[n] == '.')
			return true;
	return false;
}

/* Sets a scalar key from text; where names the source for messages. */
static int key_set_scalar(struct config *c, const struct key *k, const char *v, const char *where)
{
	void *field = (char *)c + k->offset;

	switch (k->type) {
	case KEY_UINT: {
		char *end;
		unsigned long n;

		errno = 0;
		n = strtoul(v, &end, 10);
		if (!*v || *end || errno || v[0] == '-') {
			log_error("%s: key '%s': expected a whole number, got '%s'", where, k->name,
				  v);
			return -1;
		}
		if (n < k->min || n > k->max) {
			log_error("%s: key '%s': %lu is out of range (%u to %u)", where, k->name, n,
				  k->min, k->max);
			return -1;
		}
		if (k->pow2 && (n & (n - 1))) {
			log_error("%s: key '%s': %lu is not a power of two", where, k->name, n);
			return -1;
		}
		*(unsigned *)field = (unsigned)n;
		return 0;
	}
	case KEY_BOOL:
		if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on")) {
			*(bool *)field = true;
		} else if (!strcasecmp(v, "false") || !strcasecmp(v, "no") ||
			   !strcasecmp(v, "off")) {
			*(bool *)field = false;
		} else {
			log_error("%s: key '%s': expected true or false, got '%s'", where, k->name,
				  v);
			return -1;
		}
		return 0;
	case KEY_ENUM:
		if (k->choices == priorities) {
			enum rules_priority p;

			if (!rules_priority_parse(v, &p)) {
				*(int *)field = (int)p;
				return 0;
			}
		}
		for (int i = 0; k->choices[i]; i++) {
			if (strcasecmp(v, k->choices[i]) == 0) {
				*(int *)field = i;
				return 0;
			}
		}
		if (k->choices == log_levels && strcasecmp(v, "warn") == 0) {
			*(int *)field = 1;
			return 0;
		}
		{
			char allowed[128] = "";

			for (int i = 0; k->choices[i]; i++)
				snprintf(allowed + strlen(allowed),
					 sizeof(allowed) - strlen(allowed), "%s%s", i ? ", " : "",
					 k->choices[i]);
			log_error("%s: key '%s': '%s' is not one of: %s", where, k->name, v,
				  allowed);
		}
		return -1;
	case KEY_STRING: {
		const char *why = k->check ? k->check(v) : NULL;
		char **sp = (char **)field, *copy;

		if (why) {
			log_error("%s: key '%s': '%s': %s", where, k->name, v, why);
			return -1;
		}
		copy = strdup(v);
		if (!copy) {
			log_error("%s: out of memory", where);
			return -1;
		}
		free(*sp);
		*sp = copy;
		return 0;
	}
	case KEY_STRLIST:
		break;
	}
	log_error("%s: key '%s': expected a list", where, k->name);
	return -1;
}

struct walk {
	struct config *c;
	const char *path;
	yaml_document_t *doc;
	int errors;
};

static void walk_mapping(struct walk *w, yaml_node_t *map, const char *prefix);

static const char *scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* An append_output entry's match: {source, tags, rule}. */
static void walk_append_match(struct walk *w, yaml_node_t *m, struct output_append *a,
			      const char *where)
{
	for (yaml_node_pair_t *pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top;
	     pr++) {
		const char *k = scalar(yaml_document_get_node(w->doc, pr->key));
		yaml_node_t *v = yaml_document_get_node(w->doc, pr->value);
		const char *sv = scalar(v);

		if (k && !strcmp(k, "source") && sv) {
			free(a->source);
			a->source = strdup(sv);
		} else if (k && !strcmp(k, "rule") && sv) {
			free(a->rule);
			a->rule = strdup(sv);
		} else if (k && !strcmp(k, "tags") && v && v->type == YAML_SEQUENCE_NODE) {
			for (yaml_node_item_t *t = v->data.sequence.items.start;
			     t < v->data.sequence.items.top; t++) {
				const char *tag = scalar(yaml_document_get_node(w->doc, *t));

				if (tag)
					strlist_add(&a->tags, tag);
			}
		} else {
			log_error("%s: append_output: match: unknown or malformed key '%s'", where,
				  k ? k : "?");
			w->errors++;
		}
	}
}

/* append_output: a list of {match: {source, tags, rule}, extra_output, suggested_output}. */
static void walk_appends(struct walk *w, yaml_node_t *v, const char *where)
{
	size_t n;

	appends_free(w->c);
	if (v->type == YAML_SCALAR_NODE && v->data.scalar.length == 0)
		return;
	if (v->type != YAML_SEQUENCE_NODE) {
		log_error("%s: key 'append_output': expected a list", where);
		w->errors++;
		return;
	}
	n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	w->c->appends = calloc(n + 1, sizeof(*w->c->appends));
	if (!w->c->appends) {
		log_error("%s: out of memory", where);
		w->errors++;
		return;
	}
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	     it++) {
		yaml_node_t *e = yaml_document_get_node(w->doc, *it);
		struct output_append *a = &w->c->appends[w->c->n_appends++];

		if (!e || e->type != YAML_MAPPING_NODE) {
			log_error("%s: key 'append_output': each entry must be a mapping", where);
			w->errors++;
			return;
		}
		for (yaml_node_pair_t *pr = e->data.mapping.pairs.start;
		     pr < e->data.mapping.pairs.top; pr++) {
			const char *k = scalar(yaml_document_get_node(w->doc, pr->key));
			yaml_node_t *val = yaml_document_get_node(w->doc, pr->value);
			const char *sv = scalar(val);

			if (k && !strcmp(k, "extra_output") && sv) {
				free(a->extra_output);
				a->extra_output = strdup(sv);
			} else if (k && !strcmp(k, "suggested_output") && sv &&
				   (!strcmp(sv, "true") || !strcmp(sv, "false"))) {
				a->suggested = !strcmp(sv, "true");
			} else if (k && !strcmp(k, "extra_fields")) {
				log_warn("%s: append_output: extra_fields is not supported "
					 "(ignored)",
					 where);
			} else if (k && !strcmp(k, "match") && val &&
				   val->type == YAML_MAPPING_NODE) {
				walk_append_match(w, val, a, where);
			} else {
				log_error("%s: append_output: unknown or malformed key '%s'", where,
					  k ? k : "?");
				w->errors++;
			}
		}
	}
}

static void walk_value(struct walk *w, const char *name, yaml_node_t *v, unsigned line)
{
	const struct key *k = key_find(name);
	char where[PATH_MAX + 32];

	snprintf(where, sizeof(where), "%s:%u", w->path, line);
	if (!strcmp(name, "append_output")) {
		walk_appends(w, v, where);
		return;
	}
	if (!k) {
		if (!key_is_prefix(name)) {
			log_warn("%s: unknown key '%s' (ignored)", where, name);
		} else if (v->type == YAML_MAPPING_NODE) {
			walk_mapping(w, v, name);
		} else {
			log_error("%s: key '%s': expected a mapping of keys", where, name);
			w->errors++;
		}
		return;
	}
	if (k->type == KEY_STRLIST) {
		struct strlist *list = (struct strlist *)((char *)w->c + k->offset);

		if (v->type == YAML_SCALAR_NODE && v->data.scalar.length == 0) {
			strlist_clear(list);
			return;
		}
		if (v->type != YAML_SEQUENCE_NODE) {
			log_error("%s: key '%s': expected a list", where, name);
			w->errors++;
			return;
		}
		strlist_clear(list);
		for (yaml_node_item_t *it = v->data.sequence.items.start;
		     it < v->data.sequence.items.top; it++) {
			yaml_node_t *item = yaml_document_get_node(w->doc, *it);

			if (!item || item->type != YAML_SCALAR_NODE) {
				log_error("%s: key '%s': list items must be plain values", where,
					  name);
				w->errors++;
				return;
			}
			if (strlist_add_path(list, (const char *)item->data.scalar.value,
					     k->paths ? w->path : NULL)) {
				log_error("%s: out of memory", where);
				w->errors++;
				return;
			}
		}
		return;
	}
	if (v->type != YAML_SCALAR_NODE) {
		log_error("%s: key '%s': expected a single value, not a %s", where, name,
			  v->type == YAML_MAPPING_NODE ? "mapping" : "list");
		w->errors++;
		return;
	}
	if (key_set_scalar(w->c, k, (const char *)v->data.scalar.value, where))
		w->errors++;
}

static void walk_mapping(struct walk *w, yaml_node_t *map, const char *prefix)
{
	for (yaml_node_pair_t *pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top;
	     pr++) {
		yaml_node_t *kn = yaml_document_get_node(w->doc, pr->key);
		yaml_node_t *vn = yaml_document_get_node(w->doc, pr->value);
		char name[256];

		if (!kn || !vn)
			continue;
		if (kn->type != YAML_SCALAR_NODE) {
			log_error("%s:%lu: keys must be plain names", w->path,
				  (unsigned long)kn->start_mark.line + 1);
			w->errors++;
			continue;
		}
		snprintf(name, sizeof(name), "%s%s%s", prefix, *prefix ? "." : "",
			 (const char *)kn->data.scalar.value);
		walk_value(w, name, vn, (unsigned)kn->start_mark.line + 1);
	}
}

int config_load_file(struct config *c, const char *path)
{
	FILE *f = fopen(path, "rb");
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	struct walk w = {c, path, &doc, 0};

	if (!f) {
		log_error("cannot open config file '%s': %s", path, strerror(errno));
		return -1;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		log_error("%s:%lu:%lu: invalid YAML: %s", path,
			  (unsigned long)parser.problem_mark.line + 1,
			  (unsigned long)parser.problem_mark.column + 1,
			  parser.problem ? parser.problem : "parse error");
		yaml_parser_delete(&parser);
		fclose(f);
		return -1;
	}
	root = yaml_document_get_root_node(&doc);
	if (root && root->type == YAML_MAPPING_NODE) {
		walk_mapping(&w, root, "");
	} else if (root && !(root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0)) {
		log_error("%s: the configuration must be a mapping of keys to values", path);
		w.errors++;
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	return w.errors ? -1 : 0;
}

int config_apply_override(struct config *c, const char *kv)
{
	const char *eq = strchr(kv, '=');
	char name[256];
	const struct key *k;

	if (!eq || eq == kv || (size_t)(eq - kv) >= sizeof(name)) {
		log_error("option '-o %s': expected key=value", kv);
		return -1;
	}
	memcpy(name, kv, (size_t)(eq - kv));
	name[eq - kv] = '\0';
	if (!strcmp(name, "append_output")) {
		log_error("option '-o %s': append_output is set in the configuration file", kv);
		return -1;
	}
	k = key_find(name);
	if (!k) {
		log_error("option '-o %s': unknown key '%s'", kv, name);
		return -1;
	}
	if (k->type == KEY_STRLIST) {
		/* A list as "a,b,c", optionally in brackets. */
		struct strlist *list = (struct strlist *)((char *)c + k->offset);
		char *copy = strdup(eq + 1), *s, *tok, *save = NULL;
		int rc = 0;

		if (!copy)
			return -1;
		s = copy;
		if (*s == '[') {
			s++;
			if (*s && s[strlen(s) - 1] == ']')
				s[strlen(s) - 1] = '\0';
		}
		strlist_clear(list);
		for (tok = strtok_r(s, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save)) {
			while (*tok == ' ')
				tok++;
			if (*tok)
				rc = strlist_add(list, tok);
		}
		free(copy);
		return rc;
	}
	return key_set_scalar(c, k, eq + 1, "option -o");
}

int config_check(const struct config *c)
{
	char why[256];
	int errors = 0;

	if (c->file_enabled && (!c->file_name || !*c->file_name)) {
		log_error("key 'file_output.enabled' is true but 'file_output.filename' is not set");
		errors++;
	}
	if (c->program_enabled && (!c->program || !*c->program)) {
		log_error("key 'program_output.enabled' is true but 'program_output.program' is not "
			  "set");
		errors++;
	}
	if (c->http_enabled && (!c->http_url || !*c->http_url)) {
		log_error("key 'http_output.enabled' is true but 'http_output.url' is not set");
		errors++;
	}
	for (size_t i = 0; i < c->http_headers.n; i++) {
		if (http_header_check(c->http_headers.v[i], why, sizeof(why))) {
			log_error("key 'http_output.headers': %s", why);
			errors++;
		}
	}
	if (c->http_user_agent && strpbrk(c->http_user_agent, "\r\n")) {
		log_error("key 'http_output.user_agent': control characters are not allowed");
		errors++;
	}
	return errors ? -1 : 0;
}

void config_describe(const struct config *c)
{
	for (size_t i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];
		const void *field = (const char *)c + k->offset;

		printf("# %s\n%s: ", k->help, k->name);
		switch (k->type) {
		case KEY_UINT:
			printf("%u\n", *(const unsigned *)field);
			break;
		case KEY_BOOL:
			printf("%s\n", *(const bool *)field ? "true" : "false");
			break;
		case KEY_ENUM:
			printf("%s\n", k->choices[*(const int *)field]);
			break;
		case KEY_STRING: {
			const char *v = *(char *const *)field;

			printf("'%s'\n", v ? v : "");
			break;
		}
		case KEY_STRLIST: {
			const struct strlist *l = field;

			printf("[");
			for (size_t j = 0; j < l->n; j++) {
				/* quoted when a plain YAML scalar could not hold it */
				bool q = strpbrk(l->v[j], "@`!&*|>'\"%#,[]{}: ") != NULL;

				printf("%s%s%s%s", j ? ", " : "", q ? "'" : "", l->v[j], q ? "'" : "");
			}
			printf("]\n");
			break;
		}
		}
	}
	printf("# entries {match: {source, tags, rule}, extra_output, suggested_output} whose text "
	       "is appended to the matching rules' outputs\nappend_output: [");
	for (size_t i = 0; i < c->n_appends; i++) {
		const struct output_append *a = &c->appends[i];

		printf("%s{", i ? ", " : "");
		if (a->source || a->rule || a->tags.n) {
			printf("match: {");
			if (a->source)
				printf("source: '%s'%s", a->source,
				       a->rule || a->tags.n ? ", " : "");
			if (a->rule)
				printf("rule: '%s'%s", a->rule, a->tags.n ? ", " : "");
			if (a->tags.n) {
				printf("tags: [");
				for (size_t j = 0; j < a->tags.n; j++)
					printf("%s'%s'", j ? ", " : "", a->tags.v[j]);
				printf("]");
			}
			printf("}, ");
		}
		if (a->extra_output)
			printf("extra_output: '%s', ", a->extra_output);
		printf("suggested_output: %s}", a->suggested ? "true" : "false");
	}
	printf("]\n");
}
