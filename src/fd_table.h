/*
 * The file descriptors of one process.
 *
 * Two levels, as in the kernel: a table maps fd numbers to slots (the fd's own flag,
 * close-on-exec), and each slot points to a shared, reference-counted description (struct
 * fdinfo: what the fd refers to). dup and fork share a description, so a connect() seen on
 * one fd shows on every copy, and copying a table on fork copies slots, not names.
 *
 * Bounded: a table tracks at most FD_TABLE_MAX fds; fds past that are not tracked and are
 * counted (fd_table_dropped).
 */
#ifndef SAKER_FD_TABLE_H
#define SAKER_FD_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FD_TABLE_MAX 4096

/* fd.type (fd_type_name) and fd.typechar (fd_type_char), in this order:
 *   file f, directory d, ipv4 4, ipv6 6, unix u, pipe p, event e (eventfd), signalfd s,
 *   eventpoll l, inotify i, timerfd t, memfd m, netlink n, bpf b, userfaultfd U,
 *   io_uring r, unknown o (pidfd, perf, fanotify, packet sockets, anything unrecognised). */
enum fd_type {
	FD_UNKNOWN = 0,
	FD_FILE,
	FD_DIRECTORY,
	FD_IPV4,
	FD_IPV6,
	FD_UNIX,
	FD_PIPE,
	FD_EVENT,
	FD_SIGNALFD,
	FD_EVENTPOLL,
	FD_INOTIFY,
	FD_TIMERFD,
	FD_MEMFD,
	FD_NETLINK,
	FD_BPF,
	FD_USERFAULTFD,
	FD_IOURING,
	FD_NTYPES
};

/* fd.l4proto: fd_l4proto_name gives "tcp", "udp", "icmp", "raw", or "" for none. */
enum fd_l4proto {
	L4_NONE = 0,
	L4_TCP,
	L4_UDP,
	L4_ICMP,
	L4_RAW,
};

enum fdinfo_flags {
	FDI_SERVER = 1 << 0,	/* the process is the server end (accepted, listening, or
				 * receiving datagrams on an unconnected socket) */
	FDI_CONNECTED = 1 << 1, /* a socket with a remote end */
	FDI_LISTENING = 1 << 2, /* listen() succeeded */
	FDI_SEEDED = 1 << 3,	/* read from /proc at start, not seen being created */
};

/* A socket's addresses. Addresses in network byte order (IPv4 in the first 4 bytes; an
 * IPv4-mapped IPv6 address is stored as IPv4 and the fd typed ipv4); ports in host order.
 * local/remote as the process sees them; fdinfo.flags & FDI_SERVER tells which is the
 * client. */
struct fd_sock {
	uint8_t lip[16];
	uint8_t rip[16];
	uint16_t lport;
	uint16_t rport;
};

/* What an fd refers to: shared by dup'ed and inherited fds. */
struct fdinfo {
	uint32_t refs;
	uint8_t type;	     /* enum fd_type */
	uint8_t l4proto;     /* enum fd_l4proto */
	uint8_t flags;	     /* enum fdinfo_flags */
	uint8_t sock_type;   /* SOCK_STREAM, SOCK_DGRAM, ... for sockets, 0 if unknown */
	uint32_t open_flags; /* O_* as opened (without O_CLOEXEC, which is per fd) */
	uint32_t dev;	     /* st_dev in the kernel's 32-bit encoding (fd_dev_major/minor), 0
			      * when unknown */
	uint64_t ino;	     /* 0 when unknown */
	/* fd.name: the absolute normalised path for files, directories and unix sockets; the
	 * tuple "lip:lport->rip:rport" (client first) for connected IP sockets, "ip:port" for a
	 * bound one; "memfd:NAME" for memfds; "pipe", "anon_inode:[eventfd]" and the like
	 * otherwise; "socket:[INODE]" for a socket /proc could not place. Never NULL. */
	char *name;
	/* fd.nameraw: the path as the caller passed it; NULL when not seen (seeded fds). */
	char *nameraw;
	struct fd_sock sock;
};

struct fd_slot {
	int32_t fd; /* -1: empty */
	bool cloexec;
	struct fdinfo *fi;
};

struct fd_table {
	struct fd_slot *slots; /* open addressing, linear probing */
	uint32_t cap;	       /* slots, a power of two (or 0) */
	uint32_t n;
	uint64_t dropped; /* fds not tracked: the table was full */
};

const char *fd_type_name(enum fd_type t);
char fd_type_char(enum fd_type t);
const char *fd_l4proto_name(enum fd_l4proto p);

