"""CRMF (RFC 4211): every function of ``crmf.h`` (3.0): request messages, templates, controls,
registration info, publication info, the password-based MAC and their ASN.1 functions.
The ``sk_OSSL_CRMF_*`` stack macros are in :mod:`stacks`."""

INCLUDES = ""

TYPES = """
typedef ... OSSL_CRMF_MSG;
/* crmf.h: typedef STACK_OF(OSSL_CRMF_MSG) OSSL_CRMF_MSGS (the same C type as
   OCMP_STACK_OF_OSSL_CRMF_MSG of stacks.py, so the sk_ functions take it) */
typedef struct stack_st_OSSL_CRMF_MSG OSSL_CRMF_MSGS;
typedef ... OSSL_CRMF_CERTREQUEST;
typedef ... OSSL_CRMF_OPTIONALVALIDITY;
typedef ... OSSL_CRMF_CERTTEMPLATE;
typedef ... OSSL_CRMF_CERTID;
typedef ... OSSL_CRMF_ENCRYPTEDVALUE;
typedef ... OSSL_CRMF_PBMPARAMETER;
typedef struct ossl_crmf_attributetypeandvalue_st OSSL_CRMF_ATTRIBUTETYPEANDVALUE;
typedef ... OSSL_CRMF_PKIPUBLICATIONINFO;
typedef ... OSSL_CRMF_SINGLEPUBINFO;

static const int OSSL_CRMF_POPO_NONE;
static const int OSSL_CRMF_POPO_RAVERIFIED;
static const int OSSL_CRMF_POPO_SIGNATURE;
static const int OSSL_CRMF_POPO_KEYENC;
static const int OSSL_CRMF_POPO_KEYAGREE;
static const int OSSL_CRMF_POPOPRIVKEY_THISMESSAGE;
static const int OSSL_CRMF_POPOPRIVKEY_SUBSEQUENTMESSAGE;
static const int OSSL_CRMF_POPOPRIVKEY_DHMAC;
static const int OSSL_CRMF_POPOPRIVKEY_AGREEMAC;
static const int OSSL_CRMF_POPOPRIVKEY_ENCRYPTEDKEY;
static const int OSSL_CRMF_SUBSEQUENTMESSAGE_ENCRCERT;
static const int OSSL_CRMF_SUBSEQUENTMESSAGE_CHALLENGERESP;
static const int OSSL_CRMF_PUB_METHOD_DONTCARE;
static const int OSSL_CRMF_PUB_METHOD_X500;
static const int OSSL_CRMF_PUB_METHOD_WEB;
static const int OSSL_CRMF_PUB_METHOD_LDAP;
static const int OSSL_CRMF_PUB_ACTION_DONTPUBLISH;
static const int OSSL_CRMF_PUB_ACTION_PLEASEPUBLISH;
"""

