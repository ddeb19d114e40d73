/* Leveled logging to stderr, and the bridge for libbpf's own messages. Messages start
 * lowercase, state the problem first, name the object they are about, and end without a
 * period: "rule 'x': unknown field 'proc.nmae'". */
#ifndef SAKER_LOG_H
#define SAKER_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum sk_log_level {
	SK_LOG_ERROR,
	SK_LOG_WARN,
	SK_LOG_INFO,
	SK_LOG_DEBUG
};

void log_set_level(enum sk_log_level level);
/* Where messages go: stderr (the default) and/or syslog (facility daemon, tag "saker"). */
void log_set_destinations(bool to_stderr, bool to_syslog);
enum sk_log_level log_get_level(void);
/* Parses "error", "warning"/"warn", "info" or "debug"; returns -1 for anything else. */
int log_level_parse(const char *s);

void log_msg(enum sk_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(SK_LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(SK_LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(SK_LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(SK_LOG_DEBUG, __VA_ARGS__)

/* Routes libbpf's messages through log_msg (libbpf warnings at debug level unless verbose,
 * since libbpf reports probe failures we handle ourselves). */
void log_install_libbpf(void);

#endif /* SAKER_LOG_H */
