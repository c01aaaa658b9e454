"""OSSL_CMP_CTX: every function and macro of the OSSL_CMP_CTX man page present in 3.0.0
(the later ones are in :mod:`gated`), and the ``OSSL_CMP_OPT_*`` options of 3.0."""

INCLUDES = ""

TYPES = """
typedef ... OSSL_CMP_CTX;
typedef BIO *(*OSSL_HTTP_bio_cb_t)(BIO *, void *, int, int);
typedef OSSL_CMP_MSG *(*OSSL_CMP_transfer_cb_t)(OSSL_CMP_CTX *, const OSSL_CMP_MSG *);
typedef int (*OSSL_CMP_certConf_cb_t)(OSSL_CMP_CTX *, X509 *, int, const char **);

static const int OSSL_CMP_OPT_LOG_VERBOSITY;
static const int OSSL_CMP_OPT_KEEP_ALIVE;
static const int OSSL_CMP_OPT_MSG_TIMEOUT;
static const int OSSL_CMP_OPT_TOTAL_TIMEOUT;
static const int OSSL_CMP_OPT_VALIDITY_DAYS;
static const int OSSL_CMP_OPT_SUBJECTALTNAME_NODEFAULT;
static const int OSSL_CMP_OPT_SUBJECTALTNAME_CRITICAL;
static const int OSSL_CMP_OPT_POLICIES_CRITICAL;
static const int OSSL_CMP_OPT_POPO_METHOD;
static const int OSSL_CMP_OPT_IMPLICIT_CONFIRM;
static const int OSSL_CMP_OPT_DISABLE_CONFIRM;
static const int OSSL_CMP_OPT_REVOCATION_REASON;
static const int OSSL_CMP_OPT_UNPROTECTED_SEND;
static const int OSSL_CMP_OPT_UNPROTECTED_ERRORS;
static const int OSSL_CMP_OPT_OWF_ALGNID;
static const int OSSL_CMP_OPT_MAC_ALGNID;
static const int OSSL_CMP_OPT_DIGEST_ALGNID;
static const int OSSL_CMP_OPT_IGNORE_KEYUSAGE;
static const int OSSL_CMP_OPT_PERMIT_TA_IN_EXTRACERTS_FOR_IR;
"""

