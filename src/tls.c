#include "tls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

struct tls_config {
	mbedtls_ssl_config conf;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_x509_crt ca;
	mbedtls_x509_crt own;
	mbedtls_pk_context key;
	bool insecure;
};

struct tls_conn {
	mbedtls_ssl_context ssl;
	int fd;
	int err; /* the socket's last errno, for the caller's message */
};

static void why(char *err, size_t cap, const char *what, const char *path, int rc)
{
	char m[160];

	mbedtls_strerror(rc, m, sizeof(m));
	if (path)
		snprintf(err, cap, "%s '%s': %s", what, path, m);
	else
		snprintf(err, cap, "%s: %s", what, m);
}

struct tls_config *tls_config_new(const struct tls_opts *o, char *err, size_t errcap)
{
	static const char pers[] = "saker http output";
	struct tls_config *c = calloc(1, sizeof(*c));
	int rc;

	if (!c) {
		snprintf(err, errcap, "out of memory");
		return NULL;
	}
	mbedtls_ssl_config_init(&c->conf);
	mbedtls_entropy_init(&c->entropy);
	mbedtls_ctr_drbg_init(&c->drbg);
	mbedtls_x509_crt_init(&c->ca);
	mbedtls_x509_crt_init(&c->own);
	mbedtls_pk_init(&c->key);

