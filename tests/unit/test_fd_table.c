/* The fd table: slots and shared descriptions, dup/fork/exec/close_range, the bound, socket
 * names, and seeding from a fake procfs and from this process's own /proc entry. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fd_table.h"
#include "testlib.h"

TEST(types)
{
	CHECK_EQ_STR(fd_type_name(FD_FILE), "file");
	CHECK_EQ_STR(fd_type_name(FD_IOURING), "io_uring");
	CHECK_EQ_STR(fd_type_name(FD_UNKNOWN), "unknown");
	CHECK_EQ_STR(fd_type_name((enum fd_type)200), "unknown");
	CHECK(fd_type_char(FD_FILE) == 'f' && fd_type_char(FD_IPV4) == '4' &&
	      fd_type_char(FD_IPV6) == '6' && fd_type_char(FD_UNIX) == 'u' &&
	      fd_type_char(FD_PIPE) == 'p' && fd_type_char(FD_EVENT) == 'e' &&
	      fd_type_char(FD_SIGNALFD) == 's' && fd_type_char(FD_EVENTPOLL) == 'l' &&
	      fd_type_char(FD_INOTIFY) == 'i' && fd_type_char(FD_BPF) == 'b' &&
	      fd_type_char(FD_IOURING) == 'r' && fd_type_char(FD_MEMFD) == 'm' &&
	      fd_type_char(FD_UNKNOWN) == 'o' && fd_type_char(FD_DIRECTORY) == 'd');
	/* Every type has a distinct name and character. */
	for (int i = 0; i < FD_NTYPES; i++)
		for (int j = i + 1; j < FD_NTYPES; j++)
			CHECK(fd_type_char(i) != fd_type_char(j) &&
			      strcmp(fd_type_name(i), fd_type_name(j)));
	CHECK_EQ_STR(fd_l4proto_name(L4_TCP), "tcp");
	CHECK_EQ_STR(fd_l4proto_name(L4_NONE), "");
	CHECK_EQ_INT(fd_dev_major(fd_dev_encode(259, 70000)), 259);
	CHECK_EQ_INT(fd_dev_minor(fd_dev_encode(259, 70000)), 70000);
	CHECK_EQ_INT(fd_dev_encode(136, 3), 0x8803); /* /dev/pts/3 as /proc/PID/stat shows it */
}

TEST(set_get_remove_dup_exec)
{
	struct fd_table t, c;
	struct fdinfo *fi;

	fd_table_init(&t);
	CHECK(fd_table_get(&t, 0) == NULL);
	fi = fd_table_add(&t, 3, FD_FILE, false);
	CHECK(fi && fi->name && !fi->name[0] && fi->refs == 1);
	fdinfo_set_name(fi, "/etc/passwd", 11);
	CHECK(fd_table_dup(&t, 3, 10, true) == fi); /* shared */
	CHECK_EQ_INT(fi->refs, 2);
	CHECK(fd_table_slot(&t, 10)->cloexec);
	CHECK(!fd_table_slot(&t, 3)->cloexec);
	CHECK(fd_table_dup(&t, 4, 11, false) == NULL);
	CHECK(fd_table_dup(&t, 3, 3, false) == fi);
	/* fork: same descriptions */
	CHECK_EQ_INT(fd_table_copy(&c, &t), 0);
	CHECK_EQ_INT(c.n, 2);
	CHECK(fd_table_get(&c, 10) == fi);
	CHECK_EQ_INT(fi->refs, 4);
	/* exec drops close-on-exec fds, only in the table that execs */
	fd_table_exec(&c);
	CHECK(fd_table_get(&c, 10) == NULL);
	CHECK(fd_table_get(&c, 3) == fi);
	CHECK(fd_table_get(&t, 10) == fi);
	CHECK_EQ_INT(fi->refs, 3);
	/* replacing a slot with its own description keeps it alive */
	CHECK(fd_table_set(&t, 3, fi, false) != NULL);
	CHECK_EQ_STR(fd_table_get(&t, 3)->name, "/etc/passwd");
	fd_table_remove(&t, 3);
	fd_table_remove(&t, 3);
	CHECK(fd_table_get(&t, 3) == NULL);
	CHECK_EQ_INT(fi->refs, 2);
	CHECK(fd_table_set(&t, -1, fi, false) == NULL);
	fd_table_clear(&t);
	CHECK_EQ_INT(fi->refs, 1);
	fd_table_clear(&c);
}

