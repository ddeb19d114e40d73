/* Containers: cgroup paths to (runtime layout, id) for every runtime on cgroup v1, v2 and
 * hybrid hosts, and the paths that are not containers; the runtimes' state files parsed
 * (sample files written here); the host source reading a fake root; the cache's bound and
 * its sweep. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container.h"
#include "testlib.h"

#define ID   "4f2a9c1d7e3b5a6c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e"
#define ID2  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID3  "3333333333333333333333333333333333333333333333333333333333333333"
#define ID4  "4444444444444444444444444444444444444444444444444444444444444444"
#define UID  "6b0a3c5e-1f2d-4e8a-9b7c-0d1e2f3a4b5c"
#define UIDS "6b0a3c5e_1f2d_4e8a_9b7c_0d1e2f3a4b5c"

static void expect(const char *path, enum ctr_layout layout, const char *id)
{
	struct ctr_cgroup cg;
	bool ok = container_from_cgroup(path, &cg);

	if (!id) {
		if (ok)
			printf("# '%s' taken for a container (%s)\n", path, cg.id);
		CHECK(!ok);
		return;
	}
	if (!ok) {
		printf("# '%s' not taken for a container\n", path);
		CHECK(ok);
		return;
	}
	CHECK_EQ_INT(cg.layout, layout);
	CHECK_EQ_STR(cg.id, id);
}

TEST(docker_layouts)
{
	/* cgroupfs driver (v1 controllers, v2, the unified tree of a hybrid host) */
	expect("/docker/" ID, CTR_LAYOUT_DOCKER, ID);
	/* systemd driver */
	expect("/system.slice/docker-" ID ".scope", CTR_LAYOUT_DOCKER, ID);
	/* a container's own sub-cgroup is still the container */
	expect("/docker/" ID "/init.scope", CTR_LAYOUT_DOCKER, ID);
	expect("/system.slice/docker-" ID ".scope/app/worker", CTR_LAYOUT_DOCKER, ID);
	/* docker in docker: the innermost */
	expect("/docker/" ID2 "/docker/" ID, CTR_LAYOUT_DOCKER, ID);
}

TEST(kubernetes_layouts)
{
	/* containerd, systemd driver (v2 and hybrid) */
	expect("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UIDS
	       ".slice/cri-containerd-" ID ".scope",
	       CTR_LAYOUT_CONTAINERD, ID);
	expect("/kubepods.slice/kubepods-pod" UIDS ".slice/cri-containerd-" ID ".scope",
	       CTR_LAYOUT_CONTAINERD, ID);
	/* cgroupfs driver (containerd or CRI-O's conmon-less layout, any QoS class) */
	expect("/kubepods/besteffort/pod" UID "/" ID, CTR_LAYOUT_KUBEPODS, ID);
	expect("/kubepods/burstable/pod" UID "/" ID, CTR_LAYOUT_KUBEPODS, ID);
	expect("/kubepods/pod" UID "/" ID, CTR_LAYOUT_KUBEPODS, ID);
	/* a kubelet with its own cgroup root */
	expect("/kubelet/kubepods/burstable/pod" UID "/" ID, CTR_LAYOUT_KUBEPODS, ID);
	/* CRI-O */
	expect("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UIDS
	       ".slice/crio-" ID ".scope",
	       CTR_LAYOUT_CRIO, ID);
	expect("/kubepods/burstable/pod" UID "/crio-" ID, CTR_LAYOUT_CRIO, ID);
	/* Docker as the runtime of a kubelet (cri-dockerd) */
	expect("/kubepods.slice/kubepods-pod" UIDS ".slice/docker-" ID ".scope", CTR_LAYOUT_DOCKER,
	       ID);
}

TEST(podman_layouts)
{
	expect("/libpod_parent/libpod-" ID, CTR_LAYOUT_PODMAN, ID);
	expect("/machine.slice/libpod-" ID ".scope", CTR_LAYOUT_PODMAN, ID);
	expect("/machine.slice/libpod-" ID ".scope/container", CTR_LAYOUT_PODMAN, ID);
	expect("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID ".scope",
	       CTR_LAYOUT_PODMAN, ID);
}

