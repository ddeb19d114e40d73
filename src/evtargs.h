/*
 * The arguments of each syscall event, by the names the rule language uses (evt.arg.flags,
 * evt.arg.name, evt.arg.request, ...): where each value is (an argument register, a blob,
 * a field of a fixed-size blob), its type, and its text.
 *
 *   int i = evtargs_index(ev->nr, "flags");       // once, at rule compile time
 *   if (i >= 0 && evtargs_render(ev, i, &sb) == 0) // per event: "O_RDONLY|O_CLOEXEC"
 *
 * Text forms: flags as symbolic names joined by '|' (O_WRONLY|O_CREAT), single values by
 * name (PTRACE_ATTACH, AF_PACKET, BPF_PROG_LOAD, SIGKILL), file modes in octal (0755) except
 * chmod's, which are names (S_ISUID|S_IRWXU-style bits, as rules test them), fds and ids in
 * decimal, a dirfd as AT_FDCWD or its number, paths as the bytes the program passed (up to
 * their NUL: not escaped, not checked as UTF-8: sanitize before printing), sockaddrs as
 * 1.2.3.4:80, [::1]:80, unix:/path or unix:@abstract, socket tuples as local->remote.
 *
 * A value is unavailable (render returns -1) when its blob was not sent: not on this
 * outcome (a failed accept has no peer), or unreadable in the caller's memory. Per the rule
 * language, a check on an unavailable value is false.
 */
#ifndef SAKER_EVTARGS_H
#define SAKER_EVTARGS_H

#include <stdbool.h>
#include <stdint.h>

#include "event.h"
#include "flags.h" /* errno_name */
#include "strbuf.h"

#define EVTARGS_MAX 8 /* the most arguments a syscall has here */

enum evtarg_type {
	EAT_FD,	      /* a file descriptor: decimal */
	EAT_DIRFD,    /* AT_FDCWD or decimal */
	EAT_INT,      /* a C int: signed decimal (pids, backlog, protocol) */
	EAT_LONG,     /* a 64-bit signed number (lengths) */
	EAT_UINT,     /* unsigned decimal (sizes) */
	EAT_UID,      /* a user or group id: decimal, -1 for "unchanged" */
	EAT_MODE,     /* file mode bits in octal: 0755 */
	EAT_HEX,      /* pointers and opaque values: 0x7ffd0000 */
	EAT_FLAGS,    /* bits by name (enum flag_set) */
	EAT_ENUM,     /* one value by name (enum name_set), decimal if unknown */
	EAT_PATH,     /* text from a string blob */
	EAT_SOCKADDR, /* a sockaddr blob */
	EAT_TUPLE,    /* a struct sk_sock_tuple blob: local->remote */
	EAT_ARGV,     /* an argv blob: the arguments joined by spaces */
};

/* Whether nr is a syscall this table describes (possibly with no arguments, like fork). */
bool evtargs_known(unsigned nr);

/* How many arguments syscall nr has here (0 for an unknown one). */
unsigned evtargs_count(unsigned nr);

/* The position of argument name of syscall nr, or -1 if it has no such argument. */
int evtargs_index(unsigned nr, const char *name);

/* The name of argument idx of syscall nr, or NULL. */
const char *evtargs_name(unsigned nr, int idx);

/* Its type; -1 for a bad nr or idx. */
int evtargs_type(unsigned nr, int idx);

/* The blob (0 or 1) argument idx is read from, or -1 for a value from the registers. */
int evtargs_blob(unsigned nr, int idx);

/* Appends the text of argument idx of ev (a SK_EV_SYSCALL event) to out. Returns 0, or -1
 * (appending nothing) when the event does not carry the value or idx is out of range. */
int evtargs_render(const struct event *ev, int idx, struct strbuf *out);

/* The numeric value of argument idx of ev: fds, ints, ids, modes, flags and named values
 * (signed ones sign-extended). Returns 0, or -1 for text values (paths, sockaddrs, tuples,
 * argv) and unavailable ones. */
int evtargs_raw(const struct event *ev, int idx, uint64_t *val);

/* evt.args: every argument as name=value, separated by single spaces; an unavailable
 * value shows as <NA>. Appends to out. */
void evtargs_render_all(const struct event *ev, struct strbuf *out);

/* evt.res: SUCCESS for a result >= 0 (or below -4095, which no error is), else the errno
 * name (ENOENT), or the number when it has none. Appends to out. */
void evtargs_render_res(const struct event *ev, struct strbuf *out);

/* Whether ev->ret is an error (-4095..-1). */
bool evtargs_failed(const struct event *ev);

/* Text renderers the argument types use, for callers with a value of their own. */
void evtargs_sockaddr(struct strbuf *out, const uint8_t *p, size_t len);
void evtargs_tuple_end(struct strbuf *out, const struct sk_sock_tuple *t, bool local);

#endif /* SAKER_EVTARGS_H */
