/*
 * The seed's rule format, a second front end to the rules loader: reads a `.conf` rules file
 * (the plain-text format of the first Falco) into the same raw items the YAML reader makes
 * (rules_yaml.h), so collecting, list substitution, macro expansion, checking and compiling
 * are shared. rules_yaml_read_file and rules_yaml_expand_path send `.conf` paths here.
 *
 * A file is read one logical line at a time (docs/rules-engine.md, "The .conf front end"):
 *
 *   line      = blank | comment | macro | rule
 *   blank     = only blanks (space, tab, CR, VT, FF)
 *   comment   = [blanks] "#" anything           (never continued)
 *   macro     = [blanks] NAME [blanks] ":" CONDITION        NAME = [A-Za-z_][A-Za-z0-9_]*
 *   rule      = CONDITION "|" [blanks] PRIORITY blanks OUTPUT
 *
 * - A line whose first word is NAME followed by ':' is a macro; any other is a rule.
 * - A rule splits at its first '|' that is outside a quoted string of the condition (quotes
 *   as in the condition language: '...' or "...", closed by the first matching quote not
 *   preceded by a backslash) and is followed by [blanks] a priority name (any spelling of
 *   spec b.7, case-insensitive) and a blank or the end of the line. So a '|' in a quoted
 *   string, inside a bare word (`a|b`) or anywhere in the output never splits the line.
 * - A physical line ending in '\' (before the line break) continues on the next one; the
 *   condition keeps the line break (positions stay exact), an output gets one space for the
 *   continuation and the blanks around it. A continuation inside a quoted string is an error.
 * - Rules are named "<base name of the file>:<line>" (the line where the rule's text starts),
 *   e.g. "legacy.conf:12". Items are always definitions: a macro or rule name defined again
 *   (in this file or any other) replaces the earlier one as a YAML redefinition does.
 * - The whole file must be UTF-8 without NUL bytes; a leading byte-order mark is skipped.
 *   CRLF line ends are accepted; the last line needs no line break. Columns count bytes.
 *
 * Errors, each at its line and column: LOAD_ERR_YAML_PARSE for what cannot be read as lines
 * of the format (NUL bytes, invalid UTF-8, a line that is neither a macro nor a rule, an
 * unterminated quoted string, a bad continuation); LOAD_ERR_YAML_VALIDATE for items of the
 * right shape with a bad part (empty condition, missing or invalid priority, empty output),
 * as YAML reports the same problems. As for YAML, the first error stops the file (b.1).
 */
#ifndef SAKER_RULES_CONF_H
#define SAKER_RULES_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "rules_yaml.h"

/* True when path names a `.conf` rules file: its name ends in ".conf" and has more than the
 * suffix (like ".yaml", the test is case-sensitive). */
bool rules_conf_is_conf_path(const char *path);

/* Reads the content of a `.conf` rules file: buf holds len bytes followed by a NUL, and the
 * function takes ownership of it (also on error). name is used in messages and gives the
 * rules' names. Returns the file (free with rules_file_free), or NULL after recording the
 * error in msgs. Warnings are recorded either way. */
struct rules_file *rules_conf_parse(const char *name, char *buf, size_t len,
				    struct load_msgs *msgs);

/* The same for content in memory; buf is copied. */
struct rules_file *rules_conf_read_buffer(const char *name, const char *buf, size_t len,
					  struct load_msgs *msgs);

#endif /* SAKER_RULES_CONF_H */
