/*
 * cacerts_server.c - the CMP server of benchmarks/bench_support.py: an OSSL_CMP_SRV_CTX
 * whose genm callback answers a GENM asking for id-it-caCerts (RFC 9483 section 4.3.1)
 * with one fixed CA certificate.
 *
 * Compiled (with cacerts_loop.c) into the small cffi module that bench_support.py loads:
 * both the C loop and the Python Context reach this same server in-process through
 * OSSL_CMP_CTX_server_perform.  Only libcrypto (OpenSSL >= 3.0).
 *
 *   genm:        exactly one ITAV of type caCerts with no value, else failure (the core
 *                answers with an error message); the answer is a copy of one ITAV built
 *                at creation: caCerts = SEQUENCE OF Certificate holding the fixed cert
 *   protection:  PBM (referenceValue + secretValue on the inner OSSL_CMP_CTX)
 *   logging:     OSSL_CMP_LOG_ERR on the inner OSSL_CMP_CTX
 *   (those two: pbm_server.c, shared with fixed_server.c)
 *
 * OSSL_CMP_ITAV_new_caCerts is 3.2+; on 3.0 (which has no ASN.1 type for caCerts: the
 * value is an ANY) the ITAV holds an ASN1_TYPE with the DER SEQUENCE OF Certificate, which
 * encodes to the same bytes.  The custom ctx counts the answered GENMs, so that the
 * benchmark can check that every timed round trip went through the server.
 */
#include <stdlib.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/cmp.h>
#include <openssl/objects.h>
#include <openssl/opensslv.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "pbm_server.c"

typedef struct {
    OSSL_CMP_ITAV *answer; /* the caCerts ITAV copied into every GENP (owned) */
    long genms;            /* GENMs answered */
} cacerts_server_state;

static int cacerts_genm(OSSL_CMP_SRV_CTX *srv_ctx, const OSSL_CMP_MSG *req,
                        const STACK_OF(OSSL_CMP_ITAV) *in, STACK_OF(OSSL_CMP_ITAV) **out)
{
    cacerts_server_state *st = OSSL_CMP_SRV_CTX_get0_custom_ctx(srv_ctx);
    OSSL_CMP_ITAV *request, *itav;

    (void)req;
    *out = NULL;
    if (sk_OSSL_CMP_ITAV_num(in) != 1)
        return 0;
    request = sk_OSSL_CMP_ITAV_value(in, 0);
    if (OBJ_obj2nid(OSSL_CMP_ITAV_get0_type(request)) != NID_id_it_caCerts
        || OSSL_CMP_ITAV_get0_value(request) != NULL)
        return 0;
    /* the core frees *out after building the GENP: hand over a copy */
    if ((itav = OSSL_CMP_ITAV_dup(st->answer)) == NULL)
        return 0;
    if ((*out = sk_OSSL_CMP_ITAV_new_null()) == NULL || !sk_OSSL_CMP_ITAV_push(*out, itav)) {
        /* on failure the core does not free *out */
        OSSL_CMP_ITAV_free(itav);
        sk_OSSL_CMP_ITAV_free(*out);
        *out = NULL;
        return 0;
    }
    st->genms++;
    return 1;
}

/* id-it-caCerts holding the one certificate `cert` (not consumed); NULL on error. */
static OSSL_CMP_ITAV *cacerts_itav_new(X509 *cert)
{
#if OPENSSL_VERSION_NUMBER >= 0x30200000L
    STACK_OF(X509) *certs = sk_X509_new_null();
    OSSL_CMP_ITAV *itav = NULL;

    if (certs != NULL && sk_X509_push(certs, cert))
        itav = OSSL_CMP_ITAV_new_caCerts(certs); /* copies the certificates */
    sk_X509_free(certs);
    return itav;
#else
    int cert_len = i2d_X509(cert, NULL), total;
    unsigned char *der = NULL, *p;
    ASN1_STRING *seq = NULL;
    ASN1_TYPE *value = NULL;
    OSSL_CMP_ITAV *itav = NULL;

    if (cert_len <= 0)
        return NULL;
    total = ASN1_object_size(1, cert_len, V_ASN1_SEQUENCE);
    if (total <= 0 || (der = p = OPENSSL_malloc(total)) == NULL)
        return NULL;
    ASN1_put_object(&p, 1, cert_len, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
    if (i2d_X509(cert, &p) != cert_len)
        goto end;
    if ((seq = ASN1_STRING_type_new(V_ASN1_SEQUENCE)) == NULL
        || !ASN1_STRING_set(seq, der, total) || (value = ASN1_TYPE_new()) == NULL)
        goto end;
    ASN1_TYPE_set(value, V_ASN1_SEQUENCE, seq); /* value owns seq */
    seq = NULL;
    /* the ITAV owns value only on success */
    if ((itav = OSSL_CMP_ITAV_create(OBJ_nid2obj(NID_id_it_caCerts), value)) != NULL)
        value = NULL;
 end:
    ASN1_TYPE_free(value);
    ASN1_STRING_free(seq);
    OPENSSL_free(der);
    return itav;
#endif
}

/* A new server answering caCerts with the certificate in cert_pem; NULL on error. */
OSSL_CMP_SRV_CTX *cacerts_server_new(const char *cert_pem,
                                     const unsigned char *ref, int ref_len,
                                     const unsigned char *secret, int secret_len)
{
    OSSL_CMP_SRV_CTX *srv = NULL;
    BIO *bio = BIO_new_mem_buf(cert_pem, -1);
    X509 *cert = bio == NULL ? NULL : PEM_read_bio_X509(bio, NULL, NULL, NULL);
    cacerts_server_state *st = calloc(1, sizeof(*st));

    if (st != NULL && cert != NULL && (st->answer = cacerts_itav_new(cert)) != NULL)
        srv = bench_pbm_server_new(st, NULL, cacerts_genm, NULL, ref, ref_len,
                                   secret, secret_len);
    X509_free(cert);
    BIO_free(bio);
    if (srv == NULL && st != NULL) {
        OSSL_CMP_ITAV_free(st->answer);
        free(st);
    }
    return srv;
}

void cacerts_server_free(OSSL_CMP_SRV_CTX *srv)
{
    cacerts_server_state *st = bench_pbm_server_free(srv);

    if (st != NULL) {
        OSSL_CMP_ITAV_free(st->answer);
        free(st);
    }
}

/* GENMs answered since creation. */
long cacerts_server_genms(OSSL_CMP_SRV_CTX *srv)
{
    return ((cacerts_server_state *)OSSL_CMP_SRV_CTX_get0_custom_ctx(srv))->genms;
}