TEST(close_range)
{
	struct fd_table t;
	size_t it = 0;
	int n = 0;

	fd_table_init(&t);
	for (int fd = 0; fd < 100; fd++)
		fd_table_add(&t, fd, FD_PIPE, false);
	fd_table_add(&t, 70000, FD_PIPE, false);
	fd_table_close_range(&t, 50, 59, true);
	CHECK(fd_table_slot(&t, 55)->cloexec && !fd_table_slot(&t, 60)->cloexec);
	fd_table_close_range(&t, 3, ~0u, false);
	while (fd_table_next(&t, &it))
		n++;
	CHECK_EQ_INT(n, 3);
	CHECK_EQ_INT(t.n, 3);
	CHECK(fd_table_get(&t, 2) && !fd_table_get(&t, 3) && !fd_table_get(&t, 70000));
	fd_table_close_range(&t, 5, 4, false);
	CHECK_EQ_INT(t.n, 3);
	fd_table_clear(&t);
}

TEST(bounded)
{
	struct fd_table t;

	fd_table_init(&t);
	for (int fd = 0; fd < FD_TABLE_MAX + 100; fd++)
		fd_table_add(&t, fd * 7, FD_FILE, false);
	CHECK_EQ_INT(t.n, FD_TABLE_MAX);
	CHECK_EQ_INT(t.dropped, 100);
	/* Replacing an fd already tracked still works when full. */
	CHECK(fd_table_add(&t, 0, FD_PIPE, false) != NULL);
	CHECK_EQ_INT(t.dropped, 100);
	fd_table_clear(&t);
}

TEST(random_ops_match_reference)
{
	/* Set, remove and dup at random over a small and a sparse range, checked against a
	 * plain array after every step (probe chains, backward-shift deletion, growth). */
	enum {
		N = 300
	};
	struct fdinfo *ref[N];
	struct fd_table t;
	unsigned seed = 1;
	int bad = 0;

	memset(ref, 0, sizeof(ref));
	fd_table_init(&t);
	for (int step = 0; step < 200000 && !bad; step++) {
		unsigned r = (seed = seed * 1103515245 + 12345) >> 8;
		int fd = (int)(r % N), op = (r >> 12) % 4;
		int key = fd < 200 ? fd : fd * 1024; /* some far apart */

		if (op == 0 || op == 1) {
			struct fdinfo *fi = fd_table_add(&t, key, FD_FILE, false);

			ref[fd] = fi;
		} else if (op == 2) {
			fd_table_remove(&t, key);
			ref[fd] = NULL;
		} else {
			int to = (int)((r >> 20) % N), tkey = to < 200 ? to : to * 1024;
			struct fdinfo *fi = fd_table_dup(&t, key, tkey, false);

			if (ref[fd])
				ref[to] = fi;
		}
		if (step % 97 == 0 || step > 199000) {
			size_t n = 0;

			for (int i = 0; i < N; i++) {
				int k = i < 200 ? i : i * 1024;

				if (fd_table_get(&t, k) != ref[i])
					bad = 1;
				n += ref[i] != NULL;
			}
			if (n != t.n)
				bad = 1;
		}
	}
	CHECK(!bad);
	fd_table_clear(&t);
}

TEST(socket_names)
{
	struct fdinfo *fi = fdinfo_new(FD_IPV4);

	inet_pton(AF_INET, "10.0.0.1", fi->sock.lip);
	fi->sock.lport = 40000;
	CHECK(fdinfo_sock_rename(fi));
	CHECK_EQ_STR(fi->name, "10.0.0.1:40000");
	inet_pton(AF_INET, "93.184.216.34", fi->sock.rip);
	fi->sock.rport = 443;
	fi->flags |= FDI_CONNECTED;
	CHECK(fdinfo_sock_rename(fi));
	CHECK_EQ_STR(fi->name, "10.0.0.1:40000->93.184.216.34:443");
	CHECK(!fdinfo_sock_rename(fi)); /* unchanged */
	fi->flags |= FDI_SERVER;	/* client first */
	fdinfo_sock_rename(fi);
	CHECK_EQ_STR(fi->name, "93.184.216.34:443->10.0.0.1:40000");
	fi->type = FD_IPV6;
	memset(fi->sock.lip, 0, 16);
	fi->sock.lip[15] = 1;
	inet_pton(AF_INET6, "2001:db8::5", fi->sock.rip);
	fdinfo_sock_rename(fi);
	CHECK_EQ_STR(fi->name, "2001:db8::5:443->::1:40000");
	fi->type = FD_FILE;
	CHECK(!fdinfo_sock_rename(fi));
	fdinfo_put(fi);
}

