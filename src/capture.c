#include "capture.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "strbuf.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the capture format is little-endian and this code writes it with memcpy"
#endif

#define WBUF_SIZE (256u << 10)
#define RBUF_SIZE (256u << 10)
/* At most this many threads and fds in one process frame (the tables' own bounds are lower). */
#define CAP_MAX_THREADS (1u << 22)
#define NO_STR		0xffffffffu

static void errf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static size_t pad8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/*
 * Writing.
 */

struct capture_writer {
	int fd;	    /* plain file, or -1 */
	gzFile gz;  /* .gz, or NULL */
	char *buf;
	size_t len;
	uint64_t bytes, frames;
	int err; /* the first errno, sticky */
	char errmsg[256];
	struct strbuf scratch; /* payloads built here */
};

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static void w_flush(struct capture_writer *w)
{
	size_t off = 0;

	if (w->err) {
		w->len = 0;
		return;
	}
	if (w->gz) {
		if (w->len && gzwrite(w->gz, w->buf, (unsigned)w->len) != (int)w->len) {
			int e;
			const char *m = gzerror(w->gz, &e);

			w->err = EIO;
			snprintf(w->errmsg, sizeof(w->errmsg), "%s",
				 e == Z_ERRNO ? strerror(errno) : m);
		}
		w->len = 0;
		return;
	}
	while (off < w->len) {
		ssize_t n = write(w->fd, w->buf + off, w->len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			w->err = errno;
			snprintf(w->errmsg, sizeof(w->errmsg), "%s", strerror(errno));
			break;
		}
		off += (size_t)n;
	}
	w->len = 0;
}

static void w_put(struct capture_writer *w, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		size_t room = WBUF_SIZE - w->len, n = len < room ? len : room;

		memcpy(w->buf + w->len, p, n);
		w->len += n;
		p += n;
		len -= n;
		if (w->len == WBUF_SIZE)
			w_flush(w);
	}
}

struct capture_writer *capture_writer_open(const char *path, char *err, size_t errlen)
{
	struct capture_writer *w = calloc(1, sizeof(*w));
	int fd;

	if (!w || !(w->buf = malloc(WBUF_SIZE))) {
		free(w);
		errf(err, errlen, "out of memory");
		return NULL;
	}
	w->scratch = (struct strbuf)STRBUF_INIT;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		errf(err, errlen, "cannot create '%s': %s", path, strerror(errno));
		free(w->buf);
		free(w);
		return NULL;
	}
	w->fd = fd;
	if (ends_with(path, ".gz")) {
		/* level 1: a live capture must keep up with the ring; it still shrinks event
		 * streams several times over */
		w->gz = gzdopen(fd, "wb1");
		if (!w->gz) {
			errf(err, errlen, "cannot start compressing '%s'", path);
			close(fd);
			free(w->buf);
			free(w);
			return NULL;
		}
		w->fd = -1;
		gzbuffer(w->gz, 128u << 10);
	}
	w_put(w, CAP_MAGIC, CAP_MAGIC_LEN);
	w->bytes = CAP_MAGIC_LEN;
	return w;
}

int capture_write_frame(struct capture_writer *w, unsigned kind, unsigned flags,
			const void *data, size_t len)
{
	static const char zeros[8];
	uint8_t h[CAP_FRAME_HDR];
	uint32_t l = (uint32_t)len;
	uint16_t k = (uint16_t)kind, f = (uint16_t)flags;

	if (len > UINT32_MAX - 8) { /* cannot happen with the tables' bounds; refuse anyway */
		if (!w->err) {
			w->err = EFBIG;
			snprintf(w->errmsg, sizeof(w->errmsg), "a frame of %zu bytes", len);
		}
		return -1;
	}
	memcpy(h, &l, 4);
	memcpy(h + 4, &k, 2);
	memcpy(h + 6, &f, 2);
	w_put(w, h, sizeof(h));
	if (len)
		w_put(w, data, len);
	if (pad8(len) != len)
		w_put(w, zeros, pad8(len) - len);
	w->bytes += CAP_FRAME_HDR + pad8(len);
	w->frames++;
	return w->err ? -1 : 0;
}

static void put_u8(struct strbuf *sb, uint8_t v)
{
	sb_add(sb, &v, 1);
}

static void put_u16(struct strbuf *sb, uint16_t v)
{
	sb_add(sb, &v, 2);
}

static void put_u32(struct strbuf *sb, uint32_t v)
{
	sb_add(sb, &v, 4);
}

static void put_u64(struct strbuf *sb, uint64_t v)
{
	sb_add(sb, &v, 8);
}

