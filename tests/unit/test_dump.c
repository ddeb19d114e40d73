/* The event line, text and JSON, for hand-built events: argument decoding, and hostile
 * bytes that must neither break the line nor the JSON. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <cJSON.h>
#include <netinet/in.h>
#include <sys/un.h>

#include "dump.h"
#include "syscall_ids.h"
#include "testlib.h"
#include "timeutil.h"

static struct strbuf sb = STRBUF_INIT;

static struct event syscall_event(uint16_t nr, int64_t ret)
{
	struct event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = SK_EV_SYSCALL;
	ev.pid = 100;
	ev.tid = 101;
	ev.ts_ns = 5000000000ull;
	ev.nr = nr;
	ev.ret = ret;
	return ev;
}

static cJSON *json_of(const struct event *ev)
{
	dump_event(&sb, ev, NULL, DUMP_JSON);
	return cJSON_Parse(sb.buf);
}

static const char *jstr(cJSON *o, const char *k1, const char *k2)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k1);

	if (k2)
		v = cJSON_GetObjectItemCaseSensitive(v, k2);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double jnum(cJSON *o, const char *k1, const char *k2)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k1);

	if (k2)
		v = cJSON_GetObjectItemCaseSensitive(v, k2);
	return cJSON_IsNumber(v) ? v->valuedouble : -12345;
}

TEST(openat_text)
{
	struct event ev = syscall_event(SK_NR_openat, 3);
	static const char path[] = "/etc/passwd";

	ev.args[0] = (uint64_t)(int64_t)-100;
	ev.args[2] = 02000000; /* O_CLOEXEC */
	ev.blob[0].p = (const uint8_t *)path;
	ev.blob[0].len = sizeof(path);
	dump_event(&sb, &ev, NULL, DUMP_TEXT);
	CHECK(strstr(sb.buf,
		     " pid=100 tid=101 ppid=0 comm=<NA> openat(dirfd=AT_FDCWD, "
		     "name=\"/etc/passwd\", flags=O_RDONLY|O_CLOEXEC, mode=0) = 3") != NULL);
	CHECK(strchr(sb.buf, '\n') == NULL);
}

TEST(openat_json_hostile_path)
{
	struct event ev = syscall_event(SK_NR_openat, -2);
	static const char path[] = "/tmp/a\nb\"c\\d\xff\xfe\x01";
	cJSON *j;

	ev.blob[0].p = (const uint8_t *)path;
	ev.blob[0].len = sizeof(path);
	j = json_of(&ev);
	CHECK(j != NULL);
	CHECK(strchr(sb.buf, '\n') == NULL);
	CHECK_EQ_STR(jstr(j, "event", NULL), "openat");
	CHECK_EQ_STR(jstr(j, "args", "name"), "/tmp/a\nb\"c\\d\\xff\\xfe\x01");
	CHECK_EQ_STR(jstr(j, "errno", NULL), "ENOENT");
	CHECK(jnum(j, "ret", NULL) == -2);
	CHECK(jnum(j, "pid", NULL) == 100);
	cJSON_Delete(j);
}

TEST(hostile_text_stays_on_one_line)
{
	struct event ev = syscall_event(SK_NR_open, 3);
	static const char path[] = "x\ny\r\x1b[31mz";

	ev.blob[0].p = (const uint8_t *)path;
	ev.blob[0].len = sizeof(path);
	dump_event(&sb, &ev, NULL, DUMP_TEXT);
	CHECK(strchr(sb.buf, '\n') == NULL);
	CHECK(strchr(sb.buf, '\r') == NULL);
	CHECK(strchr(sb.buf, '\x1b') == NULL);
	CHECK(strstr(sb.buf, "name=\"x\\ny\\x0d\\x1b[31mz\"") != NULL);
}

