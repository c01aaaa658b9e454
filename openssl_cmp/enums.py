"""Enumerations with the values of OpenSSL's headers.

Values that a given OpenSSL does not define (``Option.USE_TLS`` before 3.2, the body types,
the pseudo-statuses) are spelled out here, so the enums are the same on every OpenSSL; using
one that the linked OpenSSL lacks raises :class:`UnsupportedError` at the call.
"""

from __future__ import annotations

import enum

__all__ = ["Option", "LogLevel", "PKIStatus", "FailInfo", "BodyType", "PopoMethod",
           "RevocationReason", "ReqType"]


class Option(enum.IntEnum):
    """``OSSL_CMP_OPT_*``, for ``Context.set_option``/``get_option``."""

    LOG_VERBOSITY = 0
    KEEP_ALIVE = 10
    MSG_TIMEOUT = 11
    TOTAL_TIMEOUT = 12
    USE_TLS = 13  # OpenSSL 3.2
    VALIDITY_DAYS = 20
    SUBJECTALTNAME_NODEFAULT = 21
    SUBJECTALTNAME_CRITICAL = 22
    POLICIES_CRITICAL = 23
    POPO_METHOD = 24
    IMPLICIT_CONFIRM = 25
    DISABLE_CONFIRM = 26
    REVOCATION_REASON = 27
    UNPROTECTED_SEND = 30
    UNPROTECTED_ERRORS = 31
    OWF_ALGNID = 32
    MAC_ALGNID = 33
    DIGEST_ALGNID = 34
    IGNORE_KEYUSAGE = 35
    PERMIT_TA_IN_EXTRACERTS_FOR_IR = 36
    NO_CACHE_EXTRACERTS = 37  # OpenSSL 3.3

    @property
    def c_name(self) -> str:
        """The C name of the option (``"OSSL_CMP_OPT_KEEP_ALIVE"``)."""
        return "OSSL_CMP_OPT_" + self.name


class LogLevel(enum.IntEnum):
    """``OSSL_CMP_LOG_*`` severities (syslog numbering)."""

    EMERG = 0
    ALERT = 1
    CRIT = 2
    ERR = 3
    WARNING = 4
    NOTICE = 5
    INFO = 6
    DEBUG = 7
    TRACE = 8


class PKIStatus(enum.IntEnum):
    """PKIStatus (RFC 4210), plus OpenSSL's negative pseudo-statuses."""

    REJECTED_BY_CLIENT = -5  # OpenSSL 3.5.6
    CHECKING_RESPONSE = -4  # OpenSSL 3.5.6
    REQUEST = -3
    TRANS = -2
    UNSPECIFIED = -1
    ACCEPTED = 0
    GRANTED_WITH_MODS = 1
    REJECTION = 2
    WAITING = 3
    REVOCATION_WARNING = 4
    REVOCATION_NOTIFICATION = 5
    KEY_UPDATE_WARNING = 6


class FailInfo(enum.IntFlag):
    """PKIFailureInfo bits (``OSSL_CMP_CTX_FAILINFO_*`` = ``1 << OSSL_CMP_PKIFAILUREINFO_*``)."""

    BAD_ALG = 1 << 0
    BAD_MESSAGE_CHECK = 1 << 1
    BAD_REQUEST = 1 << 2
    BAD_TIME = 1 << 3
    BAD_CERT_ID = 1 << 4
    BAD_DATA_FORMAT = 1 << 5
    WRONG_AUTHORITY = 1 << 6
    INCORRECT_DATA = 1 << 7
    MISSING_TIME_STAMP = 1 << 8
    BAD_POP = 1 << 9
    CERT_REVOKED = 1 << 10
    CERT_CONFIRMED = 1 << 11
    WRONG_INTEGRITY = 1 << 12
    BAD_RECIPIENT_NONCE = 1 << 13
    TIME_NOT_AVAILABLE = 1 << 14
    UNACCEPTED_POLICY = 1 << 15
    UNACCEPTED_EXTENSION = 1 << 16
    ADD_INFO_NOT_AVAILABLE = 1 << 17
    BAD_SENDER_NONCE = 1 << 18
    BAD_CERT_TEMPLATE = 1 << 19
    SIGNER_NOT_TRUSTED = 1 << 20
    TRANSACTION_ID_IN_USE = 1 << 21
    UNSUPPORTED_VERSION = 1 << 22
    NOT_AUTHORIZED = 1 << 23
    SYSTEM_UNAVAIL = 1 << 24
    SYSTEM_FAILURE = 1 << 25
    DUPLICATE_CERT_REQ = 1 << 26

    def names(self) -> list[str]:
        """The names of the set bits, lowest first (``["BAD_REQUEST", "BAD_POP"]``)."""
        return [name for name, m in FailInfo.__members__.items() if m.value & self.value]

    @classmethod
    def from_bit(cls, bit: int) -> "FailInfo":
        """``FailInfo.from_bit(2) == FailInfo.BAD_REQUEST`` (bit numbers as in the CLI)."""
        if not 0 <= bit <= 26:
            raise ValueError("PKIFailureInfo bit must be 0..26, got %r" % (bit,))
        return cls(1 << bit)


ALL_FAIL_INFO_BITS = (1 << 27) - 1
"""Every PKIFailureInfo bit set (bits 0..26)."""


class BodyType(enum.IntEnum):
    """PKIBody choice numbers (``OSSL_CMP_PKIBODY_*``, private in OpenSSL's headers)."""

    IR = 0
    IP = 1
    CR = 2
    CP = 3
    P10CR = 4
    POPDECC = 5
    POPDECR = 6
    KUR = 7
    KUP = 8
    KRR = 9
    KRP = 10
    RR = 11
    RP = 12
    CCR = 13
    CCP = 14
    CKUANN = 15
    CANN = 16
    RANN = 17
    CRLANN = 18
    PKICONF = 19
    NESTED = 20
    GENM = 21
    GENP = 22
    ERROR = 23
    CERTCONF = 24
    POLLREQ = 25
    POLLREP = 26


class PopoMethod(enum.IntEnum):
    """Proof-of-possession methods (``OSSL_CRMF_POPO_*``)."""

    NONE = -1
    RAVERIFIED = 0
    SIGNATURE = 1
    KEYENC = 2
    KEYAGREE = 3


class RevocationReason(enum.IntEnum):
    """CRLReason (RFC 5280) for ``Option.REVOCATION_REASON``; NONE means none is sent."""

    NONE = -1
    UNSPECIFIED = 0
    KEY_COMPROMISE = 1
    CA_COMPROMISE = 2
    AFFILIATION_CHANGED = 3
    SUPERSEDED = 4
    CESSATION_OF_OPERATION = 5
    CERTIFICATE_HOLD = 6
    REMOVE_FROM_CRL = 8
    PRIVILEGE_WITHDRAWN = 9
    AA_COMPROMISE = 10


class ReqType(enum.IntEnum):
    """Certificate request types for ``exec_certreq``/``try_certreq`` (``OSSL_CMP_IR`` …)."""

    IR = 0
    CR = 2
    P10CR = 4
    KUR = 7
