"""``Message.edit``: a changed copy of a PKIMessage, made by re-encoding its DER.

OpenSSL has no setters for most header and body fields, and a tester wants to change
exactly one field of a message OpenSSL produced, so the message is split with :mod:`_der`
(the same walk as :mod:`_msg_fields`), the named parts are re-encoded, and everything else
is kept byte for byte.  The keywords are the names of ``Message``'s readers.

Protection (RFC 4210 §5.1.3): ``"keep"`` leaves the protection bits as they were (an edited
message then usually fails its check), ``"none"`` removes protection and protectionAlg,
``"break"`` flips one bit of the protection, and ``reprotect=ctx`` recomputes it with the
credentials of a ``Context`` (MAC or signature) through
``OSSL_CMP_MSG_update_transactionID``: the one public OpenSSL call that protects a
message, which also writes the context's transactionID into it.
"""

from __future__ import annotations

import datetime
from typing import Any, Callable, Sequence

from openssl_cmp import _der
from openssl_cmp._asn1 import asn1_string_bytes
from openssl_cmp._der import TLV
from openssl_cmp.binding import ffi, lib
from openssl_cmp.enums import ALL_FAIL_INFO_BITS, BodyType
from openssl_cmp.errors import raise_openssl
from openssl_cmp.objects import Certificate, GeneralName, Name

# This module sits below ``message`` (which calls it) and ``context``: it sees ITAVs and
# StatusInfos as the DER / tuples ``Message.edit`` made of them, and a Context only as the
# C pointer and lock ``Context`` hands to :func:`protect`.

__all__ = ["edit_der", "protect", "check", "FIELDS", "PROTECTION_MODES"]

PROTECTION_MODES = ("keep", "none", "break")

_SEQ = 0x30
_OCTETS = 0x04
# header fields: keyword -> explicit tag number of the PKIHeader (RFC 4210 §5.1.1)
_HEADER_OCTETS = {"sender_kid": 2, "transaction_id": 4, "sender_nonce": 5, "recip_nonce": 6}
_HEADER_OTHER = ("pvno", "sender", "recipient", "message_time", "general_info",
                 "extra_certs")
_CERT_REQS = (BodyType.IR, BodyType.CR, BodyType.KUR)
_CERT_REPS = (BodyType.IP, BodyType.CP, BodyType.KUP)
# body fields: keyword -> the body types that have it
_BODY_FIELDS: dict[str, tuple[BodyType, ...]] = {
    "cert_req_id": _CERT_REQS + _CERT_REPS + (BodyType.CERTCONF, BodyType.POLLREQ,
                                              BodyType.POLLREP),
    "status": _CERT_REPS + (BodyType.RP, BodyType.ERROR),
    "fail_info": _CERT_REPS + (BodyType.RP, BodyType.ERROR),
    "certificate": _CERT_REPS,
    "cert_hash": (BodyType.CERTCONF,),
    "error_code": (BodyType.ERROR,),
    "error_details": (BodyType.ERROR,),
}
FIELDS = frozenset(_HEADER_OCTETS) | frozenset(_HEADER_OTHER) | frozenset(_BODY_FIELDS)
"""Every keyword ``Message.edit`` accepts (besides ``protection`` and ``reprotect``)."""

# a stand-in protectionAlg (sha256, never checked): OSSL_CMP_MSG_update_transactionID only
# protects a message that names one, and replaces it with the context's own
_PLACEHOLDER_ALG = _der.sequence(_der.encode_oid("2.16.840.1.101.3.4.2.1"))


def _octets(value: object, what: str) -> bytes:
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise TypeError("%s must be bytes or None, not %s" % (what, type(value).__name__))
    return bytes(value)


def _int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("%s must be int, not %s" % (what, type(value).__name__))
    return value


def _explicit(number: int, inner: bytes) -> bytes:
    return _der.encode(0xA0 | number, inner)


def _generalized_time(when: object) -> bytes:
    if not isinstance(when, datetime.datetime):
        raise TypeError("message_time must be a datetime or None, not %s"
                        % type(when).__name__)
    if when.tzinfo is not None:
        when = when.astimezone(datetime.timezone.utc)
    text = when.strftime("%Y%m%d%H%M%S")
    if when.microsecond:
        text += (".%06d" % when.microsecond).rstrip("0")
    return _der.encode(0x18, (text + "Z").encode("ascii"))


