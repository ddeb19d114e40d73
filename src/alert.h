/*
 * Alerts: a matched rule and its event, written as the text line (spec d.3) or the JSON
 * object (d.4). Both are always one line: the text form is JSON-string-escaped (control
 * characters, backslashes, quotes, invalid UTF-8), as the reference does since 0.44.
 */
#ifndef SAKER_ALERT_H
#define SAKER_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "outfmt.h"
#include "vm.h"

struct strbuf;

struct alert_opts {
	bool json;
	bool include_output;	    /* json_include_output_property */
	bool include_message;	    /* json_include_message_property */
	bool include_output_fields; /* json_include_output_fields_property */
	bool include_tags;	    /* json_include_tags_property */
	bool time_iso;		    /* time_format_iso_8601 (text alerts) */
	const char *hostname;
};

struct alert_rule {
	const char *name;
	const char *priority; /* canonical name: "Warning" */
	const char *const *tags;
	size_t n_tags;
	const char *source; /* "syscall" */
	const struct outfmt *fmt;
	const struct outfmt_extra *extras; /* append_output extra_fields: sorted by key */
	size_t n_extras;
};

/* Appends one alert (no trailing newline). wall_ns: the event time, ns since the epoch. */
void alert_format(struct strbuf *out, const struct alert_opts *o, const struct alert_rule *r,
		  const struct vm_fieldsrc *src, uint64_t wall_ns);

/* An alert of saker's own (source "internal", spec d.5): a fixed rule name, a message and
 * string-valued fields, no tags. */
struct alert_internal {
	const char *rule;     /* "saker internal: syscall event drop" */
	const char *priority; /* canonical name */
	const char *message;
	const char *const *keys;
	const char *const *values;
	size_t n;
};

/* Appends one internal alert (no trailing newline): the text line "<time>: <Priority>
 * <message> (k1="v1" ...)", or the JSON object with hostname, output, output_fields,
 * priority, rule, source and time (json_include_output/_output_fields apply). */
void alert_format_internal(struct strbuf *out, const struct alert_opts *o,
			   const struct alert_internal *a, uint64_t wall_ns);

/* "HH:MM:SS.nnnnnnnnn" in local time, or ISO 8601 UTC with "+0000" when iso. */
void alert_time_text(uint64_t wall_ns, bool iso, char *buf, size_t cap);

/* The host name alerts carry: $SAKER_HOSTNAME if set, else the system's. */
const char *alert_hostname(void);

#endif /* SAKER_ALERT_H */