TEST(host_paths)
{
	/* this machine's host processes: a long hex name under a folder no runtime uses */
	expect("/process_api/6f3c71cfa35b3d587139b3d8c8d467e0", CTR_LAYOUT_NONE, NULL);
	expect("/process_api/" ID, CTR_LAYOUT_NONE, NULL);
	expect("/" ID, CTR_LAYOUT_NONE, NULL);
	expect(ID, CTR_LAYOUT_NONE, NULL);
	expect("/", CTR_LAYOUT_NONE, NULL);
	expect("", CTR_LAYOUT_NONE, NULL);
	expect(NULL, CTR_LAYOUT_NONE, NULL);
	expect("/user.slice/user-0.slice/session-3.scope", CTR_LAYOUT_NONE, NULL);
	expect("/system.slice/containerd.service", CTR_LAYOUT_NONE, NULL);
	expect("/system.slice/docker.service", CTR_LAYOUT_NONE, NULL);
	/* conmon and the pod's own slice are not containers */
	expect("/machine.slice/libpod-conmon-" ID ".scope", CTR_LAYOUT_NONE, NULL);
	expect("/kubepods.slice/kubepods-besteffort.slice/crio-conmon-" ID ".scope",
	       CTR_LAYOUT_NONE, NULL);
	expect("/kubepods/besteffort/pod" UID, CTR_LAYOUT_NONE, NULL);
	/* near misses: wrong length, upper case, a suffix, a prefix not a runtime's */
	expect("/docker/" ID "0", CTR_LAYOUT_NONE, NULL);
	expect("/docker/4F2A9C1D7E3B5A6C8D9E0F1A2B3C4D5E6F708192A3B4C5D6E7F8091A2B3C4D5E",
	       CTR_LAYOUT_NONE, NULL);
	expect("/docker/" ID ".scope", CTR_LAYOUT_NONE, NULL);
	expect("/system.slice/docker-" ID, CTR_LAYOUT_NONE, NULL); /* docker- needs .scope */
	expect("/system.slice/foo-" ID ".scope", CTR_LAYOUT_NONE, NULL);
	expect("/dockerx/" ID, CTR_LAYOUT_NONE, NULL);
	expect("/pod" UID "/" ID, CTR_LAYOUT_NONE, NULL); /* a pod dir outside kubepods */
	expect("/kubepods/besteffort/notapod/" ID, CTR_LAYOUT_NONE, NULL);
	expect("/system.slice/cri-containerd-" ID, CTR_LAYOUT_NONE, NULL);
}

TEST(odd_paths)
{
	char *big = malloc(200000);
	size_t n = 0;

	/* deep and long: no crash, bounded; only the last 64 components count */
	while (n + 3 < 199000) {
		memcpy(big + n, "/a", 2);
		n += 2;
	}
	big[n] = '\0';
	expect(big, CTR_LAYOUT_NONE, NULL);
	snprintf(big + n, 200000 - n, "/docker/%s", ID);
	expect(big, CTR_LAYOUT_DOCKER, ID);
	free(big);
	expect("//docker//" ID "//", CTR_LAYOUT_DOCKER, ID);
	expect("/docker/\n" ID, CTR_LAYOUT_NONE, NULL);
}

TEST(image_split)
{
	static const struct {
		const char *in, *repo, *tag, *digest;
	} cases[] = {
	    {"docker.io/library/nginx:1.27", "docker.io/library/nginx", "1.27", NULL},
	    {"nginx", "nginx", NULL, NULL},
	    {"localhost:5000/team/app:v2", "localhost:5000/team/app", "v2", NULL},
	    {"localhost:5000/team/app", "localhost:5000/team/app", NULL, NULL},
	    {"registry.k8s.io/pause@sha256:abcd", "registry.k8s.io/pause", NULL, "sha256:abcd"},
	    {"quay.io/x/y:1.0@sha256:ef01", "quay.io/x/y", "1.0", "sha256:ef01"},
	    {"sha256:0123", "sha256", "0123", NULL},
	    {"app:", "app", NULL, NULL},
	    {":tag", NULL, "tag", NULL},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *r, *t, *d;

		ctr_image_split(cases[i].in, &r, &t, &d);
		if (cases[i].repo)
			CHECK_EQ_STR(r, cases[i].repo);
		else
			CHECK(!r);
		if (cases[i].tag)
			CHECK_EQ_STR(t, cases[i].tag);
		else
			CHECK(!t);
		if (cases[i].digest)
			CHECK_EQ_STR(d, cases[i].digest);
		else
			CHECK(!d);
		free(r);
		free(t);
		free(d);
	}
}