TEST(connect_inet)
{
	struct event ev = syscall_event(SK_NR_connect, 0);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(8080)};
	struct sk_sock_tuple t = {.family = AF_INET, .type = 1, .sport = 40000, .dport = 8080};
	cJSON *j;

	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	memcpy(t.saddr, &sin.sin_addr, 4);
	memcpy(t.daddr, &sin.sin_addr, 4);
	ev.args[0] = 5;
	ev.blob[0].p = (const uint8_t *)&sin;
	ev.blob[0].len = sizeof(sin);
	ev.blob[1].p = (const uint8_t *)&t;
	ev.blob[1].len = sizeof(t);
	j = json_of(&ev);
	CHECK_EQ_STR(jstr(j, "args", "addr"), "127.0.0.1:8080");
	CHECK_EQ_STR(jstr(j, "args", "local"), "127.0.0.1:40000");
	CHECK_EQ_STR(jstr(j, "args", "remote"), "127.0.0.1:8080");
	CHECK_EQ_STR(jstr(j, "args", "socktype"), "SOCK_STREAM");
	CHECK(jnum(j, "args", "fd") == 5);
	cJSON_Delete(j);
}

TEST(connect_inet6_and_unix)
{
	struct event ev = syscall_event(SK_NR_connect, 0);
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_port = htons(443)};
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	cJSON *j;

	inet_pton(AF_INET6, "::1", &sin6.sin6_addr);
	ev.blob[0].p = (const uint8_t *)&sin6;
	ev.blob[0].len = sizeof(sin6);
	j = json_of(&ev);
	CHECK_EQ_STR(jstr(j, "args", "addr"), "[::1]:443");
	cJSON_Delete(j);

	strcpy(sun.sun_path, "/run/x.sock");
	ev.blob[0].p = (const uint8_t *)&sun;
	ev.blob[0].len = (uint32_t)(sizeof(sun.sun_family) + strlen(sun.sun_path) + 1);
	j = json_of(&ev);
	CHECK_EQ_STR(jstr(j, "args", "addr"), "unix:/run/x.sock");
	cJSON_Delete(j);

	/* Abstract names start with NUL. */
	memset(sun.sun_path, 0, sizeof(sun.sun_path));
	memcpy(sun.sun_path, "\0abs", 4);
	ev.blob[0].len = sizeof(sun.sun_family) + 4;
	j = json_of(&ev);
	CHECK_EQ_STR(jstr(j, "args", "addr"), "unix:@abs");
	cJSON_Delete(j);

	/* Truncated sockaddrs decode to what they hold, never past it. */
	ev.blob[0].len = 1;
	j = json_of(&ev);
	CHECK_EQ_STR(jstr(j, "args", "addr"), "<none>");
	cJSON_Delete(j);
}

TEST(exec_argv_list)
{
	struct sk_exec_ev x = {.old_tid = 100, .uid = 0, .loginuid = 4294967295u};
	struct event ev;
	static const char fn[] = "/bin/echo";
	static const char av[] = "echo\0hello world\0\xff";
	cJSON *j, *argv;

	memset(&ev, 0, sizeof(ev));
	ev.kind = SK_EV_EXEC;
	ev.pid = ev.tid = 100;
	ev.exec = &x;
	ev.filename.p = (const uint8_t *)fn;
	ev.filename.len = sizeof(fn);
	ev.argv.p = (const uint8_t *)av;
	ev.argv.len = sizeof(av); /* the last argument is cut (no NUL of its own) */
	j = json_of(&ev);
	CHECK_EQ_STR(jstr(j, "event", NULL), "sched_process_exec");
	CHECK_EQ_STR(jstr(j, "args", "filename"), "/bin/echo");
	argv =
	    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "args"), "argv");
	CHECK_EQ_INT(cJSON_GetArraySize(argv), 3);
	CHECK_EQ_STR(cJSON_GetArrayItem(argv, 1)->valuestring, "hello world");
	CHECK_EQ_STR(cJSON_GetArrayItem(argv, 2)->valuestring, "\\xff");
	CHECK(jnum(j, "args", "loginuid") == -1);
	cJSON_Delete(j);
	dump_event(&sb, &ev, NULL, DUMP_TEXT);
	CHECK(strstr(sb.buf, "argv=[\"echo\", \"hello world\", \"\\xff\"]") != NULL);
}

