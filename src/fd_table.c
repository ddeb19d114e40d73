#include "fd_table.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static const struct {
	const char *name;
	char c;
} type_names[FD_NTYPES] = {
    [FD_UNKNOWN] = {"unknown", 'o'},
    [FD_FILE] = {"file", 'f'},
    [FD_DIRECTORY] = {"directory", 'd'},
    [FD_IPV4] = {"ipv4", '4'},
    [FD_IPV6] = {"ipv6", '6'},
    [FD_UNIX] = {"unix", 'u'},
    [FD_PIPE] = {"pipe", 'p'},
    [FD_EVENT] = {"event", 'e'},
    [FD_SIGNALFD] = {"signalfd", 's'},
    [FD_EVENTPOLL] = {"eventpoll", 'l'},
    [FD_INOTIFY] = {"inotify", 'i'},
    [FD_TIMERFD] = {"timerfd", 't'},
    [FD_MEMFD] = {"memfd", 'm'},
    [FD_NETLINK] = {"netlink", 'n'},
    [FD_BPF] = {"bpf", 'b'},
    [FD_USERFAULTFD] = {"userfaultfd", 'U'},
    [FD_IOURING] = {"io_uring", 'r'},
};

const char *fd_type_name(enum fd_type t)
{
	return (unsigned)t < FD_NTYPES ? type_names[t].name : "unknown";
}

char fd_type_char(enum fd_type t)
{
	return (unsigned)t < FD_NTYPES ? type_names[t].c : 'o';
}

const char *fd_l4proto_name(enum fd_l4proto p)
{
	switch (p) {
	case L4_TCP:
		return "tcp";
	case L4_UDP:
		return "udp";
	case L4_ICMP:
		return "icmp";
	case L4_RAW:
		return "raw";
	default:
		return "";
	}
}

/* Descriptions. */

/* The name of a description that has none yet: shared, never freed (most descriptions get
 * their name right away, so allocating an empty one first was a malloc and a free per fd). */
static char no_name[1];

static void free_name(char *s)
{
	if (s != no_name)
		free(s);
}

struct fdinfo *fdinfo_new(enum fd_type type)
{
	struct fdinfo *fi = calloc(1, sizeof(*fi));

	if (!fi)
		return NULL;
	fi->name = no_name;
	fi->refs = 1;
	fi->type = (uint8_t)type;
	return fi;
}

struct fdinfo *fdinfo_get(struct fdinfo *fi)
{
	fi->refs++;
	return fi;
}

void fdinfo_put(struct fdinfo *fi)
{
	if (!fi || --fi->refs)
		return;
	free_name(fi->name);
	free(fi->nameraw);
	free(fi);
}

static char *dup_bytes(const char *p, size_t len)
{
	char *s = malloc(len + 1);

	if (s) {
		if (len)
			memcpy(s, p, len);
		s[len] = '\0';
	}
	return s;
}

bool fdinfo_set_name(struct fdinfo *fi, const char *name, size_t len)
{
	char *s;

	if (strlen(fi->name) == len && memcmp(fi->name, name, len) == 0)
		return false;
	s = dup_bytes(name, len);
	if (!s)
		return false;
	free_name(fi->name);
	fi->name = s;
	return true;
}

void fdinfo_set_nameraw(struct fdinfo *fi, const char *raw, size_t len)
{
	char *s = dup_bytes(raw, len);

	if (s) {
		free(fi->nameraw);
		fi->nameraw = s;
	}
}

void fd_format_ip(enum fd_type type, const uint8_t ip[16], char *buf, size_t cap)
{
	if (!inet_ntop(type == FD_IPV6 ? AF_INET6 : AF_INET, ip, buf, (socklen_t)cap))
		snprintf(buf, cap, "?");
}

bool fdinfo_sock_rename(struct fdinfo *fi)
{
	static const uint8_t zero[16];
	char l[INET6_ADDRSTRLEN], r[INET6_ADDRSTRLEN], name[2 * INET6_ADDRSTRLEN + 16];
	const struct fd_sock *s = &fi->sock;
	int n;

	if (fi->type != FD_IPV4 && fi->type != FD_IPV6)
		return false;
	fd_format_ip(fi->type, s->lip, l, sizeof(l));
	fd_format_ip(fi->type, s->rip, r, sizeof(r));
	if (!s->rport && !memcmp(s->rip, zero, sizeof(zero)))
		n = s->lport ? snprintf(name, sizeof(name), "%s:%u", l, s->lport) : 0;
	else if (fi->flags & FDI_SERVER)
		n = snprintf(name, sizeof(name), "%s:%u->%s:%u", r, s->rport, l, s->lport);
	else
		n = snprintf(name, sizeof(name), "%s:%u->%s:%u", l, s->lport, r, s->rport);
	if (n < 0)
		n = 0;
	return fdinfo_set_name(fi, name, (size_t)n);
}