static inline uint32_t fd_dev_major(uint32_t dev)
{
	return (dev & 0xfff00) >> 8;
}

static inline uint32_t fd_dev_minor(uint32_t dev)
{
	return (dev & 0xff) | ((dev >> 12) & 0xfff00);
}

/* The kernel's 32-bit encoding (as /proc/PID/stat shows tty_nr). */
static inline uint32_t fd_dev_encode(uint32_t major, uint32_t minor)
{
	return (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xffu) << 12);
}

/* A new description with one reference, name "" (never NULL); NULL when out of memory. */
struct fdinfo *fdinfo_new(enum fd_type type);
struct fdinfo *fdinfo_get(struct fdinfo *fi);
void fdinfo_put(struct fdinfo *fi);
/* Replace the name (len bytes; a NUL is added). Returns true if it changed. */
bool fdinfo_set_name(struct fdinfo *fi, const char *name, size_t len);
void fdinfo_set_nameraw(struct fdinfo *fi, const char *raw, size_t len);
/* Rebuilds the name of an IP socket from its addresses and flags; returns true if it
 * changed. */
bool fdinfo_sock_rename(struct fdinfo *fi);
/* An IPv6 socket whose two ends are IPv4-mapped (or unspecified, but not both) becomes
 * IPv4: *type FD_IPV6 -> FD_IPV4, addresses moved to their first 4 bytes. */
void fd_sock_unmap_v4(uint8_t *type, struct fd_sock *s);
/* Formats an IP address of an fd of type FD_IPV4 or FD_IPV6 (buf: at least 46 bytes). */
void fd_format_ip(enum fd_type type, const uint8_t ip[16], char *buf, size_t cap);

void fd_table_init(struct fd_table *t);
/* Drops every fd (and the table's memory). */
void fd_table_clear(struct fd_table *t);
/* dst (empty) becomes a copy of src: same fds, same descriptions (shared). Returns 0, or -1
 * when out of memory (dst stays empty). */
int fd_table_copy(struct fd_table *dst, const struct fd_table *src);

struct fdinfo *fd_table_get(const struct fd_table *t, int fd);
struct fd_slot *fd_table_slot(const struct fd_table *t, int fd);
/* Installs fi at fd (taking a new reference to it), replacing what was there. Returns the
 * slot, or NULL when the table is full or out of memory (counted in dropped). */
struct fd_slot *fd_table_set(struct fd_table *t, int fd, struct fdinfo *fi, bool cloexec);
/* Creates a description of the given type and installs it at fd. NULL as fd_table_set. */
struct fdinfo *fd_table_add(struct fd_table *t, int fd, enum fd_type type, bool cloexec);
void fd_table_remove(struct fd_table *t, int fd);
/* newfd becomes a copy of oldfd (as dup2/dup3/F_DUPFD). Returns the new slot's description,
 * or NULL when oldfd is unknown or the table is full. */
struct fdinfo *fd_table_dup(struct fd_table *t, int oldfd, int newfd, bool cloexec);
/* Drops the fds marked close-on-exec. */
void fd_table_exec(struct fd_table *t);
/* close_range(first, last): closes, or with cloexec_only marks close-on-exec. */
void fd_table_close_range(struct fd_table *t, unsigned first, unsigned last, bool cloexec_only);

/* Iteration: start with *it = 0; returns the next used slot, or NULL at the end. The table
 * must not change during the walk. */
struct fd_slot *fd_table_next(const struct fd_table *t, size_t *it);

/*
 * Seeding from procfs. A socket index maps socket inodes to what /proc/net tells about them
 * (family, protocol, addresses, state, unix path); it is loaded once per network namespace
 * and shared by every process seeded in that pass.
 */
struct sock_index;
struct sock_index *sock_index_new(void);
void sock_index_free(struct sock_index *sx);
/* Loads the tables under netdir (tcp, tcp6, udp, udp6, udplite, udplite6, raw, raw6, icmp,
 * icmp6, unix, netlink) unless the namespace netns_ino was loaded already (0: always load). */
void sock_index_load(struct sock_index *sx, const char *netdir, uint64_t netns_ino);
size_t sock_index_size(const struct sock_index *sx);

/* Reads procfs/PID/fd (readlink), procfs/PID/fdinfo (flags) and stats each file; sockets
 * are placed through sx (may be NULL). Returns the fds added. */
size_t fd_table_seed(struct fd_table *t, const char *procfs, uint32_t pid,
		     const struct sock_index *sx);

#endif /* SAKER_FD_TABLE_H */