TEST(successful_execve_shows_new_image)
{
	struct proc_table *t = proc_table_new(16);
	struct proc *p = proc_table_upsert(t, 101);
	struct event ev = syscall_event(SK_NR_execve, 0);
	cJSON *j, *argv;

	p->filename = strdup("/usr/bin/id");
	p->args = malloc(6);
	memcpy(p->args, "id\0-u\0", 6);
	p->args_len = 6;
	strcpy(p->comm, "id");
	p->ppid = 1;
	dump_event(&sb, &ev, t, DUMP_JSON);
	j = cJSON_Parse(sb.buf);
	CHECK_EQ_STR(jstr(j, "args", "filename"), "/usr/bin/id");
	CHECK_EQ_STR(jstr(j, "comm", NULL), "id");
	CHECK(jnum(j, "ppid", NULL) == 1);
	argv =
	    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "args"), "argv");
	CHECK_EQ_INT(cJSON_GetArraySize(argv), 2);
	cJSON_Delete(j);
	proc_table_free(t);
}

TEST(unknown_syscall_shows_registers)
{
	struct event ev = syscall_event(110, 7);
	cJSON *j;

	ev.args[0] = 0xffffffffffffffffull;
	j = json_of(&ev);
	CHECK_EQ_STR(jstr(j, "event", NULL), "getppid");
	CHECK_EQ_STR(jstr(j, "args", "arg0"), "0xffffffffffffffff");
	CHECK(jnum(j, "args", "arg1") == 0);
	cJSON_Delete(j);
	ev.nr = 500;
	dump_event(&sb, &ev, NULL, DUMP_TEXT);
	CHECK(strstr(sb.buf, "syscall_500(") != NULL);
}

TEST(new_syscalls_by_name)
{
	struct event ev = syscall_event(SK_NR_symlinkat, 0);
	static const char target[] = "/etc/shadow", link[] = "/tmp/x";
	cJSON *j;

	ev.args[1] = (uint64_t)(int64_t)-100;
	ev.blob[0].p = (const uint8_t *)target;
	ev.blob[0].len = sizeof(target);
	ev.blob[1].p = (const uint8_t *)link;
	ev.blob[1].len = sizeof(link);
	j = json_of(&ev);
	CHECK_EQ_STR(jstr(j, "event", NULL), "symlinkat");
	CHECK_EQ_STR(jstr(j, "args", "target"), "/etc/shadow");
	CHECK_EQ_STR(jstr(j, "args", "linkdirfd"), "AT_FDCWD");
	CHECK_EQ_STR(jstr(j, "args", "linkpath"), "/tmp/x");
	cJSON_Delete(j);

	ev = syscall_event(SK_NR_ptrace, -1);
	ev.args[0] = 16;
	ev.args[1] = 1234;
	j = json_of(&ev);
	CHECK_EQ_STR(jstr(j, "args", "request"), "PTRACE_ATTACH");
	CHECK(jnum(j, "args", "pid") == 1234);
	CHECK_EQ_STR(jstr(j, "errno", NULL), "EPERM");
	cJSON_Delete(j);

	/* Modes: octal in text, a number in JSON; chmod's by name. */
	ev = syscall_event(SK_NR_mkdir, 0);
	ev.args[1] = 0755;
	ev.blob[0].p = (const uint8_t *)link;
	ev.blob[0].len = sizeof(link);
	dump_event(&sb, &ev, NULL, DUMP_TEXT);
	CHECK(strstr(sb.buf, "mkdir(path=\"/tmp/x\", mode=0755) = 0") != NULL);
	j = json_of(&ev);
	CHECK(jnum(j, "args", "mode") == 0755);
	cJSON_Delete(j);
	ev.nr = SK_NR_chmod;
	ev.args[1] = 04755;
	j = json_of(&ev);
	CHECK_EQ_STR(jstr(j, "args", "filename"), "/tmp/x");
	CHECK_EQ_STR(jstr(j, "args", "mode"),
		     "S_ISUID|S_IRUSR|S_IWUSR|S_IXUSR|S_IRGRP|S_IXGRP|S_IROTH|S_IXOTH");
	cJSON_Delete(j);

	/* A value the event does not carry (a failed accept has no peer) is left out. */
	ev = syscall_event(SK_NR_accept4, -11);
	ev.args[0] = 3;
	ev.args[3] = 02000000;
	j = json_of(&ev);
	CHECK(jnum(j, "args", "fd") == 3);
	CHECK_EQ_STR(jstr(j, "args", "flags"), "SOCK_CLOEXEC");
	CHECK(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "args"), "addr") ==
	      NULL);
	CHECK(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "args"),
					       "local") == NULL);
	CHECK_EQ_STR(jstr(j, "errno", NULL), "EAGAIN");
	cJSON_Delete(j);
}

