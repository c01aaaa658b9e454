"""CMP messages and their parts: PKIMessage, header, InfoTypeAndValue, PKIStatusInfo,
logging, and the PKIStatus / PKIFailureInfo constants.

Body-type numbers (``OSSL_CMP_PKIBODY_*``) are not public in OpenSSL's headers; the binding
defines them as ``OCMP_PKIBODY_*`` with the values of ``crypto/cmp/cmp_local.h`` (the same in
3.0 and 3.5).

libcrypto exports no ``i2d``/``d2i`` for ``OSSL_CMP_ITAV`` (``cmp.h`` declares only its
``dup``), so the binding adds ``ocmp_d2i_OSSL_CMP_ITAV`` and ``ocmp_i2d_OSSL_CMP_ITAV``: the
generic ``ASN1_item_d2i``/``ASN1_item_i2d`` with OpenSSL's own InfoTypeAndValue item, found
through an item that is exported (see ``ocmp_itav_item``).
"""

INCLUDES = """
#include <openssl/asn1t.h>
"""

TYPES = """
typedef ... OSSL_CMP_MSG;
typedef ... OSSL_CMP_PKIHEADER;
typedef ... OSSL_CMP_ITAV;
typedef ... OSSL_CMP_PKISI;
typedef ... OSSL_CMP_CERTSTATUS;
typedef struct stack_st_ASN1_UTF8STRING OSSL_CMP_PKIFREETEXT;
typedef ASN1_INTEGER OSSL_CMP_PKISTATUS;
typedef ASN1_BIT_STRING OSSL_CMP_PKIFAILUREINFO;
typedef int OSSL_CMP_severity;
typedef int (*OSSL_CMP_log_cb_t)(const char *, const char *, int, OSSL_CMP_severity,
                                 const char *);

static const int OSSL_CMP_PKISTATUS_accepted;
static const int OSSL_CMP_PKISTATUS_grantedWithMods;
static const int OSSL_CMP_PKISTATUS_rejection;
static const int OSSL_CMP_PKISTATUS_waiting;
static const int OSSL_CMP_PKISTATUS_revocationWarning;
static const int OSSL_CMP_PKISTATUS_revocationNotification;
static const int OSSL_CMP_PKISTATUS_keyUpdateWarning;
static const int OSSL_CMP_PKIFAILUREINFO_badAlg;
static const int OSSL_CMP_PKIFAILUREINFO_badMessageCheck;
static const int OSSL_CMP_PKIFAILUREINFO_badRequest;
static const int OSSL_CMP_PKIFAILUREINFO_badTime;
static const int OSSL_CMP_PKIFAILUREINFO_badCertId;
static const int OSSL_CMP_PKIFAILUREINFO_badDataFormat;
static const int OSSL_CMP_PKIFAILUREINFO_wrongAuthority;
static const int OSSL_CMP_PKIFAILUREINFO_incorrectData;
static const int OSSL_CMP_PKIFAILUREINFO_missingTimeStamp;
static const int OSSL_CMP_PKIFAILUREINFO_badPOP;
static const int OSSL_CMP_PKIFAILUREINFO_certRevoked;
static const int OSSL_CMP_PKIFAILUREINFO_certConfirmed;
static const int OSSL_CMP_PKIFAILUREINFO_wrongIntegrity;
static const int OSSL_CMP_PKIFAILUREINFO_badRecipientNonce;
static const int OSSL_CMP_PKIFAILUREINFO_timeNotAvailable;
static const int OSSL_CMP_PKIFAILUREINFO_unacceptedPolicy;
static const int OSSL_CMP_PKIFAILUREINFO_unacceptedExtension;
static const int OSSL_CMP_PKIFAILUREINFO_addInfoNotAvailable;
static const int OSSL_CMP_PKIFAILUREINFO_badSenderNonce;
static const int OSSL_CMP_PKIFAILUREINFO_badCertTemplate;
static const int OSSL_CMP_PKIFAILUREINFO_signerNotTrusted;
static const int OSSL_CMP_PKIFAILUREINFO_transactionIdInUse;
static const int OSSL_CMP_PKIFAILUREINFO_unsupportedVersion;
static const int OSSL_CMP_PKIFAILUREINFO_notAuthorized;
static const int OSSL_CMP_PKIFAILUREINFO_systemUnavail;
static const int OSSL_CMP_PKIFAILUREINFO_systemFailure;
static const int OSSL_CMP_PKIFAILUREINFO_duplicateCertReq;
static const int OSSL_CMP_CTX_FAILINFO_badAlg;
static const int OSSL_CMP_CTX_FAILINFO_badMessageCheck;
static const int OSSL_CMP_CTX_FAILINFO_badRequest;
static const int OSSL_CMP_CTX_FAILINFO_badTime;
static const int OSSL_CMP_CTX_FAILINFO_badCertId;
static const int OSSL_CMP_CTX_FAILINFO_badDataFormat;
static const int OSSL_CMP_CTX_FAILINFO_wrongAuthority;
static const int OSSL_CMP_CTX_FAILINFO_incorrectData;
static const int OSSL_CMP_CTX_FAILINFO_missingTimeStamp;
static const int OSSL_CMP_CTX_FAILINFO_badPOP;
static const int OSSL_CMP_CTX_FAILINFO_certRevoked;
static const int OSSL_CMP_CTX_FAILINFO_certConfirmed;
static const int OSSL_CMP_CTX_FAILINFO_wrongIntegrity;
static const int OSSL_CMP_CTX_FAILINFO_badRecipientNonce;
static const int OSSL_CMP_CTX_FAILINFO_timeNotAvailable;
static const int OSSL_CMP_CTX_FAILINFO_unacceptedPolicy;
static const int OSSL_CMP_CTX_FAILINFO_unacceptedExtension;
static const int OSSL_CMP_CTX_FAILINFO_addInfoNotAvailable;
static const int OSSL_CMP_CTX_FAILINFO_badSenderNonce;
static const int OSSL_CMP_CTX_FAILINFO_badCertTemplate;
static const int OSSL_CMP_CTX_FAILINFO_signerNotTrusted;
static const int OSSL_CMP_CTX_FAILINFO_transactionIdInUse;
static const int OSSL_CMP_CTX_FAILINFO_unsupportedVersion;
static const int OSSL_CMP_CTX_FAILINFO_notAuthorized;
static const int OSSL_CMP_CTX_FAILINFO_systemUnavail;
static const int OSSL_CMP_CTX_FAILINFO_systemFailure;
static const int OSSL_CMP_CTX_FAILINFO_duplicateCertReq;
static const int OSSL_CMP_PKIFAILUREINFO_MAX;
static const int OSSL_CMP_PKIFAILUREINFO_MAX_BIT_PATTERN;
static const int OSSL_CMP_LOG_EMERG;
static const int OSSL_CMP_LOG_ALERT;
static const int OSSL_CMP_LOG_CRIT;
static const int OSSL_CMP_LOG_ERR;
static const int OSSL_CMP_LOG_WARNING;
static const int OSSL_CMP_LOG_NOTICE;
static const int OSSL_CMP_LOG_INFO;
static const int OSSL_CMP_LOG_DEBUG;
static const int OSSL_CMP_LOG_TRACE;
static const int OSSL_CMP_LOG_MAX;
static const char *const OSSL_CMP_LOG_PREFIX;
static const int OSSL_CMP_PKISI_BUFLEN;
static const int OSSL_CMP_PVNO;
static const int OSSL_CMP_CERTORENCCERT_CERTIFICATE;
static const int OSSL_CMP_CERTORENCCERT_ENCRYPTEDCERT;

static const int OCMP_PKIBODY_IR;
static const int OCMP_PKIBODY_IP;
static const int OCMP_PKIBODY_CR;
static const int OCMP_PKIBODY_CP;
static const int OCMP_PKIBODY_P10CR;
static const int OCMP_PKIBODY_POPDECC;
static const int OCMP_PKIBODY_POPDECR;
static const int OCMP_PKIBODY_KUR;
static const int OCMP_PKIBODY_KUP;
static const int OCMP_PKIBODY_KRR;
static const int OCMP_PKIBODY_KRP;
static const int OCMP_PKIBODY_RR;
static const int OCMP_PKIBODY_RP;
static const int OCMP_PKIBODY_CCR;
static const int OCMP_PKIBODY_CCP;
static const int OCMP_PKIBODY_CKUANN;
static const int OCMP_PKIBODY_CANN;
static const int OCMP_PKIBODY_RANN;
static const int OCMP_PKIBODY_CRLANN;
static const int OCMP_PKIBODY_PKICONF;
static const int OCMP_PKIBODY_NESTED;
static const int OCMP_PKIBODY_GENM;
static const int OCMP_PKIBODY_GENP;
static const int OCMP_PKIBODY_ERROR;
static const int OCMP_PKIBODY_CERTCONF;
static const int OCMP_PKIBODY_POLLREQ;
static const int OCMP_PKIBODY_POLLREP;
"""

