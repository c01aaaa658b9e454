"""Certificate path verification: a store's verification parameters, its verify and CRL
lookup callbacks, and the OCSP client functions revocation checking uses (all in 3.0).

The verify callback every ``TrustStore`` gets, ``ocmp_verify_cb``, is written in C so that a
store without revocation state never enters Python (servers verify requests with the GIL
released).  It puts the reason of a failed verification ("certificate revoked", "certificate
has expired") on the error queue: OpenSSL's CMP client otherwise only says "no suitable
sender cert".  For a store that carries revocation state (an ``ex_data`` key, see
``openssl_cmp.revocation``) it first asks ``ocmp_revocation_verify_cb`` (OCSP, fail-open).

The state key is a small integer stored as the ``ex_data`` pointer, never a Python handle: a
key that outlives its state finds nothing and fails closed.  Its low bit is set when the
state needs the verify callback, so stores with only a purpose recorded stay in C.  Freeing a store that has a key
calls ``ocmp_revocation_free_cb`` so Python drops the state; stores without one never call
into Python when freed.
"""

INCLUDES = """
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <openssl/ocsp.h>
typedef STACK_OF(OPENSSL_STRING) OCMP_STACK_OF_OPENSSL_STRING;
"""

TYPES = """
typedef int... time_t;
typedef ... X509_VERIFY_PARAM;
typedef ... X509_PURPOSE;
typedef ... OCSP_REQUEST;
typedef ... OCSP_RESPONSE;
typedef ... OCSP_BASICRESP;
typedef ... OCSP_CERTID;
typedef ... OCSP_ONEREQ;
typedef struct asn1_string_st ASN1_GENERALIZEDTIME;
typedef struct stack_st_OPENSSL_STRING OCMP_STACK_OF_OPENSSL_STRING;
typedef int (*X509_STORE_CTX_verify_cb)(int, X509_STORE_CTX *);
typedef OCMP_STACK_OF_X509_CRL *(*X509_STORE_CTX_lookup_crls_fn)(const X509_STORE_CTX *,
                                                                 const X509_NAME *);

static const int X509_V_OK;
static const int X509_V_ERR_UNSPECIFIED;
static const int X509_V_ERR_UNABLE_TO_GET_CRL;
static const int X509_V_ERR_CERT_HAS_EXPIRED;
static const int X509_V_ERR_CERT_REVOKED;
static const int X509_V_ERR_OCSP_VERIFY_NEEDED;
static const int X509_V_ERR_OCSP_VERIFY_FAILED;
static const int X509_V_ERR_OCSP_CERT_UNKNOWN;
static const int X509_V_FLAG_USE_CHECK_TIME;
static const int X509_V_FLAG_CRL_CHECK_ALL;
static const int X509_R_CERTIFICATE_VERIFICATION_FAILED;
static const int ERR_LIB_X509;
static const int ERR_LIB_OCSP;
static const int V_OCSP_CERTSTATUS_GOOD;
static const int V_OCSP_CERTSTATUS_REVOKED;
static const int V_OCSP_CERTSTATUS_UNKNOWN;
static const int OCSP_RESPONSE_STATUS_SUCCESSFUL;
"""

