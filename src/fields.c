#include "fields.h"

#include <stdio.h>
#include <string.h>

/* Shorthands for the table. */
#define S   FT_CHARBUF
#define P   FT_FSPATH
#define I64 FT_INT64
#define U64 FT_UINT64
#define U32 FT_UINT32
#define B   FT_BOOL

#define F(name, type, flags, arg, scope, desc)                                                     \
	{                                                                                          \
		name, type, flags, arg, scope, desc                                                \
	}

/* In class order (spec a.4): event, process and thread, user, group, fd, fs.path, then the
 * container and Kubernetes fields (which Falco gets from its container plugin). */
static const struct field_def table[] = {
    /* evt */
    F("evt.num", U64, 0, FA_NONE, FS_ANY, "sequential number of the event, from 1"),
    F("evt.time", S, 0, FA_NONE, FS_ANY, "event time as text, with nanoseconds"),
    F("evt.time.s", S, 0, FA_NONE, FS_ANY, "event time as text, to the second"),
    F("evt.time.iso8601", S, 0, FA_NONE, FS_ANY, "event time in ISO 8601, UTC"),
    F("evt.datetime", S, 0, FA_NONE, FS_ANY, "event date and time as text"),
    F("evt.rawtime", FT_ABSTIME, 0, FA_NONE, FS_ANY, "event time, nanoseconds since the epoch"),
    F("evt.rawtime.s", U64, 0, FA_NONE, FS_ANY, "seconds part of evt.rawtime"),
    F("evt.rawtime.ns", U64, 0, FA_NONE, FS_ANY, "nanoseconds part of evt.rawtime"),
    F("evt.reltime", FT_RELTIME, 0, FA_NONE, FS_ANY, "nanoseconds since the sensor started"),
    F("evt.type", S, 0, FA_NONE, FS_ANY, "event name: the syscall (open, execve, ...)"),
    F("evt.dir", S, FF_DEPRECATED, FA_NONE, FS_ANY,
      "event direction: always '<' (only exits are delivered)"),
    F("evt.latency", FT_RELTIME, FF_DEPRECATED, FA_NONE, FS_SYSCALL,
      "syscall latency (unavailable: only exits are delivered)"),
    F("evt.cpu", U32, 0, FA_NONE, FS_ANY, "CPU the event happened on"),
    F("evt.args", S, 0, FA_NONE, FS_SYSCALL, "all arguments as one string"),
    F("evt.arg", S, FF_ARG_REQUIRED, FA_DOTTED, FS_SYSCALL,
      "one argument, by name (evt.arg.flags) or position (evt.arg[0]), as text"),
    F("evt.rawarg", S, FF_ARG_REQUIRED, FA_DOTTED, FS_SYSCALL,
      "one argument, by name, as its raw value"),
    F("evt.res", S, 0, FA_NONE, FS_SYSCALL, "result: SUCCESS or the errno name (ENOENT)"),
    F("evt.rawres", I64, 0, FA_NONE, FS_SYSCALL, "result as a number (-2 for ENOENT)"),
    F("evt.failed", B, 0, FA_NONE, FS_SYSCALL, "true when the syscall returned an error"),
    F("evt.is_open_read", B, 0, FA_NONE, FS_SYSCALL,
      "true for an open-family call that opened for reading"),
    F("evt.is_open_write", B, 0, FA_NONE, FS_SYSCALL,
      "true for an open-family call that opened for writing"),
    F("evt.is_open_exec", B, 0, FA_NONE, FS_SYSCALL,
      "true for an open-family call that created a file with an exec bit"),
    F("evt.is_open_create", B, 0, FA_NONE, FS_SYSCALL,
      "true for an open-family call that created a file"),
    F("evt.buffer", FT_BYTEBUF, 0, FA_NONE, FS_SYSCALL, "data buffer of read/write-like calls"),
    F("evt.buflen", U64, 0, FA_NONE, FS_SYSCALL, "length of evt.buffer"),
    F("evt.category", S, 0, FA_NONE, FS_ANY, "event category: file, net, process, ..."),
    F("evt.hostname", S, 0, FA_NONE, FS_ANY, "name of the host"),
    F("evt.source", S, 0, FA_NONE, FS_ANY, "event source: syscall"),
    F("evt.pluginname", S, 0, FA_NONE, FS_ANY, "plugin that produced the event (none here)"),

    /* proc and thread */
    F("proc.pid", I64, 0, FA_NONE, FS_PROC, "process id"),
    F("proc.exe", S, 0, FA_NONE, FS_PROC, "argv[0] of the process"),
    F("proc.name", S, 0, FA_NONE, FS_PROC, "process name (comm, up to 15 characters)"),
    F("proc.args", S, FF_ARG_ALLOWED, FA_INDEX, FS_PROC, "arguments after argv[0], space-joined"),
    F("proc.cmdline", S, 0, FA_NONE, FS_PROC, "name and arguments, space-joined"),
    F("proc.cmdnargs", U64, 0, FA_NONE, FS_PROC, "number of arguments"),
    F("proc.cmdlenargs", U64, 0, FA_NONE, FS_PROC, "total length of the arguments"),
    F("proc.exeline", S, 0, FA_NONE, FS_PROC, "argv[0] and arguments, space-joined"),
    F("proc.env", S, FF_ARG_ALLOWED, FA_KEY, FS_PROC,
      "environment as one string; [NAME] one variable"),
    F("proc.cwd", P, 0, FA_NONE, FS_PROC, "current working directory"),
    F("proc.ppid", I64, 0, FA_NONE, FS_PROC, "parent process id"),
    F("proc.pname", S, 0, FA_NONE, FS_PROC, "parent process name"),
    F("proc.pcmdline", S, 0, FA_NONE, FS_PROC, "parent command line"),
    F("proc.pexe", S, 0, FA_NONE, FS_PROC, "parent argv[0]"),
    F("proc.pexepath", P, 0, FA_NONE, FS_PROC, "parent executable path"),
    F("proc.apid", I64, FF_ARG_ALLOWED | FF_NO_RHS, FA_INDEX, FS_PROC,
      "pid of an ancestor: [N] a level (1 the parent); none: any ancestor"),
    F("proc.aname", S, FF_ARG_ALLOWED | FF_NO_RHS, FA_INDEX, FS_PROC,
      "name of an ancestor: [N] a level (1 the parent); none: any ancestor"),
    F("proc.aexe", S, FF_ARG_ALLOWED | FF_NO_RHS, FA_INDEX, FS_PROC,
      "argv[0] of an ancestor: [N] a level; none: any ancestor"),
    F("proc.aexepath", P, FF_ARG_ALLOWED | FF_NO_RHS, FA_INDEX, FS_PROC,
      "executable path of an ancestor: [N] a level; none: any ancestor"),
    F("proc.acmdline", S, FF_ARG_ALLOWED | FF_NO_RHS, FA_INDEX, FS_PROC,
      "command line of an ancestor: [N] a level; none: any ancestor"),
    F("proc.aenv", S, FF_ARG_ALLOWED | FF_NO_RHS, FA_KEY, FS_PROC,
      "environment variable NAME in the process or an ancestor"),
    F("proc.loginshellid", I64, 0, FA_NONE, FS_PROC, "pid of the oldest shell ancestor"),
    F("proc.duration", FT_RELTIME, 0, FA_NONE, FS_PROC, "nanoseconds since the process started"),
    F("proc.exepath", P, 0, FA_NONE, FS_PROC, "full path of the executable"),
    F("proc.exe_ino", U64, 0, FA_NONE, FS_PROC, "inode of the executable"),
    F("proc.exe_ino.ctime", FT_ABSTIME, 0, FA_NONE, FS_PROC, "ctime of the executable"),
    F("proc.exe_ino.mtime", FT_ABSTIME, 0, FA_NONE, FS_PROC, "mtime of the executable"),
    F("proc.exe_ino.ctime_duration_proc_start", FT_ABSTIME, 0, FA_NONE, FS_PROC,
      "nanoseconds from the executable's ctime to the process start"),
    F("proc.is_exe_writable", B, 0, FA_NONE, FS_PROC,
      "true if the executable is writable by the process's user"),
    F("proc.is_exe_upper_layer", B, 0, FA_NONE, FS_PROC,
      "true if the executable is in an overlayfs upper layer"),
    F("proc.is_exe_from_memfd", B, 0, FA_NONE, FS_PROC,
      "true if the executable is a memfd (fileless)"),
    F("proc.sid", I64, 0, FA_NONE, FS_PROC, "session id"),
    F("proc.sname", S, 0, FA_NONE, FS_PROC, "name of the session leader"),
    F("proc.sid.exe", S, 0, FA_NONE, FS_PROC, "argv[0] of the session leader"),
    F("proc.sid.exepath", P, 0, FA_NONE, FS_PROC, "executable path of the session leader"),
    F("proc.is_sid_leader", B, 0, FA_NONE, FS_PROC, "true if the process leads its session"),
    F("proc.tty", U32, 0, FA_NONE, FS_PROC, "controlling terminal number, 0 for none"),
    F("proc.vpid", I64, 0, FA_NONE, FS_PROC, "pid inside the process's pid namespace"),
    F("proc.pvpid", I64, 0, FA_NONE, FS_PROC, "parent pid inside the pid namespace"),
    F("proc.vpgid", I64, 0, FA_NONE, FS_PROC, "process group id inside the pid namespace"),
    F("proc.is_vpgid_leader", B, 0, FA_NONE, FS_PROC, "true if the process leads its group"),
    F("proc.nthreads", U64, 0, FA_NONE, FS_PROC, "number of threads"),
    F("proc.nchilds", U64, 0, FA_NONE, FS_PROC, "number of child threads"),
    F("thread.tid", I64, 0, FA_NONE, FS_PROC, "thread id"),
    F("thread.vtid", I64, 0, FA_NONE, FS_PROC, "thread id inside the pid namespace"),
    F("thread.ismain", B, 0, FA_NONE, FS_PROC, "true for the main thread of the process"),
    F("thread.cap_effective", S, 0, FA_NONE, FS_PROC, "effective capabilities, by name"),
    F("thread.cap_permitted", S, 0, FA_NONE, FS_PROC, "permitted capabilities, by name"),
    F("thread.cap_inheritable", S, 0, FA_NONE, FS_PROC, "inheritable capabilities, by name"),

    /* user and group */
    F("user.uid", U32, 0, FA_NONE, FS_PROC, "user id"),
    F("user.name", S, 0, FA_NONE, FS_PROC, "user name"),
    F("user.homedir", P, 0, FA_NONE, FS_PROC, "home directory of the user"),
    F("user.shell", S, 0, FA_NONE, FS_PROC, "login shell of the user"),
    F("user.loginuid", I64, 0, FA_NONE, FS_PROC, "audit login uid (-1 when unset)"),
    F("user.loginname", S, 0, FA_NONE, FS_PROC, "name of the audit login user"),
    F("group.gid", U32, 0, FA_NONE, FS_PROC, "group id"),
    F("group.name", S, 0, FA_NONE, FS_PROC, "group name"),

    /* fd */
    F("fd.num", I64, 0, FA_NONE, FS_FD, "file descriptor number"),
    F("fd.type", S, 0, FA_NONE, FS_FD, "fd type: file, directory, ipv4, ipv6, unix, pipe, ..."),
    F("fd.typechar", S, 0, FA_NONE, FS_FD, "fd type as one character: f, 4, 6, u, p, ..."),
    F("fd.name", P, 0, FA_NONE, FS_FD, "absolute file path, or the connection tuple"),
    F("fd.nameraw", P, 0, FA_NONE, FS_FD, "path as the caller passed it"),
    F("fd.directory", P, 0, FA_NONE, FS_FD, "directory of the file"),
    F("fd.filename", S, 0, FA_NONE, FS_FD, "file name without its directory"),
    F("fd.types", S, FF_ARG_ALLOWED | FF_IS_LIST, FA_INDEX, FS_PROC,
      "types of every open fd of the process"),
    F("fd.ip", FT_IPADDR, FF_FILTER_ONLY | FF_NO_RHS, FA_NONE, FS_NET,
      "client or server address (matches either)"),
    F("fd.cip", FT_IPADDR, 0, FA_NONE, FS_NET, "client address"),
    F("fd.sip", FT_IPADDR, 0, FA_NONE, FS_NET, "server address"),
    F("fd.lip", FT_IPADDR, 0, FA_NONE, FS_NET, "local address"),
    F("fd.rip", FT_IPADDR, 0, FA_NONE, FS_NET, "remote address"),
    F("fd.port", FT_PORT, FF_FILTER_ONLY | FF_NO_RHS, FA_NONE, FS_NET,
      "client or server port (matches either)"),
    F("fd.cport", FT_PORT, 0, FA_NONE, FS_NET, "client port"),
    F("fd.sport", FT_PORT, 0, FA_NONE, FS_NET, "server port"),
    F("fd.lport", FT_PORT, 0, FA_NONE, FS_NET, "local port"),
    F("fd.rport", FT_PORT, 0, FA_NONE, FS_NET, "remote port"),
    F("fd.l4proto", S, 0, FA_NONE, FS_NET, "layer 4 protocol: tcp, udp, icmp, raw"),
    F("fd.sockfamily", S, 0, FA_NONE, FS_FD, "socket family: ip or unix"),
    F("fd.is_server", B, 0, FA_NONE, FS_NET, "true if the process is the server end"),
    F("fd.proto", FT_PORT, FF_FILTER_ONLY | FF_NO_RHS, FA_NONE, FS_NET,
      "client or server protocol name (matches either)"),
    F("fd.cproto", S, 0, FA_NONE, FS_NET, "client protocol name"),
    F("fd.sproto", S, 0, FA_NONE, FS_NET, "server protocol name"),
    F("fd.lproto", S, 0, FA_NONE, FS_NET, "local protocol name"),
    F("fd.rproto", S, 0, FA_NONE, FS_NET, "remote protocol name"),
    F("fd.net", FT_IPNET, FF_FILTER_ONLY | FF_NO_RHS, FA_NONE, FS_NET,
      "client or server address as a network (matches either)"),
    F("fd.cnet", FT_IPNET, FF_FILTER_ONLY | FF_NO_RHS, FA_NONE, FS_NET, "client network"),
    F("fd.snet", FT_IPNET, FF_FILTER_ONLY | FF_NO_RHS, FA_NONE, FS_NET, "server network"),
    F("fd.lnet", FT_IPNET, FF_FILTER_ONLY | FF_NO_RHS, FA_NONE, FS_NET, "local network"),
    F("fd.rnet", FT_IPNET, FF_FILTER_ONLY | FF_NO_RHS, FA_NONE, FS_NET, "remote network"),
    F("fd.connected", B, 0, FA_NONE, FS_NET, "true if the socket is connected"),
    F("fd.name_changed", B, 0, FA_NONE, FS_FD, "true if the event changed the fd's name"),
    F("fd.cip.name", S, FF_NO_RHS, FA_NONE, FS_NET, "client domain name, if known"),
    F("fd.sip.name", S, FF_NO_RHS, FA_NONE, FS_NET, "server domain name, if known"),
    F("fd.lip.name", S, FF_NO_RHS, FA_NONE, FS_NET, "local domain name, if known"),
    F("fd.rip.name", S, FF_NO_RHS, FA_NONE, FS_NET, "remote domain name, if known"),
    F("fd.dev", U32, 0, FA_NONE, FS_FD, "device number of the file"),
    F("fd.dev.major", U32, 0, FA_NONE, FS_FD, "major device number"),
    F("fd.dev.minor", U32, 0, FA_NONE, FS_FD, "minor device number"),
    F("fd.ino", U64, 0, FA_NONE, FS_FD, "inode number of the file"),

    /* fs.path: the paths of events that name files without an fd (unlink, rename, ...) */
    F("fs.path.name", P, 0, FA_NONE, FS_SYSCALL, "path the event acts on, made absolute"),
    F("fs.path.nameraw", P, 0, FA_NONE, FS_SYSCALL, "path the event acts on, as passed"),
    F("fs.path.source", P, 0, FA_NONE, FS_SYSCALL, "source path of link/rename, absolute"),
    F("fs.path.sourceraw", P, 0, FA_NONE, FS_SYSCALL, "source path of link/rename, as passed"),
    F("fs.path.target", P, 0, FA_NONE, FS_SYSCALL, "target path of link/rename, absolute"),
    F("fs.path.targetraw", P, 0, FA_NONE, FS_SYSCALL, "target path of link/rename, as passed"),

    /* container and k8s */
    F("container.id", S, 0, FA_NONE, FS_PROC, "container id (12 characters), 'host' on the host"),
    F("container.full_id", S, 0, FA_NONE, FS_PROC, "full container id"),
    F("container.name", S, 0, FA_NONE, FS_PROC, "container name"),
    F("container.image", S, 0, FA_NONE, FS_PROC, "container image, with its tag"),
    F("container.image.id", S, 0, FA_NONE, FS_PROC, "container image id"),
    F("container.image.repository", S, 0, FA_NONE, FS_PROC, "image repository, without tag"),
    F("container.image.tag", S, 0, FA_NONE, FS_PROC, "image tag"),
    F("container.image.digest", S, 0, FA_NONE, FS_PROC, "image digest"),
    F("container.type", S, 0, FA_NONE, FS_PROC, "container runtime: docker, containerd, ..."),
    F("container.privileged", B, 0, FA_NONE, FS_PROC, "true if the container is privileged"),
    F("container.mounts", S, 0, FA_NONE, FS_PROC, "every mount, source:dest:mode:rdrw:propagation"),
    F("container.mount", S, FF_ARG_REQUIRED, FA_INDEX_OR_KEY, FS_PROC,
      "one mount, by number or by source path"),
    F("container.mount.source", S, FF_ARG_REQUIRED, FA_INDEX_OR_KEY, FS_PROC,
      "mount source, by number or by destination path (glob)"),
    F("container.mount.dest", S, FF_ARG_REQUIRED, FA_INDEX_OR_KEY, FS_PROC,
      "mount destination, by number or by source path (glob)"),
    F("container.mount.mode", S, FF_ARG_REQUIRED, FA_INDEX_OR_KEY, FS_PROC, "mount mode"),
    F("container.mount.rdwr", S, FF_ARG_REQUIRED, FA_INDEX_OR_KEY, FS_PROC,
      "true if the mount is read-write"),
    F("container.mount.propagation", S, FF_ARG_REQUIRED, FA_INDEX_OR_KEY, FS_PROC,
      "mount propagation"),
    F("container.start_ts", FT_ABSTIME, 0, FA_NONE, FS_PROC, "container start time"),
    F("container.duration", FT_RELTIME, 0, FA_NONE, FS_PROC, "nanoseconds since the start"),
    F("container.ip", S, 0, FA_NONE, FS_PROC, "container IP address"),
    F("container.label", S, FF_ARG_REQUIRED, FA_DOTTED, FS_PROC, "one container label"),
    F("container.host_pid", B, 0, FA_NONE, FS_PROC, "true if the container shares the host pid ns"),
    F("container.host_network", B, 0, FA_NONE, FS_PROC, "true if it shares the host network"),
    F("k8s.pod.name", S, 0, FA_NONE, FS_PROC, "Kubernetes pod name"),
    F("k8s.pod.id", S, 0, FA_NONE, FS_PROC, "Kubernetes pod uid (legacy name)"),
    F("k8s.pod.uid", S, 0, FA_NONE, FS_PROC, "Kubernetes pod uid"),
    F("k8s.pod.sandbox_id", S, 0, FA_NONE, FS_PROC, "pod sandbox id (12 characters)"),
    F("k8s.pod.full_sandbox_id", S, 0, FA_NONE, FS_PROC, "full pod sandbox id"),
    F("k8s.pod.label", S, FF_ARG_REQUIRED, FA_DOTTED, FS_PROC, "one pod label"),
    F("k8s.pod.labels", S, 0, FA_NONE, FS_PROC, "every pod label, key:value"),
    F("k8s.pod.ip", S, 0, FA_NONE, FS_PROC, "pod IP address"),
    F("k8s.pod.cni.json", S, 0, FA_NONE, FS_PROC, "pod CNI result, as JSON"),
    F("k8s.ns.name", S, 0, FA_NONE, FS_PROC, "Kubernetes namespace"),
};

