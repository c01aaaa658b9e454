"""Every declaration that a later OpenSSL release added, keyed by the release.

This is the one place that knows which symbol needs which OpenSSL.  ``build_ffi.py`` puts a
block into the cdef only when the headers it compiles against are at least that version, so
on an older OpenSSL the names are absent from ``binding.lib`` (never a NULL function).  The
version of each symbol is the symbol-version tag of libcrypto.so.3 (``objdump -T``); macros
and constants follow the header history (docs/openssl-versions.md).

At run time :func:`openssl_cmp.binding.since` reads the same table to name the version in
``UnsupportedError`` messages.
"""

import importlib.util
import os
import re


def _sibling(name):
    """Another file of this directory, loaded by path: build_ffi.py loads this file by path
    too, so a package import would not work at build time."""
    spec = importlib.util.spec_from_file_location(
        "_ocmp_cffi_" + name, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                           name + ".py"))
    assert spec is not None and spec.loader is not None, name
    module = importlib.util.module_from_spec(spec)
    getattr(spec.loader, "exec_module")(module)  # (typeshed's Loader type lacks it)
    return module


_stacks = _sibling("stacks")

# The typed stacks of the element types 3.4 added (cmp.h / crmf.h DEFINE_STACK_OF)
_STACKS_3_4 = (
    _stacks.stack_types("OSSL_CMP_CRLSTATUS", typedef=False)
    + _stacks.stack_functions("OSSL_CMP_CRLSTATUS")
    + _stacks.stack_types("OSSL_CRMF_ATTRIBUTETYPEANDVALUE")
    + _stacks.stack_functions("OSSL_CRMF_ATTRIBUTETYPEANDVALUE")
    # cmp.h's aliases of the ATAV stack operations (#define sk_OSSL_CMP_ATAV_num …)
    + """
int sk_OSSL_CMP_ATAV_num(const OCMP_STACK_OF_OSSL_CRMF_ATTRIBUTETYPEANDVALUE *);
OSSL_CRMF_ATTRIBUTETYPEANDVALUE *sk_OSSL_CMP_ATAV_value(
    const OCMP_STACK_OF_OSSL_CRMF_ATTRIBUTETYPEANDVALUE *, int);
int sk_OSSL_CMP_ATAV_push(OCMP_STACK_OF_OSSL_CRMF_ATTRIBUTETYPEANDVALUE *,
                          OSSL_CRMF_ATTRIBUTETYPEANDVALUE *);
void sk_OSSL_CMP_ATAV_pop_free(OCMP_STACK_OF_OSSL_CRMF_ATTRIBUTETYPEANDVALUE *,
                               void (*)(OSSL_CRMF_ATTRIBUTETYPEANDVALUE *));
""")

