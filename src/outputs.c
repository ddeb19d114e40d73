#include "outputs.h"
#include "tls.h"

#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <resolv.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "strbuf.h"
#include "version.h"

#define DEFAULT_CAPACITY       10000u
#define DEFAULT_REPORT_MS      10000u
#define BATCH		       64  /* alerts a channel thread takes per lock */
#define SHUTDOWN_GRACE_MS      500 /* after the deadline, for interrupted sinks to close */
#define MONITOR_TICK_MS	       200
#define HTTP_MAX_HEAD	       32768	  /* response status line and headers */
#define HTTP_MAX_BODY	       (1u << 20) /* response bodies beyond this close the connection */
#define PROGRAM_MIN_BACKOFF_MS 100
#define PROGRAM_MAX_BACKOFF_MS 10000
#define PROGRAM_STABLE_MS      10000 /* a program that ran this long restarts without delay */

static const char *const kind_names[OUTPUT_NKINDS] = {"stdout", "file", "syslog", "program",
						      "http"};

const char *const outputs_syslog_facilities[] = {"user",   "daemon", "auth",   "authpriv", "syslog",
						 "local0", "local1", "local2", "local3",   "local4",
						 "local5", "local6", "local7", NULL};
static const int facility_codes[] = {1, 3, 4, 10, 5, 16, 17, 18, 19, 20, 21, 22, 23};

/* ------------------------------------------------------------------------ messages */

/* One alert, shared by every channel that queued it; freed by the last one. */
struct out_msg {
	atomic_uint refs;
	uint8_t prio; /* enum rules_priority: the syslog severity */
	bool json;    /* a JSON alert (http Content-Type) */
	size_t len;   /* without the newline */
	char data[];  /* len bytes, '\n', '\0' */
};

static void msg_put(struct out_msg *m)
{
	if (atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1)
		free(m);
}

/* ------------------------------------------------------------------------ channels */

struct channel;

struct sink_ops {
	/* Delivers m[0..n) in order, counting each as sent, failed or dropped_exit. */
	void (*deliver)(struct channel *ch, struct out_msg **m, size_t n);
	void (*reopen)(struct channel *ch); /* SIGUSR1; NULL: nothing to do */
	void (*close)(struct channel *ch);  /* flush and close (the thread's last act) */
	void (*free)(void *sink);
};

typedef _Atomic uint64_t counter_t;

struct channel {
	struct outputs *o;
	enum output_kind kind;
	const char *name;
	bool enabled;
	const struct sink_ops *ops;
	void *sink;

	pthread_t thr;
	bool started;	/* the thread exists */
	atomic_bool abandoned; /* still blocked after the deadline: left running */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct out_msg **ring; /* cap slots */
	size_t cap, head, n;
	bool waiting;  /* the thread sleeps on cv */
	bool draining; /* shutdown: deliver what is queued, then close */
	bool reopen;   /* SIGUSR1 pending */
	bool done;     /* the thread has closed the sink (o->mu) */
	atomic_bool hard_stop;
	int wake_fd; /* eventfd, readable once hard_stop is set: ends every wait */

	counter_t sent, dropped, failed, dropped_exit, reconnects, retries;
	/* the batch being delivered: its size, and sent + failed + dropped_exit before it (what
	 * an abandoned thread leaves uncounted) */
	counter_t batch_n, batch_base;
	counter_t busy_since; /* monotonic ms a sink operation started; 0: none */
	char last_error[256]; /* mu */

	/* the monitor's view: the counters at the start of the current interval */
	uint64_t rep_dropped, rep_failed, rep_busy, rep_blocked_at;
};

struct outputs {
	struct channel ch[OUTPUT_NKINDS];
	unsigned timeout_ms;
	unsigned report_ms;
	bool unbuffered; /* -U */
	bool buffered;	 /* buffered_outputs */
	uint64_t rep_at; /* start of the monitor's current interval */