FUNCTIONS = """
/* verification parameters of a store */
X509_VERIFY_PARAM *X509_STORE_get0_param(const X509_STORE *);
int X509_VERIFY_PARAM_set_flags(X509_VERIFY_PARAM *, unsigned long);
int X509_VERIFY_PARAM_clear_flags(X509_VERIFY_PARAM *, unsigned long);
unsigned long X509_VERIFY_PARAM_get_flags(const X509_VERIFY_PARAM *);
void X509_VERIFY_PARAM_set_time(X509_VERIFY_PARAM *, time_t);
time_t X509_VERIFY_PARAM_get_time(const X509_VERIFY_PARAM *);
void X509_VERIFY_PARAM_set_depth(X509_VERIFY_PARAM *, int);
int X509_VERIFY_PARAM_get_depth(const X509_VERIFY_PARAM *);
int X509_VERIFY_PARAM_set_purpose(X509_VERIFY_PARAM *, int);
int X509_VERIFY_PARAM_set1(X509_VERIFY_PARAM *, const X509_VERIFY_PARAM *);
int X509_PURPOSE_get_by_sname(const char *);
X509_PURPOSE *X509_PURPOSE_get0(int);
int X509_PURPOSE_get_id(const X509_PURPOSE *);

/* the verification in progress (inside callbacks) */
void X509_STORE_set_verify_cb(X509_STORE *, X509_STORE_CTX_verify_cb);
void X509_STORE_set_lookup_crls(X509_STORE *, X509_STORE_CTX_lookup_crls_fn);
int X509_STORE_set_ex_data(X509_STORE *, int, void *);
void *X509_STORE_get_ex_data(const X509_STORE *, int);
X509_STORE *X509_STORE_CTX_get0_store(const X509_STORE_CTX *);
X509 *X509_STORE_CTX_get_current_cert(const X509_STORE_CTX *);
int X509_STORE_CTX_get_error(const X509_STORE_CTX *);
void X509_STORE_CTX_set_error(X509_STORE_CTX *, int);
int X509_STORE_CTX_get_error_depth(const X509_STORE_CTX *);
OCMP_STACK_OF_X509 *X509_STORE_CTX_get0_chain(const X509_STORE_CTX *);
OCMP_STACK_OF_X509_CRL *X509_STORE_CTX_get1_crls(const X509_STORE_CTX *, const X509_NAME *);
const char *X509_verify_cert_error_string(long);
int X509_CRL_cmp(const X509_CRL *, const X509_CRL *);

/* OCSP client (RFC 6960) */
OCMP_STACK_OF_OPENSSL_STRING *X509_get1_ocsp(X509 *);
void X509_email_free(OCMP_STACK_OF_OPENSSL_STRING *);
int sk_OPENSSL_STRING_num(const OCMP_STACK_OF_OPENSSL_STRING *);
char *sk_OPENSSL_STRING_value(const OCMP_STACK_OF_OPENSSL_STRING *, int);
OCSP_CERTID *OCSP_cert_to_id(const EVP_MD *, const X509 *, const X509 *);
void OCSP_CERTID_free(OCSP_CERTID *);
OCSP_REQUEST *OCSP_REQUEST_new(void);
void OCSP_REQUEST_free(OCSP_REQUEST *);
OCSP_ONEREQ *OCSP_request_add0_id(OCSP_REQUEST *, OCSP_CERTID *);
int OCSP_request_add1_nonce(OCSP_REQUEST *, unsigned char *, int);
int i2d_OCSP_REQUEST(const OCSP_REQUEST *, unsigned char **);
OCSP_RESPONSE *d2i_OCSP_RESPONSE(OCSP_RESPONSE **, const unsigned char **, long);
void OCSP_RESPONSE_free(OCSP_RESPONSE *);
int OCSP_response_status(OCSP_RESPONSE *);
const char *OCSP_response_status_str(long);
OCSP_BASICRESP *OCSP_response_get1_basic(OCSP_RESPONSE *);
void OCSP_BASICRESP_free(OCSP_BASICRESP *);
int OCSP_check_nonce(OCSP_REQUEST *, OCSP_BASICRESP *);
int OCSP_basic_verify(OCSP_BASICRESP *, OCMP_STACK_OF_X509 *, X509_STORE *, unsigned long);
int OCSP_resp_find_status(OCSP_BASICRESP *, OCSP_CERTID *, int *, int *,
                          ASN1_GENERALIZEDTIME **, ASN1_GENERALIZEDTIME **,
                          ASN1_GENERALIZEDTIME **);
int OCSP_check_validity(ASN1_GENERALIZEDTIME *, ASN1_GENERALIZEDTIME *, long, long);
const char *OCSP_crl_reason_str(long);

/* ours (see the module docstring) */
int ocmp_verify_state_index(void);
void ocmp_store_install_verify_cb(X509_STORE *);
char *ocmp_crldp_uri(const X509 *, int);
int ocmp_take_verify_failure(char *, char *);

extern "Python" {
    int ocmp_revocation_verify_cb(int, X509_STORE_CTX *);
    OCMP_STACK_OF_X509_CRL *ocmp_revocation_lookup_crls_cb(const X509_STORE_CTX *,
                                                           const X509_NAME *);
    void ocmp_revocation_free_cb(void *);
}
"""