/* The table. */

void fd_table_init(struct fd_table *t)
{
	memset(t, 0, sizeof(*t));
}

void fd_table_clear(struct fd_table *t)
{
	for (uint32_t i = 0; i < t->cap; i++)
		if (t->slots[i].fd >= 0)
			fdinfo_put(t->slots[i].fi);
	free(t->slots);
	t->slots = NULL;
	t->cap = t->n = 0;
}

static uint32_t home_of(const struct fd_table *t, int fd)
{
	return ((uint32_t)fd * 2654435761u) & (t->cap - 1);
}

struct fd_slot *fd_table_slot(const struct fd_table *t, int fd)
{
	uint32_t i;

	if (!t->cap || fd < 0)
		return NULL;
	for (i = home_of(t, fd);; i = (i + 1) & (t->cap - 1)) {
		if (t->slots[i].fd == fd)
			return &t->slots[i];
		if (t->slots[i].fd < 0)
			return NULL;
	}
}

struct fdinfo *fd_table_get(const struct fd_table *t, int fd)
{
	struct fd_slot *s = fd_table_slot(t, fd);

	return s ? s->fi : NULL;
}

static struct fd_slot *insert_slot(struct fd_table *t, int fd)
{
	uint32_t i;

	for (i = home_of(t, fd); t->slots[i].fd >= 0; i = (i + 1) & (t->cap - 1))
		;
	t->slots[i].fd = fd;
	t->n++;
	return &t->slots[i];
}

static int grow(struct fd_table *t)
{
	struct fd_table old = *t;
	uint32_t cap = t->cap ? t->cap * 2 : 16;

	t->slots = malloc(cap * sizeof(*t->slots));
	if (!t->slots) {
		t->slots = old.slots;
		return -1;
	}
	for (uint32_t i = 0; i < cap; i++)
		t->slots[i].fd = -1;
	t->cap = cap;
	t->n = 0;
	for (uint32_t i = 0; i < old.cap; i++) {
		if (old.slots[i].fd >= 0) {
			struct fd_slot *s = insert_slot(t, old.slots[i].fd);

			s->cloexec = old.slots[i].cloexec;
			s->fi = old.slots[i].fi;
		}
	}
	free(old.slots);
	return 0;
}

struct fd_slot *fd_table_set(struct fd_table *t, int fd, struct fdinfo *fi, bool cloexec)
{
	struct fd_slot *s = fd_table_slot(t, fd);

	if (fd < 0)
		return NULL;
	if (!s) {
		/* Load factor at most 1/2. */
		if (t->n >= FD_TABLE_MAX || ((t->n + 1) * 2 > t->cap && grow(t))) {
			t->dropped++;
			return NULL;
		}
		s = insert_slot(t, fd);
		s->fi = NULL;
	}
	fdinfo_get(fi);
	fdinfo_put(s->fi); /* after the get: fi may be what the slot held */
	s->fi = fi;
	s->cloexec = cloexec;
	return s;
}

struct fdinfo *fd_table_add(struct fd_table *t, int fd, enum fd_type type, bool cloexec)
{
	struct fdinfo *fi = fdinfo_new(type);
	struct fd_slot *s;

	if (!fi) {
		t->dropped++;
		return NULL;
	}
	s = fd_table_set(t, fd, fi, cloexec);
	fdinfo_put(fi);
	return s ? s->fi : NULL;
}

void fd_table_remove(struct fd_table *t, int fd)
{
	struct fd_slot *s = fd_table_slot(t, fd);
	uint32_t hole, i, home;

	if (!s)
		return;
	fdinfo_put(s->fi);
	s->fi = NULL;
	s->fd = -1;
	t->n--;
	/* Backward-shift deletion: move later members of the probe run into the hole when
	 * their home slot is not strictly between the hole and themselves. */
	hole = (uint32_t)(s - t->slots);
	for (i = (hole + 1) & (t->cap - 1); t->slots[i].fd >= 0; i = (i + 1) & (t->cap - 1)) {
		home = home_of(t, t->slots[i].fd);
		if (((i - home) & (t->cap - 1)) >= ((i - hole) & (t->cap - 1))) {
			t->slots[hole] = t->slots[i];
			t->slots[i].fd = -1;
			t->slots[i].fi = NULL;
			hole = i;
		}
	}
}

