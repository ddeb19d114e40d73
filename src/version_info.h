/* What saker is, for --version and GET /versions. */
#ifndef SAKER_VERSION_INFO_H
#define SAKER_VERSION_INFO_H

struct strbuf;

/* {"engine_version":"0.63.0","event_abi":2,"libbpf_version":"v1.1","version":"0.1.0"}:
 * the release, the rule-language version rules files are checked against
 * (required_engine_version), the kernel-to-daemon record format, and the libbpf linked in.
 * Keys in byte order, no newline. */
void version_json(struct strbuf *out);

#endif /* SAKER_VERSION_INFO_H */
