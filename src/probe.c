#include "probe.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static bool cap_effective(const struct __user_cap_data_struct d[2], int cap)
{
	return d[cap / 32].effective & (1u << (cap % 32));
}

int probe_privileges(void)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2] = {{0, 0, 0}, {0, 0, 0}};

	if (syscall(SYS_capget, &h, d)) {
		log_error("cannot read this process's capabilities");
		return -1;
	}
	if (cap_effective(d, CAP_SYS_ADMIN))
		return 0;
	if (cap_effective(d, CAP_BPF) && cap_effective(d, CAP_PERFMON))
		return 0;
	if (!cap_effective(d, CAP_BPF))
		log_error(
		    "missing capability CAP_BPF (or CAP_SYS_ADMIN): loading BPF programs needs "
		    "it; run saker as root or grant CAP_BPF, CAP_PERFMON and "
		    "CAP_SYS_RESOURCE");
	else
		log_error("missing capability CAP_PERFMON (or CAP_SYS_ADMIN): attaching to "
			  "tracepoints needs it; run saker as root or grant it");
	return -1;
}

int probe_kernel(void)
{
	int rc = 0;

	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		log_error("the kernel has no BTF (/sys/kernel/btf/vmlinux is missing): saker's "
			  "CO-RE programs need a kernel built with CONFIG_DEBUG_INFO_BTF=y");
		rc = -1;
	}
	errno = 0;
	if (libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) <= 0) {
		/* The probe creates a map with bpf(): EPERM although the capabilities are
		 * there means a filter refused the call, not that the kernel lacks the map. */
		if (errno == EPERM) {
			log_error("bpf() was refused (Operation not permitted) although saker has "
				  "the capabilities: a seccomp filter or a security module blocks it "
				  "(container runtimes' default seccomp profiles do: run with "
				  "seccomp unconfined, see docs/deploy.md)");
			return -1;
		}
		log_error("the kernel has no BPF ring buffer (BPF_MAP_TYPE_RINGBUF, Linux 5.8 and "
			  "later)");
		rc = -1;
	}
	if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_RAW_TRACEPOINT, NULL) <= 0 &&
	    libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_TRACING, NULL) <= 0) {
		log_error("the kernel cannot load raw tracepoint programs");
		rc = -1;
	}
	return rc;
}
