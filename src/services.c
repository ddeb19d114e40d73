#include "services.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Well-known names, for hosts (and containers) without a services database: IANA's
 * assignments for the services rules most often name. */
static const struct {
	const char *name;
	unsigned port;
} builtin[] = {
    {"ftp-data", 20},	  {"ftp", 21},		 {"ssh", 22},	  {"telnet", 23},
    {"smtp", 25},	  {"domain", 53},	 {"http", 80},	  {"www", 80},
    {"kerberos", 88},	  {"pop3", 110},	 {"sunrpc", 111}, {"ntp", 123},
    {"imap2", 143},	  {"imap", 143},	 {"snmp", 161},	  {"ldap", 389},
    {"https", 443},	  {"microsoft-ds", 445}, {"syslog", 514}, {"ldaps", 636},
    {"rsync", 873},	  {"imaps", 993},	 {"pop3s", 995},  {"socks", 1080},
    {"openvpn", 1194},	  {"ms-sql-s", 1433},	 {"nfs", 2049},	  {"mysql", 3306},
    {"postgresql", 5432}, {"http-alt", 8080},
};

static int builtin_port(const char *name, uint64_t *port)
{
	for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++) {
		if (strcmp(builtin[i].name, name) == 0) {
			*port = builtin[i].port;
			return 0;
		}
	}
	return -1;
}

static int database_port(const char *name, uint64_t *port)
{
	FILE *f = fopen("/etc/services", "r");
	char line[512];
	int rc = -1;

	if (!f)
		return -1;
	while (rc && fgets(line, sizeof(line), f)) {
		char *save = NULL, *tok, *svc, *pp;

		line[strcspn(line, "#")] = '\0';
		svc = strtok_r(line, " \t\n", &save);
		pp = strtok_r(NULL, " \t\n", &save);
		if (!svc || !pp)
			continue;
		for (tok = svc; tok; tok = strtok_r(NULL, " \t\n", &save))
			if (strcmp(tok, name) == 0) {
				*port = strtoull(pp, NULL, 10);
				rc = 0;
				break;
			}
	}
	fclose(f);
	return rc;
}

int services_port(const char *name, uint64_t *port)
{
	return database_port(name, port) == 0 ? 0 : builtin_port(name, port);
}
