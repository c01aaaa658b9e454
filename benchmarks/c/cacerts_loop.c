/*
 * cacerts_loop.c - the C client loop of benchmarks/bench_support.py: get the CA
 * certificates (GENM id-it-caCerts, RFC 9483 section 4.3.1), one round trip per iteration
 * through a fresh OSSL_CMP_CTX.
 *
 * Each iteration: new, log verbosity ERR, PBM reference + secret, in-process transfer to the
 * server (OSSL_CMP_CTX_server_perform), get the CA certificates, check them, free.  This is
 * exactly what the Python side does through openssl_cmp.Context and ctx.get_ca_certs():
 *
 *   OpenSSL 3.2+: OSSL_CMP_get1_caCerts (which checks that the context is fresh, picks the
 *                 first caCerts ITAV and checks each certificate's validity period and CA
 *                 flag);
 *   OpenSSL 3.0:  what openssl_cmp.support does there: the context must be fresh, push a
 *                 caCerts ITAV without value, OSSL_CMP_exec_GENM_ses, take the first ITAV of
 *                 type caCerts, decode its value (an ANY: the DER SEQUENCE OF Certificate),
 *                 check each certificate (within its validity period; a v3 one must be a
 *                 CA certificate).
 *
 * Then the result must be exactly one certificate, equal to `expected`.  Timing is left to
 * the caller (one call runs n round trips).
 */
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/cmp.h>
#include <openssl/objects.h>
#include <openssl/opensslv.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#if OPENSSL_VERSION_NUMBER < 0x30200000L
/* The certificates of a caCerts value (an ASN1_TYPE holding a DER SEQUENCE OF Certificate;
 * NULL: absent, an empty stack); NULL on a decoding error. */
static STACK_OF(X509) *cacerts_decode(const ASN1_TYPE *value)
{
    STACK_OF(X509) *certs = sk_X509_new_null();
    const unsigned char *p, *end;
    long len;
    int tag, xclass;

    if (certs == NULL || value == NULL)
        return certs;
    if (value->type != V_ASN1_SEQUENCE)
        goto err;
    p = ASN1_STRING_get0_data(value->value.sequence);
    if ((ASN1_get_object(&p, &len, &tag, &xclass, ASN1_STRING_length(value->value.sequence))
         & 0x80) != 0 || tag != V_ASN1_SEQUENCE || xclass != V_ASN1_UNIVERSAL)
        goto err;
    for (end = p + len; p < end;) {
        X509 *cert = d2i_X509(NULL, &p, end - p);

        if (cert == NULL || !sk_X509_push(certs, cert)) {
            X509_free(cert);
            goto err;
        }
    }
    return certs;
 err:
    sk_X509_pop_free(certs, X509_free);
    return NULL;
}

/* The 3.0 path: see the top of the file.  *out gets the certificates (caller frees). */
static int cacerts_get(OSSL_CMP_CTX *ctx, STACK_OF(X509) **out)
{
    STACK_OF(OSSL_CMP_ITAV) *itavs;
    OSSL_CMP_ITAV *req, *itav = NULL;
    int i, ok = 1;

    *out = NULL;
    if (OSSL_CMP_CTX_get_status(ctx) != OSSL_CMP_PKISTATUS_unspecified)
        return 0;
    if ((req = OSSL_CMP_ITAV_create(OBJ_nid2obj(NID_id_it_caCerts), NULL)) == NULL)
        return 0;
    if (!OSSL_CMP_CTX_push0_genm_ITAV(ctx, req)) {
        OSSL_CMP_ITAV_free(req);
        return 0;
    }
    if ((itavs = OSSL_CMP_exec_GENM_ses(ctx)) == NULL)
        return 0;
    for (i = 0; i < sk_OSSL_CMP_ITAV_num(itavs) && itav == NULL; i++)
        if (OBJ_obj2nid(OSSL_CMP_ITAV_get0_type(sk_OSSL_CMP_ITAV_value(itavs, i)))
            == NID_id_it_caCerts)
            itav = sk_OSSL_CMP_ITAV_value(itavs, i);
    if (itav == NULL || (*out = cacerts_decode(OSSL_CMP_ITAV_get0_value(itav))) == NULL)
        ok = 0;
    for (i = 0; ok && i < sk_X509_num(*out); i++) {
        X509 *cert = sk_X509_value(*out, i);

        ok = X509_cmp_timeframe(NULL, X509_get0_notBefore(cert), X509_get0_notAfter(cert)) == 0
            && (X509_get_version(cert) < 2 || X509_check_ca(cert) != 0);
    }
    sk_OSSL_CMP_ITAV_pop_free(itavs, OSSL_CMP_ITAV_free);
    return ok;
}
#else
static int cacerts_get(OSSL_CMP_CTX *ctx, STACK_OF(X509) **out)
{
    return OSSL_CMP_get1_caCerts(ctx, out);
}
#endif

/*
 * n round trips to `srv`; returns how many succeeded (exactly one CA certificate returned,
 * equal to the one in expected_pem), or -1 when expected_pem cannot be loaded.
 */
int cacerts_c_run(OSSL_CMP_SRV_CTX *srv, const char *expected_pem,
                  const unsigned char *ref, int ref_len,
                  const unsigned char *secret, int secret_len, int n)
{
    BIO *bio = BIO_new_mem_buf(expected_pem, -1);
    X509 *expected = bio == NULL ? NULL : PEM_read_bio_X509(bio, NULL, NULL, NULL);
    int i, ok = 0;

    BIO_free(bio);
    if (expected == NULL)
        return -1;
    for (i = 0; i < n; i++) {
        OSSL_CMP_CTX *ctx;
        STACK_OF(X509) *certs = NULL;

        if ((ctx = OSSL_CMP_CTX_new(NULL, NULL)) == NULL)
            continue;
        if (OSSL_CMP_CTX_set_option(ctx, OSSL_CMP_OPT_LOG_VERBOSITY, OSSL_CMP_LOG_ERR)
            && OSSL_CMP_CTX_set1_referenceValue(ctx, ref, ref_len)
            && OSSL_CMP_CTX_set1_secretValue(ctx, secret, secret_len)
            && OSSL_CMP_CTX_set_transfer_cb_arg(ctx, srv)
            && OSSL_CMP_CTX_set_transfer_cb(ctx, OSSL_CMP_CTX_server_perform)
            && cacerts_get(ctx, &certs)
            && sk_X509_num(certs) == 1 && X509_cmp(sk_X509_value(certs, 0), expected) == 0)
            ok++;
        sk_X509_pop_free(certs, X509_free);
        OSSL_CMP_CTX_free(ctx);
    }
    X509_free(expected);
    return ok;
}