FUNCTIONS = """
/* PKIMessage */
OSSL_CMP_MSG *d2i_OSSL_CMP_MSG(OSSL_CMP_MSG **, const unsigned char **, long);
int i2d_OSSL_CMP_MSG(const OSSL_CMP_MSG *, unsigned char **);
OSSL_CMP_MSG *d2i_OSSL_CMP_MSG_bio(BIO *, OSSL_CMP_MSG **);
int i2d_OSSL_CMP_MSG_bio(BIO *, const OSSL_CMP_MSG *);
OSSL_CMP_MSG *OSSL_CMP_MSG_read(const char *, OSSL_LIB_CTX *, const char *);
int OSSL_CMP_MSG_write(const char *, const OSSL_CMP_MSG *);
OSSL_CMP_MSG *OSSL_CMP_MSG_dup(const OSSL_CMP_MSG *);
void OSSL_CMP_MSG_free(OSSL_CMP_MSG *);
int OSSL_CMP_MSG_get_bodytype(const OSSL_CMP_MSG *);
OSSL_CMP_PKIHEADER *OSSL_CMP_MSG_get0_header(const OSSL_CMP_MSG *);
/* ASN.1 items (DECLARE_ASN1_ITEM / _FUNCTIONS / _ENCODE_FUNCTIONS of cmp.h) */
const ASN1_ITEM *OSSL_CMP_MSG_it(void);
const ASN1_ITEM *OSSL_CMP_PKIHEADER_it(void);
const ASN1_ITEM *OSSL_CMP_PKISI_it(void);
const ASN1_ITEM *OSSL_CMP_PKISTATUS_it(void);

/* PKIHeader */
OSSL_CMP_PKIHEADER *OSSL_CMP_PKIHEADER_new(void);
void OSSL_CMP_PKIHEADER_free(OSSL_CMP_PKIHEADER *);
OSSL_CMP_PKIHEADER *d2i_OSSL_CMP_PKIHEADER(OSSL_CMP_PKIHEADER **, const unsigned char **, long);
int i2d_OSSL_CMP_PKIHEADER(const OSSL_CMP_PKIHEADER *, unsigned char **);
ASN1_OCTET_STRING *OSSL_CMP_HDR_get0_transactionID(const OSSL_CMP_PKIHEADER *);
ASN1_OCTET_STRING *OSSL_CMP_HDR_get0_recipNonce(const OSSL_CMP_PKIHEADER *);

/* InfoTypeAndValue */
OSSL_CMP_ITAV *OSSL_CMP_ITAV_create(ASN1_OBJECT *, ASN1_TYPE *);
void OSSL_CMP_ITAV_set0(OSSL_CMP_ITAV *, ASN1_OBJECT *, ASN1_TYPE *);
ASN1_OBJECT *OSSL_CMP_ITAV_get0_type(const OSSL_CMP_ITAV *);
ASN1_TYPE *OSSL_CMP_ITAV_get0_value(const OSSL_CMP_ITAV *);
int OSSL_CMP_ITAV_push0_stack_item(OCMP_STACK_OF_OSSL_CMP_ITAV **, OSSL_CMP_ITAV *);
OSSL_CMP_ITAV *OSSL_CMP_ITAV_dup(const OSSL_CMP_ITAV *);
void OSSL_CMP_ITAV_free(OSSL_CMP_ITAV *);
OCMP_STACK_OF_OSSL_CMP_ITAV *sk_OSSL_CMP_ITAV_new_null(void);
int sk_OSSL_CMP_ITAV_num(const OCMP_STACK_OF_OSSL_CMP_ITAV *);
OSSL_CMP_ITAV *sk_OSSL_CMP_ITAV_value(const OCMP_STACK_OF_OSSL_CMP_ITAV *, int);
int sk_OSSL_CMP_ITAV_push(OCMP_STACK_OF_OSSL_CMP_ITAV *, OSSL_CMP_ITAV *);
void sk_OSSL_CMP_ITAV_free(OCMP_STACK_OF_OSSL_CMP_ITAV *);
void sk_OSSL_CMP_ITAV_pop_free(OCMP_STACK_OF_OSSL_CMP_ITAV *, void (*)(OSSL_CMP_ITAV *));
/* InfoTypeAndValue DER with OpenSSL's own item (CUSTOMIZATIONS below) */
OSSL_CMP_ITAV *ocmp_d2i_OSSL_CMP_ITAV(OSSL_CMP_ITAV **, const unsigned char **, long);
int ocmp_i2d_OSSL_CMP_ITAV(const OSSL_CMP_ITAV *, unsigned char **);

/* PKIStatusInfo */
OSSL_CMP_PKISI *OSSL_CMP_STATUSINFO_new(int, int, const char *);
OSSL_CMP_PKISI *OSSL_CMP_PKISI_new(void);
void OSSL_CMP_PKISI_free(OSSL_CMP_PKISI *);
OSSL_CMP_PKISI *OSSL_CMP_PKISI_dup(const OSSL_CMP_PKISI *);
OSSL_CMP_PKISI *d2i_OSSL_CMP_PKISI(OSSL_CMP_PKISI **, const unsigned char **, long);
int i2d_OSSL_CMP_PKISI(const OSSL_CMP_PKISI *, unsigned char **);
char *OSSL_CMP_snprint_PKIStatusInfo(const OSSL_CMP_PKISI *, char *, size_t);

/* validation */
int OSSL_CMP_validate_msg(OSSL_CMP_CTX *, const OSSL_CMP_MSG *);
int OSSL_CMP_validate_cert_path(const OSSL_CMP_CTX *, X509_STORE *, X509 *);

/* logging (cmp_util.h) */
int OSSL_CMP_log_open(void);
void OSSL_CMP_log_close(void);
int OSSL_CMP_print_to_bio(BIO *, const char *, const char *, int, OSSL_CMP_severity,
                          const char *);
void OSSL_CMP_print_errors_cb(OSSL_CMP_log_cb_t);
"""