def _general_name_der(value: object, what: str) -> bytes:
    if isinstance(value, Name):
        value = GeneralName.directory(value)
    if not isinstance(value, GeneralName):
        raise TypeError("%s must be a GeneralName or Name, not %s"
                        % (what, type(value).__name__))
    return value.to_der()


def _itav_list(value: object) -> bytes:
    assert isinstance(value, list)  # of ITAV DERs: Message.edit checked and encoded them
    return _der.sequence(*value)


def _cert_list(value: object, what: str) -> bytes:
    if not isinstance(value, (list, tuple)) or \
            not all(isinstance(c, Certificate) for c in value):
        raise TypeError("%s must be a list of Certificate or None" % what)
    return _der.sequence(*(c.to_der() for c in value))


def _octet_string_encoder(what: str) -> Callable[[object], bytes]:
    def encode(value: object) -> bytes:
        return _der.encode(_OCTETS, _octets(value, what))
    return encode


def _header(raw: bytes, fields: dict[str, Any], strip_alg: bool, need_alg: bool) -> bytes:
    """The PKIHeader ``raw`` with ``fields`` applied (explicit fields kept in tag order)."""
    parts = _der.children(_der.expect(_der.single(raw), _SEQ, "PKIHeader").value)
    if len(parts) < 3:
        raise ValueError("PKIHeader too short")
    fixed = [p.raw for p in parts[:3]]
    tagged: dict[int, bytes] = {}
    for part in parts[3:]:
        n = part.context_number
        if n is None:
            raise ValueError("unexpected field in PKIHeader")
        tagged[n] = part.raw
    if "pvno" in fields:
        fixed[0] = _der.encode_integer(_int(fields["pvno"], "pvno"))
    for i, key in ((1, "sender"), (2, "recipient")):
        if key in fields:
            fixed[i] = _general_name_der(fields[key], key)
    encoders: dict[str, tuple[int, Callable[[object], bytes]]] = {
        key: (n, _octet_string_encoder(key)) for key, n in _HEADER_OCTETS.items()}
    encoders["message_time"] = (0, _generalized_time)
    encoders["general_info"] = (8, _itav_list)
    for key, (n, encoder) in encoders.items():
        if key in fields:
            value = fields[key]
            if value is None:
                tagged.pop(n, None)
            else:
                tagged[n] = _explicit(n, encoder(value))
    if strip_alg:
        tagged.pop(1, None)
    elif need_alg and 1 not in tagged:
        tagged[1] = _explicit(1, _PLACEHOLDER_ALG)
    return _der.sequence(*fixed, *(tagged[n] for n in sorted(tagged)))


# -- body ----------------------------------------------------------------------------------

def _seq(tlv: TLV, what: str) -> list[TLV]:
    return _der.children(_der.expect(tlv, _SEQ, what).value)


def _status_der(old: bytes, fields: dict[str, Any]) -> bytes:
    """A PKIStatusInfo: ``old`` with ``status`` (a ``(status, fail_info, texts)`` tuple
    made by Message.edit) and/or ``fail_info`` applied."""
    if "status" in fields:
        code, fail, texts = fields["status"]
    else:
        code, fail, texts = _der.pkistatusinfo(old)
    if "fail_info" in fields:
        fail = fields["fail_info"]  # checked by edit()
    return _der.encode_pkistatusinfo(code, fail, texts)


def _cert_response(rsp: TLV, fields: dict[str, Any]) -> bytes:
    parts = [p.raw for p in _seq(rsp, "CertResponse")]
    if len(parts) < 2:
        raise ValueError("CertResponse needs certReqId and status")
    if "cert_req_id" in fields:
        parts[0] = _der.encode_integer(_int(fields["cert_req_id"], "cert_req_id"))
    if "status" in fields or "fail_info" in fields:
        parts[1] = _status_der(parts[1], fields)
    if "certificate" in fields:
        cert = fields["certificate"]
        has_pair = len(parts) > 2 and parts[2][0] == _SEQ
        if cert is None:
            if has_pair:
                del parts[2]
        else:
            if not isinstance(cert, Certificate):
                raise TypeError("certificate must be a Certificate or None")
            # CertOrEncCert: certificate [0] CMPCertificate (a CHOICE: explicit)
            choice = _explicit(0, cert.to_der())
            if has_pair:
                pair = _der.children(_der.single(parts[2]).value)
                parts[2] = _der.sequence(choice, *(p.raw for p in pair[1:]))
            else:
                parts.insert(2, _der.sequence(choice))
    return _der.sequence(*parts)


