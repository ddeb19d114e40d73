/*
 * The field registry: one table of every field a condition or an output may name (name,
 * type, flags, argument kind, where it is valid, description). The condition compiler, the
 * output formatter and `saker --list` all read it; extractors are attached as the state
 * tables that feed them arrive.
 *
 * Name resolution follows the rule language (spec a.4): the text is offered to each field
 * class in a fixed order; within the first class that recognises a prefix, the longest
 * table entry that is a prefix wins, and whatever follows must be the entry's argument
 * ("[arg]" for bracket arguments, ".arg" for dotted ones) or nothing at all.
 */
#ifndef SAKER_FIELDS_H
#define SAKER_FIELDS_H

#include <stdbool.h>
#include <stddef.h>

enum field_type {
	FT_CHARBUF, /* text */
	FT_BYTEBUF, /* raw bytes */
	FT_FSPATH,  /* a path (text) */
	FT_INT64,   /* signed integer */
	FT_UINT64,  /* unsigned integer */
	FT_UINT32,  /* unsigned 32-bit integer */
	FT_PORT,    /* TCP/UDP port */
	FT_BOOL,    /* true or false */
	FT_IPADDR,  /* IPv4 or IPv6 address */
	FT_IPNET,   /* IPv4 or IPv6 network (CIDR) */
	FT_RELTIME, /* a duration, nanoseconds */
	FT_ABSTIME, /* a point in time, nanoseconds since the epoch */
	FT_NTYPES
};

/* Flags (spec a.4). */
enum field_flag {
	FF_FILTER_ONLY = 1 << 0,    /* conditions only: cannot be printed */
	FF_NO_RHS = 1 << 1,	    /* cannot take part in a field-vs-field comparison */
	FF_ARG_REQUIRED = 1 << 2,   /* the argument is mandatory */
	FF_ARG_ALLOWED = 1 << 3,    /* the argument is optional */
	FF_IS_LIST = 1 << 4,	    /* several values per event */
	FF_DEPRECATED = 1 << 5,	    /* loads with a LOAD_DEPRECATED_ITEM warning */
	FF_NO_TRANSFORMER = 1 << 6, /* cannot be wrapped in a transformer */
};

/* How the argument is written and what it must be. */
enum field_arg {
	FA_NONE,	 /* no argument */
	FA_INDEX,	 /* [N]: a non-negative number (ancestor level, argument position) */
	FA_KEY,		 /* [text]: a name or path, as written */
	FA_INDEX_OR_KEY, /* [N] or [text] */
	FA_DOTTED,	 /* .name or [name] (evt.arg.flags, evt.arg[flags]) */
};

/* Where a field can have a value; elsewhere it is missing (spec a.8). */
enum field_scope {
	FS_ANY,	    /* every event */
	FS_PROC,    /* every event with a known process */
	FS_FD,	    /* events about a file descriptor */
	FS_NET,	    /* events about a network socket */
	FS_SYSCALL, /* syscall events */
};

struct field_def {
	const char *name;
	enum field_type type;
	unsigned flags; /* enum field_flag */
	enum field_arg arg;
	enum field_scope scope;
	const char *desc;
};

/* A resolved field reference: the table entry and its argument, if any. */
struct field_ref {
	const struct field_def *def;
	const char *arg; /* points into the text passed to fields_resolve, not terminated */
	size_t arg_len;
	bool has_arg;
};

/* Resolves "name", "name[arg]" or "name.arg" (text, len). Returns 0 and fills ref, or -1
 * with a message in err ("unknown field 'proc.nmae'", "field 'proc.aname' takes a number
 * in brackets, not 'x'", ...). */
int fields_resolve(const char *text, size_t len, struct field_ref *ref, char *err, size_t errlen);

/* The same, for a name whose bracket argument was already taken apart (and unescaped) by the
 * condition parser: name is "proc.aname" or "evt.arg.flags", arg is "2" or NULL. */
int fields_resolve_arg(const char *name, size_t len, const char *arg, size_t arg_len,
		       struct field_ref *ref, char *err, size_t errlen);

/* The whole table, in class order, and its size. */
const struct field_def *fields_table(size_t *n);

/* "CHARBUF", "UINT64", ... */
const char *field_type_name(enum field_type t);

/* Whether values of this type are numbers (for operator checks and value conversion). */
bool field_type_is_numeric(enum field_type t);

#endif /* SAKER_FIELDS_H */