int fd_table_copy(struct fd_table *dst, const struct fd_table *src)
{
	fd_table_init(dst);
	if (!src->cap)
		return 0;
	dst->slots = malloc(src->cap * sizeof(*dst->slots));
	if (!dst->slots)
		return -1;
	memcpy(dst->slots, src->slots, src->cap * sizeof(*dst->slots));
	dst->cap = src->cap;
	dst->n = src->n;
	for (uint32_t i = 0; i < dst->cap; i++)
		if (dst->slots[i].fd >= 0)
			fdinfo_get(dst->slots[i].fi);
	return 0;
}

struct fdinfo *fd_table_dup(struct fd_table *t, int oldfd, int newfd, bool cloexec)
{
	struct fdinfo *fi = fd_table_get(t, oldfd);
	struct fd_slot *s;

	if (!fi)
		return NULL;
	if (oldfd == newfd)
		return fi;
	fi = fdinfo_get(fi); /* the old slot may move while the table grows */
	s = fd_table_set(t, newfd, fi, cloexec);
	fdinfo_put(fi);
	return s ? s->fi : NULL;
}

struct fd_slot *fd_table_next(const struct fd_table *t, size_t *it)
{
	while (*it < t->cap) {
		struct fd_slot *s = &t->slots[(*it)++];

		if (s->fd >= 0)
			return s;
	}
	return NULL;
}

/* Removes every fd for which pred holds (collected first: removal moves slots). */
static void remove_where(struct fd_table *t, bool (*pred)(const struct fd_slot *, const void *),
			 const void *arg)
{
	int buf[64];
	size_t it, n;

	do {
		struct fd_slot *s;

		n = 0;
		it = 0;
		while (n < 64 && (s = fd_table_next(t, &it)))
			if (pred(s, arg))
				buf[n++] = s->fd;
		for (size_t i = 0; i < n; i++)
			fd_table_remove(t, buf[i]);
	} while (n == 64);
}

static bool is_cloexec(const struct fd_slot *s, const void *arg)
{
	return s->cloexec;
}

void fd_table_exec(struct fd_table *t)
{
	remove_where(t, is_cloexec, NULL);
}

struct range {
	unsigned first, last;
};

static bool in_range(const struct fd_slot *s, const void *arg)
{
	const struct range *r = arg;

	return (unsigned)s->fd >= r->first && (unsigned)s->fd <= r->last;
}

void fd_table_close_range(struct fd_table *t, unsigned first, unsigned last, bool cloexec_only)
{
	struct range r = {first, last};

	if (first > last)
		return;
	if (cloexec_only) {
		size_t it = 0;
		struct fd_slot *s;

		while ((s = fd_table_next(t, &it)))
			if (in_range(s, &r))
				s->cloexec = true;
		return;
	}
	remove_where(t, in_range, &r);
}

/*
 * The socket index.
 */

struct sock_entry {
	uint64_t ino;
	uint8_t type; /* enum fd_type */
	uint8_t l4proto;
	uint8_t flags; /* FDI_* */
	uint8_t sock_type;
	struct fd_sock sock;
	char *path; /* unix */
};

struct sock_index {
	struct sock_entry *v;
	size_t n, cap;
	uint64_t *netns; /* namespaces loaded */
	size_t nnetns;
	uint8_t listen[8192]; /* TCP ports listening in the namespace being loaded */
};

struct sock_index *sock_index_new(void)
{
	return calloc(1, sizeof(struct sock_index));
}

void sock_index_free(struct sock_index *sx)
{
	if (!sx)
		return;
	for (size_t i = 0; i < sx->n; i++)
		free(sx->v[i].path);
	free(sx->v);
	free(sx->netns);
	free(sx);
}

size_t sock_index_size(const struct sock_index *sx)
{
	return sx->n;
}