/* A containerd CRI container's config.json (trimmed to what matters). */
static const char cri_config[] =
    "{\"ociVersion\":\"1.1.0\",\"process\":{\"args\":[\"nginx\"],"
    "\"capabilities\":{\"bounding\":[\"CAP_CHOWN\",\"CAP_NET_BIND_SERVICE\"]}},"
    "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"ipc\"},{\"type\":\"uts\"},"
    "{\"type\":\"mount\"},{\"type\":\"network\",\"path\":\"/proc/1/ns/net\"}],"
    "\"maskedPaths\":[\"/proc/kcore\"]},"
    "\"annotations\":{\"io.kubernetes.cri.container-type\":\"container\","
    "\"io.kubernetes.cri.container-name\":\"web\","
    "\"io.kubernetes.cri.image-name\":\"docker.io/library/nginx:1.27\","
    "\"io.kubernetes.cri.sandbox-id\":\"" ID2 "\","
    "\"io.kubernetes.cri.sandbox-name\":\"web-7d4b9\","
    "\"io.kubernetes.cri.sandbox-namespace\":\"shop\","
    "\"io.kubernetes.cri.sandbox-uid\":\"" UID "\"}}";

TEST(oci_config_cri)
{
	struct ctr_meta m;

	ctr_meta_init(&m);
	CHECK_EQ_INT(ctr_parse_oci_config(cri_config, sizeof(cri_config) - 1, &m), 0);
	CHECK_EQ_STR(m.name, "web");
	CHECK_EQ_STR(m.image, "docker.io/library/nginx:1.27");
	CHECK_EQ_STR(m.pod_name, "web-7d4b9");
	CHECK_EQ_STR(m.pod_ns, "shop");
	CHECK_EQ_STR(m.pod_uid, UID);
	CHECK_EQ_STR(m.sandbox_id, ID2);
	CHECK_EQ_INT(m.privileged, 0);
	CHECK_EQ_INT(m.host_pid, 0);
	CHECK_EQ_INT(m.host_network, 0);
	ctr_meta_clear(&m);
}

TEST(oci_config_privileged_crio)
{
	static const char t[] =
	    "{\"ociVersion\":\"1.0.2\",\"process\":{\"capabilities\":{\"bounding\":"
	    "[\"CAP_CHOWN\",\"CAP_SYS_ADMIN\",\"CAP_SYS_MODULE\"]}},"
	    "\"linux\":{\"namespaces\":[{\"type\":\"mount\"},{\"type\":\"ipc\"}],"
	    "\"maskedPaths\":[]},"
	    "\"annotations\":{\"io.kubernetes.container.name\":\"agent\","
	    "\"io.kubernetes.pod.name\":\"agent-x1\",\"io.kubernetes.pod.namespace\":\"ops\","
	    "\"io.kubernetes.pod.uid\":\"u-1\","
	    "\"io.kubernetes.cri-o.ImageName\":\"quay.io/ops/agent:2.3\"}}";
	struct ctr_meta m;

	ctr_meta_init(&m);
	CHECK_EQ_INT(ctr_parse_oci_config(t, sizeof(t) - 1, &m), 0);
	CHECK_EQ_STR(m.name, "agent");
	CHECK_EQ_STR(m.pod_name, "agent-x1");
	CHECK_EQ_STR(m.pod_ns, "ops");
	CHECK_EQ_STR(m.pod_uid, "u-1");
	CHECK_EQ_STR(m.image, "quay.io/ops/agent:2.3");
	CHECK_EQ_INT(m.privileged, 1);
	CHECK_EQ_INT(m.host_pid, 1);
	CHECK_EQ_INT(m.host_network, 1);
	ctr_meta_clear(&m);
}

