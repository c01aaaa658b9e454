"""openssl_cmp: OpenSSL's CMP (RFC 4210 / 9480 / 9483) client and server API for Python.

Two layers: :mod:`openssl_cmp.binding` (``ffi``, ``lib``: the raw C API) and the Pythonic
classes re-exported here.  See docs/ (docs/contract.md: the contract).
"""

# The binding must be imported first: it may hook the allocator before any allocation.
from openssl_cmp import binding  # noqa: F401  isort: skip
from openssl_cmp.batch import enroll_many
from openssl_cmp.callbacks import log_to_logging
from openssl_cmp.context import Context, default_cert_conf
from openssl_cmp.enums import (BodyType, FailInfo, LogLevel, Option, PKIStatus, PopoMethod,
                               ReqType, RevocationReason)
from openssl_cmp.errors import CMPError, Error, ErrorEntry, OpenSSLError, UnsupportedError
from openssl_cmp.itavs import CertReqTemplate, CRLStatus, RootCaKeyUpdate
from openssl_cmp.keys import PrivateKey, PublicKey
from openssl_cmp.libctx import LibContext
from openssl_cmp.message import ITAV, CertRequest, CertStatus, Message, RevDetails, StatusInfo
from openssl_cmp.objects import (CRL, CSR, Certificate, Extensions, GeneralName, Name,
                                 PolicyInfo, TrustStore)
from openssl_cmp.revocation import RevocationCheck
from openssl_cmp.store import (WrongPasswordError, load_certificate, load_certificates,
                               load_pkcs12)
from openssl_cmp.server import CertResponse, RejectRequest, Server
from openssl_cmp.tls import TLS

__version__ = "0.1.0"

__all__ = [
    "binding", "Context", "default_cert_conf", "log_to_logging",
    "BodyType", "FailInfo", "LogLevel", "Option", "PKIStatus", "PopoMethod", "ReqType",
    "RevocationReason",
    "CMPError", "Error", "ErrorEntry", "OpenSSLError", "UnsupportedError",
    "PrivateKey", "PublicKey", "LibContext", "load_certificate", "load_certificates",
    "load_pkcs12", "WrongPasswordError", "ITAV", "CertRequest", "Message", "StatusInfo",
    "RevDetails", "CertStatus",
    "CRL", "CSR", "Certificate", "Extensions", "GeneralName", "Name", "PolicyInfo",
    "TrustStore", "Server", "CertResponse", "RejectRequest", "TLS",
    "CertReqTemplate", "CRLStatus", "RootCaKeyUpdate", "enroll_many",
    "RevocationCheck",
]