#define NFIELDS (sizeof(table) / sizeof(table[0]))

const struct field_def *fields_table(size_t *n)
{
	*n = NFIELDS;
	return table;
}

const char *field_type_name(enum field_type t)
{
	static const char *const names[FT_NTYPES] = {
	    [FT_CHARBUF] = "CHARBUF", [FT_BYTEBUF] = "BYTEBUF", [FT_FSPATH] = "FSPATH",
	    [FT_INT64] = "INT64",     [FT_UINT64] = "UINT64",	[FT_UINT32] = "UINT32",
	    [FT_PORT] = "PORT",	      [FT_BOOL] = "BOOL",	[FT_IPADDR] = "IPADDR",
	    [FT_IPNET] = "IPNET",     [FT_RELTIME] = "RELTIME", [FT_ABSTIME] = "ABSTIME",
	};
	return (unsigned)t < FT_NTYPES ? names[t] : "?";
}

bool field_type_is_numeric(enum field_type t)
{
	switch (t) {
	case FT_INT64:
	case FT_UINT64:
	case FT_UINT32:
	case FT_PORT:
	case FT_RELTIME:
	case FT_ABSTIME:
		return true;
	default:
		return false;
	}
}

/* The class of a field or of the text being resolved: what precedes the first '.'. */
static size_t class_len(const char *s, size_t len)
{
	const char *dot = memchr(s, '.', len);

	return dot ? (size_t)(dot - s) : len;
}