TEST(oci_config_hostile)
{
	static const char *bad[] = {
	    "",
	    "null",
	    "[]",
	    "{",
	    "{\"annotations\":{}}", /* no ociVersion: not an OCI config */
	    "{\"ociVersion\":1}",
	    "\xff\xfe{",
	};
	static const char odd[] =
	    "{\"ociVersion\":\"1\",\"process\":[],\"linux\":\"x\",\"annotations\":"
	    "{\"io.kubernetes.cri.container-name\":7,\"io.kubernetes.cri.sandbox-name\":\"\","
	    "\"io.kubernetes.cri.image-name\":\"a\\u0000b\"}}";
	struct ctr_meta m;

	ctr_meta_init(&m);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ_INT(ctr_parse_oci_config(bad[i], strlen(bad[i]), &m), -1);
	CHECK_EQ_INT(ctr_parse_oci_config(odd, sizeof(odd) - 1, &m), 0);
	CHECK(!m.name);	    /* not a string */
	CHECK(!m.pod_name); /* empty is missing */
	CHECK_EQ_STR(m.image, "a");
	CHECK_EQ_INT(m.privileged, -1);
	CHECK_EQ_INT(m.host_pid, -1);
	/* the length is respected: a cut document is not parsed past it */
	CHECK_EQ_INT(ctr_parse_oci_config(cri_config, 40, &m), -1);
	ctr_meta_clear(&m);
}

TEST(docker_config)
{
	static const char cfg[] =
	    "{\"ID\":\"" ID "\",\"Name\":\"/web\",\"Image\":\"sha256:99aa\","
	    "\"Config\":{\"Image\":\"nginx:1.27\",\"Labels\":{\"maintainer\":\"x\"}}}";
	static const char shim[] =
	    "{\"Name\":\"/k8s_app_pod-1_ns_uid_0\",\"Config\":{\"Image\":\"app:1\",\"Labels\":"
	    "{\"io.kubernetes.container.name\":\"app\",\"io.kubernetes.pod.name\":\"pod-1\","
	    "\"io.kubernetes.pod.namespace\":\"ns\",\"io.kubernetes.pod.uid\":\"uid\"}}}";
	static const char host[] =
	    "{\"Privileged\":true,\"PidMode\":\"host\",\"NetworkMode\":\"bridge\"}";
	struct ctr_meta m;

	ctr_meta_init(&m);
	CHECK_EQ_INT(ctr_parse_docker_config(cfg, sizeof(cfg) - 1, &m), 0);
	CHECK_EQ_INT(ctr_parse_docker_hostconfig(host, sizeof(host) - 1, &m), 0);
	CHECK_EQ_STR(m.name, "web");
	CHECK_EQ_STR(m.image, "nginx:1.27");
	CHECK_EQ_STR(m.image_id, "sha256:99aa");
	CHECK_EQ_INT(m.privileged, 1);
	CHECK_EQ_INT(m.host_pid, 1);
	CHECK_EQ_INT(m.host_network, 0);
	CHECK(!m.pod_name);
	ctr_meta_clear(&m);
	/* dockershim's labels name the container and the pod */
	CHECK_EQ_INT(ctr_parse_docker_config(shim, sizeof(shim) - 1, &m), 0);
	CHECK_EQ_STR(m.name, "app");
	CHECK_EQ_STR(m.pod_name, "pod-1");
	CHECK_EQ_STR(m.pod_ns, "ns");
	ctr_meta_clear(&m);
	CHECK_EQ_INT(ctr_parse_docker_config("{\"Name\":\"/x\"}", 12, &m), -1);
	CHECK_EQ_INT(ctr_parse_docker_hostconfig("[1]", 3, &m), -1);
	ctr_meta_clear(&m);
}