	pthread_mutex_t mu; /* the fields below, and every channel's done */
	pthread_cond_t done_cv;
	pthread_cond_t mon_cv;
	bool stopping;
	pthread_t monitor;
	bool monitor_started;
	bool shut;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void abs_deadline(struct timespec *ts, uint64_t at_ms)
{
	ts->tv_sec = (time_t)(at_ms / 1000u);
	ts->tv_nsec = (long)(at_ms % 1000u) * 1000000L;
}

static void count(counter_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static uint64_t load(const counter_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

static uint64_t settled(const struct channel *ch)
{
	return load(&ch->sent) + load(&ch->failed) + load(&ch->dropped_exit);
}

static bool stopped(struct channel *ch)
{
	return atomic_load_explicit(&ch->hard_stop, memory_order_relaxed);
}

static void busy_begin(struct channel *ch)
{
	atomic_store_explicit(&ch->busy_since, now_ms() | 1u, memory_order_relaxed);
}

static void busy_end(struct channel *ch)
{
	atomic_store_explicit(&ch->busy_since, 0, memory_order_relaxed);
}

/* Records why a delivery failed (the monitor logs the last one with the failure count). */
static void channel_error(struct channel *ch, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void channel_error(struct channel *ch, const char *fmt, ...)
{
	char msg[sizeof(ch->last_error)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&ch->mu);
	memcpy(ch->last_error, msg, sizeof(msg));
	pthread_mutex_unlock(&ch->mu);
	log_debug("%s output: %s", ch->name, msg);
}

/* Waits until fd is ready for events (fd < 0: only sleeps) or until at_ms (monotonic; 0: no
 * limit). Returns 1 ready, 0 timed out, -1 stopped (the exit deadline passed). */
static int wait_until(struct channel *ch, int fd, short events, uint64_t at_ms)
{
	struct pollfd p[2] = {{ch->wake_fd, POLLIN, 0}, {fd, events, 0}};

	for (;;) {
		int timeout = -1, r;

		if (at_ms) {
			uint64_t now = now_ms();

			timeout = at_ms > now ? (int)(at_ms - now) : 0;
		}
		r = poll(p, 2, timeout);
		if (r < 0 && errno == EINTR)
			continue;
		if (p[0].revents || stopped(ch))
			return -1;
		if (r < 0)
			return -1;
		return r > 0 ? 1 : 0;
	}
}

/* Writes m[0..n) as lines to fd, waiting (poll) whenever it would block. Returns the
 * number of alerts written whole; *err is 0, an errno, or ECANCELED (stopped). */
static size_t write_lines(struct channel *ch, int fd, struct out_msg **m, size_t n, int *err)
{
	size_t done = 0, off = 0; /* off: bytes of m[done] already written */

	*err = 0;
	while (done < n) {
		struct iovec iov[BATCH];
		int k = 0;
		ssize_t w;

		for (size_t i = done; i < n && k < BATCH; i++, k++) {
			size_t skip = i == done ? off : 0;

			iov[k].iov_base = m[i]->data + skip;
			iov[k].iov_len = m[i]->len + 1 - skip;
		}
		w = writev(fd, iov, k);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				if (wait_until(ch, fd, POLLOUT, 0) < 0) {
					*err = ECANCELED;
					return done;
				}
				continue;
			}
			*err = errno;
			return done;
		}
		for (size_t left = (size_t)w; left;) {
			size_t rem = m[done]->len + 1 - off;

			if (left >= rem) {
				left -= rem;
				done++;
				off = 0;
			} else {
				off += left;
				left = 0;
			}
		}
	}
	return done;
}

/* Delivers one alert at a time through one(): 0 sent, else failed. */
static void deliver_each(struct channel *ch, struct out_msg **m, size_t n,
			 int (*one)(struct channel *, struct out_msg *))
{
	for (size_t i = 0; i < n; i++) {
		if (stopped(ch)) {
			count(&ch->dropped_exit, n - i);
			return;
		}
		busy_begin(ch);
		if (one(ch, m[i]) == 0)
			count(&ch->sent, 1);
		else if (stopped(ch))
			count(&ch->dropped_exit, 1);
		else
			count(&ch->failed, 1);
		busy_end(ch);
	}
}

static void *channel_main(void *arg)
{
	struct channel *ch = arg;
	struct outputs *o = ch->o;
	struct out_msg *batch[BATCH];

	for (;;) {
		size_t k = 0;
		bool reopen, last;

		pthread_mutex_lock(&ch->mu);
		while (!ch->n && !ch->draining && !ch->reopen) {
			ch->waiting = true;
			pthread_cond_wait(&ch->cv, &ch->mu);
			ch->waiting = false;
		}
		for (; k < BATCH && ch->n; k++) {
			batch[k] = ch->ring[ch->head];
			ch->head = ch->head + 1 == ch->cap ? 0 : ch->head + 1;
			ch->n--;
		}
		reopen = ch->reopen;
		ch->reopen = false;
		last = ch->draining && !ch->n;
		pthread_mutex_unlock(&ch->mu);

		if (reopen && ch->ops->reopen && !stopped(ch))
			ch->ops->reopen(ch);
		if (k) {
			if (stopped(ch)) {
				count(&ch->dropped_exit, k);
			} else {
				atomic_store(&ch->batch_base, settled(ch));
				atomic_store(&ch->batch_n, k);
				ch->ops->deliver(ch, batch, k);
				atomic_store(&ch->batch_n, 0);
			}
			for (size_t i = 0; i < k; i++)
				msg_put(batch[i]);
		}
		if (last)
			break;
	}
	ch->ops->close(ch);
	pthread_mutex_lock(&o->mu);
	ch->done = true;
	pthread_cond_broadcast(&o->done_cv);
	pthread_mutex_unlock(&o->mu);
	return NULL;
}

/* ------------------------------------------------------------------------ stdout */

/* Through stdio, so that alert lines and --dump lines written by the event loop never cut
 * into each other (the FILE lock keeps each fwrite whole). */
struct stdout_sink {
	FILE *f;
	uint64_t unflushed; /* alerts written since the last flush */
};

static void stdout_flush(struct channel *ch)
{
	struct stdout_sink *s = ch->sink;

	if (fflush(s->f) == 0 && !ferror(s->f)) {
		count(&ch->sent, s->unflushed);
	} else {
		channel_error(ch, "write: %s", strerror(errno));
		count(&ch->failed, s->unflushed);
		clearerr(s->f);
	}
	s->unflushed = 0;
}

static void stdout_deliver(struct channel *ch, struct out_msg **m, size_t n)
{
	struct stdout_sink *s = ch->sink;

	busy_begin(ch);
	for (size_t i = 0; i < n; i++) {
		if (fwrite(m[i]->data, 1, m[i]->len + 1, s->f) != m[i]->len + 1) {
			channel_error(ch, "write: %s", strerror(errno));
			count(&ch->failed, 1);
			clearerr(s->f);
			continue;
		}
		if (ch->o->buffered && !ch->o->unbuffered) {
			count(&ch->sent, 1); /* stdio flushes when its buffer fills */
			continue;
		}
		s->unflushed++;
		if (ch->o->unbuffered)
			stdout_flush(ch);
	}
	/* Flushed whenever the queue runs dry: one write per batch under load, one per alert
	 * otherwise. */
	if (!ch->o->buffered)
		stdout_flush(ch);
	busy_end(ch);
}

static void stdout_close(struct channel *ch)
{
	struct stdout_sink *s = ch->sink;

	if (fflush(s->f) || ferror(s->f)) {
		channel_error(ch, "write: %s", strerror(errno));
		clearerr(s->f);
	}
}

static const struct sink_ops stdout_ops = {stdout_deliver, NULL, stdout_close, free};

/* The stdout thread is stuck in write() at exit: point fd 1 at /dev/null, so that exit()'s
 * own flush of stdout's buffer does not get stuck the same way (the stuck write goes on
 * waiting on the old pipe until the process is gone). */
static void stdout_abandon(struct channel *ch)
{
	struct stdout_sink *s = ch->sink;
	int fd = fileno(s->f), null = open("/dev/null", O_WRONLY | O_CLOEXEC);

	if (fd >= 0 && null >= 0 && dup2(null, fd) < 0)
		log_debug("stdout output: dup2: %s", strerror(errno));
	if (null >= 0)
		close(null);
}

/* ------------------------------------------------------------------------ file */

struct file_sink {
	char *path;
	bool keep_alive;
	int fd;
};

static void file_deliver(struct channel *ch, struct out_msg **m, size_t n)
{
	struct file_sink *s = ch->sink;
	size_t done;
	int err;

	busy_begin(ch);
	if (s->fd < 0) {
		/* O_NONBLOCK: a FIFO without a reader is an error, not a hang */
		s->fd =
		    open(s->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
			 0600);
		if (s->fd < 0) {
			channel_error(ch, "cannot open '%s': %s", s->path, strerror(errno));
			count(&ch->failed, n);
			busy_end(ch);
			return;
		}
	}
	done = write_lines(ch, s->fd, m, n, &err);
	count(&ch->sent, done);
	if (done < n) {
		if (err == ECANCELED) {
			count(&ch->dropped_exit, n - done);
		} else {
			channel_error(ch, "cannot write to '%s': %s", s->path, strerror(err));
			count(&ch->failed, n - done);
		}
	}
	/* keep_alive false: closed after each batch (one alert at a time when alerts are
	 * rare); after an error, reopened for the next one */
	if (!s->keep_alive || done < n) {
		close(s->fd);
		s->fd = -1;
	}
	busy_end(ch);
}

static void file_reopen(struct channel *ch)
{
	struct file_sink *s = ch->sink;

	if (s->fd >= 0) {
		close(s->fd);
		s->fd = -1;
	}
	count(&ch->reconnects, 1);
}

static void file_close(struct channel *ch)
{
	struct file_sink *s = ch->sink;

	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

static void file_free(void *p)
{
	struct file_sink *s = p;

	if (s)
		free(s->path);
	free(s);
}

static const struct sink_ops file_ops = {file_deliver, file_reopen, file_close, file_free};

/* ------------------------------------------------------------------------ syslog */

/* Written to the local socket in the format glibc's syslog(3) sends (RFC 3164 with the
 * local time): "<PRI>Mmm dd hh:mm:ss saker[PID]: alert". Hand-written rather than syslog(3)
 * for a configurable socket, a send timeout and counted failures. */
struct syslog_sink {
	struct sockaddr_un addr;
	socklen_t alen;
	int fd;
	int type; /* SOCK_DGRAM, or SOCK_STREAM where /dev/log is a stream socket */
	int facility;
	struct strbuf buf;
};

static int syslog_connect(struct channel *ch, struct syslog_sink *s)
{
	static const int types[] = {SOCK_DGRAM, SOCK_STREAM};

	for (size_t i = 0; i < 2; i++) {
		int fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

		if (fd < 0)
			break;
		if (connect(fd, (struct sockaddr *)&s->addr, s->alen) == 0) {
			s->fd = fd;
			s->type = types[i];
			return 0;
		}
		close(fd);
		if (errno != EPROTOTYPE)
			break;
	}
	channel_error(ch, "cannot connect to '%s': %s", s->addr.sun_path, strerror(errno));
	return -1;
}

static void syslog_disconnect(struct syslog_sink *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

/* Sends the whole buffer before the deadline. Returns 0 or an errno. */
static int syslog_send(struct channel *ch, struct syslog_sink *s, uint64_t deadline)
{
	size_t off = 0, len = s->buf.len + (s->type == SOCK_STREAM); /* stream: with its NUL */

	while (off < len) {
		ssize_t w = send(s->fd, s->buf.buf + off, len - off, MSG_NOSIGNAL);
		int r;

		if (w >= 0) {
			off += (size_t)w;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return errno;
		r = wait_until(ch, s->fd, POLLOUT, deadline);
		if (r < 0)
			return ECANCELED;
		if (r == 0)
			return ETIMEDOUT;
	}
	return 0;
}

static int syslog_one(struct channel *ch, struct out_msg *m)
{
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	struct syslog_sink *s = ch->sink;
	uint64_t deadline = now_ms() + ch->o->timeout_ms;
	time_t t = time(NULL);
	struct tm tm;
	int err = 0;

	localtime_r(&t, &tm);
	sb_reset(&s->buf);
	sb_addf(&s->buf, "<%d>%s %2d %02d:%02d:%02d saker[%d]: ", s->facility * 8 + (m->prio & 7),
		months[tm.tm_mon % 12], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		(int)getpid());
	sb_add(&s->buf, m->data, m->len);
	/* twice: a receiver that restarted leaves a dead socket behind */
	for (int attempt = 0; attempt < 2; attempt++) {
		if (s->fd < 0) {
			if (syslog_connect(ch, s))
				return -1;
			if (attempt)
				count(&ch->reconnects, 1);
		}
		err = syslog_send(ch, s, deadline);
		if (!err)
			return 0;
		if (err == ECANCELED)
			return -1;
		syslog_disconnect(s);
		if (err != ECONNREFUSED && err != ENOTCONN && err != EPIPE && err != ECONNRESET &&
		    err != ENOENT)
			break;
	}
	channel_error(ch, "cannot send to '%s': %s", s->addr.sun_path,
		      err == ETIMEDOUT ? "timed out (the receiver does not read)" : strerror(err));
	return -1;
}

static void syslog_deliver(struct channel *ch, struct out_msg **m, size_t n)
{
	deliver_each(ch, m, n, syslog_one);
}

static void syslog_close(struct channel *ch)
{
	syslog_disconnect(ch->sink);
}

static void syslog_free(void *p)
{
	struct syslog_sink *s = p;

	if (s)
		sb_release(&s->buf);
	free(s);
}

static const struct sink_ops syslog_ops = {syslog_deliver, NULL, syslog_close, syslog_free};

/* ------------------------------------------------------------------------ program */

/* "sh -c PROGRAM" with the alerts on its stdin, its stdout sent to saker's stderr (never
 * mixed into the alerts on stdout). keep_alive: one long-lived program, restarted with a
 * backoff when it exits; otherwise a program per alert, as the reference's popen/pclose. */
struct program_sink {
	char *cmd;
	bool keep_alive;
	pid_t pid; /* -1: not running */
	int fd;	   /* its stdin */
	uint64_t started_at, next_start;
	unsigned backoff_ms;
};

static int program_spawn(struct channel *ch, struct program_sink *s)
{
	char *argv[] = {"sh", "-c", s->cmd, NULL};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	int p[2], err;

	if (pipe2(p, O_CLOEXEC)) {
		channel_error(ch, "cannot make a pipe: %s", strerror(errno));
		return -1;
	}
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[0], 0);
	posix_spawn_file_actions_adddup2(&fa, 2, 1);
	posix_spawnattr_init(&at);
	/* its own process group (a terminal's Ctrl-C does not reach it before saker has
	 * written what is queued; the group is killed at the exit deadline), default signal
	 * dispositions (saker ignores SIGPIPE) and none blocked */
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
					  POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	err = posix_spawn(&s->pid, "/bin/sh", &fa, &at, argv, environ);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	close(p[0]);
	if (err) {
		close(p[1]);
		s->pid = -1;
		channel_error(ch, "cannot start /bin/sh: %s", strerror(err));
		return -1;
	}
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	s->fd = p[1];
	s->started_at = now_ms();
	return 0;
}

static void describe_status(int st, char *buf, size_t cap)
{
	if (st < 0)
		snprintf(buf, cap, "lost");
	else if (WIFEXITED(st))
		snprintf(buf, cap, "exit status %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(buf, cap, "killed by signal %d", WTERMSIG(st));
	else
		snprintf(buf, cap, "status 0x%x", (unsigned)st);
}

/* Closes the program's stdin and waits for it to exit, at most wait_ms (0: until the exit
 * deadline); then kills its process group. Returns its wait status, or -1. */
static int program_stop(struct channel *ch, struct program_sink *s, unsigned wait_ms)
{
	uint64_t until = wait_ms ? now_ms() + wait_ms : 0;
	int pidfd = (int)syscall(SYS_pidfd_open, s->pid, 0);
	int st = -1;

	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	for (;;) {
		pid_t r = waitpid(s->pid, &st, WNOHANG);
		int w;

		if (r == s->pid || (r < 0 && errno != EINTR))
			break;
		if (r < 0)
			continue;
		/* no pidfd (a kernel before 5.3): look again every 10 ms */
		if (pidfd >= 0)
			w = wait_until(ch, pidfd, POLLIN, until);
		else
			w = wait_until(ch, -1, 0,
				       until && until < now_ms() + 10 ? until : now_ms() + 10);
		if (w < 0 || (w == 0 && until && now_ms() >= until)) {
			kill(-s->pid, SIGKILL);
			kill(s->pid, SIGKILL);
			while (waitpid(s->pid, &st, 0) < 0 && errno == EINTR)
				;
			break;
		}
	}
	if (pidfd >= 0)
		close(pidfd);
	s->pid = -1;
	return st;
}

/* The long-lived program ended (or stopped reading): restart it, sooner if it ran long. */
static void program_lost(struct channel *ch, struct program_sink *s, int st)
{
	uint64_t now = now_ms();
	char why[64];

	describe_status(st, why, sizeof(why));
	if (now - s->started_at >= PROGRAM_STABLE_MS)
		s->backoff_ms = 0;
	else if (!s->backoff_ms)
		s->backoff_ms = PROGRAM_MIN_BACKOFF_MS;
	else if (s->backoff_ms < PROGRAM_MAX_BACKOFF_MS / 2)
		s->backoff_ms *= 2;
	else
		s->backoff_ms = PROGRAM_MAX_BACKOFF_MS;
	s->next_start = now + s->backoff_ms;
	count(&ch->reconnects, 1);
	log_warn("program output: '%s' ended (%s); restarting it in %u ms", s->cmd, why,
		 s->backoff_ms);
}

static int program_one_kept(struct channel *ch, struct out_msg *m)
{
	struct program_sink *s = ch->sink;
	int err = 0;

	/* twice: when the program has ended, the alert goes to the next one */
	for (int attempt = 0; attempt < 2; attempt++) {
		int st;

		if (s->pid > 0 && waitpid(s->pid, &st, WNOHANG) == s->pid) {
			s->pid = -1;
			close(s->fd);
			s->fd = -1;
			program_lost(ch, s, st);
		}
		if (s->pid < 0) {
			if (s->next_start > now_ms() && wait_until(ch, -1, 0, s->next_start) < 0)
				return -1;
			if (program_spawn(ch, s))
				return -1;
		}
		if (write_lines(ch, s->fd, &m, 1, &err) == 1)
			return 0;
		if (err == ECANCELED)
			return -1;
		/* EPIPE: it closed its stdin or ended */
		program_lost(ch, s, program_stop(ch, s, 1000));
	}
	channel_error(ch, "cannot write to '%s': %s", s->cmd, strerror(err));
	return -1;
}

static int program_one_each(struct channel *ch, struct out_msg *m)
{
	struct program_sink *s = ch->sink;
	char why[64];
	int err, st;
	size_t done;

	if (program_spawn(ch, s))
		return -1;
	done = write_lines(ch, s->fd, &m, 1, &err);
	st = program_stop(ch, s, 0);
	if (stopped(ch))
		return -1;
	if (!done) {
		channel_error(ch, "cannot write to '%s': %s", s->cmd, strerror(err));
		return -1;
	}
	if (st != 0) {
		describe_status(st, why, sizeof(why));
		channel_error(ch, "'%s' failed (%s)", s->cmd, why);
		return -1;
	}
	return 0;
}

static void program_deliver(struct channel *ch, struct out_msg **m, size_t n)
{
	struct program_sink *s = ch->sink;

	deliver_each(ch, m, n, s->keep_alive ? program_one_kept : program_one_each);
}

static void program_reopen(struct channel *ch)
{
	struct program_sink *s = ch->sink;

	if (s->pid > 0) {
		program_stop(ch, s, 1000);
		count(&ch->reconnects, 1);
	}
	s->backoff_ms = 0;
	s->next_start = 0;
}

static void program_close(struct channel *ch)
{
	struct program_sink *s = ch->sink;

	if (s->pid > 0)
		program_stop(ch, s, 0);
}

static void program_free(void *p)
{
	struct program_sink *s = p;

	if (s)
		free(s->cmd);
	free(s);
}

static const struct sink_ops program_ops = {program_deliver, program_reopen, program_close,
					    program_free};

/* ------------------------------------------------------------------------ http */

/* A small, strict HTTP/1.1 client: one request at a time on a kept-alive connection; the
 * response's status line, headers and body (Content-Length, chunked, or up to the close)
 * are read whole so that the connection can carry the next request. https:// runs the same
 * over TLS (tls.h). */
struct http_sink {
	struct http_url url;
	char *user_agent;
	char **headers; /* "Name: value" */
	size_t n_headers;
	bool custom_ctype; /* a Content-Type among headers replaces saker's */
	bool keep_alive;
	unsigned retries;
	bool connected_once;

	int fd;	     /* -1: not connected */
	struct tls_config *tls; /* https: the CAs and client certificate; NULL: http */
	struct tls_conn *tc;	/* https: the connection's TLS layer */
	bool rx_any; /* a byte of the current response arrived */
	struct strbuf head;
	char buf[16384];
	size_t blen, bpos;
};

static void http_disconnect(struct http_sink *s)
{
	tls_conn_free(s->tc);
	s->tc = NULL;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->blen = s->bpos = 0;
}

/* Where a host name points, found without NSS: an address literal, then the hosts file,
 * then DNS through the servers, search domains and ndots of /etc/resolv.conf (res_nsearch).
 * getaddrinfo() would, in the static binary, dlopen whatever NSS modules the host's
 * nsswitch.conf names, built for another glibc. */
struct host_addrs {
	int n;
	struct sockaddr_storage sa[8];
	socklen_t len[8];
};

static void addrs_add(struct host_addrs *h, int family, const void *addr, unsigned port)
{
	struct sockaddr_storage *ss;

	if (h->n == 8)
		return;
	ss = &h->sa[h->n];
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		memcpy(&a->sin_addr, addr, 4);
		h->len[h->n++] = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		memcpy(&a->sin6_addr, addr, 16);
		h->len[h->n++] = sizeof(*a);
	}
}

/* Adds the host's addresses from a hosts file ("address name alias..." lines). */
static void hosts_file(const char *path, const char *host, unsigned port, struct host_addrs *h)
{
	FILE *f = fopen(path, "re");
	char line[1024];

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *save = NULL, *addr, *name;
		unsigned char bin[16];
		int fam;

		line[strcspn(line, "#\n")] = '\0';
		addr = strtok_r(line, " \t", &save);
		if (!addr)
			continue;
		fam = inet_pton(AF_INET, addr, bin) == 1    ? AF_INET
		      : inet_pton(AF_INET6, addr, bin) == 1 ? AF_INET6
							    : 0;
		while (fam && (name = strtok_r(NULL, " \t", &save)))
			if (!strcasecmp(name, host)) {
				addrs_add(h, fam, bin, port);
				break;
			}
	}
	fclose(f);
}

/* Adds the records of type qtype (A or AAAA) of a DNS answer. */
static void dns_answer(const unsigned char *ans, int len, int qtype, unsigned port,
		       struct host_addrs *h)
{
	const unsigned char *p = ans + 12, *end = ans + len;
	unsigned qd, an;

	if (len < 12)
		return;
	qd = (unsigned)ans[4] << 8 | ans[5];
	an = (unsigned)ans[6] << 8 | ans[7];
	while (qd--) {
		int k = dn_skipname(p, end);

		if (k < 0 || end - p < k + 4)
			return;
		p += k + 4;
	}
	while (an--) {
		int k = dn_skipname(p, end);
		unsigned type, class, rdlen;

		if (k < 0 || end - p < k + 10)
			return;
		p += k;
		type = (unsigned)p[0] << 8 | p[1];
		class = (unsigned)p[2] << 8 | p[3];
		rdlen = (unsigned)p[8] << 8 | p[9];
		p += 10;
		if ((size_t)(end - p) < rdlen)
			return;
		if ((int)type == qtype && class == 1 && rdlen == (qtype == 1 ? 4u : 16u))
			addrs_add(h, qtype == 1 ? AF_INET : AF_INET6, p, port);
		p += rdlen;
	}
}

static int resolve_host(struct channel *ch, const char *host, unsigned port, struct host_addrs *h)
{
	static const int qtypes[] = {1 /* A */, 28 /* AAAA */};
	unsigned char bin[16], ans[4096];
	struct __res_state st;

	h->n = 0;
	if (inet_pton(AF_INET, host, bin) == 1) {
		addrs_add(h, AF_INET, bin, port);
		return 0;
	}
	if (inet_pton(AF_INET6, host, bin) == 1) {
		addrs_add(h, AF_INET6, bin, port);
		return 0;
	}
	hosts_file("/etc/hosts", host, port, h);
	if (h->n)
		return 0;
	memset(&st, 0, sizeof(st));
	if (res_ninit(&st)) {
		channel_error(ch, "cannot resolve '%s': no resolver configuration", host);
		return -1;
	}
	for (size_t i = 0; i < 2 && !h->n; i++) {
		int n = res_nsearch(&st, host, 1 /* IN */, qtypes[i], ans, sizeof(ans));

		if (n > 0)
			dns_answer(ans, n < (int)sizeof(ans) ? n : (int)sizeof(ans), qtypes[i],
				   port, h);
	}
	if (!h->n)
		channel_error(ch, "cannot resolve '%s': %s", host,
			      st.res_h_errno == HOST_NOT_FOUND ? "no such host"
			      : st.res_h_errno == TRY_AGAIN    ? "no answer from the name servers"
							       : "no address");
	res_nclose(&st);
	return h->n ? 0 : -1;
}

/* Waits for what a TLS call wants. Returns 0, or -1 with errno ETIMEDOUT or ECANCELED. */
static int tls_wait(struct channel *ch, struct http_sink *s, ssize_t want, uint64_t deadline)
{
	int r = wait_until(ch, s->fd, want == TLS_WANT_WRITE ? POLLOUT : POLLIN, deadline);

	if (r > 0)
		return 0;
	errno = r < 0 ? ECANCELED : ETIMEDOUT;
	return -1;
}

/* The TLS handshake on the connected socket, before the deadline. */
static int http_tls_start(struct channel *ch, struct http_sink *s, uint64_t deadline)
{
	char err[512];
	int r;

	s->tc = tls_conn_new(s->tls, s->fd, s->url.host);
	if (!s->tc) {
		channel_error(ch, "%s: out of memory", s->url.hostport);
		return -1;
	}
	while ((r = tls_handshake(s->tc, err, sizeof(err))) != 0) {
		if (r == -1) {
			channel_error(ch, "%s: %s", s->url.hostport, err);
			return -1;
		}
		if (tls_wait(ch, s, r, deadline)) {
			channel_error(ch, "%s: TLS handshake: %s", s->url.hostport,
				      errno == ETIMEDOUT ? "timed out" : strerror(errno));
			return -1;
		}
	}
	return 0;
}

static int http_connect(struct channel *ch, struct http_sink *s, uint64_t deadline)
{
	struct host_addrs h;
	int err = ENOENT, one = 1;

	if (resolve_host(ch, s->url.host, (unsigned)atoi(s->url.port), &h))
		return -1;
	for (int i = 0; i < h.n; i++) {
		int fd = socket(h.sa[i].ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		socklen_t elen = sizeof(err);
		int r;

		if (fd < 0) {
			err = errno;
			continue;
		}
		if (connect(fd, (struct sockaddr *)&h.sa[i], h.len[i]) == 0) {
			s->fd = fd;
			break;
		}
		err = errno;
		if (err == EINPROGRESS) {
			r = wait_until(ch, fd, POLLOUT, deadline);
			if (r > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == 0 &&
			    !err) {
				s->fd = fd;
				break;
			}
			if (r <= 0)
				err = r < 0 ? ECANCELED : ETIMEDOUT;
		}
		close(fd);
		if (err == ECANCELED)
			break;
	}
	if (s->fd < 0) {
		channel_error(ch, "cannot connect to %s: %s", s->url.hostport, strerror(err));
		return -1;
	}
	setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (s->tls && http_tls_start(ch, s, deadline)) {
		http_disconnect(s);
		return -1;
	}
	if (s->connected_once)
		count(&ch->reconnects, 1);
	s->connected_once = true;
	return 0;
}

/* More response bytes into buf. Returns the count, 0 at the end of the stream, or -1 with
 * errno (ETIMEDOUT, ECANCELED, EPROTO when the buffer is full). */
static ssize_t http_fill(struct channel *ch, struct http_sink *s, uint64_t deadline)
{
	if (s->bpos) {
		memmove(s->buf, s->buf + s->bpos, s->blen - s->bpos);
		s->blen -= s->bpos;
		s->bpos = 0;
	}
	if (s->blen == sizeof(s->buf)) {
		errno = EPROTO;
		return -1;
	}
	for (;;) {
		ssize_t r;
		int w;

		if (s->tc) {
			r = tls_read(s->tc, s->buf + s->blen, sizeof(s->buf) - s->blen);
			if (r == TLS_WANT_READ || r == TLS_WANT_WRITE) {
				if (tls_wait(ch, s, r, deadline))
					return -1;
				continue;
			}
			if (r > 0) {
				s->blen += (size_t)r;
				s->rx_any = true;
			}
			return r;
		}
		r = recv(s->fd, s->buf + s->blen, sizeof(s->buf) - s->blen, 0);

		if (r > 0) {
			s->blen += (size_t)r;
			s->rx_any = true;
			return r;
		}
		if (r == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -1;
		w = wait_until(ch, s->fd, POLLIN, deadline);
		if (w <= 0) {
			errno = w < 0 ? ECANCELED : ETIMEDOUT;
			return -1;
		}
	}
}

/* The next line, without its CRLF (a bare LF is taken too), NUL-terminated in place. */
static char *http_line(struct channel *ch, struct http_sink *s, uint64_t deadline, size_t *used)
{
	for (;;) {
		char *start = s->buf + s->bpos;
		char *nl = memchr(start, '\n', s->blen - s->bpos);
		ssize_t r;

		if (nl) {
			size_t n = (size_t)(nl - start);

			*used += n + 1;
			if (*used > HTTP_MAX_HEAD) {
				errno = EPROTO;
				return NULL;
			}
			if (n && start[n - 1] == '\r')
				n--;
			start[n] = '\0';
			s->bpos += (size_t)(nl - start) + 1;
			if (memchr(start, '\0', n)) {
				errno = EPROTO;
				return NULL;
			}
			return start;
		}
		r = http_fill(ch, s, deadline);
		if (r <= 0) {
			if (r == 0)
				errno = ECONNRESET;
			return NULL;
		}
	}
}

/* Reads and throws away n body bytes (n == SIZE_MAX: up to the end of the stream). */
static int http_skip(struct channel *ch, struct http_sink *s, size_t n, uint64_t deadline)
{
	while (n) {
		size_t have = s->blen - s->bpos;
		ssize_t r;

		if (have) {
			size_t k = have < n ? have : n;

			s->bpos += k;
			if (n != SIZE_MAX)
				n -= k;
			continue;
		}
		r = http_fill(ch, s, deadline);
		if (r < 0)
			return -1;
		if (r == 0) {
			if (n == SIZE_MAX)
				return 0;
			errno = ECONNRESET;
			return -1;
		}
	}
	return 0;
}

static bool token_in_list(const char *list, const char *token)
{
	size_t tl = strlen(token);

	for (const char *p = list; *p;) {
		const char *end;
		size_t n;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		end = p;
		while (*end && *end != ',')
			end++;
		n = (size_t)(end - p);
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == tl && !strncasecmp(p, token, tl))
			return true;
		p = end;
	}
	return false;
}

/* A strict decimal or hex number (no sign, no space); false when it does not fit. */
static bool parse_size(const char *p, size_t len, int base, size_t *out)
{
	size_t v = 0;

	if (!len)
		return false;
	for (size_t i = 0; i < len; i++) {
		int d;

		if (p[i] >= '0' && p[i] <= '9')
			d = p[i] - '0';
		else if (base == 16 && p[i] >= 'a' && p[i] <= 'f')
			d = p[i] - 'a' + 10;
		else if (base == 16 && p[i] >= 'A' && p[i] <= 'F')
			d = p[i] - 'A' + 10;
		else
			return false;
		if (v > (SIZE_MAX - (size_t)d) / (size_t)base)
			return false;
		v = v * (size_t)base + (size_t)d;
	}
	*out = v;
	return true;
}

/* One response: its status, and whether the connection can carry the next request.
 * Returns 0, or -1 with errno (EPROTO: not HTTP/1.x as it should be). */
static int http_response(struct channel *ch, struct http_sink *s, uint64_t deadline, int *status,
			 bool *reusable)
{
	bool keep;

	for (;;) {
		size_t used = 0, clen = 0, nhdr = 0;
		bool has_clen = false, chunked = false, until_close = false;
		char *line = http_line(ch, s, deadline, &used);
		int minor;

		if (!line)
			return -1;
		/* "HTTP/1.x SSS reason" */
		if (strncmp(line, "HTTP/1.", 7) || (line[7] != '0' && line[7] != '1') ||
		    line[8] != ' ' || line[9] < '1' || line[9] > '5' || line[10] < '0' ||
		    line[10] > '9' || line[11] < '0' || line[11] > '9' ||
		    (line[12] && line[12] != ' ')) {
			errno = EPROTO;
			return -1;
		}
		minor = line[7] - '0';
		*status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
		keep = minor >= 1;
		while ((line = http_line(ch, s, deadline, &used)) && *line) {
			char *colon = strchr(line, ':'), *v;
			size_t vl;

			if (!colon || colon == line || ++nhdr > 100 ||
			    strcspn(line, " \t") < (size_t)(colon - line)) {
				errno = EPROTO;
				return -1;
			}
			*colon = '\0';
			for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
				;
			vl = strlen(v);
			while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
				v[--vl] = '\0';
			if (!strcasecmp(line, "content-length")) {
				size_t n;

				if (!parse_size(v, vl, 10, &n) || (has_clen && n != clen)) {
					errno = EPROTO;
					return -1;
				}
				clen = n;
				has_clen = true;
			} else if (!strcasecmp(line, "transfer-encoding")) {
				const char *last = strrchr(v, ',');

				last = last ? last + 1 : v;
				while (*last == ' ')
					last++;
				if (!strcasecmp(last, "chunked"))
					chunked = true;
				else
					until_close = true;
			} else if (!strcasecmp(line, "connection")) {
				if (token_in_list(v, "close"))
					keep = false;
				else if (token_in_list(v, "keep-alive"))
					keep = true;
			}
		}
		if (!line)
			return -1;
		if (*status == 101) {
			errno = EPROTO;
			return -1;
		}
		if (*status < 200)
			continue; /* 100 Continue and friends: the real answer follows */
		if (*status == 204 || *status == 304)
			break;
		if (chunked && !until_close) {
			size_t total = 0;

			for (;;) {
				size_t n, hl;

				line = http_line(ch, s, deadline, &used);
				if (!line)
					return -1;
				hl = strcspn(line, "; \t");
				if (!parse_size(line, hl, 16, &n) || n > HTTP_MAX_BODY - total) {
					errno = EPROTO;
					return -1;
				}
				total += n;
				if (!n)
					break;
				if (http_skip(ch, s, n, deadline))
					return -1;
				used = 0;
				line = http_line(ch, s, deadline, &used);
				if (!line)
					return -1;
				if (*line) {
					errno = EPROTO;
					return -1;
				}
			}
			used = 0;
			while ((line = http_line(ch, s, deadline, &used)) && *line)
				; /* trailers */
			if (!line)
				return -1;
		} else if (has_clen && !until_close) {
			if (clen > HTTP_MAX_BODY) {
				keep = false; /* not worth reading to keep the connection */
			} else if (http_skip(ch, s, clen, deadline)) {
				return -1;
			}
		} else {
			keep = false;
			if (http_skip(ch, s, SIZE_MAX, deadline))
				return -1;
		}
		break;
	}
	*reusable = keep && s->bpos == s->blen; /* no pipelining: leftovers mean confusion */
	return 0;
}

/* Sends the request head and body before the deadline. Returns 0, or -1 with errno. */
static int http_send(struct channel *ch, struct http_sink *s, const struct out_msg *m,
		     uint64_t deadline)
{
	size_t total = s->head.len + m->len, off = 0;

	while (s->tc && off < total) {
		const char *p = off < s->head.len ? s->head.buf + off : m->data + (off - s->head.len);
		size_t n = off < s->head.len ? s->head.len - off : total - off;
		ssize_t w = tls_write(s->tc, p, n);

		if (w > 0)
			off += (size_t)w;
		else if (w == -1 || tls_wait(ch, s, w, deadline))
			return -1;
	}
	while (off < total) {
		struct iovec iov[2];
		struct msghdr mh = {.msg_iov = iov};
		ssize_t w;
		int r;

		if (off < s->head.len) {
			iov[0] = (struct iovec){s->head.buf + off, s->head.len - off};
			iov[1] = (struct iovec){(void *)m->data, m->len};
			mh.msg_iovlen = 2;
		} else {
			iov[0] =
			    (struct iovec){(void *)(m->data + (off - s->head.len)), total - off};
			mh.msg_iovlen = 1;
		}
		w = sendmsg(s->fd, &mh, MSG_NOSIGNAL);
		if (w >= 0) {
			off += (size_t)w;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -1;
		r = wait_until(ch, s->fd, POLLOUT, deadline);
		if (r <= 0) {
			errno = r < 0 ? ECANCELED : ETIMEDOUT;
			return -1;
		}
	}
	return 0;
}

static void http_build_head(struct http_sink *s, const struct out_msg *m)
{
	sb_reset(&s->head);
	sb_addf(&s->head, "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\n", s->url.path,
		s->url.hostport, s->user_agent);
	if (!s->custom_ctype)
		sb_addf(&s->head, "Content-Type: %s\r\n",
			m->json ? "application/json" : "text/plain");
	sb_addf(&s->head, "Content-Length: %zu\r\n", m->len);
	if (!s->keep_alive)
		sb_adds(&s->head, "Connection: close\r\n");
	for (size_t i = 0; i < s->n_headers; i++) {
		sb_adds(&s->head, s->headers[i]);
		sb_adds(&s->head, "\r\n");
	}
	sb_adds(&s->head, "\r\n");
}

static int http_one(struct channel *ch, struct out_msg *m)
{
	struct http_sink *s = ch->sink;
	bool stale_retried = false;
	unsigned attempt = 0;

	http_build_head(s, m);
	for (;;) {
		uint64_t deadline = now_ms() + ch->o->timeout_ms;
		bool reused = s->fd >= 0, reusable = false;
		const char *what = "no response";
		int status = 0, rc = -1, err;

		s->rx_any = false;
		if (s->fd < 0 && http_connect(ch, s, deadline)) {
			rc = -2; /* the message is set */
		} else if (http_send(ch, s, m, deadline)) {
			what = "cannot send the request";
		} else if (http_response(ch, s, deadline, &status, &reusable)) {
			what = errno == EPROTO ? "invalid response" : "no response";
		} else {
			rc = 0;
		}
		err = errno;
		if (stopped(ch)) {
			http_disconnect(s);
			return -1;
		}
		if (rc == 0) {
			if (!reusable || !s->keep_alive)
				http_disconnect(s);
			if (status >= 200 && status < 300)
				return 0;
			channel_error(ch, "%s%s answered %d", s->url.hostport, s->url.path, status);
			if (status < 500 && status != 429 && status != 408)
				return -1; /* the same request would fail the same way */
		} else {
			http_disconnect(s);
			/* The server closed a kept-alive connection between two requests: send
			 * again at once on a new one, without counting an attempt. */
			if (rc == -1 && reused && !s->rx_any && !stale_retried &&
			    (err == ECONNRESET || err == EPIPE)) {
				stale_retried = true;
				continue;
			}
			if (rc == -1)
				channel_error(ch, "%s: %s: %s", s->url.hostport, what,
					      err == ETIMEDOUT ? "timed out" : strerror(err));
		}
		if (attempt >= s->retries)
			return -1;
		/* backoff: 100 ms, 200 ms, 400 ms ... at most 3.2 s */
		if (wait_until(ch, -1, 0, now_ms() + (100u << (attempt < 5 ? attempt : 5))) < 0)
			return -1;
		attempt++;
		count(&ch->retries, 1);
	}
}

static void http_deliver(struct channel *ch, struct out_msg **m, size_t n)
{
	deliver_each(ch, m, n, http_one);
}

static void http_close(struct channel *ch)
{
	http_disconnect(ch->sink);
}

static void http_free(void *p)
{
	struct http_sink *s = p;

	if (!s)
		return;
	for (size_t i = 0; i < s->n_headers; i++)
		free(s->headers[i]);
	free(s->headers);
	free(s->user_agent);
	sb_release(&s->head);
	tls_conn_free(s->tc);
	tls_config_free(s->tls);
	free(s);
}

static const struct sink_ops http_ops = {http_deliver, NULL, http_close, http_free};

void http_tls_opts(const struct config *c, struct tls_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->insecure = c->http_insecure;
	o->ca_cert = c->http_ca_cert;
	o->ca_bundle = c->http_ca_bundle;
	o->ca_path = c->http_ca_path;
	o->ca_path_is_default = c->http_ca_path && !strcmp(c->http_ca_path, "/etc/ssl/certs");
	o->client_cert = c->http_mtls ? c->http_client_cert : NULL;
	o->client_key = c->http_mtls ? c->http_client_key : NULL;
}

int http_url_parse(const char *url, struct http_url *u, char *err, size_t errcap)
{
	const char *p, *auth_end, *host, *host_end, *port = NULL;
	size_t hl;

	memset(u, 0, sizeof(*u));
	if (!strncasecmp(url, "https://", 8)) {
		u->tls = true;
		p = url + 8;
	} else if (!strncasecmp(url, "http://", 7)) {
		p = url + 7;
	} else {
		snprintf(err, errcap, "'%s' is not an http:// or https:// URL", url);
		return -1;
	}
	auth_end = p + strcspn(p, "/?#");
	if (memchr(p, '@', (size_t)(auth_end - p))) {
		snprintf(err, errcap,
			 "credentials in the URL are not supported: put an "
			 "Authorization header in http_output.headers");
		return -1;
	}
	if (*p == '[') {
		host = p + 1;
		host_end = memchr(host, ']', (size_t)(auth_end - host));
		if (!host_end) {
			snprintf(err, errcap, "'%s': unclosed '[' in the host", url);
			return -1;
		}
		if (host_end + 1 < auth_end) {
			if (host_end[1] != ':') {
				snprintf(err, errcap, "'%s': unexpected text after ']'", url);
				return -1;
			}
			port = host_end + 2;
		}
		for (const char *c = host; c < host_end; c++)
			if (!strchr("0123456789abcdefABCDEF:.", *c)) {
				snprintf(err, errcap, "'%s': not an IPv6 address in brackets", url);
				return -1;
			}
	} else {
		host = p;
		host_end = memchr(p, ':', (size_t)(auth_end - p));
		if (host_end)
			port = host_end + 1;
		else
			host_end = auth_end;
		for (const char *c = host; c < host_end; c++)
			if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			      (*c >= '0' && *c <= '9') || *c == '-' || *c == '.' || *c == '_')) {
				snprintf(err, errcap, "'%s': invalid character in the host name",
					 url);
				return -1;
			}
	}
	hl = (size_t)(host_end - host);
	if (!hl || hl >= sizeof(u->host)) {
		snprintf(err, errcap, "'%s': %s host", url, hl ? "too long a" : "no");
		return -1;
	}
	memcpy(u->host, host, hl);
	if (port) {
		size_t pl = (size_t)(auth_end - port), n;

		if (!parse_size(port, pl, 10, &n) || n < 1 || n > 65535 || pl > 5) {
			snprintf(err, errcap, "'%s': the port must be a number from 1 to 65535",
				 url);
			return -1;
		}
		snprintf(u->port, sizeof(u->port), "%zu", n);
	} else {
		snprintf(u->port, sizeof(u->port), u->tls ? "443" : "80");
	}
	snprintf(u->hostport, sizeof(u->hostport), "%.*s", (int)(auth_end - p), p);
	/* path and query, without the fragment; no byte a request line cannot carry */
	{
		size_t pl = strcspn(auth_end, "#");

		for (size_t i = 0; i < pl; i++)
			if ((unsigned char)auth_end[i] <= 0x20 || auth_end[i] == 0x7f) {
				snprintf(err, errcap,
					 "'%s': spaces and control characters in the path must be "
					 "percent-encoded",
					 url);
				return -1;
			}
		if (pl + 2 > sizeof(u->path)) {
			snprintf(err, errcap, "'%s': the path is too long", url);
			return -1;
		}
		snprintf(u->path, sizeof(u->path), "%s%.*s", *auth_end == '/' ? "" : "/", (int)pl,
			 auth_end);
	}
	return 0;
}

int http_header_check(const char *h, char *err, size_t errcap)
{
	static const char *const reserved[] = {"host", "content-length", "transfer-encoding",
					       "connection", NULL};
	const char *colon = strchr(h, ':');
	size_t nl = colon ? (size_t)(colon - h) : 0;

	if (!nl) {
		snprintf(err, errcap, "'%s' is not 'Name: value'", h);
		return -1;
	}
	for (size_t i = 0; i < nl; i++)
		if (!strchr("!#$%&'*+-.^_`|~", h[i]) &&
		    !((h[i] >= 'a' && h[i] <= 'z') || (h[i] >= 'A' && h[i] <= 'Z') ||
		      (h[i] >= '0' && h[i] <= '9'))) {
			snprintf(err, errcap, "'%s': invalid character in the header name", h);
			return -1;
		}
	for (const char *v = colon + 1; *v; v++)
		if (((unsigned char)*v < 0x20 && *v != '\t') || *v == 0x7f) {
			snprintf(err, errcap, "'%.*s': control character in the value", (int)nl, h);
			return -1;
		}
	for (size_t i = 0; reserved[i]; i++)
		if (strlen(reserved[i]) == nl && !strncasecmp(h, reserved[i], nl)) {
			snprintf(err, errcap, "'%.*s' is set by saker and cannot be given", (int)nl,
				 h);
			return -1;
		}
	return 0;
}

/* ------------------------------------------------------------------------ the monitor */

/* Logs drops and failures of the interval that ends now (final: the last, shorter one),
 * and a sink blocked longer than output_timeout, once per blocking operation. */
static void monitor_check(struct outputs *o, struct channel *ch, uint64_t now, bool interval_end,
			  bool final)
{
	uint64_t busy = load(&ch->busy_since);

	/* once per blocking operation, and at most once per interval (a collector that is
	 * down makes every request take that long) */
	if (busy && now > busy && now - busy > o->timeout_ms && busy != ch->rep_busy &&
	    (!ch->rep_blocked_at || now - ch->rep_blocked_at >= o->report_ms)) {
		ch->rep_busy = busy;
		ch->rep_blocked_at = now;
		log_error("the %s output has been blocked for more than %u ms (output_timeout): "
			  "its alerts are queued, then dropped when the queue is full",
			  ch->name, o->timeout_ms);
	}
	if (interval_end) {
		uint64_t d = load(&ch->dropped), f = load(&ch->failed);
		unsigned secs = (unsigned)((now - o->rep_at + 500) / 1000);

		if (final && !secs)
			secs = 1;
		if (d != ch->rep_dropped)
			log_warn("%llu alert%s dropped on the %s output in the last %u s (queue "
				 "full: %zu alerts); %llu since start",
				 (unsigned long long)(d - ch->rep_dropped),
				 d - ch->rep_dropped == 1 ? "" : "s", ch->name, secs, ch->cap,
				 (unsigned long long)d);
		if (f != ch->rep_failed) {
			char why[sizeof(ch->last_error)];

			pthread_mutex_lock(&ch->mu);
			memcpy(why, ch->last_error, sizeof(why));
			pthread_mutex_unlock(&ch->mu);
			log_warn("%llu alert%s could not be delivered on the %s output in the last "
				 "%u s (%s); %llu since start",
				 (unsigned long long)(f - ch->rep_failed),
				 f - ch->rep_failed == 1 ? "" : "s", ch->name, secs,
				 why[0] ? why : "no reason recorded", (unsigned long long)f);
		}
		ch->rep_dropped = d;
		ch->rep_failed = f;
	}
}

static void *monitor_main(void *arg)
{
	struct outputs *o = arg;

	pthread_mutex_lock(&o->mu);
	while (!o->stopping) {
		struct timespec ts;
		uint64_t now = now_ms();
		bool end;

		abs_deadline(&ts, now + MONITOR_TICK_MS);
		pthread_cond_timedwait(&o->mon_cv, &o->mu, &ts);
		if (o->stopping)
			break;
		pthread_mutex_unlock(&o->mu);
		now = now_ms();
		end = now - o->rep_at >= o->report_ms;
		for (int k = 0; k < OUTPUT_NKINDS; k++)
			if (o->ch[k].enabled)
				monitor_check(o, &o->ch[k], now, end, false);
		if (end)
			o->rep_at = now;
		pthread_mutex_lock(&o->mu);
	}
	pthread_mutex_unlock(&o->mu);
	return NULL;
}

/* ------------------------------------------------------------------------ the API */

static char *dup_or_null(const char *s)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		abort();
	return d;
}

static bool streq_null(const char *a, const char *b)
{
	return (!a || !*a) ? (!b || !*b) : (b && !strcmp(a, b));
}

bool outputs_config_differs(const struct config *a, const struct config *b)
{
	if (a->buffered_outputs != b->buffered_outputs || a->queue_capacity != b->queue_capacity ||
	    a->output_timeout_ms != b->output_timeout_ms ||
	    a->stdout_enabled != b->stdout_enabled || a->file_enabled != b->file_enabled ||
	    a->file_keep_alive != b->file_keep_alive || !streq_null(a->file_name, b->file_name) ||
	    a->syslog_enabled != b->syslog_enabled ||
	    !streq_null(a->syslog_socket, b->syslog_socket) ||
	    a->syslog_facility != b->syslog_facility || a->program_enabled != b->program_enabled ||
	    a->program_keep_alive != b->program_keep_alive || !streq_null(a->program, b->program) ||
	    a->http_enabled != b->http_enabled || !streq_null(a->http_url, b->http_url) ||
	    !streq_null(a->http_user_agent, b->http_user_agent) ||
	    a->http_keep_alive != b->http_keep_alive || a->http_retries != b->http_retries ||
	    a->http_headers.n != b->http_headers.n || a->http_insecure != b->http_insecure ||
	    !streq_null(a->http_ca_cert, b->http_ca_cert) ||
	    !streq_null(a->http_ca_bundle, b->http_ca_bundle) ||
	    !streq_null(a->http_ca_path, b->http_ca_path) || a->http_mtls != b->http_mtls ||
	    !streq_null(a->http_client_cert, b->http_client_cert) ||
	    !streq_null(a->http_client_key, b->http_client_key))
		return true;
	/* https: certificate files are read when the channel starts; a SIGHUP starts it again
	 * so that rotated certificates and keys apply */
	if (b->http_enabled && b->http_url && !strncasecmp(b->http_url, "https://", 8))
		return true;
	for (size_t i = 0; i < a->http_headers.n; i++)
		if (strcmp(a->http_headers.v[i], b->http_headers.v[i]))
			return true;
	return false;
}

/* The sink of one channel from the configuration; -1 (logged) when it cannot be. */
static int sink_new(struct channel *ch, const struct config *c, const struct outputs_opts *opts)
{
	char err[256];

	switch (ch->kind) {
	case OUTPUT_STDOUT: {
		struct stdout_sink *s = calloc(1, sizeof(*s));

		if (!s)
			return -1;
		s->f = opts->stdout_stream ? opts->stdout_stream : stdout;
		ch->sink = s;
		ch->ops = &stdout_ops;
		return 0;
	}
	case OUTPUT_FILE: {
		struct file_sink *s;

		if (!c->file_name || !*c->file_name) {
			log_error(
			    "file_output.enabled is true but file_output.filename is not set");
			return -1;
		}
		s = calloc(1, sizeof(*s));
		if (!s)
			return -1;
		s->path = dup_or_null(c->file_name);
		s->keep_alive = c->file_keep_alive;
		s->fd = -1;
		ch->sink = s;
		ch->ops = &file_ops;
		/* said at start rather than at the first alert; tried again for each one */
		{
			int fd =
			    open(s->path,
				 O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
				 0600);

			if (fd < 0)
				log_warn(
				    "file output: cannot open '%s': %s (alerts to it fail until "
				    "it can be)",
				    s->path, strerror(errno));
			else
				close(fd);
		}
		return 0;
	}
	case OUTPUT_SYSLOG: {
		const char *path =
		    c->syslog_socket && *c->syslog_socket ? c->syslog_socket : "/dev/log";
		struct syslog_sink *s;

		if (strlen(path) >= sizeof(s->addr.sun_path)) {
			log_error("syslog_output.socket: '%s' is too long for a socket path", path);
			return -1;
		}
		s = calloc(1, sizeof(*s));
		if (!s)
			return -1;
		s->addr.sun_family = AF_UNIX;
		memcpy(s->addr.sun_path, path, strlen(path) + 1);
		s->alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
		s->fd = -1;
		s->facility = c->syslog_facility >= 0 &&
				      (size_t)c->syslog_facility <
					  sizeof(facility_codes) / sizeof(facility_codes[0])
				  ? facility_codes[c->syslog_facility]
				  : 1;
		ch->sink = s;
		ch->ops = &syslog_ops;
		if (access(path, W_OK))
			log_warn("syslog output: cannot use '%s': %s (alerts to it fail until it "
				 "can be)",
				 path, strerror(errno));
		return 0;
	}
	case OUTPUT_PROGRAM: {
		struct program_sink *s;

		if (!c->program || !*c->program) {
			log_error("program_output.enabled is true but program_output.program is "
				  "not set");
			return -1;
		}
		s = calloc(1, sizeof(*s));
		if (!s)
			return -1;
		s->cmd = dup_or_null(c->program);
		s->keep_alive = c->program_keep_alive;
		s->pid = -1;
		s->fd = -1;
		ch->sink = s;
		ch->ops = &program_ops;
		return 0;
	}
	case OUTPUT_HTTP: {
		struct http_sink *s = calloc(1, sizeof(*s));

		if (!s)
			return -1;
		ch->sink = s;
		ch->ops = &http_ops;
		s->fd = -1;
		if (!c->http_url || !*c->http_url) {
			log_error("http_output.enabled is true but http_output.url is not set");
			return -1;
		}
		if (http_url_parse(c->http_url, &s->url, err, sizeof(err))) {
			log_error("http_output.url: %s", err);
			return -1;
		}
		s->user_agent =
		    dup_or_null(c->http_user_agent && *c->http_user_agent ? c->http_user_agent
									  : "saker/" SAKER_VERSION);
		if (strpbrk(s->user_agent, "\r\n")) {
			log_error("http_output.user_agent: control characters are not allowed");
			return -1;
		}
		s->headers = calloc(c->http_headers.n + 1, sizeof(*s->headers));
		if (!s->headers)
			return -1;
		for (size_t i = 0; i < c->http_headers.n; i++) {
			const char *h = c->http_headers.v[i];

			if (http_header_check(h, err, sizeof(err))) {
				log_error("http_output.headers: %s", err);
				return -1;
			}
			s->headers[s->n_headers++] = dup_or_null(h);
			if (!strncasecmp(h, "content-type:", 13))
				s->custom_ctype = true;
		}
		s->keep_alive = c->http_keep_alive;
		s->retries = c->http_retries;
		if (s->url.tls) {
			struct tls_opts to;

			http_tls_opts(c, &to);
			char terr[512];

			if (c->http_mtls && (!c->http_client_cert || !*c->http_client_cert ||
					     !c->http_client_key || !*c->http_client_key)) {
				log_error("http_output.mtls is true but http_output.client_cert or "
					  "http_output.client_key is not set");
				return -1;
			}
			s->tls = tls_config_new(&to, terr, sizeof(terr));
			if (!s->tls) {
				log_error("http_output: %s", terr);
				return -1;
			}
			if (c->http_insecure)
				log_warn("http_output.insecure: the server's certificate is not "
					 "verified; anyone on the path can read and change alerts");
		}
		return 0;
	}
	case OUTPUT_NKINDS:
		break;
	}
	return -1;
}

static void channels_free(struct outputs *o)
{
	for (int k = 0; k < OUTPUT_NKINDS; k++) {
		struct channel *ch = &o->ch[k];

		if (atomic_load(&ch->abandoned))
			continue; /* its thread may still use it */
		if (ch->ring) {
			for (size_t i = 0; i < ch->n; i++)
				msg_put(ch->ring[(ch->head + i) % ch->cap]);
			free(ch->ring);
		}
		if (ch->ops && ch->ops->free)
			ch->ops->free(ch->sink);
		else
			free(ch->sink);
		if (ch->wake_fd >= 0)
			close(ch->wake_fd);
		pthread_cond_destroy(&ch->cv);
		pthread_mutex_destroy(&ch->mu);
	}
}

struct outputs *outputs_new(const struct config *c, const struct outputs_opts *opts)
{
	static const struct outputs_opts no_opts;
	struct outputs *o = calloc(1, sizeof(*o));
	pthread_condattr_t ca;
	sigset_t all, old;
	size_t cap = c->queue_capacity;
	int n_enabled = 0;

	if (!o) {
		log_error("out of memory");
		return NULL;
	}
	if (!opts)
		opts = &no_opts;
	if (!cap) {
		log_warn("outputs_queue.capacity: 0 (unbounded) is not supported; each output "
			 "queue holds %u alerts",
			 DEFAULT_CAPACITY);
		cap = DEFAULT_CAPACITY;
	}
	o->timeout_ms = c->output_timeout_ms ? c->output_timeout_ms : 2000;
	o->report_ms = opts->report_interval_ms ? opts->report_interval_ms : DEFAULT_REPORT_MS;
	o->unbuffered = opts->unbuffered;
	o->buffered = c->buffered_outputs && !opts->unbuffered;
	o->rep_at = now_ms();
	pthread_mutex_init(&o->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&o->done_cv, &ca);
	pthread_cond_init(&o->mon_cv, &ca);
	pthread_condattr_destroy(&ca);

	for (int k = 0; k < OUTPUT_NKINDS; k++) {
		struct channel *ch = &o->ch[k];

		ch->o = o;
		ch->kind = (enum output_kind)k;
		ch->name = kind_names[k];
		ch->cap = cap;
		ch->wake_fd = -1;
		pthread_mutex_init(&ch->mu, NULL);
		pthread_cond_init(&ch->cv, NULL);
	}
	o->ch[OUTPUT_STDOUT].enabled = c->stdout_enabled;
	o->ch[OUTPUT_FILE].enabled = c->file_enabled;
	o->ch[OUTPUT_SYSLOG].enabled = c->syslog_enabled;
	o->ch[OUTPUT_PROGRAM].enabled = c->program_enabled;
	o->ch[OUTPUT_HTTP].enabled = c->http_enabled;
	for (int k = 0; k < OUTPUT_NKINDS; k++) {
		struct channel *ch = &o->ch[k];

		if (!ch->enabled)
			continue;
		n_enabled++;
		ch->ring = calloc(cap, sizeof(*ch->ring));
		ch->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (!ch->ring || ch->wake_fd < 0) {
			log_error("%s output: cannot set up its queue: %s", ch->name,
				  strerror(errno ? errno : ENOMEM));
			goto fail;
		}
		if (sink_new(ch, c, opts))
			goto fail;
	}
	if (!n_enabled)
		log_warn("no output is enabled (stdout_output, file_output, syslog_output, "
			 "program_output, http_output): alerts are counted, not written");

	/* The threads take no signal: the daemon reads its own through a signalfd. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (int k = 0; k < OUTPUT_NKINDS; k++) {
		struct channel *ch = &o->ch[k];
		int e;

		if (!ch->enabled)
			continue;
		e = pthread_create(&ch->thr, NULL, channel_main, ch);
		if (e) {
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			log_error("%s output: cannot start its thread: %s", ch->name, strerror(e));
			goto fail;
		}
		ch->started = true;
	}
	if (pthread_create(&o->monitor, NULL, monitor_main, o) == 0)
		o->monitor_started = true;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!o->monitor_started) {
		log_error("outputs: cannot start the monitor thread");
		goto fail;
	}
	return o;
fail:
	outputs_free(o);
	return NULL;
}

void outputs_emit(struct outputs *o, const char *line, size_t len, int priority)
{
	struct out_msg *m = NULL;

	for (int k = 0; k < OUTPUT_NKINDS; k++) {
		struct channel *ch = &o->ch[k];
		bool wake;

		if (!ch->enabled)
			continue;
		if (!m) {
			m = malloc(sizeof(*m) + len + 2);
			if (!m) {
				log_error("out of memory");
				abort();
			}
			atomic_init(&m->refs, 1); /* ours, until every channel has its own */
			m->prio = (uint8_t)(priority < 0 ? 0 : priority > 7 ? 7 : priority);
			m->json = len && line[0] == '{'; /* text alerts begin with the time */
			m->len = len;
			memcpy(m->data, line, len);
			m->data[len] = '\n';
			m->data[len + 1] = '\0';
		}
		pthread_mutex_lock(&ch->mu);
		if (ch->n == ch->cap || ch->draining) {
			bool late = ch->draining;

			pthread_mutex_unlock(&ch->mu);
			count(late ? &ch->dropped_exit : &ch->dropped, 1);
			continue;
		}
		atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
		ch->ring[(ch->head + ch->n) % ch->cap] = m;
		ch->n++;
		wake = ch->waiting;
		pthread_mutex_unlock(&ch->mu);
		if (wake)
			pthread_cond_signal(&ch->cv);
	}
	if (m)
		msg_put(m);
}