def _body(kind: BodyType, body: TLV, fields: dict[str, Any]) -> bytes:
    """The body content (inside its [n] tag) with ``fields`` applied."""
    if kind in _CERT_REQS:
        msgs = []
        for msg in _seq(body, "CertReqMessages"):
            parts = [p.raw for p in _seq(msg, "CertReqMsg")]
            request = [p.raw for p in _seq(_der.single(parts[0]), "CertRequest")]
            request[0] = _der.encode_integer(_int(fields["cert_req_id"], "cert_req_id"))
            parts[0] = _der.sequence(*request)
            msgs.append(_der.sequence(*parts))
        return _der.sequence(*msgs)
    if kind in _CERT_REPS:
        parts = [p.raw for p in _seq(body, "CertRepMessage")]
        responses = [_cert_response(r, fields)
                     for r in _seq(_der.single(parts[-1]), "CertRepMessage response")]
        parts[-1] = _der.sequence(*responses)
        return _der.sequence(*parts)
    if kind == BodyType.RP:
        parts = [p.raw for p in _seq(body, "RevRepContent")]
        statuses = [_status_der(s.raw, fields)
                    for s in _seq(_der.single(parts[0]), "RevRepContent status")]
        parts[0] = _der.sequence(*statuses)
        return _der.sequence(*parts)
    if kind == BodyType.ERROR:
        return _error_body(body, fields)
    if kind == BodyType.CERTCONF:
        entries = []
        for entry in _seq(body, "CertConfirmContent"):
            parts = [p.raw for p in _seq(entry, "CertStatus")]
            if "cert_hash" in fields:
                parts[0] = _der.encode(_OCTETS, _octets(fields["cert_hash"], "cert_hash"))
            if "cert_req_id" in fields:
                parts[1] = _der.encode_integer(_int(fields["cert_req_id"], "cert_req_id"))
            entries.append(_der.sequence(*parts))
        return _der.sequence(*entries)
    # pollReq, pollRep: SEQUENCE OF SEQUENCE { certReqId, ... }
    entries = []
    for entry in _seq(body, "poll content"):
        parts = [p.raw for p in _seq(entry, "poll entry")]
        parts[0] = _der.encode_integer(_int(fields["cert_req_id"], "cert_req_id"))
        entries.append(_der.sequence(*parts))
    return _der.sequence(*entries)


def _error_body(body: TLV, fields: dict[str, Any]) -> bytes:
    parts = _seq(body, "ErrorMsgContent")
    status = _status_der(parts[0].raw, fields) if ("status" in fields
                                                   or "fail_info" in fields) else parts[0].raw
    code = next((p.raw for p in parts[1:] if p.tag == 0x02), None)
    details = next((p.raw for p in parts[1:] if p.tag == _SEQ), None)
    if "error_code" in fields:
        value = fields["error_code"]
        code = None if value is None else _der.encode_integer(_int(value, "error_code"))
    if "error_details" in fields:
        texts = fields["error_details"]
        if texts is None:
            details = None
        elif isinstance(texts, (list, tuple)) and all(isinstance(t, str) for t in texts):
            details = _der.sequence(*(_der.encode_utf8(t) for t in texts))
        else:
            raise TypeError("error_details must be a list of str or None")
    return _der.sequence(status, *(p for p in (code, details) if p is not None))


# -- the whole message ---------------------------------------------------------------------

def _flip(protection: TLV) -> bytes:
    """The protection [0] with one bit of its BIT STRING flipped (its last used bit)."""
    bits = _der.single(protection.value)
    if bits.tag != 0x03 or len(bits.value) < 2:
        raise ValueError("protection is not a non-empty BIT STRING")
    value = bytearray(bits.value)
    value[-1] ^= 1 << value[0]  # value[0]: the count of unused (zero) trailing bits
    return _explicit(0, _der.encode(0x03, bytes(value)))