/* A byte string that may be absent: u32 length (NO_STR for NULL), then the bytes. */
static void put_bytes(struct strbuf *sb, const void *s, size_t len)
{
	if (!s) {
		put_u32(sb, NO_STR);
		return;
	}
	put_u32(sb, (uint32_t)len);
	sb_add(sb, s, len);
}

static void put_str(struct strbuf *sb, const char *s)
{
	put_bytes(sb, s, s ? strlen(s) : 0);
}

/* A short text of the header: u16 length, bytes. */
static void put_text(struct strbuf *sb, const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	put_u16(sb, (uint16_t)n);
	sb_add(sb, s, n);
}

int capture_write_header(struct capture_writer *w, const struct cap_header *h)
{
	struct strbuf *sb = &w->scratch;

	sb_reset(sb);
	put_u32(sb, h->version);
	put_u32(sb, h->abi);
	put_u64(sb, (uint64_t)h->boot_to_wall_ns);
	put_u64(sb, h->start_boot_ns);
	put_u64(sb, (uint64_t)h->utc_offset_s);
	put_text(sb, h->hostname, sizeof(h->hostname));
	put_text(sb, h->kernel, sizeof(h->kernel));
	put_text(sb, h->machine, sizeof(h->machine));
	put_text(sb, h->saker, sizeof(h->saker));
	return capture_write_frame(w, CAP_K_HEADER, 0, sb->buf, sb->len);
}

int capture_write_proc(struct capture_writer *w, const struct proc *p)
{
	struct strbuf *sb = &w->scratch;
	const uint32_t u32s[] = {p->pid,      p->ppid,	    p->vpid,	  p->vpgid,   p->pidns_ino,
				 p->sid,      p->pgid,	    p->tty,	  p->uid,     p->gid,
				 p->euid,     p->egid,	    p->suid,	  p->sgid,    p->loginuid,
				 p->flags,    p->exe_mode,  p->exe_uid,	  p->exe_gid, p->exe_flags};
	const uint64_t u64s[] = {p->cap_effective, p->cap_permitted, p->cap_inheritable,
				 p->start_ns,	   p->cgroup_id,     p->exe_ino,
				 p->exe_ctime_ns,  p->exe_mtime_ns};
	const struct fdinfo **seen = NULL;
	size_t nseen = 0, it = 0;
	struct fd_slot *s;
	int rc;

	sb_reset(sb);
	for (size_t i = 0; i < sizeof(u32s) / sizeof(u32s[0]); i++)
		put_u32(sb, u32s[i]);
	for (size_t i = 0; i < sizeof(u64s) / sizeof(u64s[0]); i++)
		put_u64(sb, u64s[i]);
	sb_add(sb, p->comm, sizeof(p->comm));
	put_u8(sb, p->env_state);
	put_str(sb, p->exe);
	put_str(sb, p->exepath);
	put_str(sb, p->filename);
	put_bytes(sb, p->args, p->args_len);
	put_str(sb, p->cwd);
	put_str(sb, p->cgroup);
	put_bytes(sb, p->env, p->env_len);

	put_u32(sb, p->nthreads);
	for (const struct thread *t = p->threads; t; t = t->pnext) {
		put_u32(sb, t->tid);
		put_u32(sb, t->vtid);
		put_u32(sb, t->last_child);
	}

	/* fds: a description shared by several fds of the process is written once; later
	 * fds name it by its index in the order of first appearance */
	put_u32(sb, p->fds.n);
	if (p->fds.n)
		seen = calloc(p->fds.n, sizeof(*seen));
	while ((s = fd_table_next(&p->fds, &it))) {
		const struct fdinfo *fi = s->fi;
		size_t k = 0;

		put_u32(sb, (uint32_t)s->fd);
		put_u8(sb, s->cloexec);
		while (seen && k < nseen && seen[k] != fi)
			k++;
		if (seen && k < nseen) {
			put_u32(sb, (uint32_t)k);
			continue;
		}
		if (seen)
			seen[nseen++] = fi;
		put_u32(sb, NO_STR); /* a new description follows */
		put_u8(sb, fi->type);
		put_u8(sb, fi->l4proto);
		put_u8(sb, fi->flags);
		put_u8(sb, fi->sock_type);
		put_u32(sb, fi->open_flags);
		put_u32(sb, fi->dev);
		put_u64(sb, fi->ino);
		put_str(sb, fi->name);
		put_str(sb, fi->nameraw);
		sb_add(sb, fi->sock.lip, 16);
		sb_add(sb, fi->sock.rip, 16);
		put_u16(sb, fi->sock.lport);
		put_u16(sb, fi->sock.rport);
	}
	free(seen);
	rc = capture_write_frame(w, CAP_K_PROC, 0, sb->buf, sb->len);
	return rc;
}

