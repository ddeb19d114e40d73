#include "container.h"

#include <cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Most bytes read from one runtime state file; real ones are a few KiB to a few tens.
 * containers/storage's list of every container is larger (about 600 bytes a container). */
#define CTR_FILE_MAX (1u << 20)
#define CTR_LIST_MAX (16u << 20)
/* Most directory entries looked at in one runtime directory listing. */
#define CTR_DIR_MAX 4096
/* Most path components examined, from the end of a cgroup path. */
#define CTR_MAX_DEPTH 64

/* ------------------------------------------------------------------ cgroup layouts */

static bool is_hex64(const char *s, size_t n)
{
	if (n != CTR_ID_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static bool comp_is(const char *s, size_t n, const char *lit)
{
	return n == strlen(lit) && !memcmp(s, lit, n);
}

static bool has_prefix(const char *s, size_t n, const char *pre)
{
	size_t k = strlen(pre);

	return n >= k && !memcmp(s, pre, k);
}

/* "pod" + a pod uid (36 characters of hex and '-', or '_' in systemd's escaping). */
static bool is_pod_dir(const char *s, size_t n)
{
	if (n != 3 + 36 || memcmp(s, "pod", 3))
		return false;
	for (size_t i = 3; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') || s[i] == '-' ||
		      s[i] == '_'))
			return false;
	return true;
}

static bool mem_contains(const char *s, size_t n, const char *lit)
{
	size_t k = strlen(lit);

	for (size_t i = 0; i + k <= n; i++)
		if (!memcmp(s + i, lit, k))
			return true;
	return false;
}

/* One component: a runtime's prefixed form (prefix-<id>[.scope]). */
static enum ctr_layout prefixed(const char *s, size_t n, const char **id)
{
	static const struct {
		const char *prefix;
		enum ctr_layout layout;
		bool scope_only; /* the prefix is the runtime's only with .scope */
	} forms[] = {
	    {"docker-", CTR_LAYOUT_DOCKER, true},
	    {"cri-containerd-", CTR_LAYOUT_CONTAINERD, true},
	    {"crio-", CTR_LAYOUT_CRIO, false},
	    {"libpod-", CTR_LAYOUT_PODMAN, false},
	};
	bool scope = n > 6 && !memcmp(s + n - 6, ".scope", 6);

	if (scope)
		n -= 6;
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		size_t k = strlen(forms[i].prefix);

		if (forms[i].scope_only && !scope)
			continue;
		if (has_prefix(s, n, forms[i].prefix) && is_hex64(s + k, n - k)) {
			*id = s + k;
			return forms[i].layout;
		}
	}
	return CTR_LAYOUT_NONE;
}

bool container_from_cgroup(const char *path, struct ctr_cgroup *out)
{
	const char *start[CTR_MAX_DEPTH];
	size_t len[CTR_MAX_DEPTH], n = 0;
	const char *end;

	if (!path)
		return false;
	/* The last CTR_MAX_DEPTH components, deepest first. */
	end = path + strlen(path);
	while (end > path && n < CTR_MAX_DEPTH) {
		const char *s = end;

		while (s > path && s[-1] != '/')
			s--;
		if (end > s) {
			start[n] = s;
			len[n] = (size_t)(end - s);
			n++;
		}
		end = s > path ? s - 1 : s;
	}
	for (size_t i = 0; i < n; i++) {
		const char *id = NULL;
		enum ctr_layout l = prefixed(start[i], len[i], &id);

		if (l == CTR_LAYOUT_NONE && is_hex64(start[i], len[i]) && i + 1 < n) {
			id = start[i];
			if (comp_is(start[i + 1], len[i + 1], "docker"))
				l = CTR_LAYOUT_DOCKER;
			else if (is_pod_dir(start[i + 1], len[i + 1]))
				for (size_t k = i + 2; k < n && l == CTR_LAYOUT_NONE; k++)
					if (mem_contains(start[k], len[k], "kubepods"))
						l = CTR_LAYOUT_KUBEPODS;
		}
		if (l != CTR_LAYOUT_NONE) {
			if (out) {
				out->layout = l;
				memcpy(out->id, id, CTR_ID_LEN);
				out->id[CTR_ID_LEN] = '\0';
			}
			return true;
		}
	}
	return false;
}