def check(kind: BodyType, fields: dict[str, Any], protection: str) -> None:
    """TypeError for an unknown keyword, ValueError for a field ``kind`` does not have,
    an out-of-range failInfo or an unknown protection mode."""
    unknown = sorted(set(fields) - FIELDS)
    if unknown:
        raise TypeError("Message.edit() got unknown field(s) %s; known: %s"
                        % (", ".join(unknown), ", ".join(sorted(FIELDS))))
    if not isinstance(protection, str) or protection not in PROTECTION_MODES:
        raise ValueError("protection must be one of %s, not %r"
                         % (", ".join(map(repr, PROTECTION_MODES)), protection))
    if "fail_info" in fields:
        fail = _int(fields["fail_info"], "fail_info")
        if not 0 <= fail <= ALL_FAIL_INFO_BITS:
            raise ValueError("fail_info has bits outside PKIFailureInfo: %#x" % fail)
    for key in fields:
        types = _BODY_FIELDS.get(key)
        if types is not None and kind not in types:
            raise ValueError("a %s message has no %s" % (kind.name, key))


def edit_der(der: bytes, kind: BodyType, fields: dict[str, Any], protection: str,
             need_alg: bool) -> bytes:
    """The DER of the message ``der`` with ``fields`` applied (checked by :func:`check`).
    ``need_alg``: make sure the header names a protectionAlg (to be re-protected)."""
    try:
        top = _der.children(_der.expect(_der.single(der), _SEQ, "PKIMessage").value)
        if len(top) < 2 or top[1].context_number is None:
            raise ValueError("PKIMessage has no body")
        header = _header(top[0].raw, fields, strip_alg=protection == "none",
                         need_alg=need_alg)
        body = top[1].raw
        if set(fields) & set(_BODY_FIELDS):
            body = _explicit(top[1].context_number,
                             _body(kind, _der.single(top[1].value), fields))
        prot = next((p for p in top[2:] if p.context_number == 0), None)
        extra = next((p.raw for p in top[2:] if p.context_number == 1), None)
    except IndexError as exc:  # a part missing from a malformed received message
        raise ValueError("cannot edit malformed CMP message: %s" % exc) from None
    if "extra_certs" in fields:
        certs = fields["extra_certs"]
        extra = None if certs is None else _explicit(1, _cert_list(certs, "extra_certs"))
    prot_raw: bytes | None = None
    if protection == "break":
        if prot is None:
            raise ValueError("the message has no protection to break")
        prot_raw = _flip(prot)
    elif prot is not None and protection == "keep" and not need_alg:
        prot_raw = prot.raw
    return _der.sequence(header, body, *(p for p in (prot_raw, extra) if p is not None))


def protect(ctx_ptr: Any, msg_ptr: Any, msg_tid: bytes | None,
            probe_ptr: Any) -> None:
    """Protect the message ``msg_ptr`` with the credentials of the C context ``ctx_ptr``
    (the caller holds that context's lock).

    ``OSSL_CMP_MSG_update_transactionID`` also writes the context's transactionID into the
    message, so the context is given the message's (``msg_tid``) for the call and its own
    back afterwards.  Its own is read first the same way, from ``probe_ptr``, a throwaway
    unprotected copy (3.0 has no getter); a context that had none keeps the random one
    OpenSSL drew for it, which its next transaction then uses as its (equally random)
    transactionID."""
    if lib.OSSL_CMP_MSG_update_transactionID(ctx_ptr, probe_ptr) != 1:
        raise_openssl("cannot read the transactionID of the protecting context")
    tid = lib.OSSL_CMP_HDR_get0_transactionID(lib.OSSL_CMP_MSG_get0_header(probe_ptr))
    own = None if tid == ffi.NULL else asn1_string_bytes(tid)
    try:
        if msg_tid is not None:
            _set_tid(ctx_ptr, msg_tid)
        if lib.OSSL_CMP_MSG_update_transactionID(ctx_ptr, msg_ptr) != 1:
            raise_openssl("cannot protect the edited message with this Context's "
                          "credentials")
    finally:
        if own is not None and msg_tid is not None and own != msg_tid:
            _set_tid(ctx_ptr, own)


def _set_tid(ptr: Any, tid: Sequence[int] | bytes) -> None:
    octets = lib.ASN1_OCTET_STRING_new()
    try:
        if octets == ffi.NULL or lib.ASN1_OCTET_STRING_set(octets, bytes(tid),
                                                           len(tid)) != 1 \
                or lib.OSSL_CMP_CTX_set1_transactionID(ptr, octets) != 1:
            raise_openssl("cannot set the transactionID")
    finally:
        lib.ASN1_OCTET_STRING_free(octets)
