/*
 * saker-bench-empty-hook: attaches bench/empty_hook.bpf.c (a sys_exit program that returns
 * at once) and holds it attached until SIGINT or SIGTERM. bench/run measures the syscall
 * workloads under it to get the floor that any sys_exit sensor pays.
 *
 * Prints "empty_hook: ready: prog id N" on stderr once attached.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "empty_hook.skel.h"

int main(void)
{
	struct empty_hook_bpf *skel;
	struct bpf_prog_info info;
	__u32 info_len = sizeof(info);
	sigset_t mask;
	int err, sig;

	/* Blocked before attaching, so a signal that comes early is waited for, not fatal
	 * while the program is half set up. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);

	skel = empty_hook_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "empty_hook: cannot load: %s\n", strerror(errno));
		return 1;
	}
	err = empty_hook_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "empty_hook: cannot attach: %s\n", strerror(-err));
		empty_hook_bpf__destroy(skel);
		return 1;
	}
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(bpf_program__fd(skel->progs.empty_sys_exit), &info, &info_len))
		info.id = 0;
	fprintf(stderr, "empty_hook: ready: prog id %u\n", info.id);

	if (sigwait(&mask, &sig) == 0)
		fprintf(stderr, "empty_hook: signal %d: detaching\n", sig);
	empty_hook_bpf__destroy(skel);
	return 0;
}
