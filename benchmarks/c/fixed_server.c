/*
 * fixed_server.c - the benchmark's CMP server: an OSSL_CMP_SRV_CTX that answers every
 * certificate request with one fixed, pre-issued certificate.
 *
 * Used unchanged by both sides of benchmarks/bench_enroll.py: #included by the standalone C
 * program (enroll_baseline.c) and compiled into the small cffi module that the Python run
 * loads.  Only libcrypto (OpenSSL >= 3.0).
 *
 *   cert_request: X509_up_ref the fixed cert into *certOut, return "accepted"
 *   certConf:     return 1
 *   protection:   PBM (referenceValue + secretValue on the inner OSSL_CMP_CTX)
 *   logging:      OSSL_CMP_LOG_ERR on the inner OSSL_CMP_CTX
 *   (those two: pbm_server.c, shared with cacerts_server.c)
 *
 * The custom ctx counts the callbacks so that the benchmark can check that every timed
 * enrollment really went through the server (cert request and certConf).
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/bio.h>
#include <openssl/cmp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "pbm_server.c"

typedef struct {
    X509 *cert;            /* the certificate returned to every request (owned) */
    long cert_requests;    /* cert_request callbacks served */
    long cert_confs;       /* certConf callbacks served */
} bench_server_state;

static OSSL_CMP_PKISI *bench_cert_request(OSSL_CMP_SRV_CTX *srv_ctx, const OSSL_CMP_MSG *req,
                                          int certReqId, const OSSL_CRMF_MSG *crm,
                                          const X509_REQ *p10cr, X509 **certOut,
                                          STACK_OF(X509) **chainOut, STACK_OF(X509) **caPubs)
{
    bench_server_state *st = OSSL_CMP_SRV_CTX_get0_custom_ctx(srv_ctx);
    OSSL_CMP_PKISI *si;

    (void)req; (void)certReqId; (void)crm; (void)p10cr;
    *chainOut = NULL;
    *caPubs = NULL;
    si = OSSL_CMP_STATUSINFO_new(OSSL_CMP_PKISTATUS_accepted, 0, NULL);
    if (si == NULL)
        return NULL;
    if (!X509_up_ref(st->cert)) {       /* the library frees *certOut: hand over a ref */
        OSSL_CMP_PKISI_free(si);
        return NULL;
    }
    *certOut = st->cert;
    st->cert_requests++;
    return si;
}

static int bench_cert_conf(OSSL_CMP_SRV_CTX *srv_ctx, const OSSL_CMP_MSG *req, int certReqId,
                           const ASN1_OCTET_STRING *certHash, const OSSL_CMP_PKISI *si)
{
    bench_server_state *st = OSSL_CMP_SRV_CTX_get0_custom_ctx(srv_ctx);

    (void)req; (void)certReqId; (void)certHash; (void)si;
    st->cert_confs++;
    return 1;
}

static X509 *bench_cert_from_pem(const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    X509 *cert = bio == NULL ? NULL : PEM_read_bio_X509(bio, NULL, NULL, NULL);

    BIO_free(bio);
    return cert;
}

/* A new server returning the certificate in cert_pem; NULL on error (see the error queue). */
OSSL_CMP_SRV_CTX *bench_server_new(const char *cert_pem,
                                   const unsigned char *ref, int ref_len,
                                   const unsigned char *secret, int secret_len)
{
    OSSL_CMP_SRV_CTX *srv;
    bench_server_state *st = calloc(1, sizeof(*st));

    if (st == NULL || (st->cert = bench_cert_from_pem(cert_pem)) == NULL
        || (srv = bench_pbm_server_new(st, bench_cert_request, NULL, bench_cert_conf,
                                       ref, ref_len, secret, secret_len)) == NULL) {
        if (st != NULL)
            X509_free(st->cert);
        free(st);
        return NULL;
    }
    return srv;
}

void bench_server_free(OSSL_CMP_SRV_CTX *srv)
{
    bench_server_state *st = bench_pbm_server_free(srv);

    if (st != NULL) {
        X509_free(st->cert);
        free(st);
    }
}

/* Callback counters since creation (either pointer may be NULL). */
void bench_server_counts(OSSL_CMP_SRV_CTX *srv, long *cert_requests, long *cert_confs)
{
    bench_server_state *st = OSSL_CMP_SRV_CTX_get0_custom_ctx(srv);

    if (cert_requests != NULL)
        *cert_requests = st->cert_requests;
    if (cert_confs != NULL)
        *cert_confs = st->cert_confs;
}
