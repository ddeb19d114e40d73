#include "loader.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "log.h"
#include "probe.h"
#include "sensor.skel.h"

static void select_programs(struct sensor_bpf *s, bool tp_btf)
{
	bpf_program__set_autoload(s->progs.sys_exit, tp_btf);
	bpf_program__set_autoload(s->progs.sched_fork, tp_btf);
	bpf_program__set_autoload(s->progs.sched_exec, tp_btf);
	bpf_program__set_autoload(s->progs.sched_exit, tp_btf);
	bpf_program__set_autoload(s->progs.raw_sys_exit, !tp_btf);
	bpf_program__set_autoload(s->progs.raw_sched_fork, !tp_btf);
	bpf_program__set_autoload(s->progs.raw_sched_exec, !tp_btf);
	bpf_program__set_autoload(s->progs.raw_sched_exit, !tp_btf);
}

/* One attempt with one program type. Returns 0 or a negative errno. */
static int try_load(struct loader *l, const struct loader_opts *o, bool tp_btf)
{
	struct sensor_bpf *s;
	int err;

	s = sensor_bpf__open();
	if (!s)
		return -errno;
	select_programs(s, tp_btf);
	s->rodata->self_tgid = (uint32_t)o->self_tgid;
	err = bpf_map__set_max_entries(s->maps.events, (uint32_t)o->ringbuf_bytes);
	if (!err)
		err = sensor_bpf__load(s);
	if (err) {
		log_debug("loading the %s programs failed: %s", tp_btf ? "tp_btf" : "raw_tp",
			  strerror(-err));
		sensor_bpf__destroy(s);
		return err;
	}
	/* The bitmap goes in before the programs attach, so no event is missed or extra. */
	memcpy(s->bss->interesting, o->bitmap, sizeof(s->bss->interesting));
	s->bss->want_env = o->want_env;
	err = sensor_bpf__attach(s);
	if (err) {
		log_debug("attaching the %s programs failed: %s", tp_btf ? "tp_btf" : "raw_tp",
			  strerror(-err));
		sensor_bpf__destroy(s);
		return err;
	}
	l->skel = s;
	l->tp_btf = tp_btf;
	return 0;
}

/* Maps the ring buffer the way the kernel lays it out for user space (see loader.h). */
static int ring_map(struct loader_ring *r, int fd, const struct loader_opts *o)
{
	long page = sysconf(_SC_PAGESIZE);
	void *cons, *prod;

	if (page <= 0)
		return -1;
	cons = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (cons == MAP_FAILED)
		return -1;
	prod = mmap(NULL, (size_t)page + 2 * o->ringbuf_bytes, PROT_READ, MAP_SHARED, fd, page);
	if (prod == MAP_FAILED) {
		munmap(cons, (size_t)page);
		return -1;
	}
	r->page = (size_t)page;
	r->size = o->ringbuf_bytes;
	r->cons_pos = cons;
	r->prod_pos = prod;
	r->data = (const uint8_t *)prod + page;
	r->on_record = o->on_record;
	r->ctx = o->ctx;
	return 0;
}

static void ring_unmap(struct loader_ring *r)
{
	if (r->cons_pos)
		munmap(r->cons_pos, r->page);
	if (r->prod_pos)
		munmap((void *)r->prod_pos, r->page + 2 * r->size);
	memset(r, 0, sizeof(*r));
}

/* The record header the kernel writes before each record (BPF_RINGBUF_HDR_SZ bytes): the
 * length with two flag bits, and a page offset we do not use. */
#define RB_BUSY (1u << 31)    /* reserved, not committed yet */
#define RB_DISCARD (1u << 30) /* discarded by the program: skip it */
#define RB_HDR 8u

/* How much consumed space may be held before the consumer position is published during a
 * long drain. Between publications the producer keeps reading the same cache line. */
#define RB_PUBLISH_BYTES (256u << 10)

/*
 * Consumes like libbpf's ring_buffer__consume, with one difference: the consumer position
 * is published once per drain (and every RB_PUBLISH_BYTES within a long one), not after
 * every record. Every bpf_ringbuf_reserve() in the kernel reads that position; a store to it
 * per record made each reserve that ran while the daemon was draining (on the other CPU)
 * miss its cache line, so the slower the daemon's work per record (rules), the dearer the
 * traced syscalls became. Holding the space a little longer costs nothing that matters:
 * a drain is a millisecond of records, a few hundred KiB at most against MiBs of ring.
 */