TEST(unmap_v4)
{
	struct fd_sock s;
	uint8_t type = FD_IPV6;

	memset(&s, 0, sizeof(s));
	inet_pton(AF_INET6, "::ffff:127.0.0.1", s.lip);
	inet_pton(AF_INET6, "::ffff:10.1.2.3", s.rip);
	fd_sock_unmap_v4(&type, &s);
	CHECK_EQ_INT(type, FD_IPV4);
	CHECK(s.lip[0] == 127 && s.lip[3] == 1 && s.rip[0] == 10 && s.rip[4] == 0);
	type = FD_IPV6;
	memset(&s, 0, sizeof(s));
	inet_pton(AF_INET6, "::ffff:127.0.0.1", s.lip);
	inet_pton(AF_INET6, "2001:db8::1", s.rip);
	fd_sock_unmap_v4(&type, &s);
	CHECK_EQ_INT(type, FD_IPV6);
	memset(&s, 0, sizeof(s)); /* :: listening: stays IPv6 */
	fd_sock_unmap_v4(&type, &s);
	CHECK_EQ_INT(type, FD_IPV6);
}

static char froot[] = "/tmp/saker-fdproc-XXXXXX";

static void put(const char *rel, const char *text)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", froot, rel);
	f = fopen(p, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void link_fd(const char *fd, const char *target, const char *flags)
{
	char p[256], fi[64];

	snprintf(p, sizeof(p), "%s/100/fd/%s", froot, fd);
	if (symlink(target, p))
		abort();
	snprintf(fi, sizeof(fi), "100/fdinfo/%s", fd);
	if (flags) {
		char text[100];

		snprintf(text, sizeof(text), "pos:\t0\nflags:\t%s\nmnt_id:\t1\n", flags);
		put(fi, text);
	}
}

TEST(seed_fake_procfs)
{
	char p[256];
	struct fd_table t;
	struct sock_index *sx = sock_index_new();
	struct fdinfo *fi;

	if (!mkdtemp(froot))
		abort();
	snprintf(p, sizeof(p), "%s/100", froot);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/100/fd", froot);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/100/fdinfo", froot);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/100/net", froot);
	mkdir(p, 0755);
	link_fd("0", "/dev/null", "0100002");
	link_fd("3", "/tmp", "02200000"); /* a directory, O_CLOEXEC | O_DIRECTORY */
	link_fd("4", "socket:[5001]", NULL);
	link_fd("5", "socket:[5002]", "02");
	link_fd("6", "socket:[5003]", NULL);
	link_fd("7", "pipe:[777]", "01");
	link_fd("8", "anon_inode:[eventfd]", NULL);
	link_fd("9", "/memfd:payload (deleted)", NULL);
	link_fd("10", "socket:[9999]", NULL); /* not in any table */
	link_fd("11", "anon_inode:bpf-prog", NULL);
	link_fd("12", "socket:[5004]", NULL);
	link_fd("13", "anon_inode:[pidfd]", NULL);
	link_fd("14", "socket:[5005]", NULL);
	link_fd("15", "/path/with\nnewline", NULL);
	link_fd("notanfd", "/x", NULL);
	put("100/net/tcp",
	    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
	    "timeout inode\n"
	    "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0 "
	    "       0 5001 1 0000000000000000 100 0 0 10 0\n"
	    "   1: 0100007F:1F90 0100007F:15B3 01 00000000:00000000 00:00000000 00000000     0 "
	    "       0 5002 1 0000000000000000 20 4 30 10 -1\n");
	put("100/net/tcp6",
	    "  sl  local_address                         remote_address                        st "
	    "tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	    "   0: 00000000000000000000000001000000:0016 "
	    "00000000000000000000000001000000:D431 01 00000000:00000000 00:00000000 00000000    "
	    " 0        0 5004 1 0000000000000000 20 4 30 10 -1\n"
	    "   1: garbage line\n");
	put("100/net/unix",
	    "Num       RefCount Protocol Flags    Type St Inode Path\n"
	    "0000000000000000: 00000002 00000000 00010000 0001 01 5003 /run/my sock\n"
	    "0000000000000000: 00000003 00000000 00000000 0001 03 5005 @abstract\n");
	sock_index_load(sx, "/nonexistent", 0);
	CHECK_EQ_INT(sock_index_size(sx), 0);
	snprintf(p, sizeof(p), "%s/100/net", froot);
	sock_index_load(sx, p, 42);
	CHECK_EQ_INT(sock_index_size(sx), 5);
	sock_index_load(sx, p, 42); /* same namespace: not again */
	CHECK_EQ_INT(sock_index_size(sx), 5);

	fd_table_init(&t);
	CHECK_EQ_INT(fd_table_seed(&t, froot, 100, sx), 14);
	fi = fd_table_get(&t, 0);
	CHECK(fi && fi->type == FD_FILE && !strcmp(fi->name, "/dev/null") &&
	      fi->open_flags == 0100002 && !fi->nameraw && (fi->flags & FDI_SEEDED));
	CHECK(fi && fi->dev != 0 && fi->ino != 0);
	fi = fd_table_get(&t, 3);
	CHECK(fi && fi->type == FD_DIRECTORY && !strcmp(fi->name, "/tmp"));
	CHECK(fd_table_slot(&t, 3)->cloexec && !fd_table_slot(&t, 0)->cloexec);
	fi = fd_table_get(&t, 4);
	CHECK(fi && fi->type == FD_IPV4 && fi->l4proto == L4_TCP && (fi->flags & FDI_LISTENING) &&
	      !strcmp(fi->name, "127.0.0.1:8080"));
	fi = fd_table_get(&t, 5);
	CHECK(fi && fi->type == FD_IPV4 && (fi->flags & FDI_SERVER) && (fi->flags & FDI_CONNECTED));
	CHECK_EQ_STR(fi ? fi->name : NULL, "127.0.0.1:5555->127.0.0.1:8080");
	fi = fd_table_get(&t, 6);
	CHECK(fi && fi->type == FD_UNIX && !strcmp(fi->name, "/run/my sock") &&
	      (fi->flags & FDI_LISTENING));
	fi = fd_table_get(&t, 7);
	CHECK(fi && fi->type == FD_PIPE && fi->ino == 777 && !strcmp(fi->name, "pipe"));
	CHECK(fd_table_get(&t, 8) && fd_table_get(&t, 8)->type == FD_EVENT);
	fi = fd_table_get(&t, 9);
	CHECK(fi && fi->type == FD_MEMFD && !strcmp(fi->name, "memfd:payload"));
	fi = fd_table_get(&t, 10);
	CHECK(fi && fi->type == FD_UNKNOWN && !strcmp(fi->name, "socket:[9999]") &&
	      fi->ino == 9999);
	CHECK(fd_table_get(&t, 11) && fd_table_get(&t, 11)->type == FD_BPF);
	fi = fd_table_get(&t, 12); /* ::1 port 22 from ::1: a client (nothing listens on 22) */
	CHECK(fi && fi->type == FD_IPV6 && !(fi->flags & FDI_SERVER));
	CHECK_EQ_STR(fi ? fi->name : NULL, "::1:22->::1:54321");
	fi = fd_table_get(&t, 13);
	CHECK(fi && fi->type == FD_UNKNOWN && !strcmp(fi->name, "anon_inode:[pidfd]"));
	fi = fd_table_get(&t, 14);
	CHECK(fi && fi->type == FD_UNIX && !strcmp(fi->name, "@abstract") &&
	      (fi->flags & FDI_CONNECTED));
	fi = fd_table_get(&t, 15);
	CHECK(fi && !strcmp(fi->name, "/path/with\nnewline"));
	fd_table_clear(&t);
	sock_index_free(sx);
	snprintf(p, sizeof(p), "rm -rf %s", froot);
	CHECK_EQ_INT(system(p), 0);
}