void outputs_reopen(struct outputs *o)
{
	for (int k = 0; k < OUTPUT_NKINDS; k++) {
		struct channel *ch = &o->ch[k];

		if (!ch->enabled || !ch->ops->reopen)
			continue;
		pthread_mutex_lock(&ch->mu);
		ch->reopen = true;
		pthread_cond_signal(&ch->cv);
		pthread_mutex_unlock(&ch->mu);
	}
}

static bool all_done(struct outputs *o)
{
	for (int k = 0; k < OUTPUT_NKINDS; k++)
		if (o->ch[k].started && !o->ch[k].done)
			return false;
	return true;
}

/* Waits (o->mu held) until every thread is done or the deadline passes. */
static void wait_done(struct outputs *o, uint64_t deadline)
{
	struct timespec ts;

	abs_deadline(&ts, deadline);
	while (!all_done(o) && now_ms() < deadline)
		pthread_cond_timedwait(&o->done_cv, &o->mu, &ts);
}

static void shutdown_channels(struct outputs *o, unsigned deadline_ms, bool at_exit);

void outputs_shutdown(struct outputs *o, unsigned deadline_ms)
{
	shutdown_channels(o, deadline_ms, true);
}

void outputs_shutdown_replaced(struct outputs *o, unsigned deadline_ms)
{
	shutdown_channels(o, deadline_ms, false);
}