static struct sock_entry *sx_push(struct sock_index *sx)
{
	if (sx->n == sx->cap) {
		size_t cap = sx->cap ? sx->cap * 2 : 64;
		struct sock_entry *v = realloc(sx->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		sx->v = v;
		sx->cap = cap;
	}
	memset(&sx->v[sx->n], 0, sizeof(sx->v[0]));
	return &sx->v[sx->n++];
}

/* "0100007F" (a __be32 printed as the host's u32), eight hex digits per word. */
static int parse_hex_addr(const char *s, size_t len, uint8_t out[16])
{
	size_t words = len / 8;

	if (len % 8 || (words != 1 && words != 4))
		return -1;
	memset(out, 0, 16);
	for (size_t w = 0; w < words; w++) {
		char tmp[9];
		char *end;
		uint32_t v;

		memcpy(tmp, s + 8 * w, 8);
		tmp[8] = '\0';
		v = (uint32_t)strtoul(tmp, &end, 16);
		if (*end)
			return -1;
		memcpy(out + 4 * w, &v, 4);
	}
	return (int)words;
}

static bool is_v4_mapped(const uint8_t a[16])
{
	static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	return memcmp(a, prefix, 12) == 0;
}

void fd_sock_unmap_v4(uint8_t *type, struct fd_sock *s)
{
	static const uint8_t zero[16];
	bool lz = !memcmp(s->lip, zero, 16), rz = !memcmp(s->rip, zero, 16);

	if (*type != FD_IPV6 || (lz && rz))
		return;
	if ((lz || is_v4_mapped(s->lip)) && (rz || is_v4_mapped(s->rip))) {
		memmove(s->lip, s->lip + 12, 4);
		memset(s->lip + 4, 0, 12);
		memmove(s->rip, s->rip + 12, 4);
		memset(s->rip + 4, 0, 12);
		*type = FD_IPV4;
	}
}

enum {
	TCP_ESTABLISHED = 1,
	TCP_LISTEN = 10
};

static void load_inet(struct sock_index *sx, const char *path, uint8_t l4, bool tcp)
{
	FILE *f = fopen(path, "re");
	char line[512];

	if (!f)
		return;
	if (!fgets(line, sizeof(line), f)) { /* header */
		fclose(f);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		char la[40], ra[40];
		unsigned lport, rport, st;
		unsigned long long ino;
		struct sock_entry *e;
		int lw, rw;

		if (sscanf(line,
			   " %*s %39[0-9A-Fa-f]:%x %39[0-9A-Fa-f]:%x %x %*s %*s %*s %*u %*u %llu",
			   la, &lport, ra, &rport, &st, &ino) != 6 ||
		    !ino)
			continue;
		e = sx_push(sx);
		if (!e)
			break;
		lw = parse_hex_addr(la, strlen(la), e->sock.lip);
		rw = parse_hex_addr(ra, strlen(ra), e->sock.rip);
		if (lw < 0 || rw != lw) {
			sx->n--;
			continue;
		}
		e->ino = ino;
		e->type = lw == 1 ? FD_IPV4 : FD_IPV6;
		e->l4proto = l4;
		e->sock.lport = (uint16_t)lport;
		e->sock.rport = (uint16_t)rport;
		e->sock_type = tcp ? SOCK_STREAM : l4 == L4_RAW ? SOCK_RAW : SOCK_DGRAM;
		if (l4 == L4_RAW) /* the "port" is the protocol number */
			e->sock.lport = e->sock.rport = 0;
		if (tcp && st == TCP_LISTEN) {
			e->flags |= FDI_LISTENING | FDI_SERVER;
			sx->listen[(lport & 0xffff) / 8] |= (uint8_t)(1u << (lport % 8));
		} else if (st == TCP_ESTABLISHED || (tcp && e->sock.rport)) {
			/* UDP reports 1 (established) for connected sockets too. */
			e->flags |= FDI_CONNECTED;
		}
		fd_sock_unmap_v4(&e->type, &e->sock);
	}
	fclose(f);
}

static void load_unix(struct sock_index *sx, const char *path)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	if (!f)
		return;
	if (getline(&line, &cap, f) < 0) { /* header */
		free(line);
		fclose(f);
		return;
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		unsigned flags, type, st;
		unsigned long long ino;
		int off = 0;
		struct sock_entry *e;
		char *p;

		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (sscanf(line, "%*s %*x %*x %x %x %x %llu%n", &flags, &type, &st, &ino, &off) <
			4 ||
		    !ino)
			continue;
		e = sx_push(sx);
		if (!e)
			break;
		e->ino = ino;
		e->type = FD_UNIX;
		e->sock_type = (uint8_t)type;
		if (flags & 0x10000) /* __SO_ACCEPTCON: listening */
			e->flags |= FDI_LISTENING | FDI_SERVER;
		if (st == 3) /* SS_CONNECTED */
			e->flags |= FDI_CONNECTED;
		p = line + off;
		while (*p == ' ')
			p++;
		if (*p)
			e->path = strdup(p);
	}
	free(line);
	fclose(f);
}