const char *container_layout_name(enum ctr_layout l)
{
	switch (l) {
	case CTR_LAYOUT_DOCKER:
		return "docker";
	case CTR_LAYOUT_CONTAINERD:
		return "containerd";
	case CTR_LAYOUT_CRIO:
		return "cri-o";
	case CTR_LAYOUT_PODMAN:
		return "podman";
	case CTR_LAYOUT_KUBEPODS:
		return "cri";
	case CTR_LAYOUT_NONE:
		break;
	}
	return "host";
}

/* ------------------------------------------------------------------ metadata parsing */

void ctr_meta_init(struct ctr_meta *m)
{
	memset(m, 0, sizeof(*m));
	m->privileged = m->host_pid = m->host_network = -1;
}

void ctr_meta_clear(struct ctr_meta *m)
{
	free(m->type);
	free(m->name);
	free(m->image);
	free(m->image_id);
	free(m->pod_name);
	free(m->pod_ns);
	free(m->pod_uid);
	free(m->sandbox_id);
	ctr_meta_init(m);
}

/* Sets *dst to a copy of v unless *dst is already set (the first source wins) or v is
 * empty. */
static void set_first(char **dst, const char *v)
{
	if (*dst || !v || !*v)
		return;
	*dst = strdup(v);
}

static const char *json_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* One annotation (OCI config) or label (runc state, Docker): the CRI ones containerd
 * writes, CRI-O's and dockershim's io.kubernetes.* ones, podman's. */
static void apply_annotation(struct ctr_meta *m, const char *k, const char *v)
{
	static const struct {
		const char *key;
		size_t off;
	} map[] = {
	    {"io.kubernetes.cri.container-name", offsetof(struct ctr_meta, name)},
	    {"io.kubernetes.cri.image-name", offsetof(struct ctr_meta, image)},
	    {"io.kubernetes.cri.sandbox-name", offsetof(struct ctr_meta, pod_name)},
	    {"io.kubernetes.cri.sandbox-namespace", offsetof(struct ctr_meta, pod_ns)},
	    {"io.kubernetes.cri.sandbox-uid", offsetof(struct ctr_meta, pod_uid)},
	    {"io.kubernetes.cri.sandbox-id", offsetof(struct ctr_meta, sandbox_id)},
	    {"io.kubernetes.container.name", offsetof(struct ctr_meta, name)},
	    {"io.kubernetes.pod.name", offsetof(struct ctr_meta, pod_name)},
	    {"io.kubernetes.pod.namespace", offsetof(struct ctr_meta, pod_ns)},
	    {"io.kubernetes.pod.uid", offsetof(struct ctr_meta, pod_uid)},
	    {"io.kubernetes.cri-o.ImageName", offsetof(struct ctr_meta, image)},
	    {"io.kubernetes.cri-o.SandboxID", offsetof(struct ctr_meta, sandbox_id)},
	};

	if (!k || !v)
		return;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(k, map[i].key)) {
			set_first((char **)((char *)m + map[i].off), v);
			return;
		}
}

static void apply_annotations(struct ctr_meta *m, const cJSON *obj)
{
	const cJSON *a;

	cJSON_ArrayForEach(a, obj)
	{
		if (cJSON_IsString(a) && a->string)
			apply_annotation(m, a->string, a->valuestring);
	}
}

static bool array_has_string(const cJSON *arr, const char *s)
{
	const cJSON *a;

	cJSON_ArrayForEach(a, arr)
	{
		if (cJSON_IsString(a) && !strcmp(a->valuestring, s))
			return true;
	}
	return false;
}

static bool array_has_type(const cJSON *arr, const char *type)
{
	const cJSON *a;

	cJSON_ArrayForEach(a, arr)
	{
		const char *t = json_str(a, "type");

		if (t && !strcmp(t, type))
			return true;
	}
	return false;
}

