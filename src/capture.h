/*
 * Capture files: the event stream the sensor saw, for replay (-w writes one, -e reads one).
 * docs/capture.md is the format's reference; in short:
 *
 *	"SAKERCAP" (8 bytes)
 *	frame*      each: len u32, kind u16, flags u16, then len bytes, zero-padded to a
 *	            multiple of 8 (so every payload is 8-byte aligned, as ring records are)
 *
 * The first frame is the header (CAP_K_HEADER); then the state snapshot (processes, users)
 * up to CAP_K_SNAPSHOT_END; then events (the ring records, byte for byte) with, before each
 * event, what the live daemon read from the host while it processed that event (journal
 * frames: a process read for an unknown pid, an environment, a cgroup path, the users
 * files); last, CAP_K_END. Numbers are little-endian. Kinds from CAP_K_OPTIONAL up may be skipped by a reader
 * that does not know them; any other unknown kind is an error.
 *
 * The reader treats the file as hostile: every length is checked before it is used, and an
 * error names the offset of the frame it is about (in the uncompressed stream).
 */
#ifndef SAKER_CAPTURE_H
#define SAKER_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proc_table.h"

#define CAP_MAGIC	"SAKERCAP"
#define CAP_MAGIC_LEN	8
#define CAP_VERSION	1
#define CAP_FRAME_HDR	8

enum cap_kind {
	CAP_K_HEADER = 1,	/* struct cap_header */
	CAP_K_PROC = 2,		/* a process with its threads and fds */
	CAP_K_USERS = 3,	/* the passwd and group files' text */
	CAP_K_SNAPSHOT_END = 4, /* empty: the snapshot is complete */
	CAP_K_EVENT = 5,	/* one ring record as the kernel wrote it */
	CAP_K_ENV = 6,		/* a process's environment, read from /proc */
	CAP_K_CGROUP = 7,	/* a process's cgroup path, read again after an exec */
	CAP_K_END = 8,		/* empty: the writer finished; a file without it was cut short */
	CAP_K_LOOKUP = 9,	/* any other module's host lookup (hostread.h): what, key, data */
	CAP_K_OPTIONAL = 0x8000 /* and up: skipped when unknown */
};

/* Frame flags. */
#define CAP_F_STATE_ONLY 1u /* an event the write filter did not keep, stored because it
			     * changes the state: replay applies it without rules or dump */

/* Per-kind limits on a frame's length. */
#define CAP_MAX_PROC  (64u << 20)
#define CAP_MAX_USERS (130u << 20)

struct cap_header {
	uint32_t version;	  /* CAP_VERSION */
	uint32_t abi;		  /* SK_ABI_VERSION of the records */
	int64_t boot_to_wall_ns;  /* CLOCK_REALTIME - CLOCK_BOOTTIME when the capture began */
	uint64_t start_boot_ns;	  /* when the sensor started (evt.reltime's origin) */
	int64_t utc_offset_s;	  /* local time minus UTC when the capture began (text times) */
	char hostname[256];
	char kernel[128];  /* uname release */
	char machine[64];  /* uname machine */
	char saker[64];	   /* the version that wrote it */
};

struct cap_frame {
	uint16_t kind, flags;
	uint32_t len;
	const void *data; /* 8-byte aligned; valid until the next read */
	uint64_t offset;  /* of the frame header, in the uncompressed stream */
};

/* Writing. A path ending in ".gz" is written zlib-compressed (gzip format). */
struct capture_writer;
struct capture_writer *capture_writer_open(const char *path, char *err, size_t errlen);
int capture_write_frame(struct capture_writer *w, unsigned kind, unsigned flags,
			const void *data, size_t len);
int capture_write_header(struct capture_writer *w, const struct cap_header *h);
int capture_write_proc(struct capture_writer *w, const struct proc *p);
int capture_write_users(struct capture_writer *w, const char *passwd, size_t plen,
			const char *group, size_t glen);
int capture_write_env(struct capture_writer *w, const struct proc *p);
int capture_write_cgroup(struct capture_writer *w, const struct proc *p);
int capture_write_lookup(struct capture_writer *w, const char *what, const char *key,
			 const void *data, size_t len);
/* Bytes written so far (uncompressed) and frames. */
uint64_t capture_writer_bytes(const struct capture_writer *w);
uint64_t capture_writer_frames(const struct capture_writer *w);
/* Flushes and closes; 0, or -1 with the first write error in err (the file is then
 * incomplete). Frees w either way. */
int capture_writer_close(struct capture_writer *w, char *err, size_t errlen);

/* Reading (plain or gzip, told apart by content). */
struct capture_reader;
struct capture_reader *capture_reader_open(const char *path, char *err, size_t errlen);
/* 1 with the next frame, 0 at the end frame (CAP_K_END: never returned itself), -1 on an
 * error (capture_reader_error: the offset and what is wrong), also when the file ends
 * without its end frame. */
int capture_read_frame(struct capture_reader *r, struct cap_frame *f);
const char *capture_reader_error(const struct capture_reader *r);
void capture_reader_close(struct capture_reader *r);
/* A reader over a buffer in memory (tests, fuzzing); buf must outlive the reader. */
struct capture_reader *capture_reader_mem(const void *buf, size_t len);

/* Payload parsers: 0, or -1 with the reason in err. */
int capture_parse_header(const void *data, size_t len, struct cap_header *h, char *err,
			 size_t errlen);
/* Puts the process into t (replacing one with the same pid; room made as
 * proc_table_upsert_pinned does, sparing pin). Returns it, or NULL with err. */
struct proc *capture_load_proc(struct proc_table *t, const void *data, size_t len,
			       const struct proc *pin, char *err, size_t errlen);
/* Points into data. *passwd / *group NULL: that file was missing. */
int capture_parse_users(const void *data, size_t len, const char **passwd, size_t *plen,
			const char **group, size_t *glen, char *err, size_t errlen);
/* ENV and CGROUP: the process (pid, start time) and the bytes (pointing into data). */
struct cap_lookup {
	uint32_t pid;
	uint32_t flags; /* ENV: PROC_ENV_TRUNC when the read was cut */
	uint64_t start_ns;
	const char *bytes;
	size_t len;
};
int capture_parse_lookup(const void *data, size_t len, struct cap_lookup *out, char *err,
			 size_t errlen);
/* LOOKUP: the names and the data, pointing into the payload (what and key are not
 * NUL-terminated). */
struct cap_ext {
	const char *what, *key;
	size_t what_len, key_len;
	const void *data;
	size_t len;
};
int capture_parse_ext(const void *data, size_t len, struct cap_ext *out, char *err,
		      size_t errlen);

#endif /* SAKER_CAPTURE_H */
