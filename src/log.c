/*
 * log.c: timestamped lines on stderr.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "limits.h"
#include "log.h"

static const char	*log_ident = "scimd";
static int		 log_level = LVL_INFO;
static int		 log_syslog;
static const char *const level_names[] = { "error", "info", "debug" };

/* Sets the program name, level and destination for every later line. */
void
log_init(const char *ident, int level, int use_syslog)
{
	log_ident = ident;
	log_level = level;
	log_syslog = use_syslog;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

/* A level from its name; -1 when unknown. */
int
log_level_parse(const char *s)
{
	int i;

	for (i = 0; i < 3; i++)
		if (strcmp(s, level_names[i]) == 0)
			return i;
	return -1;
}

/*
 * One line: UTC time, level, the message (bounded by
 * LIMIT_LOG_LINE_BYTES), to stderr or syslog; levels above the set one
 * are dropped.
 */
void
log_msg(int level, const char *fmt, ...)
{
	char when[32], text[LIMIT_LOG_LINE_BYTES];
	struct tm tm;
	time_t now;
	va_list ap;

	if (level > log_level)
		return;
	now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (log_syslog) {
		syslog(level == LVL_ERROR ? LOG_ERR : level == LVL_INFO ?
		    LOG_NOTICE : LOG_DEBUG, "%s", text);
		return;
	}
	fprintf(stderr, "%s %s[%ld] %s: %s\n", when, log_ident, (long)getpid(),
	    level_names[level < 0 ? 0 : level > 2 ? 2 : level], text);
}