static cJSON *parse_object(const char *text, size_t len)
{
	cJSON *root = text ? cJSON_ParseWithLength(text, len) : NULL;

	if (root && !cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

/* From the OCI runtime spec: privileged when the process keeps CAP_SYS_ADMIN in its
 * bounding set and no path is masked (what Docker's, containerd's and podman's
 * --privileged and a CRI privileged container produce); the host's pid and network
 * namespaces when linux.namespaces has no pid or network entry. */
static void oci_process_linux(struct ctr_meta *m, const cJSON *root)
{
	const cJSON *process = cJSON_GetObjectItemCaseSensitive(root, "process");
	const cJSON *lin = cJSON_GetObjectItemCaseSensitive(root, "linux");
	const cJSON *caps = cJSON_GetObjectItemCaseSensitive(process, "capabilities");
	const cJSON *bounding = cJSON_GetObjectItemCaseSensitive(caps, "bounding");
	const cJSON *masked = cJSON_GetObjectItemCaseSensitive(lin, "maskedPaths");
	const cJSON *ns = cJSON_GetObjectItemCaseSensitive(lin, "namespaces");

	if (m->privileged < 0 && cJSON_IsObject(process) && cJSON_IsObject(lin)) {
		bool sysadmin =
		    cJSON_IsArray(bounding) && array_has_string(bounding, "CAP_SYS_ADMIN");
		bool unmasked =
		    !masked || (cJSON_IsArray(masked) && cJSON_GetArraySize(masked) == 0);

		m->privileged = sysadmin && unmasked;
	}
	if (cJSON_IsArray(ns)) {
		if (m->host_pid < 0)
			m->host_pid = !array_has_type(ns, "pid");
		if (m->host_network < 0)
			m->host_network = !array_has_type(ns, "network");
	}
}

int ctr_parse_oci_config(const char *text, size_t len, struct ctr_meta *m)
{
	cJSON *root = parse_object(text, len);
	const cJSON *ann;

	if (!root || !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(root, "ociVersion"))) {
		cJSON_Delete(root);
		return -1;
	}
	ann = cJSON_GetObjectItemCaseSensitive(root, "annotations");
	if (cJSON_IsObject(ann))
		apply_annotations(m, ann);
	oci_process_linux(m, root);
	cJSON_Delete(root);
	return 0;
}

int ctr_parse_docker_config(const char *text, size_t len, struct ctr_meta *m)
{
	cJSON *root = parse_object(text, len);
	const cJSON *config, *labels;
	const char *name;

	config = cJSON_GetObjectItemCaseSensitive(root, "Config");
	if (!root || !cJSON_IsObject(config)) {
		cJSON_Delete(root);
		return -1;
	}
	labels = cJSON_GetObjectItemCaseSensitive(config, "Labels");
	if (cJSON_IsObject(labels))
		apply_annotations(m, labels); /* dockershim's io.kubernetes.* labels first */
	name = json_str(root, "Name");
	if (name && *name == '/')
		name++;
	set_first(&m->name, name);
	set_first(&m->image, json_str(config, "Image"));
	set_first(&m->image_id, json_str(root, "Image"));
	cJSON_Delete(root);
	return 0;
}

int ctr_parse_docker_hostconfig(const char *text, size_t len, struct ctr_meta *m)
{
	cJSON *root = parse_object(text, len);
	const cJSON *priv;
	const char *mode;

	if (!root)
		return -1;
	priv = cJSON_GetObjectItemCaseSensitive(root, "Privileged");
	if (cJSON_IsBool(priv) && m->privileged < 0)
		m->privileged = cJSON_IsTrue(priv);
	if ((mode = json_str(root, "PidMode")) && m->host_pid < 0)
		m->host_pid = !strcmp(mode, "host");
	if ((mode = json_str(root, "NetworkMode")) && m->host_network < 0)
		m->host_network = !strcmp(mode, "host");
	cJSON_Delete(root);
	return 0;
}

int ctr_parse_runc_state(const char *text, size_t len, struct ctr_meta *m, char **bundle,
			 char **cgroup)
{
	cJSON *root = parse_object(text, len);
	const cJSON *config = cJSON_GetObjectItemCaseSensitive(root, "config");
	const cJSON *labels = cJSON_GetObjectItemCaseSensitive(config, "labels");
	const cJSON *cgroups = cJSON_GetObjectItemCaseSensitive(config, "cgroups");
	const cJSON *l;
	const char *cg;

	*bundle = *cgroup = NULL;
	if (!root || !cJSON_IsObject(config) || !json_str(root, "id")) {
		cJSON_Delete(root);
		return -1;
	}
	cJSON_ArrayForEach(l, labels)
	{
		const char *eq;
		char *k;

		if (!cJSON_IsString(l) || !(eq = strchr(l->valuestring, '=')))
			continue;
		if (!strncmp(l->valuestring, "bundle=", 7)) {
			if (!*bundle)
				*bundle = strdup(eq + 1);
			continue;
		}
		k = strndup(l->valuestring, (size_t)(eq - l->valuestring));
		apply_annotation(m, k, eq + 1);
		free(k);
	}
	if ((cg = json_str(cgroups, "path")))
		*cgroup = strdup(cg);
	cJSON_Delete(root);
	return 0;
}

int ctr_parse_storage_containers(const char *text, size_t len, const char *id, struct ctr_meta *m)
{
	cJSON *root = text ? cJSON_ParseWithLength(text, len) : NULL;
	const cJSON *e;
	int r = -1;

	if (!cJSON_IsArray(root)) {
		cJSON_Delete(root);
		return -1;
	}
	cJSON_ArrayForEach(e, root)
	{
		const char *eid = json_str(e, "id"), *md = json_str(e, "metadata");
		const cJSON *names = cJSON_GetObjectItemCaseSensitive(e, "names");
		const cJSON *first = cJSON_GetArrayItem(names, 0);
		cJSON *meta;

		if (!eid || strcmp(eid, id))
			continue;
		if ((meta = md ? cJSON_Parse(md) : NULL)) {
			set_first(&m->image, json_str(meta, "image-name"));
			set_first(&m->image_id, json_str(meta, "image-id"));
			set_first(&m->name, json_str(meta, "name"));
			cJSON_Delete(meta);
		}
		if (cJSON_IsString(first))
			set_first(&m->name, first->valuestring);
		r = 0;
		break;
	}
	cJSON_Delete(root);
	return r;
}

void ctr_image_split(const char *image, char **repo, char **tag, char **digest)
{
	const char *at, *slash, *colon, *end;

	*repo = *tag = *digest = NULL;
	if (!image || !*image)
		return;
	at = strchr(image, '@');
	end = at ? at : image + strlen(image);
	if (at && at[1])
		*digest = strdup(at + 1);
	/* A tag is after the last ':' that follows the last '/' (a registry's port is not). */
	slash = memrchr(image, '/', (size_t)(end - image));
	colon = memrchr(slash ? slash : image, ':', (size_t)(end - (slash ? slash : image)));
	if (colon) {
		if (colon + 1 < end)
			*tag = strndup(colon + 1, (size_t)(end - colon - 1));
		end = colon;
	}
	if (end > image)
		*repo = strndup(image, (size_t)(end - image));
}

/* ------------------------------------------------------------------ the host's state files */

struct ctr_host_source {
	char *root;
	char **dirs[4]; /* docker, containerd, storage, runc: NULL-terminated */
};

enum {
	SRC_DOCKER,
	SRC_CONTAINERD,
	SRC_STORAGE,
	SRC_RUNC
};

static char **copy_list(const char *const *l)
{
	size_t n = 0;
	char **c;

	while (l && l[n])
		n++;
	c = calloc(n + 1, sizeof(*c));
	for (size_t i = 0; c && i < n; i++)
		if (!(c[i] = strdup(l[i]))) {
			for (size_t k = 0; k < i; k++)
				free(c[k]);
			free(c);
			return NULL;
		}
	return c;
}

struct ctr_host_source *container_host_source_new(const struct ctr_dirs *d)
{
	struct ctr_host_source *h = calloc(1, sizeof(*h));
	const char *const *lists[4] = {d->docker, d->containerd, d->storage, d->runc};

	if (!h)
		return NULL;
	h->root = strdup(d->root && strcmp(d->root, "/") ? d->root : "");
	for (int i = 0; i < 4; i++)
		h->dirs[i] = copy_list(lists[i]);
	if (!h->root || !h->dirs[0] || !h->dirs[1] || !h->dirs[2] || !h->dirs[3]) {
		container_host_source_free(h);
		return NULL;
	}
	return h;
}

void container_host_source_free(struct ctr_host_source *h)
{
	if (!h)
		return;
	for (int i = 0; i < 4; i++) {
		for (size_t k = 0; h->dirs[i] && h->dirs[i][k]; k++)
			free(h->dirs[i][k]);
		free(h->dirs[i]);
	}
	free(h->root);
	free(h);
}

/* A regular file's text (NUL-terminated), at most CTR_FILE_MAX bytes; NULL when it is not
 * there, not a regular file, or larger. */
static char *read_text_max(const char *path, size_t *len, off_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	struct stat sb;
	char *buf = NULL;
	size_t n = 0;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode) || sb.st_size > max)
		goto out;
	buf = malloc((size_t)sb.st_size + 1);
	while (buf && n < (size_t)sb.st_size) {
		ssize_t r = read(fd, buf + n, (size_t)sb.st_size - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	if (buf) {
		buf[n] = '\0';
		*len = n;
	}
out:
	close(fd);
	return buf;
}

static char *read_text(const char *path, size_t *len)
{
	return read_text_max(path, len, CTR_FILE_MAX);
}

typedef int (*parse_fn)(const char *text, size_t len, struct ctr_meta *m);

static int parse_file(const char *path, parse_fn fn, struct ctr_meta *m)
{
	size_t len = 0;
	char *t = read_text(path, &len);
	int r = t ? fn(t, len, m) : -1;

	free(t);
	return r;
}

static int try_docker(struct ctr_host_source *h, const char *dir, const char *id,
		      struct ctr_meta *m)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s%s/containers/%s/config.v2.json", h->root, dir, id);
	if (parse_file(path, ctr_parse_docker_config, m))
		return -1;
	snprintf(path, sizeof(path), "%s%s/containers/%s/hostconfig.json", h->root, dir, id);
	parse_file(path, ctr_parse_docker_hostconfig, m);
	set_first(&m->type, "docker");
	return 0;
}