CUSTOMIZATIONS = """
/* defined by cffi further down (extern "Python"); declared here for the C callers */
static int ocmp_revocation_verify_cb(int, X509_STORE_CTX *);
static void ocmp_revocation_free_cb(void *);

static int ocmp_state_index = -1;

static void ocmp_state_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
                            void *argp)
{
    (void)parent; (void)ad; (void)idx; (void)argl; (void)argp;
    if (ptr != NULL)  /* only stores that carry a key cost a call into Python */
        ocmp_revocation_free_cb(ptr);
}

/* The ex_data index of the revocation-state key (allocated once, at import, under the GIL). */
static int ocmp_verify_state_index(void)
{
    if (ocmp_state_index < 0)
        ocmp_state_index = X509_STORE_get_ex_new_index(0, NULL, NULL, NULL, ocmp_state_free);
    return ocmp_state_index;
}

/* The last failed verification of this thread: OpenSSL's CMP client prints the verify error
   to its log and drops it from the queue, so the Python error hint reads it here. */
static _Thread_local char ocmp_failure_reason[512];
static _Thread_local char ocmp_failure_leaf[256];

static int ocmp_verify_cb(int ok, X509_STORE_CTX *ctx)
{
    X509_STORE *store = X509_STORE_CTX_get0_store(ctx);

    /* the key's low bit says the state has work for the verify callback (OCSP, fail-open) */
    if (store != NULL && ocmp_state_index >= 0
            && ((uintptr_t)X509_STORE_get_ex_data(store, ocmp_state_index) & 1) != 0)
        ok = ocmp_revocation_verify_cb(ok, ctx);
    if (!ok) {
        int err = X509_STORE_CTX_get_error(ctx);
        int depth = X509_STORE_CTX_get_error_depth(ctx);
        X509 *cert = X509_STORE_CTX_get_current_cert(ctx);
        STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
        X509 *leaf = sk_X509_num(chain) > 0 ? sk_X509_value(chain, 0) : cert;
        char *subject = cert == NULL ? NULL
            : X509_NAME_oneline(X509_get_subject_name(cert), NULL, 0);

        snprintf(ocmp_failure_reason, sizeof(ocmp_failure_reason), "%s (depth %d%s%s)",
                 X509_verify_cert_error_string(err), depth,
                 subject == NULL ? "" : ", subject ", subject == NULL ? "" : subject);
        ocmp_failure_leaf[0] = '\\0';
        if (leaf != NULL)
            X509_NAME_oneline(X509_get_subject_name(leaf), ocmp_failure_leaf,
                              sizeof(ocmp_failure_leaf));
        ERR_raise_data(ERR_LIB_X509, X509_R_CERTIFICATE_VERIFICATION_FAILED, "%s",
                       ocmp_failure_reason);
        OPENSSL_free(subject);
    }
    return ok;
}

/* Copy the last failure of this thread into reason/leaf (each at least 512 bytes) and
   forget it; returns 0 when there was none. */
static int ocmp_take_verify_failure(char *reason, char *leaf)
{
    if (ocmp_failure_reason[0] == '\\0')
        return 0;
    memcpy(reason, ocmp_failure_reason, sizeof(ocmp_failure_reason));
    memcpy(leaf, ocmp_failure_leaf, sizeof(ocmp_failure_leaf));
    ocmp_failure_reason[0] = ocmp_failure_leaf[0] = '\\0';
    return 1;
}

static void ocmp_store_install_verify_cb(X509_STORE *store)
{
    X509_STORE_set_verify_cb(store, ocmp_verify_cb);
}

/* The i-th (0-based) URI among the fullName entries of the certificate's CRL distribution
   points, NUL-terminated, for OPENSSL_free; NULL when there is none (a malformed extension
   counts as none, and leaves nothing on the error queue). */
static char *ocmp_crldp_uri(const X509 *x, int i)
{
    STACK_OF(DIST_POINT) *dps;
    char *res = NULL;
    int j, k, n = 0;

    ERR_set_mark();
    dps = X509_get_ext_d2i(x, NID_crl_distribution_points, NULL, NULL);
    ERR_pop_to_mark();
    for (j = 0; res == NULL && j < sk_DIST_POINT_num(dps); j++) {
        DIST_POINT *dp = sk_DIST_POINT_value(dps, j);

        if (dp->distpoint == NULL || dp->distpoint->type != 0)
            continue;
        for (k = 0; k < sk_GENERAL_NAME_num(dp->distpoint->name.fullname); k++) {
            GENERAL_NAME *gen = sk_GENERAL_NAME_value(dp->distpoint->name.fullname, k);
            ASN1_IA5STRING *uri;

            if (gen->type != GEN_URI || n++ != i)
                continue;
            uri = gen->d.uniformResourceIdentifier;
            res = OPENSSL_strndup((const char *)uri->data, uri->length);
            if (res != NULL && (int)strlen(res) != uri->length) {  /* embedded NUL */
                OPENSSL_free(res);
                res = OPENSSL_strdup("");
            }
            break;
        }
    }
    sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
    return res;
}
"""