int capture_write_users(struct capture_writer *w, const char *passwd, size_t plen,
			const char *group, size_t glen)
{
	struct strbuf *sb = &w->scratch;

	sb_reset(sb);
	put_bytes(sb, passwd, plen);
	put_bytes(sb, group, glen);
	return capture_write_frame(w, CAP_K_USERS, 0, sb->buf, sb->len);
}

static int write_lookup(struct capture_writer *w, unsigned kind, const struct proc *p,
			uint32_t flags, const char *bytes, size_t len)
{
	struct strbuf *sb = &w->scratch;

	sb_reset(sb);
	put_u32(sb, p->pid);
	put_u32(sb, flags);
	put_u64(sb, p->start_ns);
	put_bytes(sb, bytes ? bytes : "", bytes ? len : 0);
	return capture_write_frame(w, kind, 0, sb->buf, sb->len);
}

int capture_write_env(struct capture_writer *w, const struct proc *p)
{
	return write_lookup(w, CAP_K_ENV, p, p->flags & PROC_ENV_TRUNC, p->env, p->env_len);
}

int capture_write_cgroup(struct capture_writer *w, const struct proc *p)
{
	return write_lookup(w, CAP_K_CGROUP, p, 0, p->cgroup, p->cgroup ? strlen(p->cgroup) : 0);
}

int capture_write_lookup(struct capture_writer *w, const char *what, const char *key,
			 const void *data, size_t len)
{
	struct strbuf *sb = &w->scratch;

	sb_reset(sb);
	put_str(sb, what);
	put_str(sb, key);
	put_bytes(sb, data ? data : "", data ? len : 0);
	return capture_write_frame(w, CAP_K_LOOKUP, 0, sb->buf, sb->len);
}

uint64_t capture_writer_bytes(const struct capture_writer *w)
{
	return w->bytes;
}

uint64_t capture_writer_frames(const struct capture_writer *w)
{
	return w->frames;
}

int capture_writer_close(struct capture_writer *w, char *err, size_t errlen)
{
	int rc;

	if (!w->err) /* a capture whose writes failed is incomplete: no end frame */
		capture_write_frame(w, CAP_K_END, 0, NULL, 0);
	w_flush(w);
	if (w->gz) {
		int z = gzclose(w->gz);

		if (z != Z_OK && !w->err) {
			w->err = EIO;
			snprintf(w->errmsg, sizeof(w->errmsg), "closing the compressed stream failed");
		}
	} else if (close(w->fd) && !w->err) {
		w->err = errno;
		snprintf(w->errmsg, sizeof(w->errmsg), "%s", strerror(errno));
	}
	rc = w->err ? -1 : 0;
	if (rc)
		errf(err, errlen, "%s", w->errmsg);
	sb_release(&w->scratch);
	free(w->buf);
	free(w);
	return rc;
}

/*
 * Reading.
 */

struct capture_reader {
	gzFile gz;	    /* NULL: memory */
	const uint8_t *mem; /* memory reader: the whole stream */
	void *map;	    /* a plain file, mapped (mem points to it) */
	size_t map_len;
	uint8_t *buf;	    /* file reader: a window on the stream */
	size_t cap, start, end; /* buf[start, end) holds stream bytes not yet consumed */
	uint64_t pos;	    /* stream offset of buf[start] */
	bool eof, magic_ok, ended;
	char err[320];
};

/* Makes at least want bytes available from the current position (fewer at the end of the
 * stream). Returns the number available, or -1 on a read error. */
static long long r_fill(struct capture_reader *r, size_t want)
{
	if (r->mem || r->end - r->start >= want || r->eof)
		return (long long)(r->end - r->start);
	/* compact, keeping the stream offset's alignment to 8 (payloads stay aligned) */
	if (r->start) {
		size_t keep = r->end - r->start, shift = r->start & ~(size_t)7;

		memmove(r->buf + (r->start - shift), r->buf + r->start, keep);
		r->start -= shift;
		r->end = r->start + keep;
	}
	if (r->start + want > r->cap) {
		size_t nc = r->cap;
		uint8_t *nb;

		while (r->start + want > nc)
			nc *= 2;
		nb = realloc(r->buf, nc);
		if (!nb) {
			snprintf(r->err, sizeof(r->err), "offset %llu: out of memory",
				 (unsigned long long)r->pos);
			return -1;
		}
		r->buf = nb;
		r->cap = nc;
	}
	while (r->end - r->start < want && !r->eof) {
		size_t room = r->cap - r->end;
		int n = gzread(r->gz, r->buf + r->end, room > (1u << 30) ? 1u << 30 : (unsigned)room);

		if (n < 0) {
			int e;
			const char *m = gzerror(r->gz, &e);

			snprintf(r->err, sizeof(r->err),
				 "offset %llu: the compressed data is corrupt or unreadable (%s)",
				 (unsigned long long)(r->pos + (r->end - r->start)),
				 e == Z_ERRNO ? strerror(errno) : m);
			return -1;
		}
		if (n == 0)
			r->eof = true;
		r->end += (size_t)n;
	}
	return (long long)(r->end - r->start);
}

