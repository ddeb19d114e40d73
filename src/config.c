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
#include "tls.h"
#include "version.h"

enum key_type {
	KEY_UINT,
	KEY_BOOL,
	KEY_ENUM,
	KEY_STRLIST,
	KEY_STRING, /* a char * owned by the config; NULL: unset */
	KEY_DOUBLE, /* bounds in dmin, dmax */
	KEY_APPEND, /* append_output: a list of mappings */
	KEY_SELECT  /* rules: a list of {enable|disable: {rule|tag: ...}} */
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
	double dmin, dmax;		     /* KEY_DOUBLE bounds */
};

static const char *const log_levels[] = {"error", "warning", "info", "debug", NULL};
static const char *const attach_modes[] = {"auto", "tp_btf", "raw_tp", NULL};
static const char *const engine_kinds[] = {"modern_ebpf", "replay", NULL};
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
     "least severe log message written: error, warning, info or debug"},
    {"log_stderr", KEY_BOOL, OFF(log_stderr), 0, 0, false, NULL, false,
     "write log messages to stderr"},
    {"log_syslog", KEY_BOOL, OFF(log_syslog), 0, 0, false, NULL, false,
     "send log messages to syslog (/dev/log, facility daemon, tag saker)"},
    {"syscall_event_drops.threshold", KEY_DOUBLE, OFF(drops_threshold), 0, 0, false, NULL,
     false, "share of events dropped in a second (0 to 1) above which the actions run", NULL,
     0.0, 1.0},
    {"syscall_event_drops.actions", KEY_STRLIST, OFF(drops_actions), 0, 0, false, NULL, false,
     "what to do when drops pass the threshold: log, alert (an internal alert through the "
     "outputs), exit, or ignore alone"},
    {"syscall_event_drops.rate", KEY_DOUBLE, OFF(drops_rate), 0, 0, false, NULL, false,
     "how often the actions may run, in tokens per second (0.03333: one every 30 s)", NULL,
     1e-6, 1000.0},
    {"syscall_event_drops.max_burst", KEY_UINT, OFF(drops_max_burst), 1, 1000, false, NULL,
     false, "how many times the actions may run back to back before the rate applies"},
    {"engine.ringbuf_size_mb", KEY_UINT, OFF(ringbuf_size_mb), 1, 1024, true, NULL, false,
     "size of the kernel-to-daemon ring buffer in MiB (a power of two)"},
    {"engine.drain_interval_ms", KEY_UINT, OFF(drain_interval_ms), 1, 1000, false, NULL, false,
     "how often the daemon drains the ring buffer, in milliseconds"},
    {"engine.attach", KEY_ENUM, OFF(attach), 0, 0, false, attach_modes, false,
     "program type for the tracepoints: auto (tp_btf, else raw_tp), tp_btf or raw_tp"},
    {"engine.kind", KEY_ENUM, OFF(engine_kind), 0, 0, false, engine_kinds, false,
     "event source: modern_ebpf (the kernel) or replay (engine.replay.capture_file, as -e)"},
    {"engine.replay.capture_file", KEY_STRING, OFF(replay_file), 0, 0, false, NULL, false,
     "the capture engine.kind replay reads (docs/capture.md)"},
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
    {"watch_config_files", KEY_BOOL, OFF(watch_config_files), 0, 0, false, NULL, false,
     "reload (as on SIGHUP) when the config file or a rules file changes"},
    {"rules", KEY_SELECT, OFF(select), 0, 0, false, NULL, false,
     "rule selection after loading, in order: a list of {enable: {rule: PATTERN}}, "
     "{disable: {rule: PATTERN}} ('*' wildcards), {enable: {tag: T}}, {disable: {tag: T}}"},
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
     "http://host[:port][/path] or https://... (required when enabled)", check_http_url},
    {"http_output.insecure", KEY_BOOL, OFF(http_insecure), 0, 0, false, NULL, false,
     "https: do not verify the server's certificate and name (never in production)"},
    {"http_output.ca_cert", KEY_STRING, OFF(http_ca_cert), 0, 0, false, NULL, false,
     "https: a PEM file of CA certificates the server's certificate may chain to"},
    {"http_output.ca_bundle", KEY_STRING, OFF(http_ca_bundle), 0, 0, false, NULL, false,
     "https: another PEM file of CA certificates"},
    {"http_output.ca_path", KEY_STRING, OFF(http_ca_path), 0, 0, false, NULL, false,
     "https: a directory of PEM CA certificates (the system's: /etc/ssl/certs)"},
    {"http_output.mtls", KEY_BOOL, OFF(http_mtls), 0, 0, false, NULL, false,
     "https: present a client certificate (client_cert, client_key)"},
    {"http_output.client_cert", KEY_STRING, OFF(http_client_cert), 0, 0, false, NULL, false,
     "https with mtls: the client certificate (PEM, chain allowed)"},
    {"http_output.client_key", KEY_STRING, OFF(http_client_key), 0, 0, false, NULL, false,
     "https with mtls: the client certificate's unencrypted PEM key"},
    {"http_output.user_agent", KEY_STRING, OFF(http_user_agent), 0, 0, false, NULL, false,
     "the User-Agent header of the requests"},
    {"http_output.keep_alive", KEY_BOOL, OFF(http_keep_alive), 0, 0, false, NULL, false,
     "reuse one connection for successive requests"},
    {"http_output.headers", KEY_STRLIST, OFF(http_headers), 0, 0, false, NULL, false,
     "extra request headers, each 'Name: value' (a saker extension)"},
    {"http_output.max_retries", KEY_UINT, OFF(http_retries), 0, 10, false, NULL, false,
     "times a request is sent again after a network error, a 5xx, 408 or 429, with a backoff "
     "from 100 ms (a saker extension)"},
    {"append_output", KEY_APPEND, OFF(append), 0, 0, false, NULL, false,
     "additions to rule outputs: a list of {match: {source, tags, rule}, extra_output, "
     "extra_fields, suggested_output} (docs/alerts.md)"},
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
	c->log_stderr = true;
	c->watch_config_files = true;
	c->drops_threshold = 0.1;
	strlist_add(&c->drops_actions, "log");
	strlist_add(&c->drops_actions, "alert");
	c->drops_rate = 0.03333;
	c->drops_max_burst = 1;
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
	c->http_ca_path = strdup("/etc/ssl/certs");
	/* as the reference's shipped configuration: every syscall alert names its container
	 * and pod */
	c->append = calloc(1, sizeof(*c->append));
	if (c->append) {
		c->append[0].suggested = true;
		c->n_append = 1;
	}
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

