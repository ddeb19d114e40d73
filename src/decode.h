/* Checks a ring buffer record against the ABI and turns it into a struct event. A record
 * that fails a check is counted by reason and skipped; the daemon never trusts a length it
 * has not checked. */
#ifndef SAKER_DECODE_H
#define SAKER_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

enum decode_error {
	DECODE_OK = 0,
	DECODE_SHORT, /* smaller than its header or its kind's fixed part */
	DECODE_SIZE,  /* the header's size disagrees with the record's */
	DECODE_ABI,   /* another ABI version */
	DECODE_TYPE,  /* unknown kind */
	DECODE_BLOBS, /* blob lengths run past the record */
	DECODE_BLOB_SPEC, /* a blob the syscall's rule (abi/blobs.h) does not allow: present
			     where none is sent, of the wrong size, or over its limit */
	DECODE_NERRORS
};

struct decode_stats {
	uint64_t records;
	uint64_t by_kind[SK_EV_MAX];
	uint64_t errors[DECODE_NERRORS];
};

/* Decodes one record; returns DECODE_OK or the reason it was rejected (also counted). */
enum decode_error decode_record(const void *data, size_t size, struct event *ev,
				struct decode_stats *st);

const char *decode_error_name(enum decode_error e);

#endif /* SAKER_DECODE_H */