# (OPENSSL_VERSION_NUMBER of the first release, "x.y.z", cdef text)
GATES = [
    (0x30000080, "3.0.8", """
int OSSL_CMP_CTX_reset_geninfo_ITAVs(OSSL_CMP_CTX *);
static const int OSSL_CMP_PKISTATUS_request;
static const int OSSL_CMP_PKISTATUS_trans;
static const int OSSL_CMP_PKISTATUS_unspecified;
"""),
    (0x30000090, "3.0.9", """
int OSSL_CMP_MSG_update_recipNonce(OSSL_CMP_CTX *, OSSL_CMP_MSG *);
"""),
    (0x30200000, "3.2.0", """
OSSL_LIB_CTX *OSSL_CMP_CTX_get0_libctx(const OSSL_CMP_CTX *);
const char *OSSL_CMP_CTX_get0_propq(const OSSL_CMP_CTX *);
X509 *OSSL_CMP_CTX_get0_validatedSrvCert(const OSSL_CMP_CTX *);
int OSSL_CMP_CTX_set1_serialNumber(OSSL_CMP_CTX *, const ASN1_INTEGER *);
int OSSL_CMP_CTX_set0_trusted(OSSL_CMP_CTX *, X509_STORE *);   /* macro alias */
X509_STORE *OSSL_CMP_CTX_get0_trusted(const OSSL_CMP_CTX *);   /* macro alias */
static const int OSSL_CMP_OPT_USE_TLS;
static const int OSSL_CMP_PVNO_2;
static const int OSSL_CMP_PVNO_3;
int OSSL_CMP_ITAV_get0_caCerts(const OSSL_CMP_ITAV *, OCMP_STACK_OF_X509 **);
int OSSL_CMP_ITAV_get0_rootCaCert(const OSSL_CMP_ITAV *, X509 **);
int OSSL_CMP_ITAV_get0_rootCaKeyUpdate(const OSSL_CMP_ITAV *, X509 **, X509 **, X509 **);
OSSL_CMP_ITAV *OSSL_CMP_ITAV_new_caCerts(const OCMP_STACK_OF_X509 *);
OSSL_CMP_ITAV *OSSL_CMP_ITAV_new_rootCaCert(const X509 *);
OSSL_CMP_ITAV *OSSL_CMP_ITAV_new_rootCaKeyUpdate(const X509 *, const X509 *, const X509 *);
int OSSL_CMP_get1_caCerts(OSSL_CMP_CTX *, OCMP_STACK_OF_X509 **);
int OSSL_CMP_get1_rootCaKeyUpdate(OSSL_CMP_CTX *, const X509 *, X509 **, X509 **, X509 **);
X509_PUBKEY *OSSL_CRMF_CERTTEMPLATE_get0_publicKey(const OSSL_CRMF_CERTTEMPLATE *);
"""),
    (0x30300000, "3.3.0", """
typedef int (*OSSL_CMP_SRV_delayed_delivery_cb_t)(OSSL_CMP_SRV_CTX *, const OSSL_CMP_MSG *);
typedef int (*OSSL_CMP_SRV_clean_transaction_cb_t)(OSSL_CMP_SRV_CTX *,
                                                   const ASN1_OCTET_STRING *);
static const int OSSL_CMP_OPT_NO_CACHE_EXTRACERTS;
static const int OSSL_CMP_GENM;
static const int OSSL_CMP_ERROR;
OCMP_STACK_OF_OSSL_CMP_ITAV *OSSL_CMP_CTX_get0_geninfo_ITAVs(const OSSL_CMP_CTX *);
OCMP_STACK_OF_OSSL_CMP_ITAV *OSSL_CMP_HDR_get0_geninfo_ITAVs(const OSSL_CMP_PKIHEADER *);
int OSSL_CMP_ITAV_get0_certProfile(const OSSL_CMP_ITAV *, OCMP_STACK_OF_ASN1_UTF8STRING **);
OSSL_CMP_ITAV *OSSL_CMP_ITAV_new0_certProfile(OCMP_STACK_OF_ASN1_UTF8STRING *);
X509_PUBKEY *OSSL_CMP_MSG_get0_certreq_publickey(const OSSL_CMP_MSG *);
int OSSL_CMP_SRV_CTX_init_trans(OSSL_CMP_SRV_CTX *, OSSL_CMP_SRV_delayed_delivery_cb_t,
                                OSSL_CMP_SRV_clean_transaction_cb_t);
extern "Python" {
    int ocmp_srv_delayed_delivery_cb(OSSL_CMP_SRV_CTX *, const OSSL_CMP_MSG *);
    int ocmp_user_srv_delayed_delivery_cb(OSSL_CMP_SRV_CTX *, const OSSL_CMP_MSG *);
    int ocmp_srv_clean_transaction_cb(OSSL_CMP_SRV_CTX *, const ASN1_OCTET_STRING *);
    int ocmp_user_srv_clean_transaction_cb(OSSL_CMP_SRV_CTX *, const ASN1_OCTET_STRING *);
}
"""),
    (0x30400000, "3.4.0", """
typedef ... OSSL_CMP_CRLSTATUS;
typedef struct ossl_crmf_attributetypeandvalue_st OSSL_CMP_ATAV;
typedef struct stack_st_OSSL_CRMF_ATTRIBUTETYPEANDVALUE OSSL_CMP_ATAVS;
typedef struct stack_st_OSSL_CMP_CRLSTATUS OCMP_STACK_OF_OSSL_CMP_CRLSTATUS;
OSSL_CMP_ATAVS *OSSL_CMP_ATAVS_new(void);
void OSSL_CMP_ATAVS_free(OSSL_CMP_ATAVS *);
const ASN1_ITEM *OSSL_CMP_ATAVS_it(void);
OSSL_CMP_ATAVS *d2i_OSSL_CMP_ATAVS(OSSL_CMP_ATAVS **, const unsigned char **, long);
int i2d_OSSL_CMP_ATAVS(const OSSL_CMP_ATAVS *, unsigned char **);
OSSL_CMP_ATAV *OSSL_CMP_ATAV_create(ASN1_OBJECT *, ASN1_TYPE *);
void OSSL_CMP_ATAV_set0(OSSL_CMP_ATAV *, ASN1_OBJECT *, ASN1_TYPE *);
ASN1_OBJECT *OSSL_CMP_ATAV_get0_type(const OSSL_CMP_ATAV *);
ASN1_TYPE *OSSL_CMP_ATAV_get0_value(const OSSL_CMP_ATAV *);
OSSL_CMP_ATAV *OSSL_CMP_ATAV_new_algId(const X509_ALGOR *);
X509_ALGOR *OSSL_CMP_ATAV_get0_algId(const OSSL_CMP_ATAV *);
OSSL_CMP_ATAV *OSSL_CMP_ATAV_new_rsaKeyLen(int);
int OSSL_CMP_ATAV_get_rsaKeyLen(const OSSL_CMP_ATAV *);
int OSSL_CMP_ATAV_push1(OSSL_CMP_ATAVS **, const OSSL_CMP_ATAV *);
void OSSL_CMP_ATAV_free(OSSL_CMP_ATAV *);   /* a macro */
OSSL_CMP_CRLSTATUS *OSSL_CMP_CRLSTATUS_create(const X509_CRL *, const X509 *, int);
OSSL_CMP_CRLSTATUS *OSSL_CMP_CRLSTATUS_new1(const DIST_POINT_NAME *, const GENERAL_NAMES *,
                                            const ASN1_TIME *);
int OSSL_CMP_CRLSTATUS_get0(const OSSL_CMP_CRLSTATUS *, DIST_POINT_NAME **, GENERAL_NAMES **,
                            ASN1_TIME **);
void OSSL_CMP_CRLSTATUS_free(OSSL_CMP_CRLSTATUS *);
int OSSL_CMP_ITAV_get0_crlStatusList(const OSSL_CMP_ITAV *,
                                     OCMP_STACK_OF_OSSL_CMP_CRLSTATUS **);
OSSL_CMP_ITAV *OSSL_CMP_ITAV_new0_crlStatusList(OCMP_STACK_OF_OSSL_CMP_CRLSTATUS *);
int OSSL_CMP_ITAV_get0_crls(const OSSL_CMP_ITAV *, OCMP_STACK_OF_X509_CRL **);
OSSL_CMP_ITAV *OSSL_CMP_ITAV_new_crls(const X509_CRL *);
int OSSL_CMP_ITAV_get1_certReqTemplate(const OSSL_CMP_ITAV *, OSSL_CRMF_CERTTEMPLATE **,
                                       OSSL_CMP_ATAVS **);
OSSL_CMP_ITAV *OSSL_CMP_ITAV_new0_certReqTemplate(OSSL_CRMF_CERTTEMPLATE *, OSSL_CMP_ATAVS *);
int OSSL_CMP_get1_certReqTemplate(OSSL_CMP_CTX *, OSSL_CRMF_CERTTEMPLATE **, OSSL_CMP_ATAVS **);
int OSSL_CMP_get1_crlUpdate(OSSL_CMP_CTX *, const X509 *, const X509_CRL *, X509_CRL **);
OSSL_CRMF_ATTRIBUTETYPEANDVALUE *OSSL_CRMF_ATTRIBUTETYPEANDVALUE_dup(
    const OSSL_CRMF_ATTRIBUTETYPEANDVALUE *);
void OSSL_CRMF_ATTRIBUTETYPEANDVALUE_free(OSSL_CRMF_ATTRIBUTETYPEANDVALUE *);
OSSL_CRMF_CERTTEMPLATE *OSSL_CRMF_CERTTEMPLATE_dup(const OSSL_CRMF_CERTTEMPLATE *);
""" + _STACKS_3_4),
    (0x30500000, "3.5.0", """
typedef ... OSSL_CRMF_ENCRYPTEDKEY;
typedef ... CMS_EnvelopedData;
OSSL_CRMF_ENCRYPTEDKEY *OSSL_CRMF_ENCRYPTEDKEY_new(void);
void OSSL_CRMF_ENCRYPTEDKEY_free(OSSL_CRMF_ENCRYPTEDKEY *);
const ASN1_ITEM *OSSL_CRMF_ENCRYPTEDKEY_it(void);
OSSL_CRMF_ENCRYPTEDKEY *d2i_OSSL_CRMF_ENCRYPTEDKEY(OSSL_CRMF_ENCRYPTEDKEY **,
                                                   const unsigned char **, long);
int i2d_OSSL_CRMF_ENCRYPTEDKEY(const OSSL_CRMF_ENCRYPTEDKEY *, unsigned char **);
X509 *OSSL_CRMF_ENCRYPTEDKEY_get1_encCert(const OSSL_CRMF_ENCRYPTEDKEY *, OSSL_LIB_CTX *,
                                          const char *, EVP_PKEY *, unsigned int);
EVP_PKEY *OSSL_CRMF_ENCRYPTEDKEY_get1_pkey(const OSSL_CRMF_ENCRYPTEDKEY *, X509_STORE *,
                                           OCMP_STACK_OF_X509 *, EVP_PKEY *, X509 *,
                                           ASN1_OCTET_STRING *, OSSL_LIB_CTX *,
                                           const char *);
OSSL_CRMF_ENCRYPTEDKEY *OSSL_CRMF_ENCRYPTEDKEY_init_envdata(CMS_EnvelopedData *);
unsigned char *OSSL_CRMF_ENCRYPTEDVALUE_decrypt(const OSSL_CRMF_ENCRYPTEDVALUE *,
                                                OSSL_LIB_CTX *, const char *, EVP_PKEY *,
                                                int *);
int OSSL_CRMF_MSG_centralkeygen_requested(const OSSL_CRMF_MSG *, const X509_REQ *);
int ocmp_repair_cmkga_purpose(void);
"""),
    (0x30500060, "3.5.6", """
static const int OSSL_CMP_PKISTATUS_checking_response;
static const int OSSL_CMP_PKISTATUS_rejected_by_client;
"""),
]

