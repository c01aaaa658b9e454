"""DER readers of the PKIMessage parts OpenSSL has no getter for (RFC 4210 §5.1, §5.3;
RFC 9480).  They work on the message's own DER (``i2d``), so they behave alike on every
OpenSSL, and return plain values and the DER of sub-structures; ``message`` turns these into
``Certificate``, ``Name``, ``Extensions``, ``StatusInfo`` and ``ITAV`` objects.

Each reader walks a fixed, shallow path (no recursion) with :mod:`_der`, which checks every
length; a structure that is not what RFC 4210 says raises ValueError naming the part.

Tagging: the PKIXCMP module uses EXPLICIT tags (``[n]`` wraps the whole inner TLV), the CRMF
module (CertTemplate) IMPLICIT ones (``[n]`` replaces the inner tag; a CHOICE such as Name
stays wrapped).
"""

from __future__ import annotations

from typing import NamedTuple

from openssl_cmp import _der
from openssl_cmp._der import TLV

__all__ = ["MessageParts", "split", "CertResponseFields", "cert_rep", "RevDetailsFields",
           "rev_req", "rev_rep_statuses", "ErrorFields", "error_msg", "CertStatusFields",
           "cert_confirm", "poll_ids", "cert_req_msg_ids", "general_info_itavs",
           "IMPLICIT_CONFIRM_OID", "REASON_CODE_OID"]

IMPLICIT_CONFIRM_OID = "1.3.6.1.5.5.7.4.13"
"""id-it-implicitConfirm (RFC 4210 §5.1.1.1)."""
REASON_CODE_OID = "2.5.29.21"
"""id-ce-cRLReasons (RFC 5280 §5.3.1): the CRLReason extension of crlEntryDetails."""

_SEQ = 0x30


class MessageParts(NamedTuple):
    """A PKIMessage split into its parts."""

    header: dict[str, object]  # as _der.pkiheader gives it
    body_type: int  # the PKIBody choice number
    body: TLV  # the content inside the body's explicit [n] tag
    extra_certs: list[bytes] | None  # DER certificates; None when the field is absent


def split(der: bytes) -> MessageParts:
    """The parts of a DER PKIMessage (RFC 4210 §5.1)."""
    msg = _der.expect(_der.single(der), _SEQ, "PKIMessage")
    parts = _der.children(msg.value)
    if len(parts) < 2:
        raise ValueError("PKIMessage has no body")
    header = _der.pkiheader(_der.expect(parts[0], _SEQ, "PKIHeader").raw)
    body_type = parts[1].context_number
    if body_type is None or not parts[1].tag & 0x20:
        raise ValueError("PKIBody is not an explicitly tagged choice")
    body = _der.single(parts[1].value)
    extra: list[bytes] | None = None
    for part in parts[2:]:
        if part.context_number == 1:  # extraCerts [1] SEQUENCE SIZE (1..MAX) OF CMPCertificate
            certs = _der.expect(_der.single(part.value), _SEQ, "extraCerts")
            extra = [_der.expect(c, _SEQ, "extraCerts certificate").raw
                     for c in _der.children(certs.value)]
    return MessageParts(header, body_type, body, extra)


def _seq_of(tlv: TLV, what: str) -> list[TLV]:
    return _der.children(_der.expect(tlv, _SEQ, what).value)


# -- ip, cp, kup: CertRepMessage (RFC 4210 §5.3.4) ------------------------------------------

class CertResponseFields(NamedTuple):
    """One CertResponse."""

    cert_req_id: int
    status_der: bytes  # PKIStatusInfo
    cert_der: bytes | None  # the plain certificate of certOrEncCert; None if absent/encrypted