	rc = mbedtls_ctr_drbg_seed(&c->drbg, mbedtls_entropy_func, &c->entropy,
				   (const unsigned char *)pers, sizeof(pers) - 1);
	if (rc) {
		why(err, errcap, "random generator", NULL, rc);
		goto fail;
	}
	rc = mbedtls_ssl_config_defaults(&c->conf, MBEDTLS_SSL_IS_CLIENT,
					 MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
	if (rc) {
		why(err, errcap, "TLS defaults", NULL, rc);
		goto fail;
	}
	mbedtls_ssl_conf_min_version(&c->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
				     MBEDTLS_SSL_MINOR_VERSION_3); /* TLS 1.2 */
	mbedtls_ssl_conf_rng(&c->conf, mbedtls_ctr_drbg_random, &c->drbg);

	/* The CAs: each source that is set must be readable; a directory may hold files that
	 * are not certificates (parse_path skips them and says how many failed). */
	if (o->ca_cert && *o->ca_cert &&
	    (rc = mbedtls_x509_crt_parse_file(&c->ca, o->ca_cert)) < 0) {
		why(err, errcap, "CA certificate", o->ca_cert, rc);
		goto fail;
	}
	if (o->ca_bundle && *o->ca_bundle &&
	    (rc = mbedtls_x509_crt_parse_file(&c->ca, o->ca_bundle)) < 0) {
		why(err, errcap, "CA bundle", o->ca_bundle, rc);
		goto fail;
	}
	/* the system's directory may be missing (a scratch image) when other CAs are given; a
	 * directory the configuration names must be there */
	if (o->ca_path && *o->ca_path && (rc = mbedtls_x509_crt_parse_path(&c->ca, o->ca_path)) < 0 &&
	    (!o->ca_path_is_default || (!o->insecure && !c->ca.version))) {
		why(err, errcap, "CA directory", o->ca_path, rc);
		goto fail;
	}
	c->insecure = o->insecure;
	if (o->insecure) {
		mbedtls_ssl_conf_authmode(&c->conf, MBEDTLS_SSL_VERIFY_NONE);
	} else {
		if (!c->ca.version) {
			snprintf(err, errcap,
				 "no CA certificate to verify the server with (ca_cert, ca_bundle "
				 "or ca_path)");
			goto fail;
		}
		mbedtls_ssl_conf_authmode(&c->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
		mbedtls_ssl_conf_ca_chain(&c->conf, &c->ca, NULL);
	}

	if ((o->client_cert && *o->client_cert) || (o->client_key && *o->client_key)) {
		if (!o->client_cert || !*o->client_cert || !o->client_key || !*o->client_key) {
			snprintf(err, errcap, "mutual TLS needs both client_cert and client_key");
			goto fail;
		}
		if ((rc = mbedtls_x509_crt_parse_file(&c->own, o->client_cert)) != 0) {
			why(err, errcap, "client certificate", o->client_cert, rc);
			goto fail;
		}
		if ((rc = mbedtls_pk_parse_keyfile(&c->key, o->client_key, NULL)) != 0) {
			why(err, errcap, "client key", o->client_key, rc);
			goto fail;
		}
		if ((rc = mbedtls_pk_check_pair(&c->own.pk, &c->key)) != 0) {
			snprintf(err, errcap, "client key '%s' does not belong to client certificate "
				 "'%s'", o->client_key, o->client_cert);
			goto fail;
		}
		if ((rc = mbedtls_ssl_conf_own_cert(&c->conf, &c->own, &c->key)) != 0) {
			why(err, errcap, "client certificate", o->client_cert, rc);
			goto fail;
		}
	}
	return c;
fail:
	tls_config_free(c);
	return NULL;
}

void tls_config_free(struct tls_config *c)
{
	if (!c)
		return;
	mbedtls_ssl_config_free(&c->conf);
	mbedtls_ctr_drbg_free(&c->drbg);
	mbedtls_entropy_free(&c->entropy);
	mbedtls_x509_crt_free(&c->ca);
	mbedtls_x509_crt_free(&c->own);
	mbedtls_pk_free(&c->key);
	free(c);
}

/* The socket under the TLS layer: non-blocking, never SIGPIPE. */
static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct tls_conn *t = ctx;
	ssize_t n;

	do
		n = send(t->fd, buf, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n >= 0)
		return (int)n;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return MBEDTLS_ERR_SSL_WANT_WRITE;
	t->err = errno;
	return errno == EPIPE || errno == ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET
						     : MBEDTLS_ERR_NET_SEND_FAILED;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct tls_conn *t = ctx;
	ssize_t n;

	do
		n = recv(t->fd, buf, len, 0);
	while (n < 0 && errno == EINTR);
	if (n >= 0)
		return (int)n;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return MBEDTLS_ERR_SSL_WANT_READ;
	t->err = errno;
	return errno == ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET : MBEDTLS_ERR_NET_RECV_FAILED;
}

static bool is_address(const char *host)
{
	unsigned char a[16];

	return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

struct tls_conn *tls_conn_new(struct tls_config *c, int fd, const char *host)
{
	struct tls_conn *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->fd = fd;
	mbedtls_ssl_init(&t->ssl);
	/* the name is both the SNI and what the certificate must name; an address literal is
	 * not a name SNI may carry, and with verification off nothing else needs it */
	if (mbedtls_ssl_setup(&t->ssl, &c->conf) ||
	    (!(c->insecure && is_address(host)) && mbedtls_ssl_set_hostname(&t->ssl, host))) {
		mbedtls_ssl_free(&t->ssl);
		free(t);
		return NULL;
	}
	mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);
	return t;
}

void tls_conn_free(struct tls_conn *t)
{
	if (!t)
		return;
	mbedtls_ssl_close_notify(&t->ssl); /* best effort: the socket is non-blocking */
	mbedtls_ssl_free(&t->ssl);
	free(t);
}

static int want(int rc)
{
	if (rc == MBEDTLS_ERR_SSL_WANT_READ)
		return TLS_WANT_READ;
	if (rc == MBEDTLS_ERR_SSL_WANT_WRITE)
		return TLS_WANT_WRITE;
	return 0;
}

int tls_handshake(struct tls_conn *t, char *err, size_t errcap)
{
	int rc = mbedtls_ssl_handshake(&t->ssl);
	uint32_t flags;

	if (!rc)
		return 0;
	if (want(rc))
		return want(rc);
	flags = mbedtls_ssl_get_verify_result(&t->ssl);
	if (rc == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED && flags != (uint32_t)-1 && flags) {
		char v[256];
		int n = mbedtls_x509_crt_verify_info(v, sizeof(v), "", flags);

		/* one line: the reasons joined */
		for (int i = 0; i < n && v[i]; i++)
			if (v[i] == '\n')
				v[i] = i + 1 < n && v[i + 1] ? ';' : '\0';
		snprintf(err, errcap, "TLS handshake: the server's certificate is not trusted: %s",
			 v);
	} else {
		why(err, errcap, "TLS handshake", NULL, rc);
	}
	return -1;
}

/* -1 with errno: the socket's own error when there was one, else EPROTO (TLS itself). */
static ssize_t fail(struct tls_conn *t, int rc)
{
	if ((rc == MBEDTLS_ERR_NET_CONN_RESET || rc == MBEDTLS_ERR_NET_SEND_FAILED ||
	     rc == MBEDTLS_ERR_NET_RECV_FAILED) &&
	    t->err)
		errno = t->err;
	else
		errno = rc == MBEDTLS_ERR_NET_CONN_RESET ? ECONNRESET : EPROTO;
	return -1;
}

ssize_t tls_write(struct tls_conn *t, const void *buf, size_t len)
{
	int rc = mbedtls_ssl_write(&t->ssl, buf, len);

	if (rc > 0)
		return rc;
	if (want(rc))
		return want(rc);
	return fail(t, rc);
}

ssize_t tls_read(struct tls_conn *t, void *buf, size_t len)
{
	int rc = mbedtls_ssl_read(&t->ssl, buf, len);

	if (rc >= 0)
		return rc;
	if (rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY)
		return 0;
	if (want(rc))
		return want(rc);
	return fail(t, rc);
}
