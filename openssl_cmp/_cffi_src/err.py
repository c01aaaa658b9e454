"""The OpenSSL error queue: draining it (with data strings) and raising into it."""

INCLUDES = """
#include <openssl/err.h>
#include <openssl/bioerr.h>
#include <openssl/httperr.h>
"""

TYPES = """
static const int ERR_LIB_NONE;
static const int ERR_LIB_SYS;
static const int ERR_LIB_ASN1;
static const int ERR_LIB_BIO;
static const int ERR_LIB_X509;
static const int ERR_LIB_X509V3;
static const int ERR_LIB_PEM;
static const int ERR_LIB_EVP;
static const int ERR_LIB_HTTP;
static const int ERR_LIB_CRMF;
static const int ERR_LIB_CMP;
static const int ERR_LIB_USER;
static const int ERR_TXT_MALLOCED;
static const int ERR_TXT_STRING;

static const int CMP_R_ERROR_PROCESSING_MESSAGE;
static const int CMP_R_TRANSFER_ERROR;
static const int CMP_R_INVALID_OPTION;
static const int CMP_R_VALUE_TOO_LARGE;
static const int CMP_R_VALUE_TOO_SMALL;
static const int CMP_R_NULL_ARGUMENT;
static const int CMP_R_MULTIPLE_SAN_SOURCES;
static const int CMP_R_REQUEST_REJECTED_BY_SERVER;
static const int CMP_R_RECEIVED_ERROR;
static const int CMP_R_TOTAL_TIMEOUT;
static const int HTTP_R_RETRY_TIMEOUT;
static const int HTTP_R_TLS_NOT_ENABLED;
static const int BIO_R_TRANSFER_TIMEOUT;
static const int BIO_R_CONNECT_TIMEOUT;
static const int BIO_R_TRANSFER_ERROR;
static const int CMP_R_CHECKAFTER_OUT_OF_RANGE;
static const int CMP_R_WRONG_PBM_VALUE;
static const int CMP_R_CERTIFICATE_NOT_FOUND;
static const int CMP_R_POTENTIALLY_INVALID_CERTIFICATE;
static const int CMP_R_MISSING_PRIVATE_KEY;
static const int CMP_R_MISSING_REFERENCE_CERT;
static const int CMP_R_UNSUPPORTED_KEY_TYPE;
static const int CMP_R_CERTREQMSG_NOT_FOUND;
static const int CMP_R_NO_STDIO;
static const int CMP_R_ERROR_CREATING_CERTCONF;
static const int CMP_R_ERROR_VALIDATING_PROTECTION;
static const int CMP_R_MISSING_TRUST_STORE;
static const int CMP_R_UNEXPECTED_PKIBODY;
static const int CMP_R_PKIBODY_ERROR;
static const int CMP_R_CERTIFICATE_NOT_ACCEPTED;
static const int CMP_R_ENCOUNTERED_WAITING;
static const int CMP_R_FAIL_INFO_OUT_OF_RANGE;
static const int CMP_R_INVALID_ARGS;
static const int CMP_R_MISSING_KEY_INPUT_FOR_CREATING_PROTECTION;
static const int CMP_R_NO_SUITABLE_SENDER_CERT;
static const int CMP_R_SRVCERT_DOES_NOT_VALIDATE_MSG;
"""

FUNCTIONS = """
unsigned long ERR_get_error(void);
unsigned long ERR_get_error_all(const char **, int *, const char **, const char **, int *);
unsigned long ERR_peek_error(void);
unsigned long ERR_peek_last_error(void);
void ERR_clear_error(void);
const char *ERR_lib_error_string(unsigned long);
const char *ERR_reason_error_string(unsigned long);
void ERR_error_string_n(unsigned long, char *, size_t);
int ERR_GET_LIB(unsigned long);
int ERR_GET_REASON(unsigned long);
void ERR_new(void);
void ERR_set_debug(const char *, int, const char *);
void ERR_set_error(int, int, const char *, ...);
void ERR_add_error_data(int, ...);
int ERR_set_mark(void);
int ERR_pop_to_mark(void);
int ERR_clear_last_mark(void);
"""

CUSTOMIZATIONS = ""