static void append_clear(struct config *c)
{
	for (size_t i = 0; i < c->n_append; i++) {
		struct append_entry *e = &c->append[i];

		free(e->source);
		free(e->rule);
		strlist_clear(&e->tags);
		free(e->extra_output);
		for (size_t j = 0; j < e->n_fields; j++) {
			free(e->fields[j].key);
			free(e->fields[j].format);
		}
		free(e->fields);
	}
	free(c->append);
	c->append = NULL;
	c->n_append = 0;
}

static void select_clear(struct config *c)
{
	for (size_t i = 0; i < c->n_select; i++) {
		free(c->select[i].rule);
		free(c->select[i].tag);
	}
	free(c->select);
	c->select = NULL;
	c->n_select = 0;
}

void config_free(struct config *c)
{
	append_clear(c);
	select_clear(c);
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
	case KEY_DOUBLE: {
		char *end;
		double d;

		errno = 0;
		d = strtod(v, &end);
		if (!*v || *end || errno || d != d) {
			log_error("%s: key '%s': expected a number, got '%s'", where, k->name, v);
			return -1;
		}
		if (d < k->dmin || d > k->dmax) {
			log_error("%s: key '%s': %g is out of range (%g to %g)", where, k->name, d,
				  k->dmin, k->dmax);
			return -1;
		}
		*(double *)field = d;
		return 0;
	}
	case KEY_STRLIST:
	case KEY_APPEND:
	case KEY_SELECT:
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

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static unsigned node_line(const yaml_node_t *n)
{
	return (unsigned)n->start_mark.line + 1;
}

static bool parse_bool(const char *v, bool *out)
{
	if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on"))
		*out = true;
	else if (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcasecmp(v, "off"))
		*out = false;
	else
		return false;
	return true;
}

/* A plain value into *dst (replacing it); false after logging when it is not one. */
static bool append_string(struct walk *w, yaml_node_t *n, const char *what, char **dst)
{
	const char *v = scalar(n);

	if (!v) {
		log_error("%s:%u: key 'append_output': '%s' must be a single value", w->path,
			  node_line(n), what);
		return false;
	}
	free(*dst);
	*dst = strdup(v);
	return *dst != NULL;
}

static bool append_match(struct walk *w, yaml_node_t *m, struct append_entry *e)
{
	if (m->type != YAML_MAPPING_NODE) {
		log_error("%s:%u: key 'append_output': 'match' must be a mapping (source, tags, "
			  "rule)", w->path, node_line(m));
		return false;
	}
	for (yaml_node_pair_t *pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top;
	     pr++) {
		yaml_node_t *kn = yaml_document_get_node(w->doc, pr->key);
		yaml_node_t *vn = yaml_document_get_node(w->doc, pr->value);
		const char *k = scalar(kn);

		if (!k || !vn)
			continue;
		if (!strcmp(k, "source")) {
			if (!append_string(w, vn, "match.source", &e->source))
				return false;
		} else if (!strcmp(k, "rule")) {
			if (!append_string(w, vn, "match.rule", &e->rule))
				return false;
		} else if (!strcmp(k, "tags")) {
			if (vn->type != YAML_SEQUENCE_NODE) {
				log_error("%s:%u: key 'append_output': 'match.tags' must be a list",
					  w->path, node_line(vn));
				return false;
			}
			for (yaml_node_item_t *it = vn->data.sequence.items.start;
			     it < vn->data.sequence.items.top; it++) {
				const char *t = scalar(yaml_document_get_node(w->doc, *it));

				if (!t) {
					log_error("%s:%u: key 'append_output': 'match.tags' items must "
						  "be plain values", w->path, node_line(vn));
					return false;
				}
				if (strlist_add(&e->tags, t))
					return false;
			}
		} else {
			log_warn("%s:%u: key 'append_output': unknown key 'match.%s' (ignored)",
				 w->path, node_line(kn), k);
		}
	}
	return true;
}

static bool append_fields(struct walk *w, yaml_node_t *l, struct append_entry *e)
{
	if (l->type != YAML_SEQUENCE_NODE) {
		log_error("%s:%u: key 'append_output': 'extra_fields' must be a list of field names "
			  "and {key: format} mappings", w->path, node_line(l));
		return false;
	}
	for (yaml_node_item_t *it = l->data.sequence.items.start; it < l->data.sequence.items.top;
	     it++) {
		yaml_node_t *n = yaml_document_get_node(w->doc, *it);
		struct append_field *f;
		const char *key = NULL, *val = scalar(n);

		if (!n)
			continue;
		if (n->type == YAML_MAPPING_NODE && n->data.mapping.pairs.top -
							    n->data.mapping.pairs.start == 1) {
			key = scalar(yaml_document_get_node(w->doc, n->data.mapping.pairs.start->key));
			val = scalar(
			    yaml_document_get_node(w->doc, n->data.mapping.pairs.start->value));
		}
		if (!val || (n->type == YAML_MAPPING_NODE && !key) || (val && !*val)) {
			log_error("%s:%u: key 'append_output': an 'extra_fields' item must be a "
				  "field name or one {key: format}", w->path, node_line(n));
			return false;
		}
		f = realloc(e->fields, (e->n_fields + 1) * sizeof(*f));
		if (!f)
			return false;
		e->fields = f;
		f = &e->fields[e->n_fields++];
		f->key = key ? strdup(key) : NULL;
		f->format = strdup(val);
		if (!f->format || (key && !f->key))
			return false;
	}
	return true;
}

/* rules: [{enable|disable: {rule: PATTERN | tag: T}}, ...]. Replaces what was set before. */
static bool parse_select(struct walk *w, yaml_node_t *v)
{
	if (v->type == YAML_SCALAR_NODE && v->data.scalar.length == 0) {
		select_clear(w->c);
		return true;
	}
	if (v->type != YAML_SEQUENCE_NODE) {
		log_error("%s:%u: key 'rules': expected a list of {enable: {rule: ...}} and "
			  "{disable: {rule: ...}} items", w->path, node_line(v));
		return false;
	}
	select_clear(w->c);
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	     it++) {
		yaml_node_t *n = yaml_document_get_node(w->doc, *it), *kn, *vn, *sk, *sv;
		const char *verb, *what, *val;
		struct rule_select *e;

		if (!n)
			continue;
		if (n->type != YAML_MAPPING_NODE ||
		    n->data.mapping.pairs.top - n->data.mapping.pairs.start != 1)
			goto bad;
		kn = yaml_document_get_node(w->doc, n->data.mapping.pairs.start->key);
		vn = yaml_document_get_node(w->doc, n->data.mapping.pairs.start->value);
		verb = scalar(kn);
		if (!verb || !vn || (strcmp(verb, "enable") && strcmp(verb, "disable")) ||
		    vn->type != YAML_MAPPING_NODE ||
		    vn->data.mapping.pairs.top - vn->data.mapping.pairs.start != 1)
			goto bad;
		sk = yaml_document_get_node(w->doc, vn->data.mapping.pairs.start->key);
		sv = yaml_document_get_node(w->doc, vn->data.mapping.pairs.start->value);
		what = scalar(sk);
		val = scalar(sv);
		if (!what || !val || !*val || (strcmp(what, "rule") && strcmp(what, "tag")))
			goto bad;
		e = realloc(w->c->select, (w->c->n_select + 1) * sizeof(*e));
		if (!e)
			return false;
		w->c->select = e;
		e = &e[w->c->n_select++];
		memset(e, 0, sizeof(*e));
		e->enable = verb[0] == 'e';
		if (what[0] == 'r')
			e->rule = strdup(val);
		else
			e->tag = strdup(val);
		if (!e->rule && !e->tag)
			return false;
		continue;
bad:
		log_error("%s:%u: key 'rules': each item must be {enable: {rule: PATTERN}}, "
			  "{disable: {rule: PATTERN}}, {enable: {tag: TAG}} or {disable: {tag: TAG}}",
			  w->path, node_line(n));
		return false;
	}
	return true;
}