CUSTOMIZATIONS = """
enum {
    OCMP_PKIBODY_IR = 0, OCMP_PKIBODY_IP, OCMP_PKIBODY_CR, OCMP_PKIBODY_CP,
    OCMP_PKIBODY_P10CR, OCMP_PKIBODY_POPDECC, OCMP_PKIBODY_POPDECR, OCMP_PKIBODY_KUR,
    OCMP_PKIBODY_KUP, OCMP_PKIBODY_KRR, OCMP_PKIBODY_KRP, OCMP_PKIBODY_RR, OCMP_PKIBODY_RP,
    OCMP_PKIBODY_CCR, OCMP_PKIBODY_CCP, OCMP_PKIBODY_CKUANN, OCMP_PKIBODY_CANN,
    OCMP_PKIBODY_RANN, OCMP_PKIBODY_CRLANN, OCMP_PKIBODY_PKICONF, OCMP_PKIBODY_NESTED,
    OCMP_PKIBODY_GENM, OCMP_PKIBODY_GENP, OCMP_PKIBODY_ERROR, OCMP_PKIBODY_CERTCONF,
    OCMP_PKIBODY_POLLREQ, OCMP_PKIBODY_POLLREP
};

/* OpenSSL's ASN.1 item for InfoTypeAndValue, which libcrypto does not export.  The item of
   PKIHeader (exported) holds it: generalInfo is [8] EXPLICIT SEQUENCE OF InfoTypeAndValue
   (RFC 4210, crypto/cmp/cmp_asn.c).  Its ADB decodes the value of every infoType that the
   linked OpenSSL types itself into OpenSSL's own structure, exactly as inside a
   PKIMessage.  The walk uses only the public ASN1_ITEM/ASN1_TEMPLATE layout of
   <openssl/asn1t.h>; NULL if the header item does not look as expected. */
static const ASN1_ITEM *ocmp_itav_item(void)
{
    const ASN1_ITEM *hdr = ASN1_ITEM_rptr(OSSL_CMP_PKIHEADER);
    long i;

    if (hdr == NULL || hdr->itype != ASN1_ITYPE_SEQUENCE || hdr->templates == NULL)
        return NULL;
    for (i = 0; i < hdr->tcount; i++) {
        const ASN1_TEMPLATE *tt = &hdr->templates[i];
        const ASN1_ITEM *it;

        if ((tt->flags & ASN1_TFLG_SK_MASK) != ASN1_TFLG_SEQUENCE_OF
                || (tt->flags & ASN1_TFLG_ADB_MASK) != 0 || tt->tag != 8
                || tt->item == NULL)
            continue;
        it = ASN1_ITEM_ptr(tt->item);
        if (it != NULL && it->itype == ASN1_ITYPE_SEQUENCE && it->sname != NULL
                && strcmp(it->sname, "OSSL_CMP_ITAV") == 0)
            return it;
    }
    return NULL;
}

OSSL_CMP_ITAV *ocmp_d2i_OSSL_CMP_ITAV(OSSL_CMP_ITAV **a, const unsigned char **in, long len)
{
    const ASN1_ITEM *it = ocmp_itav_item();

    if (it == NULL) {
        ERR_raise_data(ERR_LIB_CMP, ERR_R_UNSUPPORTED, "no InfoTypeAndValue ASN.1 item");
        return NULL;
    }
    return (OSSL_CMP_ITAV *)ASN1_item_d2i((ASN1_VALUE **)a, in, len, it);
}

int ocmp_i2d_OSSL_CMP_ITAV(const OSSL_CMP_ITAV *a, unsigned char **out)
{
    const ASN1_ITEM *it = ocmp_itav_item();

    if (it == NULL) {
        ERR_raise_data(ERR_LIB_CMP, ERR_R_UNSUPPORTED, "no InfoTypeAndValue ASN.1 item");
        return -1;
    }
    return ASN1_item_i2d((const ASN1_VALUE *)a, out, it);
}
"""