long loader_consume(struct loader *l)
{
	struct loader_ring *r = &l->ring;
	unsigned long cons, prod, published;
	long n = 0;

	if (!r->cons_pos)
		return 0;
	cons = __atomic_load_n(r->cons_pos, __ATOMIC_ACQUIRE);
	published = cons;
	for (;;) {
		prod = __atomic_load_n(r->prod_pos, __ATOMIC_ACQUIRE);
		if (cons >= prod)
			break;
		while (cons < prod) {
			const uint8_t *hdr = r->data + (cons & (r->size - 1));
			uint32_t len = __atomic_load_n((const uint32_t *)hdr, __ATOMIC_ACQUIRE);

			if (len & RB_BUSY)
				goto out; /* not committed yet: the next drain takes it */
			cons += ((len & ~(RB_BUSY | RB_DISCARD)) + RB_HDR + 7) & ~7ul;
			if (!(len & RB_DISCARD)) {
				n++;
				if (r->on_record(r->ctx, (void *)(hdr + RB_HDR),
						 len & ~(RB_BUSY | RB_DISCARD)) < 0) {
					__atomic_store_n(r->cons_pos, cons, __ATOMIC_RELEASE);
					return -1;
				}
			}
			if (cons - published >= RB_PUBLISH_BYTES) {
				__atomic_store_n(r->cons_pos, cons, __ATOMIC_RELEASE);
				published = cons;
			}
		}
	}
out:
	if (cons != published)
		__atomic_store_n(r->cons_pos, cons, __ATOMIC_RELEASE);
	return n;
}

int loader_start(struct loader *l, const struct loader_opts *o)
{
	int err = 0;

	memset(l, 0, sizeof(*l));
	if (probe_privileges() || probe_kernel())
		return -1;
	l->ncpus = libbpf_num_possible_cpus();
	if (l->ncpus <= 0) {
		log_error("cannot count the possible CPUs");
		return -1;
	}
	if (o->attach != ATTACH_RAW_TP) {
		err = try_load(l, o, true);
		if (err && o->attach == ATTACH_TP_BTF) {
			log_error(
			    "cannot load the sensor's tp_btf programs (engine.attach is tp_btf): "
			    "%s; run with -v for libbpf's log",
			    strerror(-err));
			return -1;
		}
		if (err)
			log_warn("falling back to raw_tp programs (tp_btf failed: %s)",
				 strerror(-err));
	}
	if (!l->skel) {
		err = try_load(l, o, false);
		if (err) {
			log_error("cannot load the sensor's BPF programs: %s; run with -v for "
				  "libbpf's log",
				  strerror(-err));
			return -1;
		}
	}
	if (ring_map(&l->ring, bpf_map__fd(l->skel->maps.events), o)) {
		log_error("cannot map the ring buffer: %s", strerror(errno));
		loader_stop(l);
		return -1;
	}
	log_info("sensor attached (%s programs, %zu MiB ring buffer)",
		 l->tp_btf ? "tp_btf" : "raw_tp", o->ringbuf_bytes >> 20);
	return 0;
}

void loader_set_bitmap(struct loader *l, const uint64_t *bitmap)
{
	for (int i = 0; i < SK_BITMAP_WORDS; i++)
		__atomic_store_n(&l->skel->bss->interesting[i], bitmap[i], __ATOMIC_RELAXED);
}

void loader_set_env(struct loader *l, bool want)
{
	__atomic_store_n(&l->skel->bss->want_env, want ? 1u : 0u, __ATOMIC_RELAXED);
}

int loader_counters(struct loader *l, struct sk_counters *sum)
{
	size_t bytes = sizeof(struct sk_counters) * (size_t)l->ncpus;
	struct sk_counters *per;
	uint32_t zero = 0;

	memset(sum, 0, sizeof(*sum));
	if (!l->skel)
		return -1;
	per = calloc((size_t)l->ncpus, sizeof(*per));
	if (!per)
		return -1;
	if (bpf_map__lookup_elem(l->skel->maps.counters, &zero, sizeof(zero), per, bytes, 0)) {
		free(per);
		return -1;
	}
	for (int c = 0; c < l->ncpus; c++) {
		sum->seen += per[c].seen;
		sum->emitted += per[c].emitted;
		sum->drop_full += per[c].drop_full;
		sum->drop_too_large += per[c].drop_too_large;
		sum->drop_read_fail += per[c].drop_read_fail;
		sum->partial_read += per[c].partial_read;
		sum->truncated += per[c].truncated;
		sum->compat_ignored += per[c].compat_ignored;
	}
	free(per);
	return 0;
}

int loader_ring_fd(const struct loader *l)
{
	return l->skel ? bpf_map__fd(l->skel->maps.events) : -1;
}

void loader_detach(struct loader *l)
{
	if (l->skel)
		sensor_bpf__detach(l->skel);
}

void loader_stop(struct loader *l)
{
	ring_unmap(&l->ring);
	sensor_bpf__destroy(l->skel);
	l->skel = NULL;
}
