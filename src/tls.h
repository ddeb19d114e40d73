/*
 * TLS for the http output (https:// URLs), on mbedTLS from Debian (small, static, no
 * loadable modules). TLS 1.2, the server's certificate verified against the configured CAs
 * and the URL's host name unless the configuration says insecure; a client certificate for
 * mutual TLS when one is configured.
 *
 * A tls_config is built once per output from the configuration (CAs and the client key are
 * read then, so a bad file is reported at start); each connection is a tls_conn over a
 * non-blocking socket the caller owns. Every call returns at once: TLS_WANT_READ or
 * TLS_WANT_WRITE says what to wait for before calling again.
 */
#ifndef SAKER_TLS_H
#define SAKER_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum {
	TLS_WANT_READ = -2,
	TLS_WANT_WRITE = -3,
};

struct tls_opts {
	bool insecure;		 /* do not verify the server's certificate or name */
	const char *ca_cert;	 /* a PEM file of CA certificates; NULL: none */
	const char *ca_bundle;	 /* another PEM file; NULL: none */
	const char *ca_path;	 /* a directory of PEM files; NULL: none */
	bool ca_path_is_default; /* ca_path is the system's: may be missing if others are given */
	const char *client_cert; /* mutual TLS: PEM certificate (chain) */
	const char *client_key;	 /* ... and its unencrypted PEM key */
};

struct tls_config;
struct tls_conn;

/* Returns the configuration, or NULL with why in err (a CA file that does not parse, no CA
 * at all while verifying, a client key that does not match its certificate...). */
struct tls_config *tls_config_new(const struct tls_opts *o, char *err, size_t errcap);
void tls_config_free(struct tls_config *c);

/* A client connection to host (for SNI and the name check) over fd. NULL: out of memory. */
struct tls_conn *tls_conn_new(struct tls_config *c, int fd, const char *host);
/* Sends close_notify if it can without waiting, and frees. NULL is fine. */
void tls_conn_free(struct tls_conn *t);

/* 0 once the handshake is done, TLS_WANT_*, or -1 with why in err. */
int tls_handshake(struct tls_conn *t, char *err, size_t errcap);
/* Bytes written (> 0), TLS_WANT_*, or -1 (errno set: EPIPE, ECONNRESET, EPROTO). */
ssize_t tls_write(struct tls_conn *t, const void *buf, size_t len);
/* Bytes read (> 0), 0 at the end of the stream, TLS_WANT_*, or -1 (errno set). */
ssize_t tls_read(struct tls_conn *t, void *buf, size_t len);

#endif /* SAKER_TLS_H */
