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

struct config {
	int log_level;		    /* log_level */
	unsigned ringbuf_size_mb;   /* engine.ringbuf_size_mb */
	unsigned drain_interval_ms; /* engine.drain_interval_ms */
	int attach;		    /* engine.attach */
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

/* Writes every key with its current value and help, as YAML comments and values. */
void config_describe(const struct config *c);

#endif /* SAKER_CONFIG_H */
