/* Service names for PORT values ("ssh" is 22), from the system's services database, read
 * directly: the binary is static and must not depend on glibc's NSS modules at run time. */
#ifndef SAKER_SERVICES_H
#define SAKER_SERVICES_H

#include <stdint.h>

/* The port of the service called name (its name or an alias) in /etc/services, or else in
 * a built-in table of well-known services (for hosts and containers without the database):
 * 0 and *port set, or -1 when neither knows it. */
int services_port(const char *name, uint64_t *port);

#endif /* SAKER_SERVICES_H */
