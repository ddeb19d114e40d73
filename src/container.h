/*
 * Containers: which container a process is in (from its cgroup path), and what the
 * container runtimes say about it (name, image, pod), looked up once per container and
 * cached (docs/containers.md).
 *
 *	struct ctr_cgroup cg;
 *
 *	if (container_from_cgroup(p->cgroup, &cg))	// runtime layout + 64-hex id
 *		info = container_cache_get(cache, &cg);	// metadata, cached
 *
 * Only the runtimes' exact cgroup layouts count (docker-<id>.scope, /docker/<id>,
 * cri-containerd-<id>.scope, /kubepods/.../pod<uid>/<id>, crio-<id>, libpod-<id>); any other
 * hex-looking component is a host cgroup.
 *
 * Metadata comes from one "metadata source" (struct ctr_source): by default the runtimes'
 * own state files on the host (container_host_source); none at all for a replay, or any
 * other function that fills a struct ctr_meta.
 */
#ifndef SAKER_CONTAINER_H
#define SAKER_CONTAINER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CTR_ID_LEN 64

/* The runtime a cgroup layout belongs to. */
enum ctr_layout {
	CTR_LAYOUT_NONE = 0,
	CTR_LAYOUT_DOCKER,     /* /docker/<id>, docker-<id>.scope */
	CTR_LAYOUT_CONTAINERD, /* cri-containerd-<id>.scope */
	CTR_LAYOUT_CRIO,       /* crio-<id>[.scope] */
	CTR_LAYOUT_PODMAN,     /* libpod-<id>[.scope] */
	CTR_LAYOUT_KUBEPODS,   /* .../kubepods/.../pod<uid>/<id>: a CRI runtime, which one unsaid */
};

struct ctr_cgroup {
	enum ctr_layout layout;
	char id[CTR_ID_LEN + 1]; /* 64 lowercase hex digits */
};

/* The container a cgroup path names, if it has one of the runtimes' layouts (the deepest
 * such component wins: a container's own sub-cgroups are still the container). False for
 * host cgroups and NULL. */
bool container_from_cgroup(const char *path, struct ctr_cgroup *out);

/* The layout's runtime name for container.type: docker, containerd, cri-o, podman, cri. */
const char *container_layout_name(enum ctr_layout l);

/* What the runtime's state says. Strings are malloc'd or NULL (missing); tristates are -1
 * unknown, 0, 1. */
struct ctr_meta {
	char *type; /* the runtime whose state had the container (container.type) */
	char *name;
	char *image; /* as the runtime names it: repository[:tag][@digest] */
	char *image_id;
	char *pod_name, *pod_ns, *pod_uid, *sandbox_id;
	int privileged, host_pid, host_network;
};

/* Empty: every string missing, every tristate unknown. */
void ctr_meta_init(struct ctr_meta *m);
/* Frees the strings and empties m. */
void ctr_meta_clear(struct ctr_meta *m);

/* The lookup's answer as bytes (found flag, then each string with a presence byte, then the
 * tristates), for a capture's journal; ctr_meta_unpack reads them back into an empty m.
 * Returns the length written to buf (at most cap; 0 when it does not fit), or for unpack 0
 * and found, or -1 for bytes that are not such an answer. */
size_t ctr_meta_pack(const struct ctr_meta *m, bool found, char *buf, size_t cap);
int ctr_meta_unpack(const void *data, size_t len, struct ctr_meta *m, bool *found);

/* Parsers of the runtimes' files (exposed for the tests). Each returns 0 when the text is
 * the kind of file it expects, filling what it has and leaving the rest; -1 otherwise.
 * OCI runtime config (config.json of a runc bundle, a containerd task, podman, CRI-O). */
int ctr_parse_oci_config(const char *text, size_t len, struct ctr_meta *m);
/* Docker's containers/<id>/config.v2.json and hostconfig.json. */
int ctr_parse_docker_config(const char *text, size_t len, struct ctr_meta *m);
int ctr_parse_docker_hostconfig(const char *text, size_t len, struct ctr_meta *m);
/* runc's <root>/<name>/state.json: the bundle directory (malloc'd) and the container's
 * cgroup path (malloc'd); annotations arrive as its labels. */
int ctr_parse_runc_state(const char *text, size_t len, struct ctr_meta *m, char **bundle,
			 char **cgroup);
/* containers/storage's overlay-containers/containers.json (podman, CRI-O): the entry of
 * container id: its first name and the image name in its metadata. */
int ctr_parse_storage_containers(const char *text, size_t len, const char *id, struct ctr_meta *m);
/* Splits an image reference into repository, tag and digest (each malloc'd or NULL). */
void ctr_image_split(const char *image, char **repo, char **tag, char **digest);

/* A metadata source: fills m for the container cg names. Returns 0 when it found the
 * container, -1 otherwise (m then holds whatever it found, possibly nothing). */
struct ctr_source {
	int (*lookup)(void *arg, const struct ctr_cgroup *cg, struct ctr_meta *m);
	void *arg;
};

/* Where the runtimes keep their state, each a NULL-terminated list of directories under
 * root ("" or NULL for /). */
struct ctr_dirs {
	const char *root;
	const char *const *docker; /* /var/lib/docker: containers/<id>/config.v2.json */
	const char *const
	    *containerd;	    /* /run/containerd: io.containerd.runtime.v2.task/<ns>/<id> */
	const char *const *storage; /* /run/containers/storage: overlay-containers/<id>/userdata */
	const char *const *runc;    /* /run/runc: <name>/state.json */
};

/* The host's runtime state files as a source. The returned object copies dirs; free it
 * with container_host_source_free. NULL when out of memory. */
struct ctr_host_source;
struct ctr_host_source *container_host_source_new(const struct ctr_dirs *dirs);
void container_host_source_free(struct ctr_host_source *h);
int container_host_lookup(void *h, const struct ctr_cgroup *cg, struct ctr_meta *m);

/* A cached container. Valid until the next container_cache_sweep or insertion. */
struct ctr_info {
	struct ctr_cgroup cg;
	struct ctr_meta meta;
	char *repo, *tag, *digest; /* the image split */
	bool found;		   /* the source knew it */
	/* private */
	uint64_t last_use;
	uint32_t mark;
	struct ctr_info *hnext;
};

struct ctr_cache_stats {
	uint64_t entries;
	uint64_t lookups; /* metadata lookups (one per container added) */
	uint64_t found;	  /* ... that found the container */
	uint64_t removed; /* entries dropped because no process was in the container */
	uint64_t evicted; /* entries dropped because the cache was full */
	uint64_t sweeps;
};

struct ctr_cache;

/* max: most containers cached (at least 1). NULL when out of memory. */
struct ctr_cache *container_cache_new(size_t max);
void container_cache_free(struct ctr_cache *c);
/* NULL source: no metadata (every container is looked up as unknown). */
void container_cache_set_source(struct ctr_cache *c, const struct ctr_source *src);
/* The entry of cg's container, made (and looked up in the source) on first use. NULL only
 * when out of memory. */
struct ctr_info *container_cache_get(struct ctr_cache *c, const struct ctr_cgroup *cg);
/* Removal of containers with no process left: container_cache_begin_sweep, then
 * container_cache_keep for each live process's container, then container_cache_end_sweep. */
void container_cache_begin_sweep(struct ctr_cache *c);
void container_cache_keep(struct ctr_cache *c, const struct ctr_cgroup *cg);
void container_cache_end_sweep(struct ctr_cache *c);
const struct ctr_cache_stats *container_cache_stats(const struct ctr_cache *c);

#endif
