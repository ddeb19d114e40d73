#include "log.h"

#include <bpf/libbpf.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

static enum sk_log_level cur_level = SK_LOG_INFO;
static bool to_stderr = true, to_syslog;

static const char *const level_names[] = {
    [SK_LOG_ERROR] = "error",
    [SK_LOG_WARN] = "warning",
    [SK_LOG_INFO] = "info",
    [SK_LOG_DEBUG] = "debug",
};

void log_set_destinations(bool stderr_on, bool syslog_on)
{
	if (syslog_on && !to_syslog)
		openlog("saker", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	else if (!syslog_on && to_syslog)
		closelog();
	to_stderr = stderr_on;
	to_syslog = syslog_on;
}

void log_set_level(enum sk_log_level level)
{
	cur_level = level;
}

enum sk_log_level log_get_level(void)
{
	return cur_level;
}

int log_level_parse(const char *s)
{
	for (unsigned i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(s, level_names[i]) == 0)
			return (int)i;
	if (strcmp(s, "warn") == 0)
		return SK_LOG_WARN;
	return -1;
}

static void log_vmsg(enum sk_log_level level, const char *fmt, va_list ap)
{
	char line[2048];
	size_t n;

	if (level > cur_level)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';
	if (to_stderr)
		fprintf(stderr, "saker: %s: %s\n", level_names[level], line);
	if (to_syslog) {
		static const int sev[] = {[SK_LOG_ERROR] = LOG_ERR,
					  [SK_LOG_WARN] = LOG_WARNING,
					  [SK_LOG_INFO] = LOG_INFO,
					  [SK_LOG_DEBUG] = LOG_DEBUG};

		syslog(sev[level], "%s: %s", level_names[level], line);
	}
}

void log_msg(enum sk_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf prints its load failures (verifier logs included) as warnings; the loader
	 * reports the failure itself, so these are detail for -v. */
	enum sk_log_level l = level == LIBBPF_DEBUG ? SK_LOG_DEBUG + 1 : SK_LOG_DEBUG;
	char msg[4096];

	if ((int)l > (int)cur_level)
		return 0;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_msg(SK_LOG_DEBUG, "libbpf: %s", msg);
	return 0;
}

void log_install_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
