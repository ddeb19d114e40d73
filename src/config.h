/*
 * The daemon's configuration: built-in defaults, then a YAML file (-c), then -o key=value
 * overrides. Every key is a row of one table in config.c (name, type, bounds, default,
 * help); unknown keys are warned about by name, wrong types are errors naming file, line and
 * key.
 */
#ifndef SAKER_CONFIG_H
#define SAKER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

/* engine.kind: the event source. */
enum engine_kind { ENGINE_MODERN_EBPF, ENGINE_REPLAY };

enum attach_mode {
	ATTACH_AUTO,
	ATTACH_TP_BTF,
	ATTACH_RAW_TP
};

/* A list of strings from the configuration. */
struct strlist {
	char **v;
	size_t n;
};

/* One append_output entry (spec d.1): what it adds to the outputs of the rules it matches. */
struct append_field {
	char *key;    /* {key: format}: key -> the rendered text; NULL: a bare field name */
	char *format; /* the format, or the bare field's name */
};

struct append_entry {
	char *source;		/* match.source; NULL: any */
	char *rule;		/* match.rule; NULL: any */
	struct strlist tags;	/* match.tags: the rule must have all of them */
	char *extra_output;	/* appended to the output text, after a space; NULL: none */
	struct append_field *fields; /* extra_fields: JSON output_fields only */
	size_t n_fields;
	bool suggested; /* suggested_output: the container and pod fields */
};

/* One entry of the rules: selection (spec b.13): enable or disable the rules whose name
 * matches a pattern ('*' wildcards) or that have a tag. */
struct rule_select {
	bool enable;
	char *rule; /* a name pattern; NULL: by tag */
	char *tag;  /* an exact tag; NULL: by name */
};

struct config {
	int log_level;		    /* log_level */
	bool log_stderr;	    /* log_stderr */
	bool log_syslog;	    /* log_syslog */
	bool watch_config_files;    /* watch_config_files: reload when they change */
	double drops_threshold;	    /* syscall_event_drops.threshold: 0..1 */
	struct strlist drops_actions; /* syscall_event_drops.actions */
	double drops_rate;	    /* syscall_event_drops.rate: tokens per second */
	unsigned drops_max_burst;   /* syscall_event_drops.max_burst */
	unsigned ringbuf_size_mb;   /* engine.ringbuf_size_mb */
	unsigned drain_interval_ms; /* engine.drain_interval_ms */
	int attach;		    /* engine.attach */
	int engine_kind;	    /* engine.kind: ENGINE_* */
	char *replay_file;	    /* engine.replay.capture_file (docs/capture.md) */
	bool syscalls_all;	    /* base_syscalls.all */
	struct strlist custom_set;  /* base_syscalls.custom_set */
	unsigned proc_table_size;   /* state.proc_table_size */
	unsigned stats_interval_s;  /* stats_interval_s */
	bool json_output;	    /* json_output */
	struct strlist rules_files; /* rules_files (relative paths: to the config file's dir) */
	int priority;		    /* priority: enum rules_priority, the least severe kept */
	int rule_matching;	    /* rule_matching: RULE_MATCHING_* */
	bool json_include_output;   /* json_include_output_property */
	bool json_include_message;  /* json_include_message_property */
	bool json_include_fields;   /* json_include_output_fields_property */
	bool json_include_tags;	    /* json_include_tags_property */
	bool time_iso;		    /* time_format_iso_8601 */
	char *host_root;	    /* state.host_root: NULL or "" for / */
	/* containers (src/container.c, docs/containers.md) */
	bool ctr_metadata;	       /* containers.metadata */
	unsigned ctr_cache_size;       /* containers.cache_size */
	struct strlist ctr_docker;     /* containers.docker_dirs */
	struct strlist ctr_containerd; /* containers.containerd_dirs */
	struct strlist ctr_storage;    /* containers.storage_dirs */
	struct strlist ctr_runc;       /* containers.runc_dirs */
	bool web_enabled;	    /* webserver.enabled */
	char *web_address;	    /* webserver.listen_address: an IP literal */
	unsigned web_port;	    /* webserver.listen_port (0: any free port) */
	char *web_healthz;	    /* webserver.k8s_healthz_endpoint */
	bool web_metrics;	    /* webserver.prometheus_metrics_enabled */
	/* alert outputs (src/outputs.c, docs/outputs.md) */
	bool buffered_outputs;	     /* buffered_outputs */
	unsigned queue_capacity;     /* outputs_queue.capacity (0: the default bound) */
	unsigned output_timeout_ms;  /* output_timeout */
	bool stdout_enabled;	     /* stdout_output.enabled */
	bool file_enabled;	     /* file_output.enabled */
	bool file_keep_alive;	     /* file_output.keep_alive */
	char *file_name;	     /* file_output.filename */
	bool syslog_enabled;	     /* syslog_output.enabled */
	char *syslog_socket;	     /* syslog_output.socket */
	int syslog_facility;	     /* syslog_output.facility: outputs_syslog_facilities[] */
	bool program_enabled;	     /* program_output.enabled */
	bool program_keep_alive;     /* program_output.keep_alive */
	char *program;		     /* program_output.program */
	bool http_enabled;	     /* http_output.enabled */
	char *http_url;		     /* http_output.url */
	char *http_user_agent;	     /* http_output.user_agent */
	bool http_keep_alive;	     /* http_output.keep_alive */
	struct strlist http_headers; /* http_output.headers: "Name: value" */
	unsigned http_retries;	     /* http_output.max_retries */
	bool http_insecure;	     /* http_output.insecure */
	char *http_ca_cert;	     /* http_output.ca_cert */
	char *http_ca_bundle;	     /* http_output.ca_bundle */
	char *http_ca_path;	     /* http_output.ca_path */
	bool http_mtls;		     /* http_output.mtls */
	char *http_client_cert;	     /* http_output.client_cert */
	char *http_client_key;	     /* http_output.client_key */
	struct append_entry *append; /* append_output */
	size_t n_append;
	struct rule_select *select; /* rules: applied in order after loading */
	size_t n_select;
};

enum {
	RULE_MATCHING_FIRST,
	RULE_MATCHING_ALL
};

void config_defaults(struct config *c);
void config_free(struct config *c);

/* Loads a YAML file over c. Returns 0, or -1 after logging every error found. */
int config_load_file(struct config *c, const char *path);

/* Applies one "key=value" override. Returns 0, or -1 after logging the error. */
int config_apply_override(struct config *c, const char *kv);

/* Checks what single keys cannot: keys that need each other (file_output.enabled needs
 * file_output.filename), URLs and headers. Returns 0, or -1 after logging every problem. */
int config_check(const struct config *c);

/* syscall_event_drops.actions as DROP_ACTION_* bits (0: ignore), or -1 with why filled in
 * for a name that is not an action or 'ignore' together with log or alert. */
enum {
	DROP_ACTION_LOG = 1,
	DROP_ACTION_ALERT = 2,
	DROP_ACTION_EXIT = 4
};
int config_drop_actions(const struct config *c, char *why, size_t cap);

/* Writes every key with its current value and help, as YAML comments and values. */
void config_describe(const struct config *c);

#endif /* SAKER_CONFIG_H */