TEST(runc_state)
{
	static const char t[] = "{\"id\":\"saker-test-" ID "\",\"init_process_pid\":12,\"config\":{"
				"\"labels\":[\"io.kubernetes.cri.container-name=web\","
				"\"io.kubernetes.cri.sandbox-namespace=a=b\",\"noequals\",7,"
				"\"bundle=/tmp/b\"],\"cgroups\":{\"path\":\"/docker/" ID "\"}}}";
	struct ctr_meta m;
	char *bundle, *cgroup;

	ctr_meta_init(&m);
	CHECK_EQ_INT(ctr_parse_runc_state(t, sizeof(t) - 1, &m, &bundle, &cgroup), 0);
	CHECK_EQ_STR(bundle, "/tmp/b");
	CHECK_EQ_STR(cgroup, "/docker/" ID);
	CHECK_EQ_STR(m.name, "web");
	CHECK_EQ_STR(m.pod_ns, "a=b");
	free(bundle);
	free(cgroup);
	ctr_meta_clear(&m);
	CHECK_EQ_INT(ctr_parse_runc_state("{\"config\":{}}", 13, &m, &bundle, &cgroup), -1);
	CHECK(!bundle && !cgroup);
}

TEST(storage_containers)
{
	static const char t[] =
	    "[{\"id\":\"" ID2 "\",\"names\":[\"other\"]},"
	    "{\"id\":\"" ID "\",\"names\":[\"saker-test-probe\"],\"metadata\":"
	    "\"{\\\"image-name\\\":\\\"localhost/saker-test-bb:1.0\\\","
	    "\\\"image-id\\\":\\\"16da\\\",\\\"name\\\":\\\"saker-test-probe\\\"}\"}]";
	struct ctr_meta m;

	ctr_meta_init(&m);
	CHECK_EQ_INT(ctr_parse_storage_containers(t, sizeof(t) - 1, ID, &m), 0);
	CHECK_EQ_STR(m.name, "saker-test-probe");
	CHECK_EQ_STR(m.image, "localhost/saker-test-bb:1.0");
	CHECK_EQ_STR(m.image_id, "16da");
	ctr_meta_clear(&m);
	CHECK_EQ_INT(ctr_parse_storage_containers(t, sizeof(t) - 1, "nope", &m), -1);
	CHECK_EQ_INT(ctr_parse_storage_containers("{}", 2, ID, &m), -1);
	ctr_meta_clear(&m);
}

/* Mutated and cut runtime files through every parser: no crash, no leak (under ASan). */
TEST(parsers_hostile)
{
	static const char *const seeds[] = {
	    cri_config,
	    "{\"id\":\"x\",\"config\":{\"labels\":[\"bundle=/b\",\"a=b\"],"
	    "\"cgroups\":{\"path\":\"/docker/" ID "\"}}}",
	    "{\"Name\":\"/w\",\"Image\":\"sha\",\"Config\":{\"Image\":\"i:1\",\"Labels\":"
	    "{\"io.kubernetes.pod.name\":\"p\"}}}",
	    "[{\"id\":\"" ID "\",\"names\":[\"n\"],\"metadata\":\"{\\\"image-name\\\":"
	    "\\\"r:t\\\"}\"}]",
	};
	unsigned seed = 12345;
	char buf[4096];

	for (int round = 0; round < 20000; round++) {
		const char *src = seeds[round % 4];
		size_t len = strlen(src), cut;
		struct ctr_meta m;
		char *bundle, *cgroup, *r, *t, *d;

		if (len > sizeof(buf))
			len = sizeof(buf);
		memcpy(buf, src, len);
		for (int k = 0; k < 1 + round % 5; k++) {
			seed = seed * 1103515245u + 12345u;
			buf[(seed >> 8) % len] = (char)(seed >> 20);
		}
		seed = seed * 1103515245u + 12345u;
		cut = round % 3 ? len : (seed >> 8) % (len + 1);
		ctr_meta_init(&m);
		ctr_parse_oci_config(buf, cut, &m);
		ctr_parse_docker_config(buf, cut, &m);
		ctr_parse_docker_hostconfig(buf, cut, &m);
		ctr_parse_storage_containers(buf, cut, ID, &m);
		if (ctr_parse_runc_state(buf, cut, &m, &bundle, &cgroup) == 0) {
			free(bundle);
			free(cgroup);
		}
		ctr_image_split(m.image, &r, &t, &d);
		free(r);
		free(t);
		free(d);
		ctr_meta_clear(&m);
	}
	CHECK(1);
}

/* ---- the host source on a fake root ---- */

