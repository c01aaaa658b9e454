"""C declarations for the cffi build, one module per OpenSSL area.

Each module defines ``INCLUDES`` (C preprocessor text), ``TYPES`` and ``FUNCTIONS`` (cdef
text valid on every supported OpenSSL, 3.0.0 and later) and ``CUSTOMIZATIONS`` (C code the
binding adds; every name there carries the ``ocmp_`` prefix).  Declarations that only exist
in later OpenSSL releases live in one place, :mod:`gated`, keyed by the version that added
them.  ``build_ffi.py`` loads these files by path, so nothing here may import the package.
"""

# The order matters: later areas use types declared by earlier ones.
AREAS = (
    "common",
    "asn1",
    "bio",
    "err",
    "evp",
    "x509",
    "crl",
    "pem",
    "store",
    "ssl",
    "crmf",
    "cmp_msg",
    "stacks",
    "cmp_ctx",
    "cmp_session",
    "cmp_server",
    "x509_verify",
    "callbacks",
)