static struct capture_reader *reader_new(void)
{
	struct capture_reader *r = calloc(1, sizeof(*r));

	return r;
}

struct capture_reader *capture_reader_open(const char *path, char *err, size_t errlen)
{
	struct capture_reader *r = reader_new();
	int fd;

	if (!r) {
		errf(err, errlen, "out of memory");
		return NULL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		errf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
		free(r);
		return NULL;
	}
	{
		/* A plain regular file is mapped and read in place: no copy per record. (A file
		 * shortened while it is being replayed ends the replay with SIGBUS.) */
		struct stat st;
		uint8_t magic[2] = {0, 0};

		if (!fstat(fd, &st) && S_ISREG(st.st_mode) && st.st_size >= CAP_MAGIC_LEN &&
		    pread(fd, magic, 2, 0) == 2 && !(magic[0] == 0x1f && magic[1] == 0x8b)) {
			void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);

			if (m != MAP_FAILED) {
				madvise(m, (size_t)st.st_size, MADV_SEQUENTIAL);
				close(fd);
				r->map = m;
				r->map_len = (size_t)st.st_size;
				r->mem = m;
				r->end = r->map_len;
				r->eof = true;
				return r;
			}
		}
	}
	r->gz = gzdopen(fd, "rb"); /* gzip, or plain files that cannot be mapped */
	r->cap = RBUF_SIZE;
	r->buf = malloc(r->cap);
	if (!r->gz || !r->buf) {
		errf(err, errlen, "out of memory");
		if (r->gz)
			gzclose(r->gz);
		else
			close(fd);
		free(r->buf);
		free(r);
		return NULL;
	}
	gzbuffer(r->gz, 256u << 10);
	return r;
}

struct capture_reader *capture_reader_mem(const void *buf, size_t len)
{
	struct capture_reader *r = reader_new();

	if (!r)
		return NULL;
	r->mem = buf;
	r->end = len;
	r->eof = true;
	return r;
}

static const uint8_t *r_data(const struct capture_reader *r)
{
	return (r->mem ? r->mem : r->buf) + r->start;
}

static void r_consume(struct capture_reader *r, size_t n)
{
	r->start += n;
	r->pos += n;
}

/* The payload limit of a kind; 0 for an unknown kind that must not be skipped. */
static uint32_t kind_max(unsigned kind)
{
	switch (kind) {
	case CAP_K_HEADER:
		return 4096;
	case CAP_K_PROC:
		return CAP_MAX_PROC;
	case CAP_K_USERS:
		return CAP_MAX_USERS;
	case CAP_K_SNAPSHOT_END:
	case CAP_K_END:
		return 0;
	case CAP_K_EVENT:
		return SK_RECORD_MAX;
	case CAP_K_ENV:
		return PROC_ENV_MAX + 64;
	case CAP_K_CGROUP:
		return 8192;
	case CAP_K_LOOKUP:
		return 16u << 20;
	}
	return kind >= CAP_K_OPTIONAL ? CAP_MAX_PROC : 0;
}

static bool kind_known(unsigned kind)
{
	return kind >= CAP_K_HEADER && kind <= CAP_K_LOOKUP;
}

