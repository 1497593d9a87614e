/*
 * log.h: one log interface, one line format, to stderr.
 *
 * lighttpd and Apache send a FastCGI or CGI program's stderr to their
 * error log, so that is where lines go.  Format:
 *	2026-11-23T03:59:04Z scimd[1234] info: message
 * Request bytes are escaped (err_escape) by callers; tokens, the
 * Authorization header and bodies are never logged.
 */
#ifndef SCIMD_LOG_H
#define SCIMD_LOG_H

enum { LVL_ERROR = 0, LVL_INFO = 1, LVL_DEBUG = 2 };

/* Sets the program name, the most verbose level written, and whether
 * lines go to syslog (facility daemon) instead of stderr. */
void	log_init(const char *ident, int level, int use_syslog);

/* "error", "info", "debug" to a level; -1 when unknown. */
int	log_level_parse(const char *s);

void	log_msg(int level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
