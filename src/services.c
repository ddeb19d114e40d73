#include "services.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int services_port(const char *name, uint64_t *port)
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