int capture_read_frame(struct capture_reader *r, struct cap_frame *f)
{
	long long have;
	uint32_t len;
	uint16_t kind, flags;

	if (r->err[0])
		return -1;
	if (r->ended)
		return 0;
	if (!r->magic_ok) {
		have = r_fill(r, CAP_MAGIC_LEN);
		if (have < 0)
			return -1;
		if (have < CAP_MAGIC_LEN || memcmp(r_data(r), CAP_MAGIC, CAP_MAGIC_LEN) != 0) {
			snprintf(r->err, sizeof(r->err),
				 "offset 0: not a saker capture (no \"" CAP_MAGIC "\" at the start)");
			return -1;
		}
		r_consume(r, CAP_MAGIC_LEN);
		r->magic_ok = true;
	}
	for (;;) {
		/* the common case first: a mapped file, a whole frame of a known kind */
		if (r->mem && r->end - r->start >= CAP_FRAME_HDR) {
			const uint8_t *p = r->mem + r->start;

			memcpy(&len, p, 4);
			memcpy(&kind, p + 4, 2);
			if (kind_known(kind) && kind != CAP_K_END && len <= kind_max(kind) &&
			    r->end - r->start >= CAP_FRAME_HDR + pad8(len)) {
				memcpy(&flags, p + 6, 2);
				f->kind = kind;
				f->flags = flags;
				f->len = len;
				f->offset = r->pos;
				f->data = p + CAP_FRAME_HDR;
				r_consume(r, CAP_FRAME_HDR + pad8(len));
				return 1;
			}
		}
		have = r_fill(r, CAP_FRAME_HDR);
		if (have < 0)
			return -1;
		if (have == 0) {
			snprintf(r->err, sizeof(r->err),
				 "offset %llu: the file ends without its end frame (cut short, or the "
				 "writer was stopped before it finished)",
				 (unsigned long long)r->pos);
			return -1;
		}
		if (have < CAP_FRAME_HDR) {
			snprintf(r->err, sizeof(r->err),
				 "offset %llu: truncated frame header (%lld of %d bytes)",
				 (unsigned long long)r->pos, have, CAP_FRAME_HDR);
			return -1;
		}
		memcpy(&len, r_data(r), 4);
		memcpy(&kind, r_data(r) + 4, 2);
		memcpy(&flags, r_data(r) + 6, 2);
		if (!kind_known(kind) && kind < CAP_K_OPTIONAL) {
			snprintf(r->err, sizeof(r->err), "offset %llu: unknown frame kind %u",
				 (unsigned long long)r->pos, kind);
			return -1;
		}
		if (len > kind_max(kind)) {
			snprintf(r->err, sizeof(r->err),
				 "offset %llu: frame of kind %u is %u bytes long, over its limit of %u",
				 (unsigned long long)r->pos, kind, len, kind_max(kind));
			return -1;
		}
		have = r_fill(r, CAP_FRAME_HDR + pad8(len));
		if (have < 0)
			return -1;
		if ((size_t)have < CAP_FRAME_HDR + pad8(len)) {
			snprintf(r->err, sizeof(r->err),
				 "offset %llu: truncated frame (kind %u, %zu bytes, %lld present)",
				 (unsigned long long)r->pos, kind, CAP_FRAME_HDR + pad8(len), have);
			return -1;
		}
		f->kind = kind;
		f->flags = flags;
		f->len = len;
		f->offset = r->pos;
		f->data = r_data(r) + CAP_FRAME_HDR;
		r_consume(r, CAP_FRAME_HDR + pad8(len));
		if (!kind_known(kind)) /* optional: skipped */
			continue;
		if (kind == CAP_K_END) {
			r->ended = true;
			return 0;
		}
		return 1;
	}
}

const char *capture_reader_error(const struct capture_reader *r)
{
	return r->err;
}

void capture_reader_close(struct capture_reader *r)
{
	if (!r)
		return;
	if (r->gz)
		gzclose(r->gz);
	if (r->map)
		munmap(r->map, r->map_len);
	free(r->buf);
	free(r);
}

/*
 * Payloads. A cursor that refuses to read past its end: after the first short read every
 * get returns zeros and bad is set.
 */

struct cur {
	const uint8_t *p;
	size_t n;
	bool bad;
};

static bool get(struct cur *c, void *out, size_t len)
{
	if (c->bad || c->n < len) {
		c->bad = true;
		memset(out, 0, len);
		return false;
	}
	memcpy(out, c->p, len);
	c->p += len;
	c->n -= len;
	return true;
}

static uint8_t get_u8(struct cur *c)
{
	uint8_t v;

	get(c, &v, 1);
	return v;
}

static uint16_t get_u16(struct cur *c)
{
	uint16_t v;

	get(c, &v, 2);
	return v;
}

static uint32_t get_u32(struct cur *c)
{
	uint32_t v;

	get(c, &v, 4);
	return v;
}

static uint64_t get_u64(struct cur *c)
{
	uint64_t v;

	get(c, &v, 8);
	return v;
}

