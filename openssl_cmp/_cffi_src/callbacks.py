"""``extern "Python"`` trampolines for every CMP callback type.

cffi turns each declaration into a real C function whose body calls the Python function
registered with ``@ffi.def_extern(name=...)``; no executable memory is allocated at run time
(unlike ``ffi.callback``).  The names are global to the process, so there are two sets:

* ``ocmp_<kind>_cb``: owned by the Pythonic layer (``openssl_cmp.callbacks``), which
  registers them when imported.  Do not redefine them.
* ``ocmp_user_<kind>_cb``: free for applications that use ``openssl_cmp.binding`` directly;
  the library never registers or calls them.

A trampoline that was never defined returns 0/NULL (cffi prints a warning), which OpenSSL
treats as a failure of that callback.
"""

INCLUDES = ""

TYPES = ""

_SIGNATURES = {
    "log": "int {name}(const char *, const char *, int, OSSL_CMP_severity, const char *);",
    "transfer": "OSSL_CMP_MSG *{name}(OSSL_CMP_CTX *, const OSSL_CMP_MSG *);",
    "http": "BIO *{name}(BIO *, void *, int, int);",
    "certconf": "int {name}(OSSL_CMP_CTX *, X509 *, int, const char **);",
    "srv_cert_request": (
        "OSSL_CMP_PKISI *{name}(OSSL_CMP_SRV_CTX *, const OSSL_CMP_MSG *, int,"
        " const OSSL_CRMF_MSG *, const X509_REQ *, X509 **, OCMP_STACK_OF_X509 **,"
        " OCMP_STACK_OF_X509 **);"
    ),
    "srv_rr": (
        "OSSL_CMP_PKISI *{name}(OSSL_CMP_SRV_CTX *, const OSSL_CMP_MSG *, const X509_NAME *,"
        " const ASN1_INTEGER *);"
    ),
    "srv_genm": (
        "int {name}(OSSL_CMP_SRV_CTX *, const OSSL_CMP_MSG *,"
        " const OCMP_STACK_OF_OSSL_CMP_ITAV *, OCMP_STACK_OF_OSSL_CMP_ITAV **);"
    ),
    "srv_error": (
        "void {name}(OSSL_CMP_SRV_CTX *, const OSSL_CMP_MSG *, const OSSL_CMP_PKISI *,"
        " const ASN1_INTEGER *, const OSSL_CMP_PKIFREETEXT *);"
    ),
    "srv_certconf": (
        "int {name}(OSSL_CMP_SRV_CTX *, const OSSL_CMP_MSG *, int, const ASN1_OCTET_STRING *,"
        " const OSSL_CMP_PKISI *);"
    ),
    "srv_pollreq": (
        "int {name}(OSSL_CMP_SRV_CTX *, const OSSL_CMP_MSG *, int, OSSL_CMP_MSG **,"
        " int64_t *);"
    ),
}

KINDS = tuple(_SIGNATURES)


def extern_python(signatures):
    """cdef text declaring ``ocmp_<kind>_cb`` and ``ocmp_user_<kind>_cb`` for each kind."""
    lines = ['extern "Python" {']
    for kind, sig in signatures.items():
        lines.append("    " + sig.format(name="ocmp_%s_cb" % kind))
        lines.append("    " + sig.format(name="ocmp_user_%s_cb" % kind))
    lines.append("}")
    return "\n".join(lines) + "\n"


FUNCTIONS = extern_python(_SIGNATURES)

CUSTOMIZATIONS = ""