static void shutdown_channels(struct outputs *o, unsigned deadline_ms, bool at_exit)
{
	uint64_t now;

	if (!o || o->shut)
		return;
	o->shut = true;
	for (int k = 0; k < OUTPUT_NKINDS; k++) {
		struct channel *ch = &o->ch[k];

		if (!ch->started)
			continue;
		pthread_mutex_lock(&ch->mu);
		ch->draining = true;
		pthread_cond_signal(&ch->cv);
		pthread_mutex_unlock(&ch->mu);
	}
	pthread_mutex_lock(&o->mu);
	wait_done(o, now_ms() + deadline_ms);
	if (!all_done(o)) {
		/* the deadline passed: every wait ends, what is left is counted and dropped */
		for (int k = 0; k < OUTPUT_NKINDS; k++) {
			struct channel *ch = &o->ch[k];
			uint64_t one = 1;

			if (!ch->started || ch->done)
				continue;
			atomic_store(&ch->hard_stop, true);
			if (write(ch->wake_fd, &one, sizeof(one)) < 0)
				log_debug("%s output: eventfd: %s", ch->name, strerror(errno));
		}
		wait_done(o, now_ms() + SHUTDOWN_GRACE_MS);
	}
	o->stopping = true;
	pthread_cond_signal(&o->mon_cv);
	pthread_mutex_unlock(&o->mu);

	for (int k = 0; k < OUTPUT_NKINDS; k++) {
		struct channel *ch = &o->ch[k];
		bool done;

		if (!ch->started)
			continue;
		pthread_mutex_lock(&o->mu);
		done = ch->done;
		pthread_mutex_unlock(&o->mu);
		if (done) {
			pthread_join(ch->thr, NULL);
			continue;
		}
		/* blocked where it cannot be interrupted (a write to stdout nobody reads): what
		 * is queued and the part of its batch not yet counted are lost */
		{
			uint64_t bn = load(&ch->batch_n),
				 in_batch = settled(ch) - load(&ch->batch_base);

			if (bn > in_batch)
				count(&ch->dropped_exit, bn - in_batch);
		}
		/* counted and marked together, so that outputs_stats() from another thread never
		 * sees the queue both queued and dropped */
		pthread_mutex_lock(&ch->mu);
		count(&ch->dropped_exit, ch->n);
		atomic_store(&ch->abandoned, true);
		pthread_mutex_unlock(&ch->mu);
		pthread_detach(ch->thr);
		log_error("the %s output is still blocked %s: left behind", ch->name,
			  at_exit ? "at exit" : "after it was replaced");
		/* at exit only: a replaced stdout channel shares fd 1 with its successor */
		if (ch->kind == OUTPUT_STDOUT && at_exit)
			stdout_abandon(ch);
	}
	if (o->monitor_started)
		pthread_join(o->monitor, NULL);
	o->monitor_started = false;
	now = now_ms();
	for (int k = 0; k < OUTPUT_NKINDS; k++) {
		struct channel *ch = &o->ch[k];
		uint64_t left = load(&ch->dropped_exit);

		if (!ch->enabled)
			continue;
		monitor_check(o, ch, now, true, true);
		if (left)
			log_warn("%llu alert%s still queued for the %s output at exit were not "
				 "delivered (the exit deadline is output_timeout: %u ms)",
				 (unsigned long long)left, left == 1 ? "" : "s", ch->name,
				 deadline_ms);
	}
}

