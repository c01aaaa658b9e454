/*
 * pbm_server.c - what the benchmarks' C servers (fixed_server.c, cacerts_server.c) share:
 * an OSSL_CMP_SRV_CTX with a custom ctx and callbacks, PBM-protected (referenceValue +
 * secretValue on the inner OSSL_CMP_CTX), log verbosity OSSL_CMP_LOG_ERR.
 */
#ifndef BENCH_PBM_SERVER_C
#define BENCH_PBM_SERVER_C
#include <openssl/cmp.h>

/* A new server whose custom ctx is `st` (not owned); NULL on error. */
static OSSL_CMP_SRV_CTX *bench_pbm_server_new(void *st,
                                              OSSL_CMP_SRV_cert_request_cb_t cert_request,
                                              OSSL_CMP_SRV_genm_cb_t genm,
                                              OSSL_CMP_SRV_certConf_cb_t cert_conf,
                                              const unsigned char *ref, int ref_len,
                                              const unsigned char *secret, int secret_len)
{
    OSSL_CMP_SRV_CTX *srv = OSSL_CMP_SRV_CTX_new(NULL, NULL);
    OSSL_CMP_CTX *inner;

    if (srv == NULL
        || !OSSL_CMP_SRV_CTX_init(srv, st, cert_request, NULL, genm, NULL, cert_conf, NULL))
        goto err;
    inner = OSSL_CMP_SRV_CTX_get0_cmp_ctx(srv);
    if (!OSSL_CMP_CTX_set_option(inner, OSSL_CMP_OPT_LOG_VERBOSITY, OSSL_CMP_LOG_ERR)
        || !OSSL_CMP_CTX_set1_referenceValue(inner, ref, ref_len)
        || !OSSL_CMP_CTX_set1_secretValue(inner, secret, secret_len))
        goto err;
    return srv;
 err:
    OSSL_CMP_SRV_CTX_free(srv);
    return NULL;
}

/* Free `srv` (may be NULL); returns its custom ctx, for the caller to free. */
static void *bench_pbm_server_free(OSSL_CMP_SRV_CTX *srv)
{
    void *st = srv == NULL ? NULL : OSSL_CMP_SRV_CTX_get0_custom_ctx(srv);

    OSSL_CMP_SRV_CTX_free(srv);
    return st;
}
#endif
