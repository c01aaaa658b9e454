"""The CMP server: OSSL_CMP_SRV_CTX, its six callbacks and the in-process transfer."""

INCLUDES = ""

TYPES = """
typedef ... OSSL_CMP_SRV_CTX;
typedef OSSL_CMP_PKISI *(*OSSL_CMP_SRV_cert_request_cb_t)(
    OSSL_CMP_SRV_CTX *, const OSSL_CMP_MSG *, int, const OSSL_CRMF_MSG *, const X509_REQ *,
    X509 **, OCMP_STACK_OF_X509 **, OCMP_STACK_OF_X509 **);
typedef OSSL_CMP_PKISI *(*OSSL_CMP_SRV_rr_cb_t)(
    OSSL_CMP_SRV_CTX *, const OSSL_CMP_MSG *, const X509_NAME *, const ASN1_INTEGER *);
typedef int (*OSSL_CMP_SRV_genm_cb_t)(
    OSSL_CMP_SRV_CTX *, const OSSL_CMP_MSG *, const OCMP_STACK_OF_OSSL_CMP_ITAV *,
    OCMP_STACK_OF_OSSL_CMP_ITAV **);
typedef void (*OSSL_CMP_SRV_error_cb_t)(
    OSSL_CMP_SRV_CTX *, const OSSL_CMP_MSG *, const OSSL_CMP_PKISI *, const ASN1_INTEGER *,
    const OSSL_CMP_PKIFREETEXT *);
typedef int (*OSSL_CMP_SRV_certConf_cb_t)(
    OSSL_CMP_SRV_CTX *, const OSSL_CMP_MSG *, int, const ASN1_OCTET_STRING *,
    const OSSL_CMP_PKISI *);
typedef int (*OSSL_CMP_SRV_pollReq_cb_t)(
    OSSL_CMP_SRV_CTX *, const OSSL_CMP_MSG *, int, OSSL_CMP_MSG **, int64_t *);
"""

FUNCTIONS = """
OSSL_CMP_SRV_CTX *OSSL_CMP_SRV_CTX_new(OSSL_LIB_CTX *, const char *);
void OSSL_CMP_SRV_CTX_free(OSSL_CMP_SRV_CTX *);
int OSSL_CMP_SRV_CTX_init(OSSL_CMP_SRV_CTX *, void *, OSSL_CMP_SRV_cert_request_cb_t,
                          OSSL_CMP_SRV_rr_cb_t, OSSL_CMP_SRV_genm_cb_t,
                          OSSL_CMP_SRV_error_cb_t, OSSL_CMP_SRV_certConf_cb_t,
                          OSSL_CMP_SRV_pollReq_cb_t);
OSSL_CMP_CTX *OSSL_CMP_SRV_CTX_get0_cmp_ctx(const OSSL_CMP_SRV_CTX *);
void *OSSL_CMP_SRV_CTX_get0_custom_ctx(const OSSL_CMP_SRV_CTX *);
int OSSL_CMP_SRV_CTX_set_send_unprotected_errors(OSSL_CMP_SRV_CTX *, int);
int OSSL_CMP_SRV_CTX_set_accept_unprotected(OSSL_CMP_SRV_CTX *, int);
int OSSL_CMP_SRV_CTX_set_accept_raverified(OSSL_CMP_SRV_CTX *, int);
int OSSL_CMP_SRV_CTX_set_grant_implicit_confirm(OSSL_CMP_SRV_CTX *, int);
OSSL_CMP_MSG *OSSL_CMP_SRV_process_request(OSSL_CMP_SRV_CTX *, const OSSL_CMP_MSG *);
OSSL_CMP_MSG *OSSL_CMP_CTX_server_perform(OSSL_CMP_CTX *, const OSSL_CMP_MSG *);
/* the server's signer search on OpenSSL < 3.2 (openssl_cmp/_signer.py) matches the
   senderKID against this, as the core's cert_acceptable does */
const ASN1_OCTET_STRING *X509_get0_subject_key_id(X509 *);
"""

CUSTOMIZATIONS = ""