/* containerd keeps each running task's bundle (with config.json) under its state dir, by
 * namespace: io.containerd.runtime.v2.task/<namespace>/<id>/config.json. */
static int try_containerd(struct ctr_host_source *h, const char *dir, const char *id,
			  struct ctr_meta *m)
{
	char path[4096];
	struct dirent *de;
	unsigned seen = 0;
	int r = -1;
	DIR *d;

	snprintf(path, sizeof(path), "%s%s/io.containerd.runtime.v2.task", h->root, dir);
	if (!(d = opendir(path)))
		return -1;
	while (r && (de = readdir(d)) && seen++ < CTR_DIR_MAX) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s%s/io.containerd.runtime.v2.task/%s/%s/config.json",
			 h->root, dir, de->d_name, id);
		r = parse_file(path, ctr_parse_oci_config, m);
	}
	closedir(d);
	if (!r)
		set_first(&m->type, "containerd");
	return r;
}

/* containers/storage (podman, CRI-O): overlay-containers/<id>/userdata/config.json (the
 * annotations; podman keeps it under the graph root /var/lib/containers/storage, CRI-O
 * under the run root /run/containers/storage), and overlay-containers/containers.json
 * (names and image names, in the graph root). Every storage dir is looked at. */
static int try_storage(struct ctr_host_source *h, const struct ctr_cgroup *cg, struct ctr_meta *m)
{
	char path[4096], *t;
	size_t len = 0;
	int r = -1;

	for (char **dir = h->dirs[SRC_STORAGE]; *dir && r; dir++) {
		snprintf(path, sizeof(path), "%s%s/overlay-containers/%s/userdata/config.json",
			 h->root, *dir, cg->id);
		r = parse_file(path, ctr_parse_oci_config, m);
	}
	if (r)
		return -1;
	/* The list of every container is large on a busy node: read only when needed (CRI-O's
	 * annotations name the container and its image; podman's do not). */
	for (char **dir = h->dirs[SRC_STORAGE]; *dir && !(m->name && m->image); dir++) {
		snprintf(path, sizeof(path), "%s%s/overlay-containers/containers.json", h->root,
			 *dir);
		if ((t = read_text_max(path, &len, CTR_LIST_MAX))) {
			r = ctr_parse_storage_containers(t, len, cg->id, m);
			free(t);
			if (!r)
				break;
		}
	}
	set_first(&m->type, cg->layout == CTR_LAYOUT_PODMAN ? "podman" : "cri-o");
	return 0;
}

