#include "watch.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

/* One thing watched: a file (name set) or a rules directory (name NULL), through the
 * inotify watch of a directory. */
struct target {
	int wd;
	char *name;
};

struct watch {
	int fd;
	struct target *t;
	size_t n;
};

static const uint32_t MASK = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE |
			     IN_DELETE | IN_ATTRIB | IN_ONLYDIR;

struct watch *watch_new(void)
{
	struct watch *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0) {
		log_warn("watch_config_files: inotify: %s; reload with SIGHUP", strerror(errno));
		free(w);
		return NULL;
	}
	return w;
}

static void clear(struct watch *w)
{
	for (size_t i = 0; i < w->n; i++) {
		bool shared = false;

		for (size_t j = 0; j < i; j++)
			shared |= w->t[j].wd == w->t[i].wd;
		if (!shared)
			inotify_rm_watch(w->fd, w->t[i].wd);
		free(w->t[i].name);
	}
	free(w->t);
	w->t = NULL;
	w->n = 0;
}

void watch_free(struct watch *w)
{
	if (!w)
		return;
	clear(w);
	close(w->fd);
	free(w);
}

int watch_fd(const struct watch *w)
{
	return w->fd;
}

/* Watches dir for name (NULL: any rules file in it). */
static bool add(struct watch *w, const char *dir, const char *name, const char *what)
{
	struct target *t;
	int wd = inotify_add_watch(w->fd, dir, MASK);

	if (wd < 0) {
		log_warn("watch_config_files: cannot watch '%s' (for %s): %s", dir, what,
			 strerror(errno));
		return false;
	}
	t = realloc(w->t, (w->n + 1) * sizeof(*t));
	if (!t)
		return false;
	w->t = t;
	t[w->n].wd = wd;
	t[w->n].name = name ? strdup(name) : NULL;
	if (name && !t[w->n].name)
		return false;
	w->n++;
	return true;
}

/* Watches path's directory for its name. */
static bool add_one_file(struct watch *w, const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');

	if (!slash)
		return add(w, ".", path, path);
	if ((size_t)(slash - path) >= sizeof(dir))
		return false;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	return add(w, slash == path ? "/" : dir, slash + 1, path);
}

/* A file: its directory, for its name; and when it is a symlink, the directory of the file
 * it points to as well (an edit of the target changes nothing in the link's directory). */
static bool add_file(struct watch *w, const char *path)
{
	char real[PATH_MAX];
	bool ok = add_one_file(w, path);

	if (realpath(path, real) && strcmp(real, path) != 0)
		add_one_file(w, real);
	return ok;
}

size_t watch_set(struct watch *w, const char *config_path, const char *const *rules_paths,
		 size_t n_rules_paths)
{
	size_t n = 0;

	clear(w);
	if (config_path && *config_path)
		n += add_file(w, config_path);
	for (size_t i = 0; i < n_rules_paths; i++) {
		const char *p = rules_paths[i];
		struct stat st;

		if (!p || !*p || p[0] == '@')
			continue;
		if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
			n += add(w, p, NULL, p);
		else
			n += add_file(w, p);
	}
	return n;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

static bool relevant(const struct watch *w, const struct inotify_event *ev)
{
	for (size_t i = 0; i < w->n; i++) {
		const struct target *t = &w->t[i];

		if (t->wd != ev->wd)
			continue;
		if (!ev->len) /* the directory itself changed (its attributes) */
			continue;
		if (!strcmp(ev->name, "..data")) /* a ConfigMap's atomic swap */
			return true;
		if (t->name ? !strcmp(ev->name, t->name)
			    : (ends_with(ev->name, ".yaml") || ends_with(ev->name, ".yml")))
			return true;
	}
	return false;
}

bool watch_read(struct watch *w)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool hit = false;

	for (;;) {
		ssize_t n = read(w->fd, buf, sizeof(buf));

		if (n <= 0)
			break; /* EAGAIN: all read */
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			if (ev->mask & IN_Q_OVERFLOW)
				hit = true; /* events were lost: assume the worst */
			else if (relevant(w, ev))
				hit = true;
			p += sizeof(*ev) + ev->len;
		}
	}
	return hit;
}
