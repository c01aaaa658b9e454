"""Building and reading CRLs (MockCA signs its own), and the DER codecs of the few X.509
structures a CMP support message carries (distribution point names, general names,
algorithm identifiers, times), all present since OpenSSL 3.0."""

INCLUDES = """
#include <openssl/x509.h>
#include <openssl/x509v3.h>
typedef STACK_OF(X509_REVOKED) OCMP_STACK_OF_X509_REVOKED;
"""

TYPES = """
typedef ... X509_REVOKED;
typedef struct asn1_string_st ASN1_ENUMERATED;
typedef struct stack_st_X509_REVOKED OCMP_STACK_OF_X509_REVOKED;
typedef ... OPENSSL_STACK;

static const int NID_crl_reason;
static const int NID_crl_number;
static const int X509V3_ADD_REPLACE;
"""

FUNCTIONS = """
/* X509_CRL: building and signing */
X509_CRL *X509_CRL_new(void);
int X509_CRL_set_version(X509_CRL *, long);
int X509_CRL_set_issuer_name(X509_CRL *, const X509_NAME *);
int X509_CRL_set1_lastUpdate(X509_CRL *, const ASN1_TIME *);
int X509_CRL_set1_nextUpdate(X509_CRL *, const ASN1_TIME *);
int X509_CRL_add0_revoked(X509_CRL *, X509_REVOKED *);
int X509_CRL_sort(X509_CRL *);
int X509_CRL_sign(X509_CRL *, EVP_PKEY *, const EVP_MD *);
int X509_CRL_add1_ext_i2d(X509_CRL *, int, void *, int, unsigned long);
int X509_CRL_add_ext(X509_CRL *, X509_EXTENSION *, int);

/* X509_CRL: reading */
int X509_CRL_verify(X509_CRL *, EVP_PKEY *);
X509_NAME *X509_CRL_get_issuer(const X509_CRL *);
const ASN1_TIME *X509_CRL_get0_lastUpdate(const X509_CRL *);
const ASN1_TIME *X509_CRL_get0_nextUpdate(const X509_CRL *);
OCMP_STACK_OF_X509_REVOKED *X509_CRL_get_REVOKED(X509_CRL *);
void *X509_CRL_get_ext_d2i(const X509_CRL *, int, int *, int *);
int sk_X509_REVOKED_num(const OCMP_STACK_OF_X509_REVOKED *);
X509_REVOKED *sk_X509_REVOKED_value(const OCMP_STACK_OF_X509_REVOKED *, int);

/* X509_REVOKED */
X509_REVOKED *X509_REVOKED_new(void);
void X509_REVOKED_free(X509_REVOKED *);
int X509_REVOKED_set_serialNumber(X509_REVOKED *, ASN1_INTEGER *);
int X509_REVOKED_set_revocationDate(X509_REVOKED *, ASN1_TIME *);
const ASN1_INTEGER *X509_REVOKED_get0_serialNumber(const X509_REVOKED *);
const ASN1_TIME *X509_REVOKED_get0_revocationDate(const X509_REVOKED *);
int X509_REVOKED_add1_ext_i2d(X509_REVOKED *, int, void *, int, unsigned long);
void *X509_REVOKED_get_ext_d2i(const X509_REVOKED *, int, int *, int *);

ASN1_ENUMERATED *ASN1_ENUMERATED_new(void);
void ASN1_ENUMERATED_free(ASN1_ENUMERATED *);
int ASN1_ENUMERATED_set(ASN1_ENUMERATED *, long);
long ASN1_ENUMERATED_get(const ASN1_ENUMERATED *);

/* CRL stacks (for OSSL_CMP_ITAV_new_crls and friends) */
OCMP_STACK_OF_X509_CRL *sk_X509_CRL_new_null(void);
int sk_X509_CRL_push(OCMP_STACK_OF_X509_CRL *, X509_CRL *);
void sk_X509_CRL_pop_free(OCMP_STACK_OF_X509_CRL *, void (*)(X509_CRL *));

/* untyped stacks: for element types whose typed stack macros came after 3.0 */
OPENSSL_STACK *OPENSSL_sk_new_null(void);
int OPENSSL_sk_push(OPENSSL_STACK *, const void *);
void OPENSSL_sk_free(OPENSSL_STACK *);
void OPENSSL_sk_pop_free(OPENSSL_STACK *, void (*)(void *));

/* DER codecs of the fields of support messages */
ASN1_TIME *d2i_ASN1_TIME(ASN1_TIME **, const unsigned char **, long);
int i2d_ASN1_TIME(const ASN1_TIME *, unsigned char **);
DIST_POINT_NAME *d2i_DIST_POINT_NAME(DIST_POINT_NAME **, const unsigned char **, long);
int i2d_DIST_POINT_NAME(const DIST_POINT_NAME *, unsigned char **);
void DIST_POINT_NAME_free(DIST_POINT_NAME *);
GENERAL_NAMES *d2i_GENERAL_NAMES(GENERAL_NAMES **, const unsigned char **, long);
int i2d_GENERAL_NAMES(const GENERAL_NAMES *, unsigned char **);
X509_ALGOR *d2i_X509_ALGOR(X509_ALGOR **, const unsigned char **, long);
int i2d_X509_ALGOR(const X509_ALGOR *, unsigned char **);
void X509_ALGOR_free(X509_ALGOR *);
"""

CUSTOMIZATIONS = ""