def cert_rep(body: TLV) -> tuple[list[bytes] | None, list[CertResponseFields]]:
    """(caPubs as DER certificates or None, the CertResponses) of a CertRepMessage."""
    ca_pubs: list[bytes] | None = None
    responses: list[CertResponseFields] = []
    parts = _seq_of(body, "CertRepMessage")
    if parts and parts[0].context_number == 1:  # caPubs [1] SEQUENCE OF CMPCertificate
        ca_pubs = [_der.expect(c, _SEQ, "caPubs certificate").raw
                   for c in _seq_of(_der.single(parts[0].value), "caPubs")]
        parts = parts[1:]
    if len(parts) != 1:
        raise ValueError("CertRepMessage needs exactly one response list")
    for rsp in _seq_of(parts[0], "CertRepMessage response"):
        fields = _seq_of(rsp, "CertResponse")
        if len(fields) < 2:
            raise ValueError("CertResponse needs certReqId and status")
        status = _der.expect(fields[1], _SEQ, "CertResponse status").raw
        cert = None
        if len(fields) > 2 and fields[2].tag == _SEQ:  # certifiedKeyPair
            kp = _seq_of(fields[2], "CertifiedKeyPair")
            if not kp:
                raise ValueError("empty CertifiedKeyPair")
            # CertOrEncCert: certificate [0] (explicit, a CHOICE) or encryptedCert [1]
            if kp[0].context_number == 0:
                cert = _der.expect(_der.single(kp[0].value), _SEQ, "certificate").raw
        responses.append(CertResponseFields(_der.integer(fields[0]), status, cert))
    return ca_pubs, responses


# -- rr: RevReqContent (RFC 4210 §5.3.9) ---------------------------------------------------

class RevDetailsFields(NamedTuple):
    """One RevDetails: its CertTemplate and crlEntryDetails, as DER and values."""

    template_der: bytes
    issuer_der: bytes | None  # Name
    serial: int | None
    subject_der: bytes | None  # Name
    public_key_der: bytes | None  # SubjectPublicKeyInfo
    extensions_der: bytes | None  # Extensions of the template
    crl_entry_details_der: bytes | None  # Extensions
    reasons: list[int]  # every reasonCode in crlEntryDetails, in order


def _implicit_seq(tlv: TLV) -> bytes:
    """An IMPLICIT [n] SEQUENCE with its SEQUENCE tag put back (same length octets)."""
    if not tlv.tag & 0x20:
        raise ValueError("expected a constructed [%s]" % tlv.context_number)
    return bytes((_SEQ,)) + tlv.raw[1:]


def _reason_codes(extensions: TLV) -> list[int]:
    """The CRLReason of every reasonCode extension in an Extensions SEQUENCE."""
    reasons = []
    for ext in _seq_of(extensions, "crlEntryDetails"):
        fields = _seq_of(ext, "Extension")
        if len(fields) < 2:
            raise ValueError("Extension needs extnID and extnValue")
        if _der.oid(fields[0]) == REASON_CODE_OID:
            value = _der.octet_string(fields[-1])  # critical BOOLEAN may sit in between
            reasons.append(_der.enumerated(_der.single(value)))
    return reasons


def rev_req(body: TLV) -> list[RevDetailsFields]:
    """The RevDetails of a RevReqContent."""
    out = []
    for details in _seq_of(body, "RevReqContent"):
        fields = _seq_of(details, "RevDetails")
        if not fields:
            raise ValueError("RevDetails has no certDetails")
        template = _der.expect(fields[0], _SEQ, "certDetails")
        issuer = subject = public_key = extensions = None
        serial = None
        for field in _der.children(template.value):
            n = field.context_number
            if n == 1:  # serialNumber [1] IMPLICIT INTEGER
                if not field.value:
                    raise ValueError("empty serialNumber")
                serial = _der.integer(TLV(0x02, field.value, field.raw))
            elif n == 3:  # issuer [3] Name (a CHOICE: stays explicit)
                issuer = _der.expect(_der.single(field.value), _SEQ, "issuer Name").raw
            elif n == 5:  # subject [5] Name
                subject = _der.expect(_der.single(field.value), _SEQ, "subject Name").raw
            elif n == 6:  # publicKey [6] IMPLICIT SubjectPublicKeyInfo
                public_key = _implicit_seq(field)
            elif n == 9:  # extensions [9] IMPLICIT Extensions
                extensions = _implicit_seq(field)
        crl_details = None
        reasons: list[int] = []
        if len(fields) > 1:
            crl = _der.expect(fields[1], _SEQ, "crlEntryDetails")
            crl_details = crl.raw
            reasons = _reason_codes(crl)
        out.append(RevDetailsFields(template.raw, issuer, serial, subject, public_key,
                                    extensions, crl_details, reasons))
    return out


# -- rp: RevRepContent (RFC 4210 §5.3.10) --------------------------------------------------