/* append_output: a list of entries (an empty value: none). Replaces what was set before. */
static bool parse_append(struct walk *w, yaml_node_t *v)
{
	if (v->type == YAML_SCALAR_NODE && v->data.scalar.length == 0) {
		append_clear(w->c);
		return true;
	}
	if (v->type != YAML_SEQUENCE_NODE) {
		log_error("%s:%u: key 'append_output': expected a list of mappings", w->path,
			  node_line(v));
		return false;
	}
	append_clear(w->c);
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	     it++) {
		yaml_node_t *n = yaml_document_get_node(w->doc, *it);
		struct append_entry *e;

		if (!n)
			continue;
		if (n->type != YAML_MAPPING_NODE) {
			log_error("%s:%u: key 'append_output': each item must be a mapping (match, "
				  "extra_output, extra_fields, suggested_output)", w->path,
				  node_line(n));
			return false;
		}
		e = realloc(w->c->append, (w->c->n_append + 1) * sizeof(*e));
		if (!e)
			return false;
		w->c->append = e;
		e = &e[w->c->n_append++];
		memset(e, 0, sizeof(*e));
		for (yaml_node_pair_t *pr = n->data.mapping.pairs.start;
		     pr < n->data.mapping.pairs.top; pr++) {
			yaml_node_t *kn = yaml_document_get_node(w->doc, pr->key);
			yaml_node_t *vn = yaml_document_get_node(w->doc, pr->value);
			const char *k = scalar(kn);
			bool ok = true;

			if (!k || !vn)
				continue;
			if (!strcmp(k, "match")) {
				ok = append_match(w, vn, e);
			} else if (!strcmp(k, "extra_output")) {
				ok = append_string(w, vn, "extra_output", &e->extra_output);
			} else if (!strcmp(k, "extra_fields")) {
				ok = append_fields(w, vn, e);
			} else if (!strcmp(k, "suggested_output")) {
				const char *b = scalar(vn);

				ok = b && parse_bool(b, &e->suggested);
				if (!ok)
					log_error("%s:%u: key 'append_output': 'suggested_output' "
						  "expects true or false", w->path, node_line(vn));
			} else {
				log_warn("%s:%u: key 'append_output': unknown key '%s' (ignored)",
					 w->path, node_line(kn), k);
			}
			if (!ok)
				return false;
		}
	}
	return true;
}

