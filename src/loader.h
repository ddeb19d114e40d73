/*
 * The BPF boundary: opens the embedded skeleton, sets its load-time knobs, loads it,
 * attaches the programs (tp_btf, or raw_tp where tp_btf is missing or refused), and maps
 * the ring buffer for its consumer (loader_consume). Also reads the per-CPU counters and
 * writes the interesting-syscall bitmap.
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

/* The ring buffer as the kernel maps it: the consumer position on a page of its own (ours
 * to write), the producer position on the next, then the data, mapped twice in a row so
 * that a record that wraps around the end reads as one piece. */
struct loader_ring {
	unsigned long *cons_pos;
	const unsigned long *prod_pos;
	const uint8_t *data;
	size_t size; /* of the data, a power of two */
	size_t page;
	ring_buffer_sample_fn on_record;
	void *ctx;
};

struct loader {
	struct sensor_bpf *skel;
	struct loader_ring ring;
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

/* Hands every record in the ring buffer to on_record, in order, and frees their space.
 * Returns the number of records, or -1 when on_record returned an error. */
long loader_consume(struct loader *l);

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