TEST(exec_record_fields)
{
	struct sk_exec_ev x = {.tty = 34816,
			       .sid = 10,
			       .pgid = 11,
			       .vpid = 1,
			       .vpgid = 1,
			       .exe_mode = 0100755,
			       .exe_flags = SK_EXE_MEMFD,
			       .cap_effective = 0x1ffffffffffULL,
			       .exe_ino = 1234567,
			       .exe_ctime_ns = 1700000000123456789ULL};
	struct event ev;
	cJSON *j;

	memset(&ev, 0, sizeof(ev));
	ev.kind = SK_EV_EXEC;
	ev.exec = &x;
	j = json_of(&ev);
	CHECK(jnum(j, "args", "tty") == 34816);
	CHECK(jnum(j, "args", "sid") == 10);
	CHECK(jnum(j, "args", "pgid") == 11);
	CHECK(jnum(j, "args", "vpid") == 1);
	CHECK(jnum(j, "args", "exe_mode") == 0100755);
	CHECK(jnum(j, "args", "exe_ino") == 1234567);
	CHECK_EQ_STR(jstr(j, "args", "exe_flags"), "EXE_FROM_MEMFD");
	CHECK(jnum(j, "args", "cap_effective") == (double)0x1ffffffffffULL);
	CHECK_EQ_STR(jstr(j, "args", "exe_ctime"), "2023-11-14T22:13:20.123456789Z");
	cJSON_Delete(j);
	dump_event(&sb, &ev, NULL, DUMP_TEXT);
	CHECK(strstr(sb.buf, "exe_mode=0100755") != NULL);
}

TEST(flags_and_exit)
{
	struct sk_exit_ev x = {.exit_code = 7 << 8, .flags = SK_EXIT_GROUP_DEAD};
	struct event ev;
	cJSON *j;

	memset(&ev, 0, sizeof(ev));
	ev.kind = SK_EV_EXIT;
	ev.exit = &x;
	ev.flags = SK_F_TRUNC;
	j = json_of(&ev);
	CHECK(jnum(j, "args", "status") == 7);
	CHECK(jnum(j, "args", "signal") == 0);
	CHECK(jnum(j, "args", "group_dead") == 1);
	CHECK_EQ_STR(
	    cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "flags"), 0)->valuestring,
	    "truncated");
	cJSON_Delete(j);
}

int main(void)
{
	time_sync();
	RUN(openat_text);
	RUN(openat_json_hostile_path);
	RUN(hostile_text_stays_on_one_line);
	RUN(connect_inet);
	RUN(connect_inet6_and_unix);
	RUN(exec_argv_list);
	RUN(successful_execve_shows_new_image);
	RUN(unknown_syscall_shows_registers);
	RUN(new_syscalls_by_name);
	RUN(exec_record_fields);
	RUN(flags_and_exit);
	sb_release(&sb);
	return tap_done();
}