/* A byte string: *present false for an absent one. Points into the payload. */
static const char *get_bytes(struct cur *c, size_t *len, bool *present)
{
	uint32_t n = get_u32(c);
	const char *s;

	*len = 0;
	*present = false;
	if (c->bad || n == NO_STR)
		return NULL;
	if (n > c->n) {
		c->bad = true;
		return NULL;
	}
	s = (const char *)c->p;
	c->p += n;
	c->n -= n;
	*len = n;
	*present = true;
	return s;
}

/* A C string (malloc'd, NUL added; embedded NULs cut it) or NULL. */
static char *get_cstr(struct cur *c)
{
	size_t len;
	bool present;
	const char *s = get_bytes(c, &len, &present);

	return present ? strndup(s, len) : NULL;
}

static void get_text(struct cur *c, char *out, size_t cap)
{
	uint16_t n = get_u16(c);
	size_t keep;

	out[0] = '\0';
	if (c->bad || n > c->n) {
		c->bad = true;
		return;
	}
	keep = n < cap - 1 ? n : cap - 1;
	memcpy(out, c->p, keep);
	out[keep] = '\0';
	out[strnlen(out, keep)] = '\0';
	c->p += n;
	c->n -= n;
}

int capture_parse_header(const void *data, size_t len, struct cap_header *h, char *err,
			 size_t errlen)
{
	struct cur c = {data, len, false};

	memset(h, 0, sizeof(*h));
	h->version = get_u32(&c);
	h->abi = get_u32(&c);
	h->boot_to_wall_ns = (int64_t)get_u64(&c);
	h->start_boot_ns = get_u64(&c);
	h->utc_offset_s = (int64_t)get_u64(&c);
	if (!c.bad && h->version != CAP_VERSION) {
		errf(err, errlen, "capture format version %u (this saker reads version %d)",
		     h->version, CAP_VERSION);
		return -1;
	}
	get_text(&c, h->hostname, sizeof(h->hostname));
	get_text(&c, h->kernel, sizeof(h->kernel));
	get_text(&c, h->machine, sizeof(h->machine));
	get_text(&c, h->saker, sizeof(h->saker));
	if (c.bad) {
		errf(err, errlen, "header cut short");
		return -1;
	}
	if (h->utc_offset_s < -86400 || h->utc_offset_s > 86400) {
		errf(err, errlen, "header: UTC offset %lld s is not a time zone",
		     (long long)h->utc_offset_s);
		return -1;
	}
	return 0;
}

int capture_parse_users(const void *data, size_t len, const char **passwd, size_t *plen,
			const char **group, size_t *glen, char *err, size_t errlen)
{
	struct cur c = {data, len, false};
	bool a, b;

	*passwd = get_bytes(&c, plen, &a);
	*group = get_bytes(&c, glen, &b);
	if (c.bad) {
		errf(err, errlen, "users record cut short");
		return -1;
	}
	return 0;
}

int capture_parse_lookup(const void *data, size_t len, struct cap_lookup *out, char *err,
			 size_t errlen)
{
	struct cur c = {data, len, false};
	bool present;

	out->pid = get_u32(&c);
	out->flags = get_u32(&c);
	out->start_ns = get_u64(&c);
	out->bytes = get_bytes(&c, &out->len, &present);
	if (c.bad || !present) {
		errf(err, errlen, "lookup record cut short");
		return -1;
	}
	return 0;
}

int capture_parse_ext(const void *data, size_t len, struct cap_ext *out, char *err,
		      size_t errlen)
{
	struct cur c = {data, len, false};
	bool a, b, d;

	out->what = get_bytes(&c, &out->what_len, &a);
	out->key = get_bytes(&c, &out->key_len, &b);
	out->data = get_bytes(&c, &out->len, &d);
	if (c.bad || !a || !b || !d || c.n) {
		errf(err, errlen, "lookup record malformed");
		return -1;
	}
	return 0;
}

struct fd_in {
	int32_t fd;
	bool cloexec;
	struct fdinfo *fi; /* one reference held */
};

static struct fdinfo *get_fdinfo(struct cur *c)
{
	uint8_t type = get_u8(c), l4 = get_u8(c), flags = get_u8(c), st = get_u8(c);
	struct fdinfo *fi;
	size_t len;
	bool present;
	const char *s;