TEST(seed_real_proc)
{
	int file = open("/proc/self/status", O_RDONLY), dir = open("/", O_RDONLY | O_DIRECTORY);
	int lst = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int cli = socket(AF_INET, SOCK_STREAM, 0), srv = -1;
	int u = socket(AF_UNIX, SOCK_DGRAM, 0), p[2] = {-1, -1};
	int ev = eventfd(0, 0), mfd = memfd_create("seedtest", 0);
	int udp6 = socket(AF_INET6, SOCK_DGRAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET};
	struct sockaddr_in6 sa6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	struct sockaddr_un su = {.sun_family = AF_UNIX};
	socklen_t sl = sizeof(sa);
	struct sock_index *sx = sock_index_new();
	struct fd_table t;
	struct fdinfo *fi;
	char want[100], upath[64];
	uint16_t port;

	CHECK(pipe(p) == 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(bind(lst, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(lst, 4) == 0);
	CHECK(getsockname(lst, (struct sockaddr *)&sa, &sl) == 0);
	port = ntohs(sa.sin_port);
	CHECK(connect(cli, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	srv = accept(lst, NULL, NULL);
	snprintf(upath, sizeof(upath), "/tmp/saker-test-%d.sock", getpid());
	unlink(upath);
	strcpy(su.sun_path, upath);
	CHECK(bind(u, (struct sockaddr *)&su, sizeof(su)) == 0);
	CHECK(bind(udp6, (struct sockaddr *)&sa6, sizeof(sa6)) == 0);

	sock_index_load(sx, "/proc/self/net", 0);
	fd_table_init(&t);
	CHECK(fd_table_seed(&t, "/proc", (uint32_t)getpid(), sx) >= 12);
	fi = fd_table_get(&t, file);
	CHECK(fi && fi->type == FD_FILE && strstr(fi->name, "/status") && fi->ino);
	fi = fd_table_get(&t, dir);
	CHECK(fi && fi->type == FD_DIRECTORY && !strcmp(fi->name, "/"));
	fi = fd_table_get(&t, lst);
	CHECK(fi && fi->type == FD_IPV4 && fi->l4proto == L4_TCP && (fi->flags & FDI_LISTENING));
	CHECK(fd_table_slot(&t, lst) && fd_table_slot(&t, lst)->cloexec);
	snprintf(want, sizeof(want), "127.0.0.1:%u", port);
	CHECK_EQ_STR(fi ? fi->name : NULL, want);
	fi = fd_table_get(&t, cli);
	CHECK(fi && fi->type == FD_IPV4 && (fi->flags & FDI_CONNECTED) &&
	      !(fi->flags & FDI_SERVER) && fi->sock.rport == port);
	fi = fd_table_get(&t, srv);
	CHECK(fi && fi->type == FD_IPV4 && (fi->flags & FDI_SERVER) && fi->sock.lport == port);
	if (fi && fd_table_get(&t, cli)) /* the same connection, named the same way */
		CHECK_EQ_STR(fi->name, fd_table_get(&t, cli)->name);
	fi = fd_table_get(&t, u);
	CHECK(fi && fi->type == FD_UNIX && !strcmp(fi->name, upath));
	fi = fd_table_get(&t, udp6);
	CHECK(fi && fi->type == FD_IPV6 && fi->l4proto == L4_UDP && !strncmp(fi->name, "::1:", 4));
	fi = fd_table_get(&t, p[0]);
	CHECK(fi && fi->type == FD_PIPE && fi->ino);
	fi = fd_table_get(&t, ev);
	CHECK(fi && fi->type == FD_EVENT);
	fi = fd_table_get(&t, mfd);
	CHECK(fi && fi->type == FD_MEMFD && !strcmp(fi->name, "memfd:seedtest"));
	fd_table_clear(&t);
	sock_index_free(sx);
	unlink(upath);
	close(file);
	close(dir);
	close(lst);
	close(cli);
	close(srv);
	close(u);
	close(udp6);
	close(p[0]);
	close(p[1]);
	close(ev);
	close(mfd);
}

int main(void)
{
	RUN(types);
	RUN(set_get_remove_dup_exec);
	RUN(close_range);
	RUN(bounded);
	RUN(random_ops_match_reference);
	RUN(socket_names);
	RUN(unmap_v4);
	RUN(seed_fake_procfs);
	RUN(seed_real_proc);
	return tap_done();
}
