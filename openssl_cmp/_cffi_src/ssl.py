"""libssl: the subset TLS needs (an ``SSL_CTX`` for OpenSSL's HTTP client), and the C
callback that turns each connection OpenSSL's CMP client opens into a TLS connection.

``ocmp_tls_http_cb`` is an ``OSSL_HTTP_bio_cb_t`` (``OSSL_CMP_CTX_set_http_cb``).  Its
argument is an ``ocmp_tls_info`` that ``openssl_cmp.tls``/``Context`` fill in and keep alive.
It is written in C, not as an ``extern "Python"`` trampoline, because it must never fail open:
whatever goes wrong (no SSL_CTX, no memory, a failed proxy CONNECT), it returns NULL, and
OpenSSL then aborts the connection before a byte of the request is written.  It runs with the
GIL released, like the rest of the transfer.  Modelled on ``app_http_tls_cb`` of
``apps/lib/apps.c`` (facts, not code): SNI and the host name check are set per connection.
"""

INCLUDES = """
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <openssl/http.h>
#include <openssl/x509v3.h>
"""

TYPES = """
typedef ... SSL_CTX;
typedef ... SSL_METHOD;
typedef ... X509_STORE_CTX;
typedef int (*SSL_verify_cb)(int, X509_STORE_CTX *);

static const int SSL_VERIFY_NONE;
static const int SSL_VERIFY_PEER;
static const int SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
static const int TLS1_2_VERSION;
static const int TLS1_3_VERSION;
static const int ERR_LIB_SSL;
static const int SSL_R_CERTIFICATE_VERIFY_FAILED;
static const int SSL_R_WRONG_VERSION_NUMBER;
static const int SSL_R_UNKNOWN_PROTOCOL;
static const int SSL_R_PACKET_LENGTH_TOO_LONG;
static const int SSL_R_TLSV1_ALERT_UNKNOWN_CA;
static const int SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE;
static const int SSL_R_SSLV3_ALERT_BAD_CERTIFICATE;
static const int SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED;

typedef ... ocmp_tls_cache;

typedef struct {
    SSL_CTX *ssl_ctx;   /* borrowed: kept alive by the Python Context */
    ocmp_tls_cache *cache; /* borrowed: the TLS session to resume (NULL: none) */
    char *host;         /* the name the server certificate must match (NUL-terminated) */
    char *peer;         /* host|server:port: the key of the resumable session */
    int host_is_ip;     /* host is an IP literal: checked as iPAddress SAN, no SNI */
    char *server;       /* for the proxy CONNECT: the CMP server's host and port */
    char *port;
    char *proxy;        /* as given to OSSL_CMP_CTX_set1_proxy/no_proxy (NULL: environment) */
    char *no_proxy;
    int timeout;        /* seconds for the proxy CONNECT (0: none) */
    int handshakes;     /* connections set up (for tests and monitoring) */
    int cert_requested; /* the server of the last connection asked for a client cert */
} ocmp_tls_info;
"""

FUNCTIONS = """
const SSL_METHOD *TLS_client_method(void);
const SSL_METHOD *TLS_server_method(void);
SSL_CTX *SSL_CTX_new_ex(OSSL_LIB_CTX *, const char *, const SSL_METHOD *);
void SSL_CTX_free(SSL_CTX *);
int SSL_CTX_up_ref(SSL_CTX *);
long SSL_CTX_set_min_proto_version(SSL_CTX *, int);
void SSL_CTX_set_verify(SSL_CTX *, int, SSL_verify_cb);
int SSL_CTX_set_default_verify_paths(SSL_CTX *);
void SSL_CTX_set1_cert_store(SSL_CTX *, X509_STORE *);
X509_STORE *SSL_CTX_get_cert_store(const SSL_CTX *);
int SSL_CTX_use_certificate(SSL_CTX *, X509 *);
int SSL_CTX_use_PrivateKey(SSL_CTX *, EVP_PKEY *);
int SSL_CTX_check_private_key(const SSL_CTX *);
long SSL_CTX_add1_chain_cert(SSL_CTX *, X509 *);

BIO *ocmp_tls_http_cb(BIO *, void *, int, int);
ocmp_tls_cache *ocmp_tls_cache_new(void);
void ocmp_tls_cache_free(ocmp_tls_cache *);
int ocmp_tls_cache_resumptions(ocmp_tls_cache *);
"""

