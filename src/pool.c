/*
 * pool.c: `scimd -w N`, a supervised pool of workers on descriptor 0.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fcgi.h"
#include "limits.h"
#include "log.h"
#include "pool.h"

struct worker {
	pid_t	pid;		/* 0: not running */
	time_t	started;	/* when it was forked */
	time_t	due;		/* when to start it again, if not running */
};

/* True when descriptor 0 is a socket in the listening state. */
static int
listening_on_stdin(void)
{
	int on = 0;
	socklen_t len = sizeof(on);

	return getsockopt(0, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 &&
	    on != 0;
}

/* Forks one worker into w; the child never returns from here.  0, or
 * -1 when fork failed (w is then due again a second later). */
static int
start_worker(struct worker *w, const sigset_t *old, const char *conf_path,
    const char *argv0)
{
	pid_t pid;

	w->started = time(NULL);
	if ((pid = fork()) < 0) {
		log_msg(LVL_ERROR, "pool: cannot start a worker: %s",
		    strerror(errno));
		w->pid = 0;
		w->due = w->started + 1;
		return -1;
	}
	if (pid == 0) {
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		sigprocmask(SIG_SETMASK, old, NULL);
		_exit(fcgi_run(conf_path, argv0));
	}
	w->pid = pid;
	return 0;
}

/* Records the end of every worker that ended; logs the unexpected ones
 * and makes each due again now, or a second after its start when it
 * lived less than a second (a worker that cannot start must not spin). */
static void
reap(struct worker *ws, int n, int stopping)
{
	pid_t pid;
	int status, i;
	time_t now = time(NULL);

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < n && ws[i].pid != pid; i++)
			;
		if (i == n)
			continue;
		ws[i].pid = 0;
		ws[i].due = now - ws[i].started < 1 ? ws[i].started + 1 : now;
		if (stopping)
			continue;
		if (WIFSIGNALED(status))
			log_msg(LVL_ERROR, "pool: worker %ld ended by signal "
			    "%d; starting another", (long)pid,
			    WTERMSIG(status));
		else
			log_msg(LVL_INFO, "pool: worker %ld exited with status "
			    "%d; starting another", (long)pid,
			    WEXITSTATUS(status));
	}
}

/* Starts the workers on descriptor 0's socket, starts again those that
 * exit (when due), and stops them all on SIGTERM, SIGINT or SIGHUP. */
int
pool_run(int workers, const char *conf_path, const char *argv0)
{
	struct worker ws[LIMIT_POOL_WORKERS];
	sigset_t set, old;
	siginfo_t si;
	struct timespec tick = { 1, 0 };
	int i, sig, running, stopping = 0;
	time_t now;

	log_init("scimd", LVL_INFO, 0);
	if (workers < 1 || workers > LIMIT_POOL_WORKERS) {
		log_msg(LVL_ERROR, "pool: -w takes 1 to %d workers",
		    LIMIT_POOL_WORKERS);
		return 2;
	}
	if (!listening_on_stdin()) {
		log_msg(LVL_ERROR, "pool: descriptor 0 is not a listening "
		    "socket (start scimd -w from a systemd socket unit with "
		    "StandardInput=socket, or spawn-fcgi -F 1)");
		return 1;
	}
	memset(ws, 0, sizeof(ws));
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, &old);
	for (i = 0; i < workers; i++)
		if (start_worker(&ws[i], &old, conf_path, argv0) != 0 && i == 0)
			return 1;
	for (;;) {
		sig = sigtimedwait(&set, &si, &tick);
		if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP)
			break;
		reap(ws, workers, 0);
		now = time(NULL);
		for (i = 0; i < workers; i++)
			if (ws[i].pid == 0 && ws[i].due <= now)
				(void)start_worker(&ws[i], &old, conf_path,
				    argv0);
	}

	/* Stop: each worker finishes the request in hand, then exits. */
	stopping = 1;
	for (i = 0; i < workers; i++)
		if (ws[i].pid > 0)
			kill(ws[i].pid, SIGTERM);
	for (;;) {
		reap(ws, workers, stopping);
		for (running = 0, i = 0; i < workers; i++)
			running += ws[i].pid > 0;
		if (running == 0)
			break;
		(void)sigtimedwait(&set, &si, &tick);
	}
	return 0;
}