static void load_netlink(struct sock_index *sx, const char *path)
{
	FILE *f = fopen(path, "re");
	char line[512];

	if (!f)
		return;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned long long ino;
		struct sock_entry *e;

		/* sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode */
		if (sscanf(line, "%*s %*s %*s %*s %*s %*s %*s %*s %*s %llu", &ino) != 1 || !ino)
			continue;
		e = sx_push(sx);
		if (!e)
			break;
		e->ino = ino;
		e->type = FD_NETLINK;
		e->sock_type = SOCK_RAW;
	}
	fclose(f);
}

static int cmp_entry(const void *a, const void *b)
{
	const struct sock_entry *x = a, *y = b;

	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

void sock_index_load(struct sock_index *sx, const char *netdir, uint64_t netns_ino)
{
	static const struct {
		const char *file;
		uint8_t l4;
		bool tcp;
	} inet[] = {
	    {"tcp", L4_TCP, true},     {"tcp6", L4_TCP, true},	   {"udp", L4_UDP, false},
	    {"udp6", L4_UDP, false},   {"udplite", L4_UDP, false}, {"udplite6", L4_UDP, false},
	    {"raw", L4_RAW, false},    {"raw6", L4_RAW, false},	   {"icmp", L4_ICMP, false},
	    {"icmp6", L4_ICMP, false},
	};
	char path[4200];
	size_t first = sx->n;

	if (netns_ino) {
		uint64_t *v;

		for (size_t i = 0; i < sx->nnetns; i++)
			if (sx->netns[i] == netns_ino)
				return;
		v = realloc(sx->netns, (sx->nnetns + 1) * sizeof(*v));
		if (!v)
			return;
		sx->netns = v;
		sx->netns[sx->nnetns++] = netns_ino;
	}
	memset(sx->listen, 0, sizeof(sx->listen));
	for (size_t i = 0; i < sizeof(inet) / sizeof(inet[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", netdir, inet[i].file);
		load_inet(sx, path, inet[i].l4, inet[i].tcp);
	}
	/* A connected TCP socket whose local port has a listener was accepted: the process
	 * holding it is the server. */
	for (size_t i = first; i < sx->n; i++) {
		struct sock_entry *e = &sx->v[i];
		unsigned p = e->sock.lport;

		if (e->l4proto == L4_TCP && (e->flags & FDI_CONNECTED) &&
		    (sx->listen[p / 8] & (1u << (p % 8))))
			e->flags |= FDI_SERVER;
	}
	snprintf(path, sizeof(path), "%s/unix", netdir);
	load_unix(sx, path);
	snprintf(path, sizeof(path), "%s/netlink", netdir);
	load_netlink(sx, path);
	if (sx->n)
		qsort(sx->v, sx->n, sizeof(*sx->v), cmp_entry);
}

static const struct sock_entry *sx_find(const struct sock_index *sx, uint64_t ino)
{
	struct sock_entry key = {.ino = ino};

	if (!sx || !sx->n)
		return NULL;
	return bsearch(&key, sx->v, sx->n, sizeof(*sx->v), cmp_entry);
}

/*
 * Seeding one process's fds.
 */

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static const struct {
	const char *link;
	uint8_t type;
} anon_links[] = {
    {"anon_inode:[eventfd]", FD_EVENT},
    {"anon_inode:[signalfd]", FD_SIGNALFD},
    {"anon_inode:[eventpoll]", FD_EVENTPOLL},
    {"anon_inode:inotify", FD_INOTIFY},
    {"anon_inode:[timerfd]", FD_TIMERFD},
    {"anon_inode:[userfaultfd]", FD_USERFAULTFD},
    {"anon_inode:[io_uring]", FD_IOURING},
    {"anon_inode:bpf", FD_BPF}, /* bpf-map, bpf-prog, bpf_link, bpf_iter */
    {"anon_inode:btf", FD_BPF},
};

static uint64_t bracket_ino(const char *s)
{
	const char *b = strchr(s, '[');

	return b ? strtoull(b + 1, NULL, 10) : 0;
}

/* Fills fi from the fd's link text (and stat of the file it opens). */
static void seed_describe(struct fdinfo *fi, const char *fdpath, const char *link, size_t len,
			  const struct sock_index *sx)
{
	static const char deleted[] = " (deleted)";
	struct stat st;

	if (link[0] == '/' && has_prefix(link, "/memfd:")) {
		size_t n = len - 1;

		if (n >= sizeof(deleted) - 1 &&
		    !strcmp(link + len - (sizeof(deleted) - 1), deleted))
			n -= sizeof(deleted) - 1;
		fi->type = FD_MEMFD;
		fdinfo_set_name(fi, link + 1, n);
	} else if (link[0] == '/') {
		fi->type = FD_FILE;
		fdinfo_set_name(fi, link, len);
		if (!stat(fdpath, &st)) {
			if (S_ISDIR(st.st_mode))
				fi->type = FD_DIRECTORY;
			else if (S_ISFIFO(st.st_mode))
				fi->type = FD_PIPE;
			fi->dev = fd_dev_encode(major(st.st_dev), minor(st.st_dev));
			fi->ino = st.st_ino;
		}
	} else if (has_prefix(link, "socket:[")) {
		uint64_t ino = bracket_ino(link);
		const struct sock_entry *e = sx_find(sx, ino);

		fi->ino = ino;
		if (!e) {
			fdinfo_set_name(fi, link, len);
			return;
		}
		fi->type = e->type;
		fi->l4proto = e->l4proto;
		fi->flags |= e->flags;
		fi->sock_type = e->sock_type;
		fi->sock = e->sock;
		if (e->type == FD_UNIX && e->path)
			fdinfo_set_name(fi, e->path, strlen(e->path));
		else
			fdinfo_sock_rename(fi);
	} else if (has_prefix(link, "pipe:[")) {
		fi->type = FD_PIPE;
		fi->ino = bracket_ino(link);
		fdinfo_set_name(fi, "pipe", 4);
	} else {
		for (size_t i = 0; i < sizeof(anon_links) / sizeof(anon_links[0]); i++)
			if (has_prefix(link, anon_links[i].link))
				fi->type = anon_links[i].type;
		fdinfo_set_name(fi, link, len);
	}
}

/* The "flags:" line of procfs/PID/fdinfo/FD (octal), or -1. */
static long read_fdinfo_flags(const char *procfs, uint32_t pid, const char *fd)
{
	char path[4200], buf[512];
	int f;
	ssize_t n;
	char *p;

	snprintf(path, sizeof(path), "%s/%u/fdinfo/%s", procfs, pid, fd);
	f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return -1;
	n = read(f, buf, sizeof(buf) - 1);
	close(f);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strstr(buf, "flags:");
	return p ? strtol(p + 6, NULL, 8) : -1;
}

size_t fd_table_seed(struct fd_table *t, const char *procfs, uint32_t pid,
		     const struct sock_index *sx)
{
	char dirpath[4200], fdpath[4460], link[4097];
	DIR *d;
	struct dirent *de;
	size_t added = 0;

	snprintf(dirpath, sizeof(dirpath), "%s/%u/fd", procfs, pid);
	d = opendir(dirpath);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);
		long fl;
		ssize_t len;
		struct fdinfo *fi;

		if (de->d_name[0] < '0' || de->d_name[0] > '9' || *end || fd > INT32_MAX)
			continue;
		snprintf(fdpath, sizeof(fdpath), "%s/%s", dirpath, de->d_name);
		len = readlink(fdpath, link, sizeof(link) - 1);
		if (len <= 0)
			continue; /* closed since readdir */
		link[len] = '\0';
		fl = read_fdinfo_flags(procfs, pid, de->d_name);
		fi = fdinfo_new(FD_UNKNOWN);
		if (!fi)
			break;
		fi->flags = FDI_SEEDED;
		seed_describe(fi, fdpath, link, (size_t)len, sx);
		if (fl >= 0)
			fi->open_flags = (uint32_t)fl & ~(uint32_t)O_CLOEXEC;
		if (fd_table_set(t, (int)fd, fi, fl >= 0 && (fl & O_CLOEXEC)))
			added++;
		fdinfo_put(fi);
	}
	closedir(d);
	return added;
}
