#include "users.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FILE_MAX   (64u << 20) /* larger account files are read up to this much */
#define CHECK_NS   1000000000ull
#define MAX_FIELDS 8

struct group_entry {
	uint32_t gid;
	const char *name;
};

/* What identifies a version of a file. */
struct file_id {
	bool present;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

/* One loaded file: its bytes (split in place into NUL-terminated fields). */
struct db {
	char *text;
	size_t len;
	struct file_id id;
};

struct users {
	char *root;
	bool loaded;
	uint64_t last_check_ns;
	uint64_t now_hint_ns; /* the time last given to users_refresh_at */
	struct db passwd, group;
	struct user_entry *uv;
	size_t nu;
	struct group_entry *gv;
	size_t ng;
	struct users_stats st;
	bool fixed; /* users_set_text: never read the files */
	void (*observer)(void *ctx, const char *passwd, size_t plen, const char *group,
			 size_t glen);
	void *observer_ctx;
};

struct users *users_new(const char *root)
{
	struct users *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	if (users_set_root(u, root)) {
		free(u);
		return NULL;
	}
	return u;
}

static void drop_db(struct users *u)
{
	free(u->passwd.text);
	free(u->group.text);
	free(u->uv);
	free(u->gv);
	memset(&u->passwd, 0, sizeof(u->passwd));
	memset(&u->group, 0, sizeof(u->group));
	u->uv = NULL;
	u->gv = NULL;
	u->nu = u->ng = 0;
	u->st.users = u->st.groups = 0;
}

void users_free(struct users *u)
{
	if (!u)
		return;
	drop_db(u);
	free(u->root);
	free(u);
}

int users_set_root(struct users *u, const char *root)
{
	size_t len;
	char *r;

	if (!root || !*root)
		root = "/";
	/* Kept without trailing slashes: paths are root + "/etc/passwd". */
	len = strlen(root);
	while (len > 0 && root[len - 1] == '/')
		len--;
	r = strndup(root, len);
	if (!r)
		return -1;
	free(u->root);
	u->root = r;
	u->loaded = false;
	return 0;
}

const char *users_root(const struct users *u)
{
	return u->root[0] ? u->root : "/";
}

static void path_of(const struct users *u, const char *file, char *buf, size_t cap)
{
	size_t n = strlen(u->root);

	if (n + strlen(file) + 1 > cap) {
		buf[0] = '\0';
		return;
	}
	memcpy(buf, u->root, n);
	strcpy(buf + n, file);
}

static struct file_id file_id_of(const char *path)
{
	struct file_id id = {0};
	struct stat st;