	if (c->bad || type >= FD_NTYPES || l4 > L4_RAW) {
		c->bad = true;
		return NULL;
	}
	fi = fdinfo_new((enum fd_type)type);
	if (!fi) {
		c->bad = true;
		return NULL;
	}
	fi->l4proto = l4;
	fi->flags = flags;
	fi->sock_type = st;
	fi->open_flags = get_u32(c);
	fi->dev = get_u32(c);
	fi->ino = get_u64(c);
	s = get_bytes(c, &len, &present);
	if (present)
		fdinfo_set_name(fi, s, strnlen(s, len));
	s = get_bytes(c, &len, &present);
	if (present)
		fdinfo_set_nameraw(fi, s, strnlen(s, len));
	get(c, fi->sock.lip, 16);
	get(c, fi->sock.rip, 16);
	fi->sock.lport = get_u16(c);
	fi->sock.rport = get_u16(c);
	if (c->bad) {
		fdinfo_put(fi);
		return NULL;
	}
	return fi;
}

struct proc_in {
	struct proc v; /* numbers and strings (owned) */
	uint32_t nthreads;
	uint32_t *threads; /* tid, vtid, last_child triples */
	uint32_t nfds;
	struct fd_in *fds;
	struct fdinfo **descs;
	uint32_t ndescs;
};

static void proc_in_free(struct proc_in *in)
{
	free(in->v.exe);
	free(in->v.exepath);
	free(in->v.filename);
	free(in->v.args);
	free(in->v.cwd);
	free(in->v.cgroup);
	free(in->v.env);
	free(in->threads);
	for (uint32_t i = 0; i < in->ndescs; i++)
		fdinfo_put(in->descs[i]);
	free(in->descs);
	free(in->fds);
}

/* A byte string kept with its length (args, env: NUL-separated), NUL added. */
static char *get_blob(struct cur *c, size_t *len)
{
	bool present;
	const char *s = get_bytes(c, len, &present);
	char *d;

	if (!present)
		return NULL;
	d = malloc(*len + 1);
	if (!d) {
		c->bad = true;
		return NULL;
	}
	memcpy(d, s, *len);
	d[*len] = '\0';
	return d;
}

static int parse_proc(struct cur *c, struct proc_in *in, char *err, size_t errlen)
{
	struct proc *v = &in->v;
	uint32_t *u32s[] = {&v->pid,	&v->ppid, &v->vpid,	 &v->vpgid,   &v->pidns_ino,
			    &v->sid,	&v->pgid, &v->tty,	 &v->uid,     &v->gid,
			    &v->euid,	&v->egid, &v->suid,	 &v->sgid,    &v->loginuid,
			    &v->flags,	&v->exe_mode, &v->exe_uid, &v->exe_gid, &v->exe_flags};
	uint64_t *u64s[] = {&v->cap_effective, &v->cap_permitted, &v->cap_inheritable,
			    &v->start_ns,      &v->cgroup_id,	  &v->exe_ino,
			    &v->exe_ctime_ns,  &v->exe_mtime_ns};

	for (size_t i = 0; i < sizeof(u32s) / sizeof(u32s[0]); i++)
		*u32s[i] = get_u32(c);
	for (size_t i = 0; i < sizeof(u64s) / sizeof(u64s[0]); i++)
		*u64s[i] = get_u64(c);
	get(c, v->comm, sizeof(v->comm));
	v->comm[sizeof(v->comm) - 1] = '\0';
	v->env_state = get_u8(c);
	if (v->env_state > PROC_ENV_FAILED)
		c->bad = true;
	v->exe = get_cstr(c);
	v->exepath = get_cstr(c);
	v->filename = get_cstr(c);
	v->args = get_blob(c, &v->args_len);
	v->cwd = get_cstr(c);
	v->cgroup = get_cstr(c);
	v->env = get_blob(c, &v->env_len);
	if (c->bad || !v->pid) {
		errf(err, errlen, "process record cut short or malformed");
		return -1;
	}
	if (v->env_state == PROC_ENV_READ && !v->env)
		v->env_state = PROC_ENV_FAILED;

	in->nthreads = get_u32(c);
	if (c->bad || in->nthreads > CAP_MAX_THREADS || (size_t)in->nthreads * 12 > c->n) {
		errf(err, errlen, "process %u: bad thread count", v->pid);
		return -1;
	}
	in->threads = calloc((size_t)in->nthreads * 3 + 1, sizeof(*in->threads));
	if (!in->threads) {
		errf(err, errlen, "out of memory");
		return -1;
	}
	for (uint32_t i = 0; i < in->nthreads * 3; i++)
		in->threads[i] = get_u32(c);

	in->nfds = get_u32(c);
	/* each fd takes at least 9 bytes */
	if (c->bad || in->nfds > FD_TABLE_MAX || (size_t)in->nfds * 9 > c->n) {
		errf(err, errlen, "process %u: bad fd count", v->pid);
		return -1;
	}
	in->fds = calloc(in->nfds + 1, sizeof(*in->fds));
	in->descs = calloc(in->nfds + 1, sizeof(*in->descs));
	if (!in->fds || !in->descs) {
		errf(err, errlen, "out of memory");
		return -1;
	}
	for (uint32_t i = 0; i < in->nfds; i++) {
		uint32_t ref;

		in->fds[i].fd = (int32_t)get_u32(c);
		in->fds[i].cloexec = get_u8(c) != 0;
		ref = get_u32(c);
		if (c->bad || in->fds[i].fd < 0) {
			errf(err, errlen, "process %u: bad fd entry", v->pid);
			return -1;
		}
		if (ref == NO_STR) {
			struct fdinfo *fi = get_fdinfo(c);

			if (!fi) {
				errf(err, errlen, "process %u: bad fd description", v->pid);
				return -1;
			}
			in->descs[in->ndescs++] = fi;
			in->fds[i].fi = fi;
		} else if (ref < in->ndescs) {
			in->fds[i].fi = in->descs[ref];
		} else {
			errf(err, errlen, "process %u: fd %d names description %u of %u", v->pid,
			     in->fds[i].fd, ref, in->ndescs);
			return -1;
		}
	}
	if (c->n) {
		errf(err, errlen, "process %u: %zu bytes left over", v->pid, c->n);
		return -1;
	}
	return 0;
}

