"""ASN.1 strings, integers, objects (OIDs) and big numbers."""

INCLUDES = ""

TYPES = """
static const int V_ASN1_UTF8STRING;
static const int V_ASN1_OCTET_STRING;
static const int V_ASN1_SEQUENCE;
static const int MBSTRING_UTF8;
static const int MBSTRING_ASC;
"""

FUNCTIONS = """
ASN1_STRING *ASN1_STRING_new(void);
ASN1_STRING *ASN1_STRING_type_new(int);
void ASN1_STRING_free(ASN1_STRING *);
int ASN1_STRING_length(const ASN1_STRING *);
const unsigned char *ASN1_STRING_get0_data(const ASN1_STRING *);
int ASN1_STRING_set(ASN1_STRING *, const void *, int);
int ASN1_STRING_to_UTF8(unsigned char **, const ASN1_STRING *);

ASN1_INTEGER *ASN1_INTEGER_new(void);
void ASN1_INTEGER_free(ASN1_INTEGER *);
ASN1_INTEGER *ASN1_INTEGER_dup(const ASN1_INTEGER *);
int ASN1_INTEGER_set_int64(ASN1_INTEGER *, int64_t);
int ASN1_INTEGER_get_int64(int64_t *, const ASN1_INTEGER *);
BIGNUM *ASN1_INTEGER_to_BN(const ASN1_INTEGER *, BIGNUM *);
ASN1_INTEGER *BN_to_ASN1_INTEGER(const BIGNUM *, ASN1_INTEGER *);
int ASN1_INTEGER_cmp(const ASN1_INTEGER *, const ASN1_INTEGER *);

ASN1_OCTET_STRING *ASN1_OCTET_STRING_new(void);
void ASN1_OCTET_STRING_free(ASN1_OCTET_STRING *);
int ASN1_OCTET_STRING_set(ASN1_OCTET_STRING *, const unsigned char *, int);
ASN1_OCTET_STRING *ASN1_OCTET_STRING_dup(const ASN1_OCTET_STRING *);

ASN1_UTF8STRING *ASN1_UTF8STRING_new(void);
void ASN1_UTF8STRING_free(ASN1_UTF8STRING *);

ASN1_TIME *ASN1_TIME_new(void);
void ASN1_TIME_free(ASN1_TIME *);
int ASN1_TIME_diff(int *, int *, const ASN1_TIME *, const ASN1_TIME *);
int ASN1_TIME_print(BIO *, const ASN1_TIME *);

ASN1_TYPE *ASN1_TYPE_new(void);
void ASN1_TYPE_free(ASN1_TYPE *);
int ASN1_TYPE_get(const ASN1_TYPE *);
ASN1_TYPE *d2i_ASN1_TYPE(ASN1_TYPE **, const unsigned char **, long);
int i2d_ASN1_TYPE(const ASN1_TYPE *, unsigned char **);

ASN1_OBJECT *OBJ_txt2obj(const char *, int);
int OBJ_obj2txt(char *, int, const ASN1_OBJECT *, int);
ASN1_OBJECT *OBJ_dup(const ASN1_OBJECT *);
ASN1_OBJECT *OBJ_nid2obj(int);
int OBJ_obj2nid(const ASN1_OBJECT *);
int OBJ_txt2nid(const char *);
int OBJ_sn2nid(const char *);
const char *OBJ_nid2sn(int);
const char *OBJ_nid2ln(int);
int OBJ_cmp(const ASN1_OBJECT *, const ASN1_OBJECT *);
void ASN1_OBJECT_free(ASN1_OBJECT *);

BIGNUM *BN_new(void);
void BN_free(BIGNUM *);
int BN_bn2binpad(const BIGNUM *, unsigned char *, int);
BIGNUM *BN_bin2bn(const unsigned char *, int, BIGNUM *);
int BN_num_bits(const BIGNUM *);
int BN_is_negative(const BIGNUM *);
void BN_set_negative(BIGNUM *, int);

int sk_ASN1_UTF8STRING_num(const OCMP_STACK_OF_ASN1_UTF8STRING *);
ASN1_UTF8STRING *sk_ASN1_UTF8STRING_value(const OCMP_STACK_OF_ASN1_UTF8STRING *, int);
OCMP_STACK_OF_ASN1_UTF8STRING *sk_ASN1_UTF8STRING_new_null(void);
int sk_ASN1_UTF8STRING_push(OCMP_STACK_OF_ASN1_UTF8STRING *, ASN1_UTF8STRING *);
void sk_ASN1_UTF8STRING_pop_free(OCMP_STACK_OF_ASN1_UTF8STRING *, void (*)(ASN1_UTF8STRING *));
"""

CUSTOMIZATIONS = ""
