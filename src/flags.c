#include "flags.h"

#include <errno.h>
#include <stddef.h>

/* Values are written out rather than taken from system headers: the names must be the
 * kernel's for x86-64 whatever the build host's libc has, and several of these headers
 * disagree with each other when included together. */

struct flag_name {
	uint64_t bit;
	const char *name;
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void render_bits(struct strbuf *sb, uint64_t flags, const struct flag_name *t, size_t n)
{
	size_t start = sb->len;

	for (size_t i = 0; i < n; i++) {
		if (!t[i].bit || (flags & t[i].bit) != t[i].bit)
			continue;
		if (sb->len > start)
			sb_addc(sb, '|');
		sb_adds(sb, t[i].name);
		flags &= ~t[i].bit;
	}
	if (flags) {
		if (sb->len > start)
			sb_addc(sb, '|');
		sb_addf(sb, "0x%llx", (unsigned long long)flags);
	}
	if (sb->len == start)
		sb_addc(sb, '0');
}

/* O_SYNC includes O_DSYNC's bit and O_TMPFILE includes O_DIRECTORY's: the wider ones come
 * first so they win. */
static const struct flag_name open_flags[] = {
    {0100, "O_CREAT"},	      {0200, "O_EXCL"},		 {0400, "O_NOCTTY"},
    {01000, "O_TRUNC"},	      {02000, "O_APPEND"},	 {04000, "O_NONBLOCK"},
    {04010000, "O_SYNC"},     {010000, "O_DSYNC"},	 {020000, "O_ASYNC"},
    {040000, "O_DIRECT"},     {0100000, "O_LARGEFILE"},	 {020200000, "O_TMPFILE"},
    {0200000, "O_DIRECTORY"}, {0400000, "O_NOFOLLOW"},	 {01000000, "O_NOATIME"},
    {02000000, "O_CLOEXEC"},  {010000000, "O_PATH"},
};

static const struct flag_name clone_flags[] = {
    {0x100, "CLONE_VM"},
    {0x200, "CLONE_FS"},
    {0x400, "CLONE_FILES"},
    {0x800, "CLONE_SIGHAND"},
    {0x1000, "CLONE_PIDFD"},
    {0x2000, "CLONE_PTRACE"},
    {0x4000, "CLONE_VFORK"},
    {0x8000, "CLONE_PARENT"},
    {0x10000, "CLONE_THREAD"},
    {0x20000, "CLONE_NEWNS"},
    {0x40000, "CLONE_SYSVSEM"},
    {0x80000, "CLONE_SETTLS"},
    {0x100000, "CLONE_PARENT_SETTID"},
    {0x200000, "CLONE_CHILD_CLEARTID"},
    {0x400000, "CLONE_DETACHED"},
    {0x800000, "CLONE_UNTRACED"},
    {0x1000000, "CLONE_CHILD_SETTID"},
    {0x2000000, "CLONE_NEWCGROUP"},
    {0x4000000, "CLONE_NEWUTS"},
    {0x8000000, "CLONE_NEWIPC"},
    {0x10000000, "CLONE_NEWUSER"},
    {0x20000000, "CLONE_NEWPID"},
    {0x40000000, "CLONE_NEWNET"},
    {0x80000000, "CLONE_IO"},
    {0x100000000ULL, "CLONE_CLEAR_SIGHAND"},
    {0x200000000ULL, "CLONE_INTO_CGROUP"},
    {0x400000000ULL, "CLONE_NEWTIME"}, /* clone3 only; unshare uses 0x80 */
};

static const struct flag_name ns_flags[] = {
    {0x80, "CLONE_NEWTIME"},	   {0x100, "CLONE_VM"},		 {0x200, "CLONE_FS"},
    {0x400, "CLONE_FILES"},	   {0x800, "CLONE_SIGHAND"},	 {0x10000, "CLONE_THREAD"},
    {0x20000, "CLONE_NEWNS"},	   {0x40000, "CLONE_SYSVSEM"},	 {0x2000000, "CLONE_NEWCGROUP"},
    {0x4000000, "CLONE_NEWUTS"},   {0x8000000, "CLONE_NEWIPC"},	 {0x10000000, "CLONE_NEWUSER"},
    {0x20000000, "CLONE_NEWPID"},  {0x40000000, "CLONE_NEWNET"},
};

static const struct flag_name at_flags[] = {
    {0x100, "AT_SYMLINK_NOFOLLOW"}, {0x200, "AT_REMOVEDIR"},   {0x400, "AT_SYMLINK_FOLLOW"},
    {0x800, "AT_NO_AUTOMOUNT"},	    {0x1000, "AT_EMPTY_PATH"},
};

static const struct flag_name rename_flags[] = {
    {1, "RENAME_NOREPLACE"},
    {2, "RENAME_EXCHANGE"},
    {4, "RENAME_WHITEOUT"},
};

static const struct flag_name sock_flags[] = {
    {04000, "SOCK_NONBLOCK"},
    {02000000, "SOCK_CLOEXEC"},
};

static const struct flag_name msg_flags[] = {
    {0x1, "MSG_OOB"},		 {0x2, "MSG_PEEK"},		{0x4, "MSG_DONTROUTE"},
    {0x8, "MSG_CTRUNC"},	 {0x10, "MSG_PROXY"},		{0x20, "MSG_TRUNC"},
    {0x40, "MSG_DONTWAIT"},	 {0x80, "MSG_EOR"},		{0x100, "MSG_WAITALL"},
    {0x200, "MSG_FIN"},		 {0x400, "MSG_SYN"},		{0x800, "MSG_CONFIRM"},
    {0x1000, "MSG_RST"},	 {0x2000, "MSG_ERRQUEUE"},	{0x4000, "MSG_NOSIGNAL"},
    {0x8000, "MSG_MORE"},	 {0x10000, "MSG_WAITFORONE"},	{0x40000, "MSG_BATCH"},
    {0x4000000, "MSG_ZEROCOPY"}, {0x20000000, "MSG_FASTOPEN"},	{0x40000000, "MSG_CMSG_CLOEXEC"},
};

static const struct flag_name mount_flags[] = {
    {1, "MS_RDONLY"},		{2, "MS_NOSUID"},	      {4, "MS_NODEV"},
    {8, "MS_NOEXEC"},		{16, "MS_SYNCHRONOUS"},	      {32, "MS_REMOUNT"},
    {64, "MS_MANDLOCK"},	{128, "MS_DIRSYNC"},	      {256, "MS_NOSYMFOLLOW"},
    {1024, "MS_NOATIME"},	{2048, "MS_NODIRATIME"},      {4096, "MS_BIND"},
    {8192, "MS_MOVE"},		{16384, "MS_REC"},	      {32768, "MS_SILENT"},
    {1 << 16, "MS_POSIXACL"},	{1 << 17, "MS_UNBINDABLE"},   {1 << 18, "MS_PRIVATE"},
    {1 << 19, "MS_SLAVE"},	{1 << 20, "MS_SHARED"},	      {1 << 21, "MS_RELATIME"},
    {1 << 22, "MS_KERNMOUNT"},	{1 << 23, "MS_I_VERSION"},    {1 << 24, "MS_STRICTATIME"},
    {1 << 25, "MS_LAZYTIME"},
};

static const struct flag_name umount_flags[] = {
    {1, "MNT_FORCE"},
    {2, "MNT_DETACH"},
    {4, "MNT_EXPIRE"},
    {8, "UMOUNT_NOFOLLOW"},
};

static const struct flag_name memfd_flags[] = {
    {1, "MFD_CLOEXEC"}, {2, "MFD_ALLOW_SEALING"}, {4, "MFD_HUGETLB"},
    {8, "MFD_NOEXEC_SEAL"}, {0x10, "MFD_EXEC"},
};

static const struct flag_name pipe2_flags[] = {
    {02000000, "O_CLOEXEC"},
    {04000, "O_NONBLOCK"},
    {040000, "O_DIRECT"},
    {0200, "O_NOTIFICATION_PIPE"},
};

static const struct flag_name eventfd_flags[] = {
    {1, "EFD_SEMAPHORE"},
    {02000000, "EFD_CLOEXEC"},
    {04000, "EFD_NONBLOCK"},
};

static const struct flag_name userfaultfd_flags[] = {
    {02000000, "O_CLOEXEC"},
    {04000, "O_NONBLOCK"},
    {1, "UFFD_USER_MODE_ONLY"},
};

static const struct flag_name finit_module_flags[] = {
    {1, "MODULE_INIT_IGNORE_MODVERSIONS"},
    {2, "MODULE_INIT_IGNORE_VERMAGIC"},
    {4, "MODULE_INIT_COMPRESSED_FILE"},
};

static const struct flag_name resolve_flags[] = {
    {0x01, "RESOLVE_NO_XDEV"}, {0x02, "RESOLVE_NO_MAGICLINKS"}, {0x04, "RESOLVE_NO_SYMLINKS"},
    {0x08, "RESOLVE_BENEATH"}, {0x10, "RESOLVE_IN_ROOT"},	    {0x20, "RESOLVE_CACHED"},
};

static const struct flag_name mode_flags[] = {
    {04000, "S_ISUID"}, {02000, "S_ISGID"}, {01000, "S_ISVTX"}, {0400, "S_IRUSR"},
    {0200, "S_IWUSR"},	{0100, "S_IXUSR"},  {040, "S_IRGRP"},	{020, "S_IWGRP"},
    {010, "S_IXGRP"},	{04, "S_IROTH"},    {02, "S_IWOTH"},	{01, "S_IXOTH"},
};

static const struct flag_name exe_flags[] = {
    {1, "EXE_FROM_MEMFD"}, /* SK_EXE_MEMFD */
    {2, "EXE_UPPER_LAYER"}, /* SK_EXE_UPPER */
};

static const struct {
	const struct flag_name *t;
	size_t n;
} flag_sets[FLAGS_NSETS] = {
#define SET(id, table) [id] = {table, N(table)}
    SET(FLAGS_OPEN, open_flags),	 SET(FLAGS_CLONE, clone_flags),
    SET(FLAGS_NS, ns_flags),		 SET(FLAGS_AT, at_flags),
    SET(FLAGS_RENAME, rename_flags),	 SET(FLAGS_SOCK, sock_flags),
    SET(FLAGS_SOCK_TYPE, sock_flags),	 SET(FLAGS_MSG, msg_flags),
    SET(FLAGS_MOUNT, mount_flags),	 SET(FLAGS_UMOUNT, umount_flags),
    SET(FLAGS_MEMFD, memfd_flags),	 SET(FLAGS_PIPE2, pipe2_flags),
    SET(FLAGS_EVENTFD, eventfd_flags),	 SET(FLAGS_USERFAULTFD, userfaultfd_flags),
    SET(FLAGS_FINIT_MODULE, finit_module_flags), SET(FLAGS_RESOLVE, resolve_flags),
    SET(FLAGS_MODE, mode_flags),	 SET(FLAGS_EXE, exe_flags),
#undef SET
};

void flags_render(struct strbuf *sb, enum flag_set set, uint64_t v)
{
	if ((unsigned)set >= FLAGS_NSETS) {
		sb_addf(sb, "0x%llx", (unsigned long long)v);
		return;
	}
	switch (set) {
	case FLAGS_OPEN: {
		static const char *const acc[] = {"O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"};
		uint64_t rest = v & ~(uint64_t)3;

		sb_adds(sb, acc[v & 3]);
		if (rest) {
			sb_addc(sb, '|');
			render_bits(sb, rest, open_flags, N(open_flags));
		}
		return;
	}
	case FLAGS_CLONE:
		/* The low byte of clone(2)'s flags is the signal sent to the parent at exit. */
		v &= ~0xffULL;
		break;
	case FLAGS_SOCK_TYPE: {
		/* The type in the low bits, then the flags. */
		uint64_t rest = v & ~(uint64_t)0xf;

		sb_adds(sb, sock_type_name((unsigned)(v & 0xf)));
		if (rest) {
			sb_addc(sb, '|');
			render_bits(sb, rest, sock_flags, N(sock_flags));
		}
		return;
	}
	case FLAGS_MOUNT:
		/* Before 2.4 the high 16 bits had to hold the magic 0xC0ED; it means nothing. */
		if ((v & 0xffff0000ULL) == 0xc0ed0000ULL)
			v &= 0xffff;
		break;
	case FLAGS_MODE:
		v &= 07777;
		break;
	default:
		break;
	}
	render_bits(sb, v, flag_sets[set].t, flag_sets[set].n);
}

/* ---- single values */

static const struct flag_name af_names[] = {
    {0, "AF_UNSPEC"},	   {1, "AF_UNIX"},	{2, "AF_INET"},	     {3, "AF_AX25"},
    {4, "AF_IPX"},	   {5, "AF_APPLETALK"}, {6, "AF_NETROM"},    {7, "AF_BRIDGE"},
    {8, "AF_ATMPVC"},	   {9, "AF_X25"},	{10, "AF_INET6"},    {11, "AF_ROSE"},
    {12, "AF_DECnet"},	   {13, "AF_NETBEUI"},	{14, "AF_SECURITY"}, {15, "AF_KEY"},
    {16, "AF_NETLINK"},	   {17, "AF_PACKET"},	{18, "AF_ASH"},	     {19, "AF_ECONET"},
    {20, "AF_ATMSVC"},	   {21, "AF_RDS"},	{22, "AF_SNA"},	     {23, "AF_IRDA"},
    {24, "AF_PPPOX"},	   {25, "AF_WANPIPE"},	{26, "AF_LLC"},	     {27, "AF_IB"},
    {28, "AF_MPLS"},	   {29, "AF_CAN"},	{30, "AF_TIPC"},     {31, "AF_BLUETOOTH"},
    {32, "AF_IUCV"},	   {33, "AF_RXRPC"},	{34, "AF_ISDN"},     {35, "AF_PHONET"},
    {36, "AF_IEEE802154"}, {37, "AF_CAIF"},	{38, "AF_ALG"},	     {39, "AF_NFC"},
    {40, "AF_VSOCK"},	   {41, "AF_KCM"},	{42, "AF_QIPCRTR"},  {43, "AF_SMC"},
    {44, "AF_XDP"},	   {45, "AF_MCTP"},
};

static const struct flag_name ptrace_names[] = {
    {0, "PTRACE_TRACEME"},
    {1, "PTRACE_PEEKTEXT"},
    {2, "PTRACE_PEEKDATA"},
    {3, "PTRACE_PEEKUSR"},
    {4, "PTRACE_POKETEXT"},
    {5, "PTRACE_POKEDATA"},
    {6, "PTRACE_POKEUSR"},
    {7, "PTRACE_CONT"},
    {8, "PTRACE_KILL"},
    {9, "PTRACE_SINGLESTEP"},
    {12, "PTRACE_GETREGS"},
    {13, "PTRACE_SETREGS"},
    {14, "PTRACE_GETFPREGS"},
    {15, "PTRACE_SETFPREGS"},
    {16, "PTRACE_ATTACH"},
    {17, "PTRACE_DETACH"},
    {18, "PTRACE_GETFPXREGS"},
    {19, "PTRACE_SETFPXREGS"},
    {21, "PTRACE_OLDSETOPTIONS"},
    {24, "PTRACE_SYSCALL"},
    {25, "PTRACE_GET_THREAD_AREA"},
    {26, "PTRACE_SET_THREAD_AREA"},
    {30, "PTRACE_ARCH_PRCTL"},
    {31, "PTRACE_SYSEMU"},
    {32, "PTRACE_SYSEMU_SINGLESTEP"},
    {33, "PTRACE_SINGLEBLOCK"},
    {0x4200, "PTRACE_SETOPTIONS"},
    {0x4201, "PTRACE_GETEVENTMSG"},
    {0x4202, "PTRACE_GETSIGINFO"},
    {0x4203, "PTRACE_SETSIGINFO"},
    {0x4204, "PTRACE_GETREGSET"},
    {0x4205, "PTRACE_SETREGSET"},
    {0x4206, "PTRACE_SEIZE"},
    {0x4207, "PTRACE_INTERRUPT"},
    {0x4208, "PTRACE_LISTEN"},
    {0x4209, "PTRACE_PEEKSIGINFO"},
    {0x420a, "PTRACE_GETSIGMASK"},
    {0x420b, "PTRACE_SETSIGMASK"},
    {0x420c, "PTRACE_SECCOMP_GET_FILTER"},
    {0x420d, "PTRACE_SECCOMP_GET_METADATA"},
    {0x420e, "PTRACE_GET_SYSCALL_INFO"},
    {0x420f, "PTRACE_GET_RSEQ_CONFIGURATION"},
    {0x4210, "PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG"},
    {0x4211, "PTRACE_GET_SYSCALL_USER_DISPATCH_CONFIG"},
};

static const struct flag_name bpf_names[] = {
    {0, "BPF_MAP_CREATE"},
    {1, "BPF_MAP_LOOKUP_ELEM"},
    {2, "BPF_MAP_UPDATE_ELEM"},
    {3, "BPF_MAP_DELETE_ELEM"},
    {4, "BPF_MAP_GET_NEXT_KEY"},
    {5, "BPF_PROG_LOAD"},
    {6, "BPF_OBJ_PIN"},
    {7, "BPF_OBJ_GET"},
    {8, "BPF_PROG_ATTACH"},
    {9, "BPF_PROG_DETACH"},
    {10, "BPF_PROG_TEST_RUN"},
    {11, "BPF_PROG_GET_NEXT_ID"},
    {12, "BPF_MAP_GET_NEXT_ID"},
    {13, "BPF_PROG_GET_FD_BY_ID"},
    {14, "BPF_MAP_GET_FD_BY_ID"},
    {15, "BPF_OBJ_GET_INFO_BY_FD"},
    {16, "BPF_PROG_QUERY"},
    {17, "BPF_RAW_TRACEPOINT_OPEN"},
    {18, "BPF_BTF_LOAD"},
    {19, "BPF_BTF_GET_FD_BY_ID"},
    {20, "BPF_TASK_FD_QUERY"},
    {21, "BPF_MAP_LOOKUP_AND_DELETE_ELEM"},
    {22, "BPF_MAP_FREEZE"},
    {23, "BPF_BTF_GET_NEXT_ID"},
    {24, "BPF_MAP_LOOKUP_BATCH"},
    {25, "BPF_MAP_LOOKUP_AND_DELETE_BATCH"},
    {26, "BPF_MAP_UPDATE_BATCH"},
    {27, "BPF_MAP_DELETE_BATCH"},
    {28, "BPF_LINK_CREATE"},
    {29, "BPF_LINK_UPDATE"},
    {30, "BPF_LINK_GET_FD_BY_ID"},
    {31, "BPF_LINK_GET_NEXT_ID"},
    {32, "BPF_ENABLE_STATS"},
    {33, "BPF_ITER_CREATE"},
    {34, "BPF_LINK_DETACH"},
    {35, "BPF_PROG_BIND_MAP"},
    {36, "BPF_TOKEN_CREATE"},
};

static const struct flag_name fcntl_names[] = {
    {0, "F_DUPFD"},	       {1, "F_GETFD"},		    {2, "F_SETFD"},
    {3, "F_GETFL"},	       {4, "F_SETFL"},		    {5, "F_GETLK"},
    {6, "F_SETLK"},	       {7, "F_SETLKW"},		    {8, "F_SETOWN"},
    {9, "F_GETOWN"},	       {10, "F_SETSIG"},	    {11, "F_GETSIG"},
    {15, "F_SETOWN_EX"},       {16, "F_GETOWN_EX"},	    {36, "F_OFD_GETLK"},
    {37, "F_OFD_SETLK"},       {38, "F_OFD_SETLKW"},	    {1024, "F_SETLEASE"},
    {1025, "F_GETLEASE"},      {1026, "F_NOTIFY"},	    {1030, "F_DUPFD_CLOEXEC"},
    {1031, "F_SETPIPE_SZ"},    {1032, "F_GETPIPE_SZ"},	    {1033, "F_ADD_SEALS"},
    {1034, "F_GET_SEALS"},     {1035, "F_GET_RW_HINT"},	    {1036, "F_SET_RW_HINT"},
    {1037, "F_GET_FILE_RW_HINT"}, {1038, "F_SET_FILE_RW_HINT"},
};

static const struct flag_name prctl_names[] = {
    {1, "PR_SET_PDEATHSIG"},
    {2, "PR_GET_PDEATHSIG"},
    {3, "PR_GET_DUMPABLE"},
    {4, "PR_SET_DUMPABLE"},
    {5, "PR_GET_UNALIGN"},
    {6, "PR_SET_UNALIGN"},
    {7, "PR_GET_KEEPCAPS"},
    {8, "PR_SET_KEEPCAPS"},
    {9, "PR_GET_FPEMU"},
    {10, "PR_SET_FPEMU"},
    {11, "PR_GET_FPEXC"},
    {12, "PR_SET_FPEXC"},
    {13, "PR_GET_TIMING"},
    {14, "PR_SET_TIMING"},
    {15, "PR_SET_NAME"},
    {16, "PR_GET_NAME"},
    {19, "PR_GET_ENDIAN"},
    {20, "PR_SET_ENDIAN"},
    {21, "PR_GET_SECCOMP"},
    {22, "PR_SET_SECCOMP"},
    {23, "PR_CAPBSET_READ"},
    {24, "PR_CAPBSET_DROP"},
    {25, "PR_GET_TSC"},
    {26, "PR_SET_TSC"},
    {27, "PR_GET_SECUREBITS"},
    {28, "PR_SET_SECUREBITS"},
    {29, "PR_SET_TIMERSLACK"},
    {30, "PR_GET_TIMERSLACK"},
    {31, "PR_TASK_PERF_EVENTS_DISABLE"},
    {32, "PR_TASK_PERF_EVENTS_ENABLE"},
    {33, "PR_MCE_KILL"},
    {34, "PR_MCE_KILL_GET"},
    {35, "PR_SET_MM"},
    {36, "PR_SET_CHILD_SUBREAPER"},
    {37, "PR_GET_CHILD_SUBREAPER"},
    {38, "PR_SET_NO_NEW_PRIVS"},
    {39, "PR_GET_NO_NEW_PRIVS"},
    {40, "PR_GET_TID_ADDRESS"},
    {41, "PR_SET_THP_DISABLE"},
    {42, "PR_GET_THP_DISABLE"},
    {45, "PR_SET_FP_MODE"},
    {46, "PR_GET_FP_MODE"},
    {47, "PR_CAP_AMBIENT"},
    {52, "PR_GET_SPECULATION_CTRL"},
    {53, "PR_SET_SPECULATION_CTRL"},
    {57, "PR_SET_IO_FLUSHER"},
    {58, "PR_GET_IO_FLUSHER"},
    {59, "PR_SET_SYSCALL_USER_DISPATCH"},
    {62, "PR_SCHED_CORE"},
    {65, "PR_SET_MDWE"},
    {66, "PR_GET_MDWE"},
    {0x53564d41, "PR_SET_VMA"},
};

static const struct flag_name signal_names[] = {
    {1, "SIGHUP"},     {2, "SIGINT"},	   {3, "SIGQUIT"},  {4, "SIGILL"},    {5, "SIGTRAP"},
    {6, "SIGABRT"},    {7, "SIGBUS"},	   {8, "SIGFPE"},   {9, "SIGKILL"},   {10, "SIGUSR1"},
    {11, "SIGSEGV"},   {12, "SIGUSR2"},	   {13, "SIGPIPE"}, {14, "SIGALRM"},  {15, "SIGTERM"},
    {16, "SIGSTKFLT"}, {17, "SIGCHLD"},	   {18, "SIGCONT"}, {19, "SIGSTOP"},  {20, "SIGTSTP"},
    {21, "SIGTTIN"},   {22, "SIGTTOU"},	   {23, "SIGURG"},  {24, "SIGXCPU"},  {25, "SIGXFSZ"},
    {26, "SIGVTALRM"}, {27, "SIGPROF"},	   {28, "SIGWINCH"}, {29, "SIGIO"},   {30, "SIGPWR"},
    {31, "SIGSYS"},
};

static const struct {
	const struct flag_name *t;
	size_t n;
} name_sets[NAMES_NSETS] = {
#define SET(id, table) [id] = {table, N(table)}
    SET(NAMES_AF, af_names),	     SET(NAMES_PTRACE, ptrace_names), SET(NAMES_BPF, bpf_names),
    SET(NAMES_FCNTL, fcntl_names),   SET(NAMES_PRCTL, prctl_names),   SET(NAMES_SIGNAL, signal_names),
#undef SET
};

const char *flags_name(enum name_set set, uint64_t v)
{
	if ((unsigned)set >= NAMES_NSETS)
		return NULL;
	for (size_t i = 0; i < name_sets[set].n; i++)
		if (name_sets[set].t[i].bit == v)
			return name_sets[set].t[i].name;
	return NULL;
}

void flags_render_name(struct strbuf *sb, enum name_set set, uint64_t v)
{
	const char *name = flags_name(set, v);

	if (name)
		sb_adds(sb, name);
	else
		sb_addf(sb, "%d", (int)(uint32_t)v);
}

/* ---- shorthands */

void flags_open(struct strbuf *sb, uint64_t flags)
{
	flags_render(sb, FLAGS_OPEN, flags);
}

void flags_clone(struct strbuf *sb, uint64_t flags)
{
	flags_render(sb, FLAGS_CLONE, flags);
}

void flags_dirfd(struct strbuf *sb, int64_t dirfd)
{
	if ((int)dirfd == -100)
		sb_adds(sb, "AT_FDCWD");
	else
		sb_addf(sb, "%d", (int)dirfd);
}

void flags_at(struct strbuf *sb, uint64_t flags)
{
	flags_render(sb, FLAGS_AT, flags);
}

void flags_accept4(struct strbuf *sb, uint64_t flags)
{
	flags_render(sb, FLAGS_SOCK, flags);
}

const char *sock_type_name(unsigned type)
{
	switch (type) {
	case 1:
		return "SOCK_STREAM";
	case 2:
		return "SOCK_DGRAM";
	case 3:
		return "SOCK_RAW";
	case 4:
		return "SOCK_RDM";
	case 5:
		return "SOCK_SEQPACKET";
	case 6:
		return "SOCK_DCCP";
	case 10:
		return "SOCK_PACKET";
	default:
		return "SOCK_UNKNOWN";
	}
}

/* errno names from the C library's macros (the same numbers as the kernel's on Linux),
 * without the aliases (EWOULDBLOCK, EDEADLOCK, ENOTSUP), then the kernel's own codes that
 * never reach user space but do show at a syscall's exit (a syscall interrupted by a signal
 * exits with ERESTARTSYS before the kernel restarts it or turns it into EINTR). */
#define E(x) [x] = #x
static const char *const errno_names[] = {
    E(EPERM),	    E(ENOENT),		E(ESRCH),	  E(EINTR),	     E(EIO),
    E(ENXIO),	    E(E2BIG),		E(ENOEXEC),	  E(EBADF),	     E(ECHILD),
    E(EAGAIN),	    E(ENOMEM),		E(EACCES),	  E(EFAULT),	     E(ENOTBLK),
    E(EBUSY),	    E(EEXIST),		E(EXDEV),	  E(ENODEV),	     E(ENOTDIR),
    E(EISDIR),	    E(EINVAL),		E(ENFILE),	  E(EMFILE),	     E(ENOTTY),
    E(ETXTBSY),	    E(EFBIG),		E(ENOSPC),	  E(ESPIPE),	     E(EROFS),
    E(EMLINK),	    E(EPIPE),		E(EDOM),	  E(ERANGE),	     E(EDEADLK),
    E(ENAMETOOLONG), E(ENOLCK),		E(ENOSYS),	  E(ENOTEMPTY),	     E(ELOOP),
    E(ENOMSG),	    E(EIDRM),		E(ECHRNG),	  E(EL2NSYNC),	     E(EL3HLT),
    E(EL3RST),	    E(ELNRNG),		E(EUNATCH),	  E(ENOCSI),	     E(EL2HLT),
    E(EBADE),	    E(EBADR),		E(EXFULL),	  E(ENOANO),	     E(EBADRQC),
    E(EBADSLT),	    E(EBFONT),		E(ENOSTR),	  E(ENODATA),	     E(ETIME),
    E(ENOSR),	    E(ENONET),		E(ENOPKG),	  E(EREMOTE),	     E(ENOLINK),
    E(EADV),	    E(ESRMNT),		E(ECOMM),	  E(EPROTO),	     E(EMULTIHOP),
    E(EDOTDOT),	    E(EBADMSG),		E(EOVERFLOW),	  E(ENOTUNIQ),	     E(EBADFD),
    E(EREMCHG),	    E(ELIBACC),		E(ELIBBAD),	  E(ELIBSCN),	     E(ELIBMAX),
    E(ELIBEXEC),    E(EILSEQ),		E(ERESTART),	  E(ESTRPIPE),	     E(EUSERS),
    E(ENOTSOCK),    E(EDESTADDRREQ),	E(EMSGSIZE),	  E(EPROTOTYPE),     E(ENOPROTOOPT),
    E(EPROTONOSUPPORT), E(ESOCKTNOSUPPORT), E(EOPNOTSUPP), E(EPFNOSUPPORT),  E(EAFNOSUPPORT),
    E(EADDRINUSE),  E(EADDRNOTAVAIL),	E(ENETDOWN),	  E(ENETUNREACH),    E(ENETRESET),
    E(ECONNABORTED), E(ECONNRESET),	E(ENOBUFS),	  E(EISCONN),	     E(ENOTCONN),
    E(ESHUTDOWN),   E(ETOOMANYREFS),	E(ETIMEDOUT),	  E(ECONNREFUSED),   E(EHOSTDOWN),
    E(EHOSTUNREACH), E(EALREADY),	E(EINPROGRESS),	  E(ESTALE),	     E(EUCLEAN),
    E(ENOTNAM),	    E(ENAVAIL),		E(EISNAM),	  E(EREMOTEIO),	     E(EDQUOT),
    E(ENOMEDIUM),   E(EMEDIUMTYPE),	E(ECANCELED),	  E(ENOKEY),	     E(EKEYEXPIRED),
    E(EKEYREVOKED), E(EKEYREJECTED),	E(EOWNERDEAD),	  E(ENOTRECOVERABLE), E(ERFKILL),
    E(EHWPOISON),
    [512] = "ERESTARTSYS",
    [513] = "ERESTARTNOINTR",
    [514] = "ERESTARTNOHAND",
    [515] = "ENOIOCTLCMD",
    [516] = "ERESTART_RESTARTBLOCK",
    [517] = "EPROBE_DEFER",
    [518] = "EOPENSTALE",
    [519] = "ENOPARAM",
    [521] = "EBADHANDLE",
    [522] = "ENOTSYNC",
    [523] = "EBADCOOKIE",
    [524] = "ENOTSUPP",
    [525] = "ETOOSMALL",
    [526] = "ESERVERFAULT",
    [527] = "EBADTYPE",
    [528] = "EJUKEBOX",
    [529] = "EIOCBQUEUED",
    [530] = "ERECALLCONFLICT",
};
#undef E

const char *errno_name(int err)
{
	if (err <= 0 || (size_t)err >= N(errno_names))
		return NULL;
	return errno_names[err];
}
