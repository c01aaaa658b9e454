"""CRMF (RFC 4211): the certificate request message and its template, as a server reads it."""

INCLUDES = ""

TYPES = """
typedef ... OSSL_CRMF_MSG;
typedef ... OSSL_CRMF_MSGS;
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

X509 *OSSL_CRMF_ENCRYPTEDVALUE_get1_encCert(const OSSL_CRMF_ENCRYPTEDVALUE *, OSSL_LIB_CTX *,
                                            const char *, EVP_PKEY *);
"""

CUSTOMIZATIONS = ""