CUSTOMIZATIONS = r"""
/*
 * One resumable TLS session per TLS settings (shared by every Context made with them),
 * with the peer it belongs to: the host name that was checked plus server and port.  A
 * session is offered only to that same peer, because a resumed handshake does not check
 * the certificate (and its name) again.
 */
typedef struct {
    CRYPTO_RWLOCK *lock;
    SSL_SESSION *session;
    char *peer;
    int resumptions;
} ocmp_tls_cache;

static ocmp_tls_cache *ocmp_tls_cache_new(void)
{
    ocmp_tls_cache *cache = OPENSSL_zalloc(sizeof(*cache));

    if (cache != NULL && (cache->lock = CRYPTO_THREAD_lock_new()) == NULL) {
        OPENSSL_free(cache);
        cache = NULL;
    }
    return cache;
}

static void ocmp_tls_cache_free(ocmp_tls_cache *cache)
{
    if (cache == NULL)
        return;
    SSL_SESSION_free(cache->session);
    OPENSSL_free(cache->peer);
    CRYPTO_THREAD_lock_free(cache->lock);
    OPENSSL_free(cache);
}

static int ocmp_tls_cache_resumptions(ocmp_tls_cache *cache)
{
    int n = 0;

    if (cache != NULL && CRYPTO_THREAD_read_lock(cache->lock)) {
        n = cache->resumptions;
        CRYPTO_THREAD_unlock(cache->lock);
    }
    return n;
}

/* the session for peer, up-ref'd, or NULL */
static SSL_SESSION *ocmp_tls_cache_get(ocmp_tls_cache *cache, const char *peer)
{
    SSL_SESSION *session = NULL;

    if (cache == NULL || !CRYPTO_THREAD_read_lock(cache->lock))
        return NULL;
    if (cache->session != NULL && cache->peer != NULL && strcmp(cache->peer, peer) == 0
            && SSL_SESSION_up_ref(cache->session))
        session = cache->session;
    CRYPTO_THREAD_unlock(cache->lock);
    return session;
}

/* keep session (a reference the cache takes over) for peer */
static void ocmp_tls_cache_put(ocmp_tls_cache *cache, const char *peer, SSL_SESSION *session,
                               int resumed)
{
    char *copy = OPENSSL_strdup(peer);

    if (cache == NULL || copy == NULL || !CRYPTO_THREAD_write_lock(cache->lock)) {
        OPENSSL_free(copy);
        SSL_SESSION_free(session);
        return;
    }
    SSL_SESSION_free(cache->session);
    OPENSSL_free(cache->peer);
    cache->session = session;
    cache->peer = copy;
    cache->resumptions += resumed;
    CRYPTO_THREAD_unlock(cache->lock);
}

typedef struct {
    SSL_CTX *ssl_ctx;
    ocmp_tls_cache *cache;
    char *host;
    char *peer;
    int host_is_ip;
    char *server;
    char *port;
    char *proxy;
    char *no_proxy;
    int timeout;
    int handshakes;
    int cert_requested;
} ocmp_tls_info;

/* SSL_set_cert_cb: on a client, called when the server asks for a certificate */
static int ocmp_tls_cert_requested(SSL *ssl, void *arg)
{
    (void)ssl;
    ((ocmp_tls_info *)arg)->cert_requested = 1;
    return 1; /* go on: with or without a certificate, as configured */
}

static BIO *ocmp_tls_http_cb(BIO *bio, void *arg, int connect, int detail)
{
    ocmp_tls_info *info = (ocmp_tls_info *)arg;

    (void)detail; /* TLS is used whatever OpenSSL's own flag says: never fail open */
    if (connect) {
        SSL *ssl = NULL;
        BIO *sbio = NULL;

        if (info == NULL || info->ssl_ctx == NULL || info->host == NULL)
            return NULL;
#ifdef TCP_NODELAY
        {
            /*
             * TLS writes each part of a request (HTTP header, body) as its own record:
             * with Nagle's algorithm the second waits for the peer's delayed ACK (~40 ms
             * on Linux) on every message of a kept-alive connection.
             */
            int fd = -1, one = 1;

            if (BIO_get_fd(bio, &fd) > 0 && fd >= 0)
                (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        }
#endif
        if (info->server != NULL && info->port != NULL
                && OSSL_HTTP_adapt_proxy(info->proxy, info->no_proxy, info->server, 1) != NULL
                && !OSSL_HTTP_proxy_connect(bio, info->server, info->port, NULL, NULL,
                                            info->timeout, NULL, NULL))
            return NULL;
        if ((sbio = BIO_new(BIO_f_ssl())) == NULL)
            return NULL;
        if ((ssl = SSL_new(info->ssl_ctx)) == NULL)
            goto err;
        if (info->host_is_ip) {
            if (!X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), info->host))
                goto err;
        } else if (!SSL_set1_host(ssl, info->host)
                   || !SSL_set_tlsext_host_name(ssl, info->host)) {
            goto err;
        }
        info->cert_requested = 0;
        SSL_set_cert_cb(ssl, ocmp_tls_cert_requested, info);
        {
            SSL_SESSION *session = ocmp_tls_cache_get(info->cache, info->peer);

            if (session != NULL) {
                (void)SSL_set_session(ssl, session); /* a failure only means a full handshake */
                SSL_SESSION_free(session);
            }
        }
        SSL_set_connect_state(ssl);
        BIO_set_ssl(sbio, ssl, BIO_CLOSE);
        info->handshakes++;
        return BIO_push(sbio, bio);
     err:
        SSL_free(ssl);
        BIO_free(sbio);
        return NULL;
    }
    /* disconnect: take our SSL BIO off the chain; OpenSSL frees the rest */
    if (bio != NULL && BIO_method_type(bio) == BIO_TYPE_SSL) {
        BIO *next;
        SSL *ssl = NULL;

        if (detail && info != NULL && info->cache != NULL && info->peer != NULL
                && BIO_get_ssl(bio, &ssl) > 0 && ssl != NULL
                && SSL_get_verify_result(ssl) == X509_V_OK) {
            /* a successful exchange: keep its session (the latest ticket) for the next */
            SSL_SESSION *session = SSL_get1_session(ssl);

            if (session != NULL && SSL_SESSION_is_resumable(session))
                ocmp_tls_cache_put(info->cache, info->peer, session, SSL_session_reused(ssl));
            else
                SSL_SESSION_free(session);
        }
        ssl = NULL;
        if (!detail && BIO_get_ssl(bio, &ssl) > 0 && ssl != NULL) {
            /* a failed exchange: say why the peer certificate was refused, if it was */
            long result = SSL_get_verify_result(ssl);

            if (result != X509_V_OK)
                ERR_raise_data(ERR_LIB_SSL, SSL_R_CERTIFICATE_VERIFY_FAILED,
                               "verify error: %s", X509_verify_cert_error_string(result));
            else if (info != NULL && info->cert_requested && SSL_get_certificate(ssl) == NULL)
                ERR_raise_data(ERR_LIB_SSL, SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED,
                               "the server asked for a TLS client certificate and none is set");
        }
        (void)ERR_set_mark();
        BIO_ssl_shutdown(bio);
        next = BIO_pop(bio);
        BIO_free(bio);
        (void)ERR_pop_to_mark();
        return next;
    }
    return bio;
}
"""
