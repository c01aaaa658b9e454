"""The PKIHeader checks of RFC 9483 that OpenSSL's server core does not make.

``Server`` runs them in Python on every request handed to ``process()`` / ``serve_http()``,
before ``OSSL_CMP_SRV_process_request``; a request that fails one is answered with a CMP
error message carrying the failInfo bit named below, and never reaches the core.  Each check
is switched on or off on :class:`ServerChecks` (``server.checks``).

* ``require_transaction_id`` (RFC 9483 §3.1: transactionID MUST be present) → badRequest.
* ``min_sender_nonce_bytes`` (§3.1: senderNonce MUST be present, at least 128 bits)
  → badSenderNonce.
* ``message_time_window`` (§3.1/§3.5: messageTime, when present, close to the server's
  clock) → badTime.
* ``reject_transaction_id_in_use`` (§3.5: a request that starts a transaction with the ID of
  one still open) → transactionIdInUse.
* ``cert_conf_single_status`` (§4.1.1: a certConf holds exactly one CertStatus, as the
  profile enrolls one certificate per request) → badRequest.
* ``hash_alg_requires_pvno3`` (RFC 9480 §2.10: ``hashAlg`` in a CertStatus only with pvno 3)
  → unsupportedVersion.
* ``cert_conf_same_credentials`` (§4.1.1: the certConf is protected like the request it
  confirms: the same MAC reference, or the same signer) → badMessageCheck.
"""

from __future__ import annotations

import datetime
from typing import Any

from openssl_cmp import _der
from openssl_cmp.enums import BodyType, FailInfo

__all__ = ["ServerChecks", "CheckFailure", "check_request", "check_cert_conf",
           "STARTING_BODIES"]

STARTING_BODIES = frozenset((BodyType.IR, BodyType.CR, BodyType.P10CR, BodyType.KUR,
                             BodyType.RR, BodyType.GENM))
"""Bodies that start a transaction (the server core reinitialises on them)."""


class CheckFailure(Exception):
    """A request failed a header check: ``fail_info`` and the status ``text``."""

    def __init__(self, fail_info: FailInfo, text: str) -> None:
        super().__init__(text)
        self.fail_info = fail_info
        self.text = text


def _flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError("%s must be bool, not %s" % (name, type(value).__name__))
    return value