/* runc's own state (runc run/create without a higher-level runtime): <root>/<name>/
 * state.json, where the name is the id, or ends with it (the id checked against the
 * state's cgroup path); the bundle's config.json for the rest. */
static int runc_entry(struct ctr_host_source *h, const char *dir, const char *name, const char *id,
		      struct ctr_meta *m)
{
	char path[4096], *bundle = NULL, *cgroup = NULL;
	struct ctr_cgroup cg;
	struct ctr_meta tmp;
	size_t len = 0;
	char *t;
	int r = -1;

	snprintf(path, sizeof(path), "%s%s/%s/state.json", h->root, dir, name);
	if (!(t = read_text(path, &len)))
		return -1;
	ctr_meta_init(&tmp);
	if (ctr_parse_runc_state(t, len, &tmp, &bundle, &cgroup) == 0 &&
	    (!strcmp(name, id) || (container_from_cgroup(cgroup, &cg) && !strcmp(cg.id, id)))) {
		/* Copy what the state had (first found wins), then the bundle's config. */
		set_first(&m->name, tmp.name);
		set_first(&m->image, tmp.image);
		set_first(&m->pod_name, tmp.pod_name);
		set_first(&m->pod_ns, tmp.pod_ns);
		set_first(&m->pod_uid, tmp.pod_uid);
		set_first(&m->sandbox_id, tmp.sandbox_id);
		set_first(&m->name, name); /* the runc container's own name */
		if (bundle && *bundle == '/') {
			snprintf(path, sizeof(path), "%s%s/config.json", h->root, bundle);
			parse_file(path, ctr_parse_oci_config, m);
		}
		set_first(&m->type, "runc");
		r = 0;
	}
	ctr_meta_clear(&tmp);
	free(bundle);
	free(cgroup);
	free(t);
	return r;
}