static void walk_value(struct walk *w, const char *name, yaml_node_t *v, unsigned line)
{
	const struct key *k = key_find(name);
	char where[PATH_MAX + 32];

	snprintf(where, sizeof(where), "%s:%u", w->path, line);
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
	if (k->type == KEY_APPEND || k->type == KEY_SELECT) {
		if (!(k->type == KEY_APPEND ? parse_append(w, v) : parse_select(w, v)))
			w->errors++;
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

/* -o append_output=VALUE, -o rules=VALUE: the value is YAML (a flow list of mappings, or
 * one mapping). */
static int override_yaml_list(struct config *c, const struct key *k, const char *text)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	char where[64];
	struct walk w = {c, where, &doc, 0};

	snprintf(where, sizeof(where), "option -o %s", k->name);
	int rc = 0;

	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
	if (!yaml_parser_load(&parser, &doc)) {
		log_error("%s: invalid YAML at column %lu: %s", where,
			  (unsigned long)parser.problem_mark.column + 1,
			  parser.problem ? parser.problem : "parse error");
		yaml_parser_delete(&parser);
		return -1;
	}
	root = yaml_document_get_root_node(&doc);
	if (root && root->type == YAML_MAPPING_NODE) {
		/* one entry: read again as a list of it */
		char *wrapped;

		yaml_document_delete(&doc);
		yaml_parser_delete(&parser);
		if (asprintf(&wrapped, "[%s]", text) < 0)
			return -1;
		rc = override_yaml_list(c, k, wrapped);
		free(wrapped);
		return rc;
	}
	if (!root) {
		if (k->type == KEY_APPEND)
			append_clear(c);
		else
			select_clear(c);
	} else if (!(k->type == KEY_APPEND ? parse_append(&w, root) : parse_select(&w, root))) {
		rc = -1;
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rc;
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
	k = key_find(name);
	if (!k) {
		log_error("option '-o %s': unknown key '%s'", kv, name);
		return -1;
	}
	if (k->type == KEY_APPEND || k->type == KEY_SELECT)
		return override_yaml_list(c, k, eq + 1);
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

	if (c->engine_kind == ENGINE_REPLAY && (!c->replay_file || !*c->replay_file)) {
		log_error("key 'engine.kind' is replay but 'engine.replay.capture_file' is not set");
		errors++;
	}
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
	if (c->http_enabled && c->http_mtls &&
	    (!c->http_client_cert || !*c->http_client_cert || !c->http_client_key ||
	     !*c->http_client_key)) {
		log_error("key 'http_output.mtls' is true but 'http_output.client_cert' or "
			  "'http_output.client_key' is not set");
		errors++;
	} else if (c->http_enabled && c->http_url && !strncasecmp(c->http_url, "https://", 8)) {
		/* the certificate files read now, so that a bad one stops the start (and
		 * --dry-run finds it) */
		struct tls_opts to;
		char terr[512];
		struct tls_config *t;

		http_tls_opts(c, &to);
		t = tls_config_new(&to, terr, sizeof(terr));
		if (!t) {
			log_error("http_output: %s", terr);
			errors++;
		}
		tls_config_free(t);
	}
	if (config_drop_actions(c, why, sizeof(why)) < 0) {
		log_error("key 'syscall_event_drops.actions': %s", why);
		errors++;
	}
	if (c->http_user_agent && strpbrk(c->http_user_agent, "\r\n")) {
		log_error("key 'http_output.user_agent': control characters are not allowed");
		errors++;
	}
	return errors ? -1 : 0;
}

int config_drop_actions(const struct config *c, char *why, size_t cap)
{
	static const char *const names[] = {"log", "alert", "exit", "ignore"};
	int mask = 0;
	bool ignore = false;

	for (size_t i = 0; i < c->drops_actions.n; i++) {
		const char *a = c->drops_actions.v[i];
		size_t j;

		for (j = 0; j < sizeof(names) / sizeof(names[0]); j++)
			if (strcmp(a, names[j]) == 0)
				break;
		if (j == sizeof(names) / sizeof(names[0])) {
			snprintf(why, cap, "'%s' is not one of: log, alert, exit, ignore", a);
			return -1;
		}
		if (j == 3)
			ignore = true;
		else
			mask |= 1 << j;
	}
	if (ignore && (mask & (DROP_ACTION_LOG | DROP_ACTION_ALERT))) {
		snprintf(why, cap, "'ignore' cannot be combined with 'log' or 'alert'");
		return -1;
	}
	return mask;
}

/* A YAML single-quoted scalar. */
static void print_quoted(const char *v)
{
	putchar('\'');
	for (; *v; v++) {
		if (*v == '\'')
			putchar('\'');
		putchar(*v);
	}
	putchar('\'');
}

static void describe_append(const struct config *c)
{
	printf("[");
	for (size_t i = 0; i < c->n_append; i++) {
		const struct append_entry *e = &c->append[i];
		const char *sep = "";

		printf("%s{", i ? ", " : "");
		if (e->source || e->rule || e->tags.n) {
			const char *msep = "";

			printf("match: {");
			if (e->source) {
				printf("source: ");
				print_quoted(e->source);
				msep = ", ";
			}
			if (e->rule) {
				printf("%srule: ", msep);
				print_quoted(e->rule);
				msep = ", ";
			}
			if (e->tags.n) {
				printf("%stags: [", msep);
				for (size_t j = 0; j < e->tags.n; j++) {
					printf("%s", j ? ", " : "");
					print_quoted(e->tags.v[j]);
				}
				printf("]");
			}
			printf("}");
			sep = ", ";
		}
		if (e->extra_output) {
			printf("%sextra_output: ", sep);
			print_quoted(e->extra_output);
			sep = ", ";
		}
		if (e->n_fields) {
			printf("%sextra_fields: [", sep);
			for (size_t j = 0; j < e->n_fields; j++) {
				printf("%s", j ? ", " : "");
				if (e->fields[j].key) {
					printf("{");
					print_quoted(e->fields[j].key);
					printf(": ");
					print_quoted(e->fields[j].format);
					printf("}");
				} else {
					print_quoted(e->fields[j].format);
				}
			}
			printf("]");
			sep = ", ";
		}
		if (e->suggested)
			printf("%ssuggested_output: true", sep);
		printf("}");
	}
	printf("]\n");
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
		case KEY_DOUBLE:
			printf("%g\n", *(const double *)field);
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
		case KEY_APPEND:
			describe_append(c);
			break;
		case KEY_SELECT:
			printf("[");
			for (size_t j = 0; j < c->n_select; j++) {
				printf("%s{%s: {%s: ", j ? ", " : "",
				       c->select[j].enable ? "enable" : "disable",
				       c->select[j].rule ? "rule" : "tag");
				print_quoted(c->select[j].rule ? c->select[j].rule : c->select[j].tag);
				printf("}}");
			}
			printf("]\n");
			break;
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
}
