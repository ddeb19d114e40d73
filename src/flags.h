/* Symbolic names for syscall arguments: bit sets joined by '|' as rules and alerts show them
 * ("O_RDONLY|O_CLOEXEC"), and single values by name ("PTRACE_ATTACH", "AF_PACKET").
 * Bits without a name are shown in hex at the end; a value without a name as its number.
 * The values are x86-64 Linux's. */
#ifndef SAKER_FLAGS_H
#define SAKER_FLAGS_H

#include <stdint.h>

#include "strbuf.h"

/* Bit sets. */
enum flag_set {
	FLAGS_OPEN,	   /* open(2) flags, with the access mode first: O_RDONLY|O_CLOEXEC */
	FLAGS_CLONE,	   /* clone(2)/clone3(2) flags (clone's low byte, the exit signal, is
			      dropped) */
	FLAGS_NS,	   /* unshare(2) and setns(2): CLONE_NEW* and what unshare also takes */
	FLAGS_AT,	   /* AT_SYMLINK_NOFOLLOW, AT_REMOVEDIR, AT_SYMLINK_FOLLOW, AT_EMPTY_PATH */
	FLAGS_RENAME,	   /* renameat2(2): RENAME_NOREPLACE, ... */
	FLAGS_SOCK,	   /* SOCK_NONBLOCK|SOCK_CLOEXEC (accept4) */
	FLAGS_SOCK_TYPE,   /* socket(2) type: SOCK_STREAM|SOCK_CLOEXEC */
	FLAGS_MSG,	   /* send/recv flags: MSG_DONTWAIT, ... */
	FLAGS_MOUNT,	   /* mount(2): MS_RDONLY|MS_BIND|... (the old magic in the high bits is
			      dropped) */
	FLAGS_UMOUNT,	   /* umount2(2): MNT_FORCE, MNT_DETACH, ... */
	FLAGS_MEMFD,	   /* memfd_create(2): MFD_CLOEXEC, ... */
	FLAGS_PIPE2,	   /* pipe2(2), dup3(2): O_CLOEXEC, O_NONBLOCK, O_DIRECT */
	FLAGS_EVENTFD,	   /* eventfd2(2): EFD_SEMAPHORE, EFD_CLOEXEC, EFD_NONBLOCK */
	FLAGS_USERFAULTFD, /* userfaultfd(2): O_CLOEXEC, O_NONBLOCK, UFFD_USER_MODE_ONLY */
	FLAGS_FINIT_MODULE, /* finit_module(2): MODULE_INIT_IGNORE_MODVERSIONS, ... */
	FLAGS_RESOLVE,	   /* openat2(2) resolve: RESOLVE_NO_XDEV, ... */
	FLAGS_MODE,	   /* chmod(2) mode bits: S_ISUID|S_IRUSR|S_IWUSR|... (the way rules
			      test them: evt.arg.mode contains S_ISUID) */
	FLAGS_EXE,	   /* exec'd file flags (sk_exec_ev.exe_flags): EXE_FROM_MEMFD, ... */
	FLAGS_NSETS
};

/* Single values. */
enum name_set {
	NAMES_AF,     /* socket domains: AF_INET, AF_PACKET, ... */
	NAMES_PTRACE, /* ptrace(2) requests: PTRACE_ATTACH, ... */
	NAMES_BPF,    /* bpf(2) commands: BPF_PROG_LOAD, ... */
	NAMES_FCNTL,  /* fcntl(2) commands: F_SETFL, ... */
	NAMES_PRCTL,  /* prctl(2) options: PR_SET_NAME, ... */
	NAMES_SIGNAL, /* signals: SIGKILL, ... */
	NAMES_NSETS
};

/* Appends the names of the bits of v in set; "0" when v is 0. */
void flags_render(struct strbuf *sb, enum flag_set set, uint64_t v);
/* The name of v in set, or NULL. */
const char *flags_name(enum name_set set, uint64_t v);
/* Appends the name of v in set, or v in decimal (as a signed 32-bit number). */
void flags_render_name(struct strbuf *sb, enum name_set set, uint64_t v);

/* Shorthands kept for their callers. */
void flags_open(struct strbuf *sb, uint64_t flags);
void flags_clone(struct strbuf *sb, uint64_t flags);
/* AT_FDCWD, or the number. */
void flags_dirfd(struct strbuf *sb, int64_t dirfd);
void flags_at(struct strbuf *sb, uint64_t flags);
void flags_accept4(struct strbuf *sb, uint64_t flags);
/* "SOCK_STREAM", "SOCK_DGRAM", ... */
const char *sock_type_name(unsigned type);
/* "ENOENT", ... (also the kernel-internal ERESTARTSYS and kin, which a syscall exit can
 * show) or NULL. */
const char *errno_name(int err);

#endif /* SAKER_FLAGS_H */