static int try_runc(struct ctr_host_source *h, const char *dir, const char *id, struct ctr_meta *m)
{
	char path[4096];
	struct dirent *de;
	unsigned seen = 0;
	int r;
	DIR *d;

	if (!runc_entry(h, dir, id, id, m))
		return 0;
	snprintf(path, sizeof(path), "%s%s", h->root, dir);
	if (!(d = opendir(path)))
		return -1;
	r = -1;
	while (r && (de = readdir(d)) && seen++ < CTR_DIR_MAX) {
		size_t n = strlen(de->d_name);

		if (n > CTR_ID_LEN && !strcmp(de->d_name + n - CTR_ID_LEN, id))
			r = runc_entry(h, dir, de->d_name, id, m);
	}
	closedir(d);
	return r;
}

int container_host_lookup(void *arg, const struct ctr_cgroup *cg, struct ctr_meta *m)
{
	struct ctr_host_source *h = arg;
	/* The runtimes to ask, most likely first for the layout. */
	static const int order[][4] = {
	    [CTR_LAYOUT_NONE] = {SRC_DOCKER, SRC_CONTAINERD, SRC_STORAGE, SRC_RUNC},
	    [CTR_LAYOUT_DOCKER] = {SRC_DOCKER, SRC_CONTAINERD, SRC_RUNC, SRC_STORAGE},
	    [CTR_LAYOUT_CONTAINERD] = {SRC_CONTAINERD, SRC_RUNC, SRC_DOCKER, SRC_STORAGE},
	    [CTR_LAYOUT_CRIO] = {SRC_STORAGE, SRC_RUNC, SRC_CONTAINERD, SRC_DOCKER},
	    [CTR_LAYOUT_PODMAN] = {SRC_STORAGE, SRC_RUNC, SRC_CONTAINERD, SRC_DOCKER},
	    [CTR_LAYOUT_KUBEPODS] = {SRC_CONTAINERD, SRC_STORAGE, SRC_DOCKER, SRC_RUNC},
	};
	unsigned l = cg->layout <= CTR_LAYOUT_KUBEPODS ? cg->layout : 0;

	if (!h)
		return -1;
	for (int i = 0; i < 4; i++) {
		int src = order[l][i];

		if (src == SRC_STORAGE) {
			if (!try_storage(h, cg, m))
				return 0;
			continue;
		}
		for (char **dir = h->dirs[src]; *dir; dir++) {
			int r = -1;

			switch (src) {
			case SRC_DOCKER:
				r = try_docker(h, *dir, cg->id, m);
				break;
			case SRC_CONTAINERD:
				r = try_containerd(h, *dir, cg->id, m);
				break;
			case SRC_RUNC:
				r = try_runc(h, *dir, cg->id, m);
				break;
			}
			if (!r)
				return 0;
		}
	}
	return -1;
}