struct proc *capture_load_proc(struct proc_table *t, const void *data, size_t len,
			       const struct proc *pin, char *err, size_t errlen)
{
	struct cur c = {data, len, false};
	struct proc_in in;
	struct proc *p;

	memset(&in, 0, sizeof(in));
	if (parse_proc(&c, &in, err, errlen)) {
		proc_in_free(&in);
		return NULL;
	}
	p = proc_table_upsert_pinned(t, in.v.pid, pin);
	if (!p) {
		errf(err, errlen, "process %u: no room in the table", in.v.pid);
		proc_in_free(&in);
		return NULL;
	}
	proc_reset(t, p);
	/* numbers: copied field by field (the entry's links and threads stay) */
	p->vpid = in.v.vpid;
	p->vpgid = in.v.vpgid;
	p->pidns_ino = in.v.pidns_ino;
	p->sid = in.v.sid;
	p->pgid = in.v.pgid;
	p->tty = in.v.tty;
	p->uid = in.v.uid;
	p->gid = in.v.gid;
	p->euid = in.v.euid;
	p->egid = in.v.egid;
	p->suid = in.v.suid;
	p->sgid = in.v.sgid;
	p->loginuid = in.v.loginuid;
	p->flags = in.v.flags;
	p->cap_effective = in.v.cap_effective;
	p->cap_permitted = in.v.cap_permitted;
	p->cap_inheritable = in.v.cap_inheritable;
	p->start_ns = in.v.start_ns;
	p->cgroup_id = in.v.cgroup_id;
	p->exe_ino = in.v.exe_ino;
	p->exe_ctime_ns = in.v.exe_ctime_ns;
	p->exe_mtime_ns = in.v.exe_mtime_ns;
	p->exe_mode = in.v.exe_mode;
	p->exe_uid = in.v.exe_uid;
	p->exe_gid = in.v.exe_gid;
	p->exe_flags = in.v.exe_flags;
	memcpy(p->comm, in.v.comm, sizeof(p->comm));
	/* strings: handed over */
	p->exe = in.v.exe;
	p->exepath = in.v.exepath;
	p->filename = in.v.filename;
	p->args = in.v.args;
	p->args_len = in.v.args ? in.v.args_len : 0;
	p->cwd = in.v.cwd;
	p->cgroup = in.v.cgroup;
	p->env = in.v.env;
	p->env_len = in.v.env ? in.v.env_len : 0;
	p->env_state = in.v.env_state;
	in.v.exe = in.v.exepath = in.v.filename = in.v.args = in.v.cwd = in.v.cgroup =
	    in.v.env = NULL;
	proc_table_set_ppid(t, p, in.v.ppid);
	/* in reverse: the table puts a new thread first, so this restores the written order */
	for (uint32_t i = in.nthreads; i-- > 0;) {
		struct thread *th;

		if (!in.threads[3 * i])
			continue;
		th = proc_table_add_thread(t, p, in.threads[3 * i]);
		if (th) {
			th->vtid = in.threads[3 * i + 1];
			th->last_child = in.threads[3 * i + 2];
		}
	}
	for (uint32_t i = 0; i < in.nfds; i++)
		fd_table_set(&p->fds, in.fds[i].fd, in.fds[i].fi, in.fds[i].cloexec);
	proc_in_free(&in);
	return p;
}