class ServerChecks:
    """The RFC 9483 header checks of a :class:`~openssl_cmp.server.Server` (``server.checks``),
    all on by default.  Attributes (validated on assignment):

    * ``require_transaction_id`` (bool)
    * ``min_sender_nonce_bytes`` (int >= 0; 0 = no check; default 16, i.e. 128 bits)
    * ``message_time_window`` (seconds, float > 0, or None = no check; default 300: the
      profile sets no value; five minutes tolerates the clock drift of devices without NTP
      while still refusing replayed or stale requests, and equals the server's default
      ``transaction_timeout``)
    * ``reject_transaction_id_in_use`` (bool)
    * ``cert_conf_same_credentials`` (bool)
    * ``cert_conf_single_status`` (bool)
    * ``hash_alg_requires_pvno3`` (bool)
    """

    __slots__ = ("_require_transaction_id", "_min_sender_nonce_bytes",
                 "_message_time_window", "_reject_transaction_id_in_use",
                 "_cert_conf_same_credentials", "_cert_conf_single_status",
                 "_hash_alg_requires_pvno3")

    _require_transaction_id: bool
    _min_sender_nonce_bytes: int
    _message_time_window: float | None
    _reject_transaction_id_in_use: bool
    _cert_conf_same_credentials: bool
    _cert_conf_single_status: bool
    _hash_alg_requires_pvno3: bool

    def __init__(self, *, require_transaction_id: bool = True,
                 min_sender_nonce_bytes: int = 16,
                 message_time_window: float | None = 300.0,
                 reject_transaction_id_in_use: bool = True,
                 cert_conf_same_credentials: bool = True,
                 cert_conf_single_status: bool = True,
                 hash_alg_requires_pvno3: bool = True) -> None:
        self.require_transaction_id = require_transaction_id
        self.min_sender_nonce_bytes = min_sender_nonce_bytes
        self.message_time_window = message_time_window
        self.reject_transaction_id_in_use = reject_transaction_id_in_use
        self.cert_conf_same_credentials = cert_conf_same_credentials
        self.cert_conf_single_status = cert_conf_single_status
        self.hash_alg_requires_pvno3 = hash_alg_requires_pvno3

    @classmethod
    def none(cls) -> ServerChecks:
        """Every check off (OpenSSL's own behaviour)."""
        return cls(require_transaction_id=False, min_sender_nonce_bytes=0,
                   message_time_window=None, reject_transaction_id_in_use=False,
                   cert_conf_same_credentials=False, cert_conf_single_status=False,
                   hash_alg_requires_pvno3=False)

    @property
    def require_transaction_id(self) -> bool:
        """A request without transactionID is refused (badRequest)."""
        return self._require_transaction_id

    @require_transaction_id.setter
    def require_transaction_id(self, value: bool) -> None:
        self._require_transaction_id = _flag("require_transaction_id", value)

    @property
    def min_sender_nonce_bytes(self) -> int:
        """A senderNonce absent or shorter than this is refused (badSenderNonce); 0: off."""
        return self._min_sender_nonce_bytes

    @min_sender_nonce_bytes.setter
    def min_sender_nonce_bytes(self, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError("min_sender_nonce_bytes must be int")
        if value < 0:
            raise ValueError("min_sender_nonce_bytes must be >= 0")
        self._min_sender_nonce_bytes = value

    @property
    def message_time_window(self) -> float | None:
        """Seconds a messageTime may differ from the server's clock (badTime); None: off."""
        return self._message_time_window

    @message_time_window.setter
    def message_time_window(self, value: float | None) -> None:
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError("message_time_window must be a number or None")
            if not value > 0:
                raise ValueError("message_time_window must be > 0 (None turns it off)")
            value = float(value)
        self._message_time_window = value

    @property
    def reject_transaction_id_in_use(self) -> bool:
        """A new transaction with the ID of an open one is refused (transactionIdInUse)."""
        return self._reject_transaction_id_in_use

    @reject_transaction_id_in_use.setter
    def reject_transaction_id_in_use(self, value: bool) -> None:
        self._reject_transaction_id_in_use = _flag("reject_transaction_id_in_use", value)

    @property
    def cert_conf_same_credentials(self) -> bool:
        """A certConf protected otherwise than its request is refused (badMessageCheck)."""
        return self._cert_conf_same_credentials

    @cert_conf_same_credentials.setter
    def cert_conf_same_credentials(self, value: bool) -> None:
        self._cert_conf_same_credentials = _flag("cert_conf_same_credentials", value)

    @property
    def cert_conf_single_status(self) -> bool:
        """A certConf with other than one CertStatus is refused (badRequest)."""
        return self._cert_conf_single_status

    @cert_conf_single_status.setter
    def cert_conf_single_status(self, value: bool) -> None:
        self._cert_conf_single_status = _flag("cert_conf_single_status", value)

    @property
    def hash_alg_requires_pvno3(self) -> bool:
        """A CertStatus with hashAlg in a pvno 2 certConf is refused (unsupportedVersion)."""
        return self._hash_alg_requires_pvno3

    @hash_alg_requires_pvno3.setter
    def hash_alg_requires_pvno3(self, value: bool) -> None:
        self._hash_alg_requires_pvno3 = _flag("hash_alg_requires_pvno3", value)

    def __repr__(self) -> str:
        return "ServerChecks(%s)" % ", ".join(
            "%s=%r" % (name[1:], getattr(self, name)) for name in self.__slots__)


def _generalized_time(raw: bytes) -> datetime.datetime:
    """A DER GeneralizedTime (``YYYYMMDDHHMMSS[.f]Z``) as an aware datetime (``_der``'s
    reader: no strptime, which costs ~20 µs per request)."""
    tlv = _der.single(raw)
    if tlv.tag != 0x18:
        raise ValueError("messageTime is not a GeneralizedTime")
    return _der.generalized_time(tlv)


def check_request(checks: ServerChecks, fields: dict[str, Any], body: BodyType,
                  open_transaction: bool) -> None:
    """Raise :class:`CheckFailure` if the request header ``fields`` (``_der.pkiheader``)
    fails a check; ``open_transaction``: its transactionID belongs to an open transaction."""
    tid = fields.get("transaction_id")
    if checks._require_transaction_id and tid is None:
        raise CheckFailure(FailInfo.BAD_REQUEST, "transactionID missing (RFC 9483 3.1)")
    minimum = checks._min_sender_nonce_bytes
    if minimum:
        nonce = fields.get("sender_nonce")
        if nonce is None or len(nonce) < minimum:
            raise CheckFailure(FailInfo.BAD_SENDER_NONCE,
                               "senderNonce missing or shorter than %d bits (RFC 9483 3.1)"
                               % (8 * minimum))
    window = checks._message_time_window
    raw_time = fields.get("message_time")
    if window is not None and raw_time is not None:
        try:
            sent = _generalized_time(raw_time)
        except (ValueError, UnicodeDecodeError):
            raise CheckFailure(FailInfo.BAD_DATA_FORMAT, "messageTime malformed") from None
        skew = abs((datetime.datetime.now(datetime.timezone.utc) - sent).total_seconds())
        if skew > window:
            raise CheckFailure(FailInfo.BAD_TIME,
                               "messageTime differs from the server's time by %d s "
                               "(RFC 9483 3.5)" % skew)
    if checks._reject_transaction_id_in_use and open_transaction and body in STARTING_BODIES:
        raise CheckFailure(FailInfo.TRANSACTION_ID_IN_USE,
                           "transactionID already in use by an open transaction "
                           "(RFC 9483 3.5)")


def cert_statuses(message_der: bytes) -> list[list[_der.TLV]]:
    """The CertStatus sequences of a certConf message, each as its list of fields."""
    top = _der.children(_der.single(message_der).value)
    body = top[1]  # [24] CertConfirmContent
    content = _der.single(body.value)
    return [_der.children(status.value) for status in _der.children(content.value)]


def check_cert_conf(checks: ServerChecks, pvno: int, message_der: bytes) -> None:
    """Raise :class:`CheckFailure` if a certConf's body fails a check."""
    if not (checks._cert_conf_single_status or checks._hash_alg_requires_pvno3):
        return
    try:
        statuses = cert_statuses(message_der)
    except (ValueError, IndexError):
        raise CheckFailure(FailInfo.BAD_DATA_FORMAT, "certConf malformed") from None
    if checks._cert_conf_single_status and len(statuses) != 1:
        raise CheckFailure(FailInfo.BAD_REQUEST,
                           "a certConf must hold exactly one CertStatus, not %d "
                           "(RFC 9483 4.1.1)" % len(statuses))
    if checks._hash_alg_requires_pvno3 and pvno != 3:
        for fields in statuses:
            # CertStatus ::= SEQUENCE { certHash, certReqId, statusInfo OPTIONAL,
            #                           hashAlg [0] AlgorithmIdentifier OPTIONAL }
            if any(f.tag == 0xA0 for f in fields[2:]):
                raise CheckFailure(FailInfo.UNSUPPORTED_VERSION,
                                   "hashAlg in a CertStatus requires pvno 3 (RFC 9480 2.10)")