/* ------------------------------------------------------------------ the cache */

struct ctr_cache {
	struct ctr_info **buckets;
	size_t nbuckets; /* power of two */
	size_t max;
	uint64_t clock; /* uses, for the least recently used */
	uint32_t mark;
	bool have_source;
	struct ctr_source src;
	struct ctr_cache_stats st;
};

static size_t id_hash(const char *id, size_t nbuckets)
{
	uint64_t h = 1469598103934665603ull;

	for (int i = 0; i < CTR_ID_LEN; i++)
		h = (h ^ (unsigned char)id[i]) * 1099511628211ull;
	return (size_t)(h ^ (h >> 29)) & (nbuckets - 1);
}

struct ctr_cache *container_cache_new(size_t max)
{
	struct ctr_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->max = max ? max : 1;
	c->nbuckets = 16;
	while (c->nbuckets < c->max * 2 && c->nbuckets < (1u << 22))
		c->nbuckets <<= 1;
	c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
	if (!c->buckets) {
		free(c);
		return NULL;
	}
	return c;
}

static void info_free(struct ctr_info *e)
{
	ctr_meta_clear(&e->meta);
	free(e->repo);
	free(e->tag);
	free(e->digest);
	free(e);
}

void container_cache_free(struct ctr_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nbuckets; i++)
		for (struct ctr_info *e = c->buckets[i], *n; e; e = n) {
			n = e->hnext;
			info_free(e);
		}
	free(c->buckets);
	free(c);
}

void container_cache_set_source(struct ctr_cache *c, const struct ctr_source *src)
{
	c->have_source = src && src->lookup;
	if (c->have_source)
		c->src = *src;
}

static void unlink_entry(struct ctr_cache *c, struct ctr_info *e)
{
	struct ctr_info **pp = &c->buckets[id_hash(e->cg.id, c->nbuckets)];

	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	info_free(e);
	c->st.entries--;
}

static void evict_lru(struct ctr_cache *c)
{
	struct ctr_info *old = NULL;

	for (size_t i = 0; i < c->nbuckets; i++)
		for (struct ctr_info *e = c->buckets[i]; e; e = e->hnext)
			if (!old || e->last_use < old->last_use)
				old = e;
	if (old) {
		unlink_entry(c, old);
		c->st.evicted++;
	}
}

struct ctr_info *container_cache_get(struct ctr_cache *c, const struct ctr_cgroup *cg)
{
	size_t b = id_hash(cg->id, c->nbuckets);
	struct ctr_info *e;

