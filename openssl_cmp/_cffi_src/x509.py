"""Certificates, names, stores, CSRs, CRLs, general names, extensions and policies."""

INCLUDES = ""

TYPES = """
typedef struct {
    ...;
} X509V3_CTX;

typedef struct {
    ASN1_OBJECT *policyid;
    ...;
} POLICYINFO;

typedef ... X509V3_EXT_METHOD;
typedef ... X509_NAME_ENTRY;
typedef ... CONF;

static const int GEN_OTHERNAME;
static const int GEN_EMAIL;
static const int GEN_DNS;
static const int GEN_X400;
static const int GEN_DIRNAME;
static const int GEN_EDIPARTY;
static const int GEN_URI;
static const int GEN_IPADD;
static const int GEN_RID;

static const int X509_LU_X509;
static const int X509_LU_CRL;
static const int X509_V_FLAG_PARTIAL_CHAIN;
static const int X509_V_FLAG_NO_CHECK_TIME;
static const int X509_V_FLAG_CRL_CHECK;

static const unsigned long XN_FLAG_RFC2253;
static const unsigned long XN_FLAG_ONELINE;
static const int NID_subject_alt_name;
static const int NID_undef;
"""

FUNCTIONS = """
/* X509 */
X509 *X509_new(void);
void X509_free(X509 *);
int X509_up_ref(X509 *);
X509 *X509_dup(const X509 *);
X509 *d2i_X509(X509 **, const unsigned char **, long);
int i2d_X509(const X509 *, unsigned char **);
X509_NAME *X509_get_subject_name(const X509 *);
X509_NAME *X509_get_issuer_name(const X509 *);
const ASN1_INTEGER *X509_get0_serialNumber(const X509 *);
EVP_PKEY *X509_get_pubkey(X509 *);
EVP_PKEY *X509_get0_pubkey(const X509 *);
int X509_cmp(const X509 *, const X509 *);
int X509_check_private_key(const X509 *, const EVP_PKEY *);
int X509_check_issued(X509 *, X509 *);
int X509_verify(X509 *, EVP_PKEY *);
int X509_set_version(X509 *, long);
long X509_get_version(const X509 *);
int X509_check_ca(X509 *);
int X509_set_serialNumber(X509 *, ASN1_INTEGER *);
int X509_set_subject_name(X509 *, const X509_NAME *);
int X509_set_issuer_name(X509 *, const X509_NAME *);
int X509_set_pubkey(X509 *, EVP_PKEY *);
ASN1_TIME *X509_getm_notBefore(const X509 *);
ASN1_TIME *X509_getm_notAfter(const X509 *);
const ASN1_TIME *X509_get0_notBefore(const X509 *);
const ASN1_TIME *X509_get0_notAfter(const X509 *);
int X509_cmp_current_time(const ASN1_TIME *);
ASN1_OCTET_STRING *X509_digest_sig(const X509 *, EVP_MD **, int *);
ASN1_TIME *X509_gmtime_adj(ASN1_TIME *, long);
int X509_sign(X509 *, EVP_PKEY *, const EVP_MD *);
int X509_add_ext(X509 *, X509_EXTENSION *, int);
int X509_get_ext_count(const X509 *);
X509_EXTENSION *X509_get_ext(const X509 *, int);
int X509_get_ext_by_NID(const X509 *, int, int);
const OCMP_STACK_OF_X509_EXTENSION *X509_get0_extensions(const X509 *);
int X509_digest(const X509 *, const EVP_MD *, unsigned char *, unsigned int *);
unsigned long X509_subject_name_hash(X509 *);

OCMP_STACK_OF_X509 *sk_X509_new_null(void);
int sk_X509_num(const OCMP_STACK_OF_X509 *);
X509 *sk_X509_value(const OCMP_STACK_OF_X509 *, int);
int sk_X509_push(OCMP_STACK_OF_X509 *, X509 *);
X509 *sk_X509_pop(OCMP_STACK_OF_X509 *);
void sk_X509_free(OCMP_STACK_OF_X509 *);
void sk_X509_pop_free(OCMP_STACK_OF_X509 *, void (*)(X509 *));

/* X509_NAME */
X509_NAME *X509_NAME_new(void);
void X509_NAME_free(X509_NAME *);
X509_NAME *X509_NAME_dup(const X509_NAME *);
X509_NAME *d2i_X509_NAME(X509_NAME **, const unsigned char **, long);
int i2d_X509_NAME(const X509_NAME *, unsigned char **);
int X509_NAME_add_entry_by_txt(X509_NAME *, const char *, int, const unsigned char *, int,
                               int, int);
int X509_NAME_entry_count(const X509_NAME *);
int X509_NAME_cmp(const X509_NAME *, const X509_NAME *);
int X509_NAME_print_ex(BIO *, const X509_NAME *, int, unsigned long);
unsigned long X509_NAME_hash_ex(const X509_NAME *, OSSL_LIB_CTX *, const char *, int *);
X509_NAME_ENTRY *X509_NAME_get_entry(const X509_NAME *, int);
ASN1_OBJECT *X509_NAME_ENTRY_get_object(const X509_NAME_ENTRY *);
ASN1_STRING *X509_NAME_ENTRY_get_data(const X509_NAME_ENTRY *);
int X509_NAME_ENTRY_set(const X509_NAME_ENTRY *);

/* X509_STORE */
X509_STORE *X509_STORE_new(void);
void X509_STORE_free(X509_STORE *);
int X509_STORE_up_ref(X509_STORE *);
int X509_STORE_add_cert(X509_STORE *, X509 *);
int X509_STORE_add_crl(X509_STORE *, X509_CRL *);
int X509_STORE_set_flags(X509_STORE *, unsigned long);
int X509_STORE_load_file(X509_STORE *, const char *);
OCMP_STACK_OF_X509 *X509_STORE_get1_all_certs(X509_STORE *);
OCMP_STACK_OF_X509_OBJECT *X509_STORE_get0_objects(const X509_STORE *);
int sk_X509_OBJECT_num(const OCMP_STACK_OF_X509_OBJECT *);
X509_OBJECT *sk_X509_OBJECT_value(const OCMP_STACK_OF_X509_OBJECT *, int);
int X509_OBJECT_get_type(const X509_OBJECT *);
X509_CRL *X509_OBJECT_get0_X509_CRL(const X509_OBJECT *);

/* X509_CRL */
void X509_CRL_free(X509_CRL *);
int X509_CRL_up_ref(X509_CRL *);
X509_CRL *X509_CRL_dup(const X509_CRL *);
X509_CRL *d2i_X509_CRL(X509_CRL **, const unsigned char **, long);
int i2d_X509_CRL(const X509_CRL *, unsigned char **);
int sk_X509_CRL_num(const OCMP_STACK_OF_X509_CRL *);
X509_CRL *sk_X509_CRL_value(const OCMP_STACK_OF_X509_CRL *, int);

/* X509_REQ */
X509_REQ *X509_REQ_new(void);
void X509_REQ_free(X509_REQ *);
X509_REQ *X509_REQ_dup(const X509_REQ *);
X509_REQ *d2i_X509_REQ(X509_REQ **, const unsigned char **, long);
int i2d_X509_REQ(const X509_REQ *, unsigned char **);
int X509_REQ_set_version(X509_REQ *, long);
int X509_REQ_set_subject_name(X509_REQ *, const X509_NAME *);
X509_NAME *X509_REQ_get_subject_name(const X509_REQ *);
int X509_REQ_set_pubkey(X509_REQ *, EVP_PKEY *);
EVP_PKEY *X509_REQ_get_pubkey(X509_REQ *);
EVP_PKEY *X509_REQ_get0_pubkey(X509_REQ *);
int X509_REQ_add_extensions(X509_REQ *, const OCMP_STACK_OF_X509_EXTENSION *);
OCMP_STACK_OF_X509_EXTENSION *X509_REQ_get_extensions(X509_REQ *);
int X509_REQ_sign(X509_REQ *, EVP_PKEY *, const EVP_MD *);
int X509_REQ_verify(X509_REQ *, EVP_PKEY *);

/* X509_PUBKEY */
X509_PUBKEY *X509_PUBKEY_new(void);
void X509_PUBKEY_free(X509_PUBKEY *);
EVP_PKEY *X509_PUBKEY_get(const X509_PUBKEY *);
EVP_PKEY *X509_PUBKEY_get0(const X509_PUBKEY *);
X509_PUBKEY *d2i_X509_PUBKEY(X509_PUBKEY **, const unsigned char **, long);
int i2d_X509_PUBKEY(const X509_PUBKEY *, unsigned char **);

/* GENERAL_NAME */
GENERAL_NAME *GENERAL_NAME_new(void);
void GENERAL_NAME_free(GENERAL_NAME *);
GENERAL_NAME *GENERAL_NAME_dup(const GENERAL_NAME *);
GENERAL_NAME *d2i_GENERAL_NAME(GENERAL_NAME **, const unsigned char **, long);
int i2d_GENERAL_NAME(const GENERAL_NAME *, unsigned char **);
void GENERAL_NAME_set0_value(GENERAL_NAME *, int, void *);
void *GENERAL_NAME_get0_value(const GENERAL_NAME *, int *);
int GENERAL_NAME_print(BIO *, GENERAL_NAME *);  /* as declared by OpenSSL (no const) */
int GENERAL_NAME_cmp(GENERAL_NAME *, GENERAL_NAME *);
GENERAL_NAME *a2i_GENERAL_NAME(GENERAL_NAME *, const X509V3_EXT_METHOD *, X509V3_CTX *, int,
                               const char *, int);
GENERAL_NAMES *GENERAL_NAMES_new(void);
void GENERAL_NAMES_free(GENERAL_NAMES *);
int sk_GENERAL_NAME_num(const OCMP_STACK_OF_GENERAL_NAME *);
GENERAL_NAME *sk_GENERAL_NAME_value(const OCMP_STACK_OF_GENERAL_NAME *, int);
OCMP_STACK_OF_GENERAL_NAME *sk_GENERAL_NAME_new_null(void);
int sk_GENERAL_NAME_push(OCMP_STACK_OF_GENERAL_NAME *, GENERAL_NAME *);
void sk_GENERAL_NAME_pop_free(OCMP_STACK_OF_GENERAL_NAME *, void (*)(GENERAL_NAME *));
X509_EXTENSION *X509V3_EXT_i2d(int, int, void *);

/* X509_EXTENSION, X509_EXTENSIONS */
void X509_EXTENSION_free(X509_EXTENSION *);
X509_EXTENSION *X509_EXTENSION_dup(const X509_EXTENSION *);
ASN1_OBJECT *X509_EXTENSION_get_object(X509_EXTENSION *);
int X509_EXTENSION_get_critical(const X509_EXTENSION *);
ASN1_OCTET_STRING *X509_EXTENSION_get_data(X509_EXTENSION *);
X509_EXTENSION *X509V3_EXT_nconf(CONF *, X509V3_CTX *, const char *, const char *);
void X509V3_set_ctx(X509V3_CTX *, X509 *, X509 *, X509_REQ *, X509_CRL *, int);
int X509V3_EXT_print(BIO *, X509_EXTENSION *, unsigned long, int);
void *X509V3_get_d2i(const OCMP_STACK_OF_X509_EXTENSION *, int, int *, int *);
int X509v3_get_ext_by_NID(const OCMP_STACK_OF_X509_EXTENSION *, int, int);
X509_EXTENSIONS *d2i_X509_EXTENSIONS(X509_EXTENSIONS **, const unsigned char **, long);
int i2d_X509_EXTENSIONS(const X509_EXTENSIONS *, unsigned char **);
OCMP_STACK_OF_X509_EXTENSION *sk_X509_EXTENSION_new_null(void);
int sk_X509_EXTENSION_num(const OCMP_STACK_OF_X509_EXTENSION *);
X509_EXTENSION *sk_X509_EXTENSION_value(const OCMP_STACK_OF_X509_EXTENSION *, int);
int sk_X509_EXTENSION_push(OCMP_STACK_OF_X509_EXTENSION *, X509_EXTENSION *);
void sk_X509_EXTENSION_pop_free(OCMP_STACK_OF_X509_EXTENSION *, void (*)(X509_EXTENSION *));

/* POLICYINFO */
POLICYINFO *POLICYINFO_new(void);
void POLICYINFO_free(POLICYINFO *);
POLICYINFO *d2i_POLICYINFO(POLICYINFO **, const unsigned char **, long);
int i2d_POLICYINFO(const POLICYINFO *, unsigned char **);
"""

CUSTOMIZATIONS = ""