void outputs_free(struct outputs *o)
{
	bool abandoned = false;

	if (!o)
		return;
	if (!o->shut) {
		/* outputs_new() failing half-way, or an early exit: nothing waits */
		bool any = false;

		for (int k = 0; k < OUTPUT_NKINDS; k++)
			any |= o->ch[k].started;
		if (any || o->monitor_started)
			outputs_shutdown(o, 0);
	}
	channels_free(o);
	for (int k = 0; k < OUTPUT_NKINDS; k++)
		abandoned |= atomic_load(&o->ch[k].abandoned);
	if (abandoned)
		return; /* left for the process exit: a thread still points into it */
	pthread_cond_destroy(&o->done_cv);
	pthread_cond_destroy(&o->mon_cv);
	pthread_mutex_destroy(&o->mu);
	free(o);
}

size_t outputs_stats(const struct outputs *co, struct output_stats out[OUTPUT_NKINDS])
{
	struct outputs *o = (struct outputs *)co; /* the locks, not the contents */

	for (int k = 0; k < OUTPUT_NKINDS; k++) {
		struct channel *ch = &o->ch[k];
		struct output_stats *s = &out[k];

		memset(s, 0, sizeof(*s));
		s->name = ch->name;
		s->enabled = ch->enabled;
		s->capacity = ch->cap;
		s->sent = load(&ch->sent);
		s->dropped = load(&ch->dropped);
		s->failed = load(&ch->failed);
		s->dropped_exit = load(&ch->dropped_exit);
		s->reconnects = load(&ch->reconnects);
		s->retries = load(&ch->retries);
		if (ch->enabled && !atomic_load(&ch->abandoned)) { /* abandoned: in dropped_exit */
			pthread_mutex_lock(&ch->mu);
			s->queued = ch->n;
			pthread_mutex_unlock(&ch->mu);
		}
	}
	return OUTPUT_NKINDS;
}

void outputs_log_counters(const struct outputs *o, const char *when)
{
	struct output_stats st[OUTPUT_NKINDS];

	outputs_stats(o, st);
	for (int k = 0; k < OUTPUT_NKINDS; k++) {
		const struct output_stats *s = &st[k];

		if (!s->enabled)
			continue;
		log_info("%s: output %s: sent=%llu dropped=%llu failed=%llu dropped_exit=%llu "
			 "reconnects=%llu retries=%llu queued=%llu",
			 when, s->name, (unsigned long long)s->sent, (unsigned long long)s->dropped,
			 (unsigned long long)s->failed, (unsigned long long)s->dropped_exit,
			 (unsigned long long)s->reconnects, (unsigned long long)s->retries,
			 (unsigned long long)s->queued);
	}
}