	for (e = c->buckets[b]; e; e = e->hnext)
		if (!memcmp(e->cg.id, cg->id, CTR_ID_LEN)) {
			e->last_use = ++c->clock;
			return e;
		}
	if (c->st.entries >= c->max)
		evict_lru(c);
	if (!(e = calloc(1, sizeof(*e))))
		return NULL;
	e->cg = *cg;
	ctr_meta_init(&e->meta);
	c->st.lookups++;
	if (c->have_source && c->src.lookup(c->src.arg, cg, &e->meta) == 0) {
		e->found = true;
		c->st.found++;
	}
	ctr_image_split(e->meta.image, &e->repo, &e->tag, &e->digest);
	e->last_use = ++c->clock;
	e->mark = c->mark;
	e->hnext = c->buckets[b];
	c->buckets[b] = e;
	c->st.entries++;
	return e;
}

void container_cache_begin_sweep(struct ctr_cache *c)
{
	c->mark++;
}

void container_cache_keep(struct ctr_cache *c, const struct ctr_cgroup *cg)
{
	for (struct ctr_info *e = c->buckets[id_hash(cg->id, c->nbuckets)]; e; e = e->hnext)
		if (!memcmp(e->cg.id, cg->id, CTR_ID_LEN)) {
			e->mark = c->mark;
			return;
		}
}

void container_cache_end_sweep(struct ctr_cache *c)
{
	for (size_t i = 0; i < c->nbuckets; i++)
		for (struct ctr_info *e = c->buckets[i], *n; e; e = n) {
			n = e->hnext;
			if (e->mark != c->mark) {
				unlink_entry(c, e);
				c->st.removed++;
			}
		}
	c->st.sweeps++;
}

const struct ctr_cache_stats *container_cache_stats(const struct ctr_cache *c)
{
	return &c->st;
}

/* The journal form of one lookup: 'F' or 'N' (found or not), then for each string field a
 * byte '1' and the string with its NUL or a byte '0', then the three tristates as one byte
 * each ('0' + value + 1). */
size_t ctr_meta_pack(const struct ctr_meta *m, bool found, char *buf, size_t cap)
{
	const char *const v[8] = {m->type,     m->name,   m->image,   m->image_id,
				  m->pod_name, m->pod_ns, m->pod_uid, m->sandbox_id};
	const int tri[3] = {m->privileged, m->host_pid, m->host_network};
	size_t n = 0;

	if (cap < 1)
		return 0;
	buf[n++] = found ? 'F' : 'N';
	for (int i = 0; i < 8; i++) {
		const char *str = v[i];
		size_t l = str ? strlen(str) + 1 : 0;

		if (n + 1 + l > cap)
			return 0;
		buf[n++] = str ? '1' : '0';
		if (str) {
			memcpy(buf + n, str, l);
			n += l;
		}
	}
	if (n + 3 > cap)
		return 0;
	for (int i = 0; i < 3; i++)
		buf[n++] = (char)('0' + (tri[i] < -1 ? -1 : tri[i] > 1 ? 1 : tri[i]) + 1);
	return n;
}

int ctr_meta_unpack(const void *data, size_t len, struct ctr_meta *m, bool *found)
{
	const char *p = data, *end = p + len;
	char **v[8] = {&m->type,     &m->name,	 &m->image,   &m->image_id,
		       &m->pod_name, &m->pod_ns, &m->pod_uid, &m->sandbox_id};
	int *tri[3] = {&m->privileged, &m->host_pid, &m->host_network};

	if (p >= end || (*p != 'F' && *p != 'N'))
		return -1;
	*found = *p++ == 'F';
	for (int i = 0; i < 8; i++) {
		const char *nul;

		if (p >= end || (*p != '0' && *p != '1'))
			goto bad;
		if (*p++ == '0')
			continue;
		nul = memchr(p, '\0', (size_t)(end - p));
		if (!nul)
			goto bad;
		*v[i] = strdup(p);
		if (!*v[i])
			goto bad;
		p = nul + 1;
	}
	if (end - p != 3)
		goto bad;
	for (int i = 0; i < 3; i++) {
		if (p[i] < '0' || p[i] > '2')
			goto bad;
		*tri[i] = p[i] - '0' - 1;
	}
	return 0;
bad:
	ctr_meta_clear(m);
	return -1;
}
