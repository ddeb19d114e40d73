#include "version_info.h"

#include <bpf/libbpf.h>
#include <string.h>

#include "events.h"
#include "rules_collect.h"
#include "strbuf.h"
#include "version.h"

void version_json(struct strbuf *out)
{
	const char *lb = libbpf_version_string();

	sb_adds(out, "{\"engine_version\":");
	sb_add_json_string(out, SAKER_ENGINE_VERSION, strlen(SAKER_ENGINE_VERSION));
	sb_addf(out, ",\"event_abi\":%d,\"libbpf_version\":", SK_ABI_VERSION);
	sb_add_json_string(out, lb, strlen(lb));
	sb_adds(out, ",\"version\":");
	sb_add_json_string(out, SAKER_VERSION, strlen(SAKER_VERSION));
	sb_addc(out, '}');
}