static char root[] = "/tmp/saker-ctr-XXXXXX";

static void put(const char *rel, const char *text)
{
	char p[1024], *s;
	FILE *f;

	snprintf(p, sizeof(p), "%s%s", root, rel);
	for (s = p + strlen(root) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	f = fopen(p, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static int lookup(const char *path, struct ctr_meta *m)
{
	static const char *const docker[] = {"/var/lib/docker", NULL};
	static const char *const containerd[] = {"/run/containerd", NULL};
	static const char *const storage[] = {"/run/containers/storage",
					      "/var/lib/containers/storage", NULL};
	static const char *const runc[] = {"/run/runc", NULL};
	struct ctr_host_source *h =
	    container_host_source_new(&(struct ctr_dirs){.root = root,
							 .docker = docker,
							 .containerd = containerd,
							 .storage = storage,
							 .runc = runc});
	struct ctr_cgroup cg;
	int r = -1;

	ctr_meta_init(m);
	if (h && container_from_cgroup(path, &cg))
		r = container_host_lookup(h, &cg, m);
	container_host_source_free(h);
	return r;
}

TEST(host_source)
{
	char bundle[512], state[1024];
	struct ctr_meta m;

	if (!mkdtemp(root)) {
		CHECK(0);
		return;
	}
	/* containerd, k8s.io namespace */
	put("/run/containerd/io.containerd.runtime.v2.task/k8s.io/" ID "/config.json", cri_config);
	CHECK_EQ_INT(lookup("/kubepods/besteffort/pod" UID "/" ID, &m), 0);
	CHECK_EQ_STR(m.type, "containerd");
	CHECK_EQ_STR(m.name, "web");
	CHECK_EQ_STR(m.pod_ns, "shop");
	ctr_meta_clear(&m);
	/* Docker */
	put("/var/lib/docker/containers/" ID2 "/config.v2.json",
	    "{\"Name\":\"/db\",\"Config\":{\"Image\":\"postgres:16\"}}");
	put("/var/lib/docker/containers/" ID2 "/hostconfig.json", "{\"Privileged\":false}");
	CHECK_EQ_INT(lookup("/system.slice/docker-" ID2 ".scope", &m), 0);
	CHECK_EQ_STR(m.type, "docker");
	CHECK_EQ_STR(m.name, "db");
	CHECK_EQ_STR(m.image, "postgres:16");
	CHECK_EQ_INT(m.privileged, 0);
	ctr_meta_clear(&m);
	/* runc alone, named with a prefix, the bundle's config read under the root */
	snprintf(bundle, sizeof(bundle), "/bundles/b1");
	put("/bundles/b1/config.json",
	    "{\"ociVersion\":\"1.0\",\"linux\":{\"namespaces\":[{\"type\":\"pid\"}]},"
	    "\"process\":{\"capabilities\":{\"bounding\":[]}}}");
	snprintf(state, sizeof(state),
		 "{\"id\":\"saker-test-%s\",\"config\":{\"labels\":["
		 "\"io.kubernetes.cri.sandbox-name=p\",\"bundle=%s\"],"
		 "\"cgroups\":{\"path\":\"/docker/%s\"}}}",
		 ID3, bundle, ID3);
	put("/run/runc/saker-test-" ID3 "/state.json", state);
	/* the Docker layout, no Docker state: runc's */
	CHECK_EQ_INT(lookup("/docker/" ID3, &m), 0);
	CHECK_EQ_STR(m.type, "runc");
	CHECK_EQ_STR(m.name, "saker-test-" ID3);
	CHECK_EQ_STR(m.pod_name, "p");
	CHECK_EQ_INT(m.host_network, 1);
	CHECK_EQ_INT(m.privileged, 0);
	ctr_meta_clear(&m);
	/* a runc dir named with the id whose state's cgroup is another container's: no */
	put("/run/runc/x-" ID4 "/state.json",
	    "{\"id\":\"x\",\"config\":{\"cgroups\":{\"path\":\"/docker/" ID "\"}}}");
	CHECK_EQ_INT(lookup("/libpod_parent/libpod-" ID4, &m), -1);
	CHECK(!m.name);
	ctr_meta_clear(&m);
	/* podman: config.json in the graph root, names in containers.json */
	put("/var/lib/containers/storage/overlay-containers/" ID4 "/userdata/config.json",
	    "{\"ociVersion\":\"1.0\",\"annotations\":{\"io.container.manager\":\"libpod\"}}");
	put("/var/lib/containers/storage/overlay-containers/containers.json",
	    "[{\"id\":\"" ID4 "\",\"names\":[\"pm\"],\"metadata\":"
	    "\"{\\\"image-name\\\":\\\"localhost/x:2\\\"}\"}]");
	CHECK_EQ_INT(lookup("/libpod_parent/libpod-" ID4, &m), 0);
	CHECK_EQ_STR(m.type, "podman");
	CHECK_EQ_STR(m.name, "pm");
	CHECK_EQ_STR(m.image, "localhost/x:2");
	ctr_meta_clear(&m);
	/* nothing anywhere: missing, never a guess */
	CHECK_EQ_INT(
	    lookup("/system.slice/cri-containerd-"
		   "1111111111111111111111111111111111111111111111111111111111111111.scope",
		   &m),
	    -1);
	CHECK(!m.name && !m.image && !m.type);
	ctr_meta_clear(&m);
	{
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
		CHECK_EQ_INT(system(cmd), 0);
	}
}

static int fake_calls;

static int fake_lookup(void *arg, const struct ctr_cgroup *cg, struct ctr_meta *m)
{
	(void)arg;
	fake_calls++;
	if (cg->id[0] != 'a')
		return -1;
	m->name = strdup("n");
	m->image = strdup("r/i:t");
	return 0;
}

TEST(cache)
{
	struct ctr_cache *c = container_cache_new(4);
	struct ctr_source src = {fake_lookup, NULL};
	struct ctr_cgroup cg[6];
	struct ctr_info *e;

	container_cache_set_source(c, &src);
	for (int i = 0; i < 6; i++) {
		cg[i].layout = CTR_LAYOUT_DOCKER;
		memset(cg[i].id, i < 3 ? 'a' : 'b', CTR_ID_LEN);
		cg[i].id[CTR_ID_LEN - 1] = (char)('0' + i);
		cg[i].id[CTR_ID_LEN] = '\0';
	}
	e = container_cache_get(c, &cg[0]);
	CHECK(e && e->found);
	CHECK_EQ_STR(e->repo, "r/i");
	CHECK_EQ_STR(e->tag, "t");
	CHECK(container_cache_get(c, &cg[0]) == e); /* once per container */
	CHECK_EQ_INT(fake_calls, 1);
	e = container_cache_get(c, &cg[3]);
	CHECK(e && !e->found && !e->meta.name);
	for (int i = 0; i < 6; i++)
		container_cache_get(c, &cg[i]);
	CHECK_EQ_INT(container_cache_stats(c)->entries, 4); /* bounded */
	CHECK_EQ_INT(container_cache_stats(c)->evicted, 2);
	/* the sweep keeps what live processes are in */
	container_cache_begin_sweep(c);
	container_cache_keep(c, &cg[5]);
	container_cache_end_sweep(c);
	CHECK_EQ_INT(container_cache_stats(c)->entries, 1);
	CHECK_EQ_INT(container_cache_stats(c)->removed, 3);
	container_cache_begin_sweep(c);
	container_cache_end_sweep(c);
	CHECK_EQ_INT(container_cache_stats(c)->entries, 0);
	/* no source: ids only */
	container_cache_set_source(c, NULL);
	e = container_cache_get(c, &cg[0]);
	CHECK(e && !e->found && !e->meta.name);
	container_cache_free(c);
}

int main(void)
{
	RUN(docker_layouts);
	RUN(kubernetes_layouts);
	RUN(podman_layouts);
	RUN(host_paths);
	RUN(odd_paths);
	RUN(image_split);
	RUN(oci_config_cri);
	RUN(oci_config_privileged_crio);
	RUN(oci_config_hostile);
	RUN(docker_config);
	RUN(runc_state);
	RUN(storage_containers);
	RUN(parsers_hostile);
	RUN(host_source);
	RUN(cache);
	return tap_done();
}