def rev_rep_statuses(body: TLV) -> list[bytes]:
    """The PKIStatusInfo DERs of a RevRepContent's ``status`` list."""
    parts = _seq_of(body, "RevRepContent")
    if not parts:
        raise ValueError("RevRepContent has no status")
    return [_der.expect(s, _SEQ, "PKIStatusInfo").raw for s in _seq_of(parts[0], "status")]


# -- error: ErrorMsgContent (RFC 4210 §5.3.21) ---------------------------------------------

class ErrorFields(NamedTuple):
    """An ErrorMsgContent."""

    status_der: bytes
    error_code: int | None
    details: list[str] | None  # errorDetails PKIFreeText; None when absent


def error_msg(body: TLV) -> ErrorFields:
    """The fields of an ErrorMsgContent."""
    parts = _seq_of(body, "ErrorMsgContent")
    if not parts:
        raise ValueError("ErrorMsgContent has no pKIStatusInfo")
    status = _der.expect(parts[0], _SEQ, "pKIStatusInfo").raw
    code = None
    details = None
    for part in parts[1:]:
        if part.tag == 0x02:
            code = _der.integer(part)
        elif part.tag == _SEQ:
            details = _der.utf8_strings(part)
    return ErrorFields(status, code, details)


# -- certConf: CertConfirmContent (RFC 4210 §5.3.18, RFC 9480 §2.10) ----------------------

class CertStatusFields(NamedTuple):
    """One CertStatus."""

    cert_hash: bytes
    cert_req_id: int
    status_der: bytes | None
    hash_alg: str | None  # OID of hashAlg [0] (RFC 9480, pvno 3)


def cert_confirm(body: TLV) -> list[CertStatusFields]:
    """The CertStatus entries of a CertConfirmContent."""
    out = []
    for entry in _seq_of(body, "CertConfirmContent"):
        fields = _seq_of(entry, "CertStatus")
        if len(fields) < 2:
            raise ValueError("CertStatus needs certHash and certReqId")
        status = None
        hash_alg = None
        for field in fields[2:]:
            if field.tag == _SEQ:
                status = field.raw
            elif field.context_number == 0:  # hashAlg [0] AlgorithmIdentifier (explicit)
                alg = _seq_of(_der.single(field.value), "hashAlg")
                if not alg:
                    raise ValueError("empty hashAlg AlgorithmIdentifier")
                hash_alg = _der.oid(alg[0])
        out.append(CertStatusFields(_der.octet_string(fields[0]), _der.integer(fields[1]),
                                    status, hash_alg))
    return out


# -- certReqIds of the other bodies --------------------------------------------------------

def poll_ids(body: TLV) -> list[int]:
    """The certReqIds of a PollReqContent or PollRepContent (RFC 4210 §5.3.22): each entry
    is a SEQUENCE starting with certReqId."""
    out = []
    for entry in _seq_of(body, "poll content"):
        fields = _seq_of(entry, "poll entry")
        if not fields:
            raise ValueError("poll entry has no certReqId")
        out.append(_der.integer(fields[0]))
    return out


def cert_req_msg_ids(body: TLV) -> list[int]:
    """The certReqIds of a CertReqMessages (ir, cr, kur; RFC 4211 §3, §5)."""
    out = []
    for msg in _seq_of(body, "CertReqMessages"):
        fields = _seq_of(msg, "CertReqMsg")
        if not fields:
            raise ValueError("CertReqMsg has no certReq")
        request = _seq_of(fields[0], "CertRequest")
        if not request:
            raise ValueError("CertRequest has no certReqId")
        out.append(_der.integer(request[0]))
    return out


# -- header --------------------------------------------------------------------------------

def general_info_itavs(general_info: bytes) -> list[tuple[str, bytes]]:
    """(infoType OID, whole InfoTypeAndValue DER) for each entry of a generalInfo
    ``SEQUENCE OF InfoTypeAndValue``."""
    out = []
    for itav in _seq_of(_der.single(general_info), "generalInfo"):
        fields = _seq_of(itav, "InfoTypeAndValue")
        if not fields:
            raise ValueError("InfoTypeAndValue has no infoType")
        out.append((_der.oid(fields[0]), itav.raw))
    return out