# C text compiled with the cdef of a gate: typedefs for stacks cffi cannot spell.
GATE_CUSTOMIZATIONS = {
    "3.4.0": "typedef STACK_OF(OSSL_CMP_CRLSTATUS) OCMP_STACK_OF_OSSL_CMP_CRLSTATUS;\n"
             "typedef STACK_OF(OSSL_CRMF_ATTRIBUTETYPEANDVALUE) "
             "OCMP_STACK_OF_OSSL_CRMF_ATTRIBUTETYPEANDVALUE;\n",
    "3.5.0": r"""
/* OpenSSL 3.5's OSSL_CRMF_ENCRYPTEDKEY_get1_pkey() adds the purpose "cmKGA" on its first call
   in a process and uses its id; on every later call it passes X509_PURPOSE_get_by_sname()'s
   table *index* as the purpose id, i.e. the id of the entry before it (X509_PURPOSE_CODE_SIGN
   when cmKGA is the only added purpose), so the KGA certificate is "unsuitable".  Put an entry
   with the same check at the id that index names, so the wrong lookup and a right one both
   reach the cmKGA check.  Called once, at import, under the GIL.  Returns 1 when the table
   is right afterwards. */
static int ocmp_check_cmkga(const X509_PURPOSE *xp, const X509 *x, int non_leaf)
{
    STACK_OF(ASN1_OBJECT) *ekus;
    int i, ret = 0;

    (void)xp;
    if (non_leaf)  /* as OpenSSL's check_cmKGA: only the signer needs id-kp-cmKGA */
        return 1;
    ERR_set_mark();
    ekus = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
    ERR_pop_to_mark();
    for (i = 0; i < sk_ASN1_OBJECT_num(ekus); i++)
        if (OBJ_obj2nid(sk_ASN1_OBJECT_value(ekus, i)) == NID_cmKGA)
            ret = 1;
    sk_ASN1_OBJECT_pop_free(ekus, ASN1_OBJECT_free);
    return ret;
}

static int ocmp_cmkga_lookup_ok(void)
{
    /* the entry 3.5 ends up checking: the one whose id is cmKGA's index */
    const X509_PURPOSE *xp
        = X509_PURPOSE_get0(X509_PURPOSE_get_by_id(X509_PURPOSE_get_by_sname(SN_cmKGA)));

    return xp != NULL && X509_PURPOSE_get0_sname(xp) != NULL
        && (strcmp(X509_PURPOSE_get0_sname(xp), SN_cmKGA) == 0
            || strcmp(X509_PURPOSE_get0_sname(xp), "ocmp_cmKGA") == 0);
}

/* Added purposes keep their insertion order (nothing sorts the table; a find on an unsorted
   stack searches linearly), so the next two entries get indices n and n + 1: the twin takes
   id n + 1, the index cmKGA will have.  Too late once something else has added cmKGA. */
static int ocmp_repair_cmkga_purpose(void)
{
    int n = X509_PURPOSE_get_count();

    ERR_set_mark();
    if (X509_PURPOSE_get_by_sname(SN_cmKGA) < 0
            && X509_PURPOSE_get_by_sname("ocmp_cmKGA") < 0
            && X509_PURPOSE_get_by_id(n + 1) < 0)
        (void)(X509_PURPOSE_add(n + 1, X509_TRUST_COMPAT, 0, ocmp_check_cmkga,
                                "openssl_cmp " LN_cmKGA, "ocmp_cmKGA", NULL)
               && X509_PURPOSE_add(X509_PURPOSE_get_unused_id(NULL), X509_TRUST_COMPAT, 0,
                                   ocmp_check_cmkga, LN_cmKGA, SN_cmKGA, NULL));
    ERR_pop_to_mark();
    return ocmp_cmkga_lookup_ok();
}
""",
}

def declared_names(cdef):
    """The names a cdef block declares (functions, constants and typedefs)."""
    names = set()
    for statement in cdef.split(";"):
        statement = re.sub(r"/\*.*?\*/", "", statement, flags=re.S).strip()
        if not statement or statement.startswith("extern") and "{" in statement:
            statement = statement.split("{", 1)[-1].strip()
        if not statement or statement == "}":
            continue
        if statement.startswith("typedef"):
            fp = re.search(r"\(\s*\*\s*([A-Za-z_]\w*)\s*\)", statement)
            names.add(fp.group(1) if fp else re.findall(r"([A-Za-z_]\w*)\s*$", statement)[0])
        elif statement.startswith("static const"):
            names.add(re.findall(r"([A-Za-z_]\w*)\s*$", statement)[0])
        else:
            m = re.search(r"([A-Za-z_]\w*)\s*\(", statement)
            if m:
                names.add(m.group(1))
    return names


def since_table():
    """``{name: "x.y.z"}`` for every gated name."""
    table = {}
    for _number, label, cdef in GATES:
        for name in declared_names(cdef):
            table[name] = label
    return table
