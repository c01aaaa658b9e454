"""Client sessions: certificate requests (ir/cr/p10cr/kur), polling, revocation, genm."""

INCLUDES = ""

TYPES = """
static const int OSSL_CMP_IR;
static const int OSSL_CMP_CR;
static const int OSSL_CMP_P10CR;
static const int OSSL_CMP_KUR;
"""

FUNCTIONS = """
X509 *OSSL_CMP_exec_certreq(OSSL_CMP_CTX *, int, const OSSL_CRMF_MSG *);
/* the four macros around exec_certreq, callable in API mode */
X509 *OSSL_CMP_exec_IR_ses(OSSL_CMP_CTX *);
X509 *OSSL_CMP_exec_CR_ses(OSSL_CMP_CTX *);
X509 *OSSL_CMP_exec_P10CR_ses(OSSL_CMP_CTX *);
X509 *OSSL_CMP_exec_KUR_ses(OSSL_CMP_CTX *);
int OSSL_CMP_try_certreq(OSSL_CMP_CTX *, int, const OSSL_CRMF_MSG *, int *);
int OSSL_CMP_exec_RR_ses(OSSL_CMP_CTX *);
OCMP_STACK_OF_OSSL_CMP_ITAV *OSSL_CMP_exec_GENM_ses(OSSL_CMP_CTX *);

/* transfer */
OSSL_CMP_MSG *OSSL_CMP_MSG_http_perform(OSSL_CMP_CTX *, const OSSL_CMP_MSG *);
int OSSL_CMP_MSG_update_transactionID(OSSL_CMP_CTX *, OSSL_CMP_MSG *);
"""

CUSTOMIZATIONS = ""
