/*
 * Rule output formats (spec d.2): text with %field tokens, compiled once when the rules load
 * and rendered for each alert through the same field extractors the conditions use.
 *
 * A token is '%', an optional decimal width, then the longest prefix of what follows that
 * resolves as a field (with its [arg] or .arg). There is no escape for a literal '%'.
 * A leading '*' on the whole format is a flag and is dropped.
 */
#ifndef SAKER_OUTFMT_H
#define SAKER_OUTFMT_H

#include <stdbool.h>
#include <stddef.h>

#include "vm.h"

struct strbuf;

struct outfmt_token {
	size_t lit_off, lit_len; /* literal text before the token, in outfmt.text */
	struct vm_field field;	 /* def NULL for the trailing literal */
	unsigned width;		 /* 0: as is; else padded with spaces or cut to exactly this */
	char *name;		 /* canonical text: "proc.aname[2]", "evt.arg.flags" */
};

struct outfmt {
	char *text; /* the format without its leading '*' */
	struct outfmt_token *tok;
	size_t n_tok; /* the last token is the trailing literal (field.def NULL) */
	/* the field tokens in byte order of their names, each name once (the first token of
	 * that name): the keys of a JSON alert's output_fields */
	size_t *order;
	size_t n_order;
};

/* An append_output extra field (spec d.1, d.4): a JSON output_fields key of its own. */
struct outfmt_extra {
	char *key;	    /* the output_fields key */
	struct outfmt *fmt; /* what it shows */
	bool raw;	    /* a bare field: its typed value (fmt is "%field"); else the text */
};

/* Compiles fmt (len bytes). Returns the format, or NULL with a message in err and the byte
 * offset of the problem in *err_off ("unknown field 'proc.nmae'", "'%' at the end of the
 * output"). */
struct outfmt *outfmt_compile(const char *fmt, size_t len, char *err, size_t errlen,
			      size_t *err_off);
void outfmt_free(struct outfmt *f);

/* Appends the rendered text: each field's value as text, <NA> when missing. */
void outfmt_render(const struct outfmt *f, const struct vm_fieldsrc *src, struct strbuf *out);

/* Appends one value as alert text: strings as they are, numbers in decimal, booleans
 * true/false, addresses per inet_ntop, lists as (a,b,c). */
void outfmt_value_text(const struct vm_value *v, struct strbuf *out);

#endif /* SAKER_OUTFMT_H */
