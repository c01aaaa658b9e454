"""Types shared by every area: library context, ASN.1 strings, stacks, version, memory."""

INCLUDES = """
/* ocmp_pkey_from_ec_spki uses the legacy EC_KEY API on purpose (see evp.py) */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <string.h>
#include <openssl/opensslv.h>
#include <openssl/crypto.h>
#include <openssl/safestack.h>
#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/bn.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/pem.h>
#include <openssl/http.h>
#include <openssl/crmf.h>
#include <openssl/cmp.h>
#include <openssl/cmp_util.h>
#include <openssl/cmperr.h>
#include <openssl/crmferr.h>

/* cffi cannot spell STACK_OF(T); these aliases name the same C types. */
typedef STACK_OF(X509) OCMP_STACK_OF_X509;
typedef STACK_OF(X509_CRL) OCMP_STACK_OF_X509_CRL;
typedef STACK_OF(X509_OBJECT) OCMP_STACK_OF_X509_OBJECT;
typedef STACK_OF(X509_EXTENSION) OCMP_STACK_OF_X509_EXTENSION;
typedef STACK_OF(GENERAL_NAME) OCMP_STACK_OF_GENERAL_NAME;
typedef STACK_OF(ASN1_UTF8STRING) OCMP_STACK_OF_ASN1_UTF8STRING;
typedef STACK_OF(OSSL_CMP_ITAV) OCMP_STACK_OF_OSSL_CMP_ITAV;
"""

TYPES = """
typedef ... OSSL_LIB_CTX;
typedef ... ASN1_ITEM;
typedef ... ASN1_OBJECT;
typedef ... ASN1_TYPE;
typedef ... BIGNUM;

struct asn1_string_st {
    int length;
    int type;
    unsigned char *data;
    ...;
};
typedef struct asn1_string_st ASN1_STRING;
typedef struct asn1_string_st ASN1_INTEGER;
typedef struct asn1_string_st ASN1_OCTET_STRING;
typedef struct asn1_string_st ASN1_BIT_STRING;
typedef struct asn1_string_st ASN1_UTF8STRING;
typedef struct asn1_string_st ASN1_IA5STRING;
typedef struct asn1_string_st ASN1_TIME;

typedef ... X509;
typedef ... X509_CRL;
typedef ... X509_NAME;
typedef ... X509_STORE;
typedef ... X509_OBJECT;
typedef ... X509_REQ;
typedef ... X509_EXTENSION;
typedef ... X509_PUBKEY;
typedef ... X509_ALGOR;
typedef ... GENERAL_NAME;
typedef ... DIST_POINT_NAME;
typedef ... EVP_PKEY;
typedef ... EVP_PKEY_CTX;
typedef ... EVP_MD;
typedef ... EVP_CIPHER;
typedef ... BIO;
typedef ... BIO_METHOD;

typedef struct stack_st_X509 OCMP_STACK_OF_X509;
typedef struct stack_st_X509_CRL OCMP_STACK_OF_X509_CRL;
typedef struct stack_st_X509_OBJECT OCMP_STACK_OF_X509_OBJECT;
typedef struct stack_st_X509_EXTENSION OCMP_STACK_OF_X509_EXTENSION;
typedef struct stack_st_GENERAL_NAME OCMP_STACK_OF_GENERAL_NAME;
typedef struct stack_st_ASN1_UTF8STRING OCMP_STACK_OF_ASN1_UTF8STRING;
typedef struct stack_st_OSSL_CMP_ITAV OCMP_STACK_OF_OSSL_CMP_ITAV;
typedef struct stack_st_X509_EXTENSION X509_EXTENSIONS;
typedef struct stack_st_GENERAL_NAME GENERAL_NAMES;

static const long OPENSSL_VERSION_NUMBER;
static const int OPENSSL_VERSION;
static const int OCMP_HEADER_VERSION_MAJOR;
static const int OCMP_HEADER_VERSION_MINOR;
static const int OCMP_HEADER_VERSION_PATCH;
"""

FUNCTIONS = """
unsigned long OpenSSL_version_num(void);
const char *OpenSSL_version(int);

void OPENSSL_free(void *);
void *OPENSSL_malloc(size_t);
void OPENSSL_cleanse(void *, size_t);

/* leak tests: count live allocations made by libcrypto (see ocmp_memhook_*) */
int ocmp_memhook_install(void);
long ocmp_memhook_live(void);
"""

CUSTOMIZATIONS = """
static const int OCMP_HEADER_VERSION_MAJOR = OPENSSL_VERSION_MAJOR;
static const int OCMP_HEADER_VERSION_MINOR = OPENSSL_VERSION_MINOR;
static const int OCMP_HEADER_VERSION_PATCH = OPENSSL_VERSION_PATCH;

/* Allocator hook for leak tests.  CRYPTO_set_mem_functions only succeeds before libcrypto
   made its first allocation, so tests call ocmp_memhook_install() first thing in a fresh
   interpreter (OPENSSL_CMP_MEMHOOK=1).  Sizes are kept in a header in front of each block so
   realloc/free can be counted without a table. */
#include <stdlib.h>
#include <stddef.h>
static long ocmp_memhook_count = 0;
typedef union { size_t size; max_align_t align; } ocmp_memhook_hdr;

static void *ocmp_memhook_malloc(size_t n, const char *file, int line)
{
    ocmp_memhook_hdr *h = malloc(sizeof(*h) + n);
    (void)file; (void)line;
    if (h == NULL)
        return NULL;
    h->size = n;
    __atomic_add_fetch(&ocmp_memhook_count, 1, __ATOMIC_RELAXED);
    return h + 1;
}

static void ocmp_memhook_free(void *p, const char *file, int line)
{
    (void)file; (void)line;
    if (p == NULL)
        return;
    __atomic_sub_fetch(&ocmp_memhook_count, 1, __ATOMIC_RELAXED);
    free((ocmp_memhook_hdr *)p - 1);
}

static void *ocmp_memhook_realloc(void *p, size_t n, const char *file, int line)
{
    ocmp_memhook_hdr *h;
    if (p == NULL)
        return ocmp_memhook_malloc(n, file, line);
    if (n == 0) {
        ocmp_memhook_free(p, file, line);
        return NULL;
    }
    h = realloc((ocmp_memhook_hdr *)p - 1, sizeof(*h) + n);
    if (h == NULL)
        return NULL;
    h->size = n;
    return h + 1;
}

int ocmp_memhook_install(void)
{
    return CRYPTO_set_mem_functions(ocmp_memhook_malloc, ocmp_memhook_realloc,
                                    ocmp_memhook_free);
}

long ocmp_memhook_live(void)
{
    return __atomic_load_n(&ocmp_memhook_count, __ATOMIC_RELAXED);
}
"""