	if (path[0] && !stat(path, &st)) {
		id.present = true;
		id.dev = st.st_dev;
		id.ino = st.st_ino;
		id.size = st.st_size;
		id.mtime = st.st_mtim;
	}
	return id;
}

static bool same_file(const struct file_id *a, const struct file_id *b)
{
	return a->present == b->present && a->dev == b->dev && a->ino == b->ino &&
	       a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
	       a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* Reads a whole file (up to FILE_MAX) as a NUL-terminated string; NULL when absent. */
static char *read_text(const char *path, struct file_id *id, size_t *lenp)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	size_t cap, len = 0;
	char *buf;
	ssize_t n;

	memset(id, 0, sizeof(*id));
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return NULL;
	}
	id->present = true;
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	id->size = st.st_size;
	id->mtime = st.st_mtim;
	cap = st.st_size > 0 && (uint64_t)st.st_size < FILE_MAX ? (size_t)st.st_size : FILE_MAX;
	buf = malloc(cap + 1);
	if (!buf) {
		close(fd);
		return NULL;
	}
	while (len < cap && (n = read(fd, buf + len, cap - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	*lenp = len;
	return buf;
}

/* A decimal id: digits only, below 2^32 - 1 (which is -1, "no id"). */
static bool parse_id(const char *s, uint32_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v >= UINT32_MAX)
			return false;
	}
	*out = (uint32_t)v;
	return true;
}

/*
 * Splits the next line of *text into ':'-separated fields in place. Returns the number of
 * fields (at most MAX_FIELDS; more counts as MAX_FIELDS + 1), or -1 at the end. NUL bytes in
 * the file end the field they are in (the rest of it is dropped).
 */
static int next_line(char **text, char *end, char *f[MAX_FIELDS])
{
	char *p = *text, *eol;
	int n = 0;

	if (p >= end)
		return -1;
	eol = memchr(p, '\n', (size_t)(end - p));
	if (!eol)
		eol = end;
	*eol = '\0';
	*text = eol + 1;
	for (;;) {
		char *c = memchr(p, ':', (size_t)(eol - p));

		if (n == MAX_FIELDS)
			return MAX_FIELDS + 1;
		f[n++] = p;
		if (!c)
			break;
		*c = '\0';
		p = c + 1;
	}
	return n;
}

static bool skip_line(const char *first)
{
	/* Comments, blank lines and NIS compat entries (+name, -name). */
	return !*first || *first == '#' || *first == '+' || *first == '-';
}

static int cmp_user(const void *a, const void *b)
{
	const struct user_entry *x = a, *y = b;

	if (x->uid != y->uid)
		return x->uid < y->uid ? -1 : 1;
	return x->name < y->name ? -1 : x->name > y->name; /* file order: first wins */
}

static int cmp_group(const void *a, const void *b)
{
	const struct group_entry *x = a, *y = b;

	if (x->gid != y->gid)
		return x->gid < y->gid ? -1 : 1;
	return x->name < y->name ? -1 : x->name > y->name;
}

static void parse_passwd(struct users *u)
{
	char *p = u->passwd.text, *end, *f[MAX_FIELDS];
	size_t cap = 0;
	int n;

	if (!p)
		return;
	end = p + u->passwd.len;
	while ((n = next_line(&p, end, f)) >= 0) {
		struct user_entry e;

		if (n == 1 && skip_line(f[0]))
			continue;
		if (n != 7 || skip_line(f[0]) || !parse_id(f[2], &e.uid) ||
		    !parse_id(f[3], &e.gid)) {
			u->st.bad_lines++;
			continue;
		}
		if (u->nu == cap) {
			size_t nc = cap ? cap * 2 : 64;
			struct user_entry *v = realloc(u->uv, nc * sizeof(*v));

			if (!v)
				break;
			u->uv = v;
			cap = nc;
		}
		e.name = f[0];
		e.home = f[5];
		e.shell = f[6];
		u->uv[u->nu++] = e;
	}
	if (u->nu)
		qsort(u->uv, u->nu, sizeof(*u->uv), cmp_user);
}

static void parse_group(struct users *u)
{
	char *p = u->group.text, *end, *f[MAX_FIELDS];
	size_t cap = 0;
	int n;

	if (!p)
		return;
	end = p + u->group.len;
	while ((n = next_line(&p, end, f)) >= 0) {
		struct group_entry e;

		if (n == 1 && skip_line(f[0]))
			continue;
		if (n != 4 || skip_line(f[0]) || !parse_id(f[2], &e.gid)) {
			u->st.bad_lines++;
			continue;
		}
		if (u->ng == cap) {
			size_t nc = cap ? cap * 2 : 64;
			struct group_entry *v = realloc(u->gv, nc * sizeof(*v));

			if (!v)
				break;
			u->gv = v;
			cap = nc;
		}
		e.name = f[0];
		u->gv[u->ng++] = e;
	}
	if (u->ng)
		qsort(u->gv, u->ng, sizeof(*u->gv), cmp_group);
}

void users_reload(struct users *u)
{
	char path[4200];

	if (u->fixed) { /* users_set_text: what was given is all there is */
		u->loaded = true;
		return;
	}
	drop_db(u);
	u->st.bad_lines = 0;
	path_of(u, "/etc/passwd", path, sizeof(path));
	u->passwd.text = path[0] ? read_text(path, &u->passwd.id, &u->passwd.len) : NULL;
	path_of(u, "/etc/group", path, sizeof(path));
	u->group.text = path[0] ? read_text(path, &u->group.id, &u->group.len) : NULL;
	if (u->observer) /* before parsing, which splits the text in place */
		u->observer(u->observer_ctx, u->passwd.text, u->passwd.len, u->group.text,
			    u->group.len);
	parse_passwd(u);
	parse_group(u);
	u->st.users = u->nu;
	u->st.groups = u->ng;
	u->st.loads++;
	u->loaded = true;
	u->last_check_ns = u->now_hint_ns;
}

void users_refresh_at(struct users *u, uint64_t now_ns)
{
	char path[4200];
	struct file_id a, b;

	if (!u->loaded || u->fixed) /* the first lookup reads them */
		return;
	u->now_hint_ns = now_ns;
	if (now_ns - u->last_check_ns < CHECK_NS)
		return;
	u->last_check_ns = now_ns;
	path_of(u, "/etc/passwd", path, sizeof(path));
	a = file_id_of(path);
	path_of(u, "/etc/group", path, sizeof(path));
	b = file_id_of(path);
	if (!same_file(&a, &u->passwd.id) || !same_file(&b, &u->group.id))
		users_reload(u);
}

void users_refresh(struct users *u)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	users_refresh_at(u, (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec);
}

const struct user_entry *users_by_uid(struct users *u, uint32_t uid)
{
	size_t lo = 0, hi;

	if (!u->loaded)
		users_reload(u);
	/* The first entry with this uid (duplicates sort in file order). */
	hi = u->nu;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (u->uv[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < u->nu && u->uv[lo].uid == uid ? &u->uv[lo] : NULL;
}

const char *users_group_name(struct users *u, uint32_t gid)
{
	size_t lo = 0, hi;

	if (!u->loaded)
		users_reload(u);
	hi = u->ng;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (u->gv[mid].gid < gid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < u->ng && u->gv[lo].gid == gid ? u->gv[lo].name : NULL;
}

const struct users_stats *users_stats(const struct users *u)
{
	return &u->st;
}

void users_set_observer(struct users *u,
			void (*fn)(void *ctx, const char *passwd, size_t plen, const char *group,
				   size_t glen),
			void *ctx)
{
	u->observer = fn;
	u->observer_ctx = ctx;
}

static char *copy_text(const char *s, size_t len)
{
	char *c = malloc(len + 1);

	if (c) {
		if (len)
			memcpy(c, s, len);
		c[len] = '\0';
	}
	return c;
}

int users_set_text(struct users *u, const char *passwd, size_t plen, const char *group,
		   size_t glen)
{
	char *pt = passwd ? copy_text(passwd, plen) : NULL;
	char *gt = group ? copy_text(group, glen) : NULL;

	if ((passwd && !pt) || (group && !gt)) {
		free(pt);
		free(gt);
		return -1;
	}
	drop_db(u);
	u->st.bad_lines = 0;
	u->fixed = true;
	u->passwd.text = pt;
	u->passwd.len = pt ? plen : 0;
	u->group.text = gt;
	u->group.len = gt ? glen : 0;
	parse_passwd(u);
	parse_group(u);
	u->st.users = u->nu;
	u->st.groups = u->ng;
	u->st.loads++;
	u->loaded = true;
	return 0;
}