FUNCTIONS = """
OSSL_CRMF_MSG *OSSL_CRMF_MSG_new(void);
void OSSL_CRMF_MSG_free(OSSL_CRMF_MSG *);
OSSL_CRMF_MSG *OSSL_CRMF_MSG_dup(const OSSL_CRMF_MSG *);
OSSL_CRMF_MSG *d2i_OSSL_CRMF_MSG(OSSL_CRMF_MSG **, const unsigned char **, long);
int i2d_OSSL_CRMF_MSG(const OSSL_CRMF_MSG *, unsigned char **);
OSSL_CRMF_CERTTEMPLATE *OSSL_CRMF_MSG_get0_tmpl(const OSSL_CRMF_MSG *);
int OSSL_CRMF_MSG_get_certReqId(const OSSL_CRMF_MSG *);
int OSSL_CRMF_MSG_set_certReqId(OSSL_CRMF_MSG *, int);
OSSL_CRMF_CERTID *OSSL_CRMF_MSG_get0_regCtrl_oldCertID(const OSSL_CRMF_MSG *);
int OSSL_CRMF_MSG_set0_extensions(OSSL_CRMF_MSG *, X509_EXTENSIONS *);
int OSSL_CRMF_MSG_push0_extension(OSSL_CRMF_MSG *, X509_EXTENSION *);
int OSSL_CRMF_MSG_create_popo(int, OSSL_CRMF_MSG *, EVP_PKEY *, const EVP_MD *,
                              OSSL_LIB_CTX *, const char *);
int OSSL_CRMF_MSGS_verify_popo(const OSSL_CRMF_MSGS *, int, int, OSSL_LIB_CTX *,
                               const char *);

OSSL_CRMF_CERTTEMPLATE *OSSL_CRMF_CERTTEMPLATE_new(void);
void OSSL_CRMF_CERTTEMPLATE_free(OSSL_CRMF_CERTTEMPLATE *);
OSSL_CRMF_CERTTEMPLATE *d2i_OSSL_CRMF_CERTTEMPLATE(OSSL_CRMF_CERTTEMPLATE **,
                                                   const unsigned char **, long);
int i2d_OSSL_CRMF_CERTTEMPLATE(const OSSL_CRMF_CERTTEMPLATE *, unsigned char **);
const ASN1_INTEGER *OSSL_CRMF_CERTTEMPLATE_get0_serialNumber(const OSSL_CRMF_CERTTEMPLATE *);
const X509_NAME *OSSL_CRMF_CERTTEMPLATE_get0_subject(const OSSL_CRMF_CERTTEMPLATE *);
const X509_NAME *OSSL_CRMF_CERTTEMPLATE_get0_issuer(const OSSL_CRMF_CERTTEMPLATE *);
X509_EXTENSIONS *OSSL_CRMF_CERTTEMPLATE_get0_extensions(const OSSL_CRMF_CERTTEMPLATE *);
int OSSL_CRMF_CERTTEMPLATE_fill(OSSL_CRMF_CERTTEMPLATE *, EVP_PKEY *, const X509_NAME *,
                                const X509_NAME *, const ASN1_INTEGER *);

OSSL_CRMF_CERTID *OSSL_CRMF_CERTID_gen(const X509_NAME *, const ASN1_INTEGER *);
void OSSL_CRMF_CERTID_free(OSSL_CRMF_CERTID *);
const X509_NAME *OSSL_CRMF_CERTID_get0_issuer(const OSSL_CRMF_CERTID *);
const ASN1_INTEGER *OSSL_CRMF_CERTID_get0_serialNumber(const OSSL_CRMF_CERTID *);

/* the ASN.1 functions of every CRMF type (DECLARE_ASN1_FUNCTIONS / _DUP_FUNCTION) */
const ASN1_ITEM *OSSL_CRMF_MSG_it(void);
OSSL_CRMF_MSGS *OSSL_CRMF_MSGS_new(void);
void OSSL_CRMF_MSGS_free(OSSL_CRMF_MSGS *);
const ASN1_ITEM *OSSL_CRMF_MSGS_it(void);
OSSL_CRMF_MSGS *d2i_OSSL_CRMF_MSGS(OSSL_CRMF_MSGS **, const unsigned char **, long);
int i2d_OSSL_CRMF_MSGS(const OSSL_CRMF_MSGS *, unsigned char **);
const ASN1_ITEM *OSSL_CRMF_CERTTEMPLATE_it(void);
OSSL_CRMF_CERTID *OSSL_CRMF_CERTID_new(void);
OSSL_CRMF_CERTID *OSSL_CRMF_CERTID_dup(const OSSL_CRMF_CERTID *);
const ASN1_ITEM *OSSL_CRMF_CERTID_it(void);
OSSL_CRMF_CERTID *d2i_OSSL_CRMF_CERTID(OSSL_CRMF_CERTID **, const unsigned char **, long);
int i2d_OSSL_CRMF_CERTID(const OSSL_CRMF_CERTID *, unsigned char **);
OSSL_CRMF_ENCRYPTEDVALUE *OSSL_CRMF_ENCRYPTEDVALUE_new(void);
void OSSL_CRMF_ENCRYPTEDVALUE_free(OSSL_CRMF_ENCRYPTEDVALUE *);
const ASN1_ITEM *OSSL_CRMF_ENCRYPTEDVALUE_it(void);
OSSL_CRMF_ENCRYPTEDVALUE *d2i_OSSL_CRMF_ENCRYPTEDVALUE(OSSL_CRMF_ENCRYPTEDVALUE **,
                                                       const unsigned char **, long);
int i2d_OSSL_CRMF_ENCRYPTEDVALUE(const OSSL_CRMF_ENCRYPTEDVALUE *, unsigned char **);
OSSL_CRMF_PBMPARAMETER *OSSL_CRMF_PBMPARAMETER_new(void);
void OSSL_CRMF_PBMPARAMETER_free(OSSL_CRMF_PBMPARAMETER *);
const ASN1_ITEM *OSSL_CRMF_PBMPARAMETER_it(void);
OSSL_CRMF_PBMPARAMETER *d2i_OSSL_CRMF_PBMPARAMETER(OSSL_CRMF_PBMPARAMETER **,
                                                   const unsigned char **, long);
int i2d_OSSL_CRMF_PBMPARAMETER(const OSSL_CRMF_PBMPARAMETER *, unsigned char **);
OSSL_CRMF_PKIPUBLICATIONINFO *OSSL_CRMF_PKIPUBLICATIONINFO_new(void);
void OSSL_CRMF_PKIPUBLICATIONINFO_free(OSSL_CRMF_PKIPUBLICATIONINFO *);
const ASN1_ITEM *OSSL_CRMF_PKIPUBLICATIONINFO_it(void);
OSSL_CRMF_PKIPUBLICATIONINFO *d2i_OSSL_CRMF_PKIPUBLICATIONINFO(
    OSSL_CRMF_PKIPUBLICATIONINFO **, const unsigned char **, long);
int i2d_OSSL_CRMF_PKIPUBLICATIONINFO(const OSSL_CRMF_PKIPUBLICATIONINFO *, unsigned char **);
OSSL_CRMF_SINGLEPUBINFO *OSSL_CRMF_SINGLEPUBINFO_new(void);
void OSSL_CRMF_SINGLEPUBINFO_free(OSSL_CRMF_SINGLEPUBINFO *);
const ASN1_ITEM *OSSL_CRMF_SINGLEPUBINFO_it(void);
OSSL_CRMF_SINGLEPUBINFO *d2i_OSSL_CRMF_SINGLEPUBINFO(OSSL_CRMF_SINGLEPUBINFO **,
                                                     const unsigned char **, long);
int i2d_OSSL_CRMF_SINGLEPUBINFO(const OSSL_CRMF_SINGLEPUBINFO *, unsigned char **);

/* password-based MAC (RFC 4211 section 4.4) */
OSSL_CRMF_PBMPARAMETER *OSSL_CRMF_pbmp_new(OSSL_LIB_CTX *, size_t, int, size_t, int);
int OSSL_CRMF_pbm_new(OSSL_LIB_CTX *, const char *, const OSSL_CRMF_PBMPARAMETER *,
                      const unsigned char *, size_t, const unsigned char *, size_t,
                      unsigned char **, size_t *);

/* registration controls and info (RFC 4211 sections 6 and 7) */
int OSSL_CRMF_MSG_set1_regCtrl_regToken(OSSL_CRMF_MSG *, const ASN1_UTF8STRING *);
ASN1_UTF8STRING *OSSL_CRMF_MSG_get0_regCtrl_regToken(const OSSL_CRMF_MSG *);
int OSSL_CRMF_MSG_set1_regCtrl_authenticator(OSSL_CRMF_MSG *, const ASN1_UTF8STRING *);
ASN1_UTF8STRING *OSSL_CRMF_MSG_get0_regCtrl_authenticator(const OSSL_CRMF_MSG *);
int OSSL_CRMF_MSG_PKIPublicationInfo_push0_SinglePubInfo(OSSL_CRMF_PKIPUBLICATIONINFO *,
                                                         OSSL_CRMF_SINGLEPUBINFO *);
int OSSL_CRMF_MSG_set0_SinglePubInfo(OSSL_CRMF_SINGLEPUBINFO *, int, GENERAL_NAME *);
int OSSL_CRMF_MSG_set_PKIPublicationInfo_action(OSSL_CRMF_PKIPUBLICATIONINFO *, int);
int OSSL_CRMF_MSG_set1_regCtrl_pkiPublicationInfo(OSSL_CRMF_MSG *,
                                                  const OSSL_CRMF_PKIPUBLICATIONINFO *);
OSSL_CRMF_PKIPUBLICATIONINFO *OSSL_CRMF_MSG_get0_regCtrl_pkiPublicationInfo(
    const OSSL_CRMF_MSG *);
int OSSL_CRMF_MSG_set1_regCtrl_protocolEncrKey(OSSL_CRMF_MSG *, const X509_PUBKEY *);
X509_PUBKEY *OSSL_CRMF_MSG_get0_regCtrl_protocolEncrKey(const OSSL_CRMF_MSG *);
int OSSL_CRMF_MSG_set1_regCtrl_oldCertID(OSSL_CRMF_MSG *, const OSSL_CRMF_CERTID *);
int OSSL_CRMF_MSG_set1_regInfo_utf8Pairs(OSSL_CRMF_MSG *, const ASN1_UTF8STRING *);
ASN1_UTF8STRING *OSSL_CRMF_MSG_get0_regInfo_utf8Pairs(const OSSL_CRMF_MSG *);
int OSSL_CRMF_MSG_set1_regInfo_certReq(OSSL_CRMF_MSG *, const OSSL_CRMF_CERTREQUEST *);
OSSL_CRMF_CERTREQUEST *OSSL_CRMF_MSG_get0_regInfo_certReq(const OSSL_CRMF_MSG *);
int OSSL_CRMF_MSG_set0_validity(OSSL_CRMF_MSG *, ASN1_TIME *, ASN1_TIME *);

X509 *OSSL_CRMF_ENCRYPTEDVALUE_get1_encCert(const OSSL_CRMF_ENCRYPTEDVALUE *, OSSL_LIB_CTX *,
                                            const char *, EVP_PKEY *);
"""

CUSTOMIZATIONS = ""