static bool same_class(const char *name, const char *text, size_t tclass)
{
	return strlen(name) > tclass && name[tclass] == '.' && memcmp(name, text, tclass) == 0;
}

static bool all_digits(const char *s, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* Whether an argument fits the field's form: a number where it wants an index. */
static int arg_fits(const struct field_def *d, const char *arg, size_t n, char *err, size_t errlen)
{
	if (d->arg == FA_INDEX && !all_digits(arg, n)) {
		snprintf(err, errlen, "field '%s' takes a number in brackets, not '%.*s'", d->name,
			 (int)(n > 100 ? 100 : n), arg);
		return -1;
	}
	return 0;
}

/* Checks the remainder after the field's name, and the bracket argument the parser already
 * took apart (barg, or NULL): together they must be one argument in the field's form, or
 * none. Returns 1 when the remainder is not an argument at all (an unknown field). */
static int check_arg(const struct field_def *d, const char *rest, size_t n, const char *barg,
		     size_t blen, struct field_ref *ref, char *err, size_t errlen)
{
	ref->has_arg = false;
	ref->arg = NULL;
	ref->arg_len = 0;
	if (barg && n == 0) {
		ref->arg = barg;
		ref->arg_len = blen;
	} else if (barg) {
		return 1;
	} else if (n == 0) {
		if (d->flags & FF_ARG_REQUIRED) {
			snprintf(err, errlen, "field '%s' requires an argument", d->name);
			return -1;
		}
		return 0;
	} else if (d->arg == FA_DOTTED && rest[0] == '.' && n > 1) {
		ref->arg = rest + 1;
		ref->arg_len = n - 1;
	} else if (rest[0] == '[' && rest[n - 1] == ']' && n > 2) {
		ref->arg = rest + 1;
		ref->arg_len = n - 2;
		/* A quoted bracket argument may hold any character. */
		if (ref->arg_len >= 2 && (ref->arg[0] == '"' || ref->arg[0] == '\'') &&
		    ref->arg[ref->arg_len - 1] == ref->arg[0]) {
			ref->arg++;
			ref->arg_len -= 2;
		}
	} else {
		return 1;
	}
	if (d->arg == FA_NONE) {
		snprintf(err, errlen, "field '%s' takes no argument", d->name);
		return -1;
	}
	if (arg_fits(d, ref->arg, ref->arg_len, err, errlen))
		return -1;
	ref->has_arg = true;
	return 0;
}

static int resolve(const char *text, size_t len, const char *barg, size_t blen,
		   struct field_ref *ref, char *err, size_t errlen)
{
	size_t tclass = class_len(text, len);
	const struct field_def *best = NULL;
	size_t best_len = 0;
	bool class_known = false;
	int rc = 1;

	memset(ref, 0, sizeof(*ref));
	if (errlen)
		err[0] = '\0';
	for (size_t i = 0; i < NFIELDS; i++) {
		const struct field_def *d = &table[i];
		size_t n = strlen(d->name);

		if (!same_class(d->name, text, tclass))
			continue;
		class_known = true;
		if (n <= len && n > best_len && memcmp(d->name, text, n) == 0 &&
		    (n == len || text[n] == '.' || text[n] == '['))
			best = d, best_len = n;
	}
	if (best)
		rc = check_arg(best, text + best_len, len - best_len, barg, blen, ref, err, errlen);
	if (rc == 0) {
		ref->def = best;
		return 0;
	}
	if (rc > 0 && errlen)
		snprintf(err, errlen, "unknown field '%.*s%s%.*s%s'%s",
			 (int)(len > 200 ? 200 : len), text, barg ? "[" : "",
			 (int)(barg ? (blen > 100 ? 100 : blen) : 0), barg ? barg : "",
			 barg ? "]" : "", class_known ? "" : " (unknown field class)");
	return -1;
}

int fields_resolve(const char *text, size_t len, struct field_ref *ref, char *err, size_t errlen)
{
	return resolve(text, len, NULL, 0, ref, err, errlen);
}

int fields_resolve_arg(const char *name, size_t len, const char *arg, size_t arg_len,
		       struct field_ref *ref, char *err, size_t errlen)
{
	return resolve(name, len, arg, arg_len, ref, err, errlen);
}
