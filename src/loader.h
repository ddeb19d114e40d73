/*
 * The BPF boundary: opens the embedded skeleton, sets its load-time knobs, loads it,
 * attaches the programs (tp_btf, or raw_tp where tp_btf is missing or refused), and sets up
 * the ring buffer consumer. Also reads the per-CPU counters and writes the
 * interesting-syscall bitmap.
 */
#ifndef SAKER_LOADER_H
#define SAKER_LOADER_H

#include <bpf/libbpf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "counters.h"
#include "events.h"

struct sensor_bpf;

struct loader {
	struct sensor_bpf *skel;
	struct ring_buffer *rb;
	bool tp_btf; /* which program type ended up attached */
	int ncpus;
};

struct loader_opts {
	size_t ringbuf_bytes;
	int attach;		/* enum attach_mode */
	pid_t self_tgid;	/* dropped in the kernel */
	const uint64_t *bitmap; /* SK_BITMAP_WORDS words, set before attach */
	bool want_env;		/* exec records carry the environment */
	ring_buffer_sample_fn on_record;
	void *ctx;
};

/* Loads and attaches everything. Returns 0, or -1 after logging why. */
int loader_start(struct loader *l, const struct loader_opts *o);

/* Replaces the interesting-syscall bitmap; takes effect at once. */
void loader_set_bitmap(struct loader *l, const uint64_t *bitmap);

/* Whether exec records carry the new image's environment; takes effect at once. */
void loader_set_env(struct loader *l, bool want);

/* Sums the per-CPU counters. Returns 0 or -1. */
int loader_counters(struct loader *l, struct sk_counters *sum);

/* The ring buffer map's fd (for mapping its positions: the metrics' fill level), or -1. */
int loader_ring_fd(const struct loader *l);

/* Detaches the programs: no record is produced after this returns, so a last drain sees
 * everything and the counters read afterwards agree with it. */
void loader_detach(struct loader *l);

/* Detaches and frees everything (safe on a loader that failed to start). */
void loader_stop(struct loader *l);

#endif /* SAKER_LOADER_H */
