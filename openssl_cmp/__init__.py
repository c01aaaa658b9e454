"""openssl_cmp: OpenSSL's CMP (RFC 4210 / 9480 / 9483) client and server API for Python.

Two layers: :mod:`openssl_cmp.binding` (``ffi``, ``lib``: the raw C API) and the Pythonic
classes re-exported here.
"""

# The binding must be imported first: it may hook the allocator before any allocation.
from openssl_cmp import binding  # noqa: F401

__version__ = "0.1.0"