FUNCTIONS = """
OSSL_CMP_CTX *OSSL_CMP_CTX_new(OSSL_LIB_CTX *, const char *);
void OSSL_CMP_CTX_free(OSSL_CMP_CTX *);
int OSSL_CMP_CTX_reinit(OSSL_CMP_CTX *);
int OSSL_CMP_CTX_set_option(OSSL_CMP_CTX *, int, int);
int OSSL_CMP_CTX_get_option(const OSSL_CMP_CTX *, int);

/* logging and error reporting */
int OSSL_CMP_CTX_set_log_cb(OSSL_CMP_CTX *, OSSL_CMP_log_cb_t);
int OSSL_CMP_CTX_set_log_verbosity(OSSL_CMP_CTX *, int);   /* a macro */
void OSSL_CMP_CTX_print_errors(const OSSL_CMP_CTX *);

/* message transfer */
int OSSL_CMP_CTX_set1_serverPath(OSSL_CMP_CTX *, const char *);
int OSSL_CMP_CTX_set1_server(OSSL_CMP_CTX *, const char *);
int OSSL_CMP_CTX_set_serverPort(OSSL_CMP_CTX *, int);
int OSSL_CMP_CTX_set1_proxy(OSSL_CMP_CTX *, const char *);
int OSSL_CMP_CTX_set1_no_proxy(OSSL_CMP_CTX *, const char *);
int OSSL_CMP_CTX_set_http_cb(OSSL_CMP_CTX *, OSSL_HTTP_bio_cb_t);
int OSSL_CMP_CTX_set_http_cb_arg(OSSL_CMP_CTX *, void *);
void *OSSL_CMP_CTX_get_http_cb_arg(const OSSL_CMP_CTX *);
int OSSL_CMP_CTX_set_transfer_cb(OSSL_CMP_CTX *, OSSL_CMP_transfer_cb_t);
int OSSL_CMP_CTX_set_transfer_cb_arg(OSSL_CMP_CTX *, void *);
void *OSSL_CMP_CTX_get_transfer_cb_arg(const OSSL_CMP_CTX *);

/* server authentication */
int OSSL_CMP_CTX_set1_srvCert(OSSL_CMP_CTX *, X509 *);
int OSSL_CMP_CTX_set1_expected_sender(OSSL_CMP_CTX *, const X509_NAME *);
int OSSL_CMP_CTX_set0_trustedStore(OSSL_CMP_CTX *, X509_STORE *);
X509_STORE *OSSL_CMP_CTX_get0_trustedStore(const OSSL_CMP_CTX *);
int OSSL_CMP_CTX_set1_untrusted(OSSL_CMP_CTX *, OCMP_STACK_OF_X509 *);
OCMP_STACK_OF_X509 *OSSL_CMP_CTX_get0_untrusted(const OSSL_CMP_CTX *);

/* client authentication */
int OSSL_CMP_CTX_set1_cert(OSSL_CMP_CTX *, X509 *);
int OSSL_CMP_CTX_build_cert_chain(OSSL_CMP_CTX *, X509_STORE *, OCMP_STACK_OF_X509 *);
int OSSL_CMP_CTX_set1_pkey(OSSL_CMP_CTX *, EVP_PKEY *);
int OSSL_CMP_CTX_set1_referenceValue(OSSL_CMP_CTX *, const unsigned char *, int);
int OSSL_CMP_CTX_set1_secretValue(OSSL_CMP_CTX *, const unsigned char *, int);

/* message header and extra certificates */
int OSSL_CMP_CTX_set1_recipient(OSSL_CMP_CTX *, const X509_NAME *);
int OSSL_CMP_CTX_push0_geninfo_ITAV(OSSL_CMP_CTX *, OSSL_CMP_ITAV *);
int OSSL_CMP_CTX_set1_extraCertsOut(OSSL_CMP_CTX *, OCMP_STACK_OF_X509 *);

/* certificate template */
int OSSL_CMP_CTX_set0_newPkey(OSSL_CMP_CTX *, int, EVP_PKEY *);
EVP_PKEY *OSSL_CMP_CTX_get0_newPkey(const OSSL_CMP_CTX *, int);
int OSSL_CMP_CTX_set1_issuer(OSSL_CMP_CTX *, const X509_NAME *);
int OSSL_CMP_CTX_set1_subjectName(OSSL_CMP_CTX *, const X509_NAME *);
int OSSL_CMP_CTX_push1_subjectAltName(OSSL_CMP_CTX *, const GENERAL_NAME *);
int OSSL_CMP_CTX_set0_reqExtensions(OSSL_CMP_CTX *, X509_EXTENSIONS *);
int OSSL_CMP_CTX_reqExtensions_have_SAN(OSSL_CMP_CTX *);
int OSSL_CMP_CTX_push0_policy(OSSL_CMP_CTX *, POLICYINFO *);
int OSSL_CMP_CTX_set1_oldCert(OSSL_CMP_CTX *, X509 *);
int OSSL_CMP_CTX_set1_p10CSR(OSSL_CMP_CTX *, const X509_REQ *);

/* misc body contents */
int OSSL_CMP_CTX_push0_genm_ITAV(OSSL_CMP_CTX *, OSSL_CMP_ITAV *);

/* certificate confirmation */
int OSSL_CMP_certConf_cb(OSSL_CMP_CTX *, X509 *, int, const char **);
int OSSL_CMP_CTX_set_certConf_cb(OSSL_CMP_CTX *, OSSL_CMP_certConf_cb_t);
int OSSL_CMP_CTX_set_certConf_cb_arg(OSSL_CMP_CTX *, void *);
void *OSSL_CMP_CTX_get_certConf_cb_arg(const OSSL_CMP_CTX *);

/* result fetching */
int OSSL_CMP_CTX_get_status(const OSSL_CMP_CTX *);
OSSL_CMP_PKIFREETEXT *OSSL_CMP_CTX_get0_statusString(const OSSL_CMP_CTX *);
int OSSL_CMP_CTX_get_failInfoCode(const OSSL_CMP_CTX *);
X509 *OSSL_CMP_CTX_get0_newCert(const OSSL_CMP_CTX *);
OCMP_STACK_OF_X509 *OSSL_CMP_CTX_get1_newChain(const OSSL_CMP_CTX *);
OCMP_STACK_OF_X509 *OSSL_CMP_CTX_get1_caPubs(const OSSL_CMP_CTX *);
OCMP_STACK_OF_X509 *OSSL_CMP_CTX_get1_extraCertsIn(const OSSL_CMP_CTX *);

/* for testing and debugging */
int OSSL_CMP_CTX_set1_transactionID(OSSL_CMP_CTX *, const ASN1_OCTET_STRING *);
int OSSL_CMP_CTX_set1_senderNonce(OSSL_CMP_CTX *, const ASN1_OCTET_STRING *);

/* helpers beside the context */
OSSL_CRMF_MSG *OSSL_CMP_CTX_setup_CRM(OSSL_CMP_CTX *, int, int);
char *OSSL_CMP_CTX_snprint_PKIStatus(const OSSL_CMP_CTX *, char *, size_t);
"""

CUSTOMIZATIONS = ""
