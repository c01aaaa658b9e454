"""CMP messages and the values inside them: ``Message`` (PKIMessage), ``ITAV``
(InfoTypeAndValue), ``StatusInfo`` (PKIStatusInfo), ``CertRequest`` (a CRMF request), and
the parts of a message body: ``RevDetails`` (of an rr) and ``CertStatus`` (of a certConf)."""

from __future__ import annotations

import dataclasses
import datetime
import os
from typing import TYPE_CHECKING, Any, Callable, TypeVar, Union

from openssl_cmp import _bio, _der, _itav_codec, _msg_edit, _msg_fields
from openssl_cmp._asn1 import asn1_integer_to_int, asn1_string_bytes, oid_text
from openssl_cmp._itav_codec import TYPED_INFO_OIDS as TYPED_INFO_OIDS
from openssl_cmp._ownership import Owned
from openssl_cmp._typing import BytesLike, CData
from openssl_cmp.binding import ffi, lib
from openssl_cmp.enums import (ALL_FAIL_INFO_BITS, BodyType, FailInfo, PKIStatus,
                               RevocationReason)
from openssl_cmp.errors import OpenSSLError, probe, raise_openssl
from openssl_cmp.keys import PublicKey
from openssl_cmp.objects import Certificate, Extensions, GeneralName, Name, list_from_stack

if TYPE_CHECKING:
    from openssl_cmp.context import Context

__all__ = ["Message", "ITAV", "StatusInfo", "CertRequest", "RevDetails", "CertStatus"]

_R = TypeVar("_R")

_CERT_REPS = (BodyType.IP, BodyType.CP, BodyType.KUP)
_CERT_REQS = (BodyType.IR, BodyType.CR, BodyType.KUR)


def _read(what: str, reader: Callable[..., _R], *args: Any) -> _R:
    """``reader(*args)``, with any structural problem reported as one ValueError naming
    the part of the message that is malformed."""
    try:
        return reader(*args)
    except (ValueError, IndexError) as exc:
        raise ValueError("malformed %s in CMP message: %s" % (what, exc)) from None


class Message(Owned):
    """A CMP PKIMessage (``OSSL_CMP_MSG``).

    The readers below (``protection_alg`` … ``error_details``) read the message's DER, as
    OpenSSL has no getters for these fields; each gives None when the field is absent or does
    not belong to the message's body type, and raises ValueError on a malformed field."""

    # _validated_signer: set by a Server on the requests it hands to handlers (unset: None);
    # _parsed: (DER, parts) of the last read, reused while the DER is unchanged.
    __slots__ = ("_validated_signer", "_parsed")
    _free = "OSSL_CMP_MSG_free"
    _dup = "OSSL_CMP_MSG_dup"
    _d2i = "d2i_OSSL_CMP_MSG"
    _i2d = "i2d_OSSL_CMP_MSG"
    _what = "CMP message"

    @classmethod
    def read(cls, path: Union[str, os.PathLike[str]]) -> "Message":
        """A DER message file (as written by ``openssl cmp -reqout``)."""
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError("path must be str or os.PathLike")
        path_c = _bio.c_string(os.fspath(path), "path")
        return cls._owned(lib.OSSL_CMP_MSG_read(path_c, ffi.NULL, ffi.NULL),
                          "cannot read CMP message from %s" % path)

    def write(self, path: Union[str, os.PathLike[str]]) -> None:
        """Write the DER message to the file ``path``."""
        path_c = _bio.c_string(os.fspath(path), "path")
        if lib.OSSL_CMP_MSG_write(path_c, self.ptr) <= 0:
            raise_openssl("cannot write CMP message to %s" % path)

    @property
    def body_type(self) -> BodyType:
        """The PKIBody choice (``BodyType.IR`` …)."""
        return BodyType(lib.OSSL_CMP_MSG_get_bodytype(self.ptr))

    # The header and its fields are get0 pointers into the message: each reader holds
    # ``ptr`` until it is done with them (see _ownership, "close() and threads").
    @property
    def transaction_id(self) -> bytes | None:
        """The header's transactionID, or None."""
        ptr = self.ptr
        tid = lib.OSSL_CMP_HDR_get0_transactionID(lib.OSSL_CMP_MSG_get0_header(ptr))
        if tid == ffi.NULL:
            return None
        return asn1_string_bytes(tid)

    def _header(self) -> dict[str, Any]:
        ptr = self.ptr
        hdr = lib.OSSL_CMP_MSG_get0_header(ptr)
        return _der.pkiheader(_bio.i2d(lib.i2d_OSSL_CMP_PKIHEADER, hdr, "PKIHeader"))

    @property
    def sender_nonce(self) -> bytes | None:
        """The header's senderNonce, or None."""
        return self._header().get("sender_nonce")

    @property
    def recip_nonce(self) -> bytes | None:
        """The header's recipNonce, or None."""
        return self._header().get("recip_nonce")

    @property
    def sender_kid(self) -> bytes | None:
        """senderKID: the PBM reference value, or the signer's key identifier."""
        return self._header().get("sender_kid")

    @property
    def sender(self) -> GeneralName:
        """The sender as a ``GeneralName``."""
        return GeneralName.from_der(self._header()["sender"])

    @property
    def recipient(self) -> GeneralName:
        """The recipient as a ``GeneralName``."""
        return GeneralName.from_der(self._header()["recipient"])

    @property
    def pvno(self) -> int:
        """The protocol version number (2 or 3)."""
        pvno: int = self._header()["pvno"]
        return pvno

    # -- readers of the whole message (DER; RFC 4210 §5.1) ---------------------------------
    def _parts(self) -> _msg_fields.MessageParts:
        """The message split into header, body and extraCerts.  Cached with the DER it was
        read from: C code (``OSSL_CMP_MSG_update_transactionID``, or anyone with ``ptr``) may
        change the message, so the cache is used only while ``to_der()`` is unchanged."""
        der = self.to_der()
        cached: tuple[bytes, _msg_fields.MessageParts] | None = getattr(self, "_parsed", None)
        if cached is not None and cached[0] == der:
            return cached[1]
        parts = _read("PKIMessage", _msg_fields.split, der)
        self._parsed = (der, parts)
        return parts

    def _body_of(self, *types: BodyType) -> _der.TLV | None:
        """The body content if the body type is one of ``types``, else None."""
        parts = self._parts()
        return parts.body if parts.body_type in types else None

    @property
    def protection_alg(self) -> str | None:
        """The header's protectionAlg as a dotted OID (``"1.2.840.10045.4.3.2"``), or None
        for an unprotected message."""
        alg = self._header().get("protection_alg")
        if alg is None:
            return None
        assert isinstance(alg, bytes)
        return _read("protectionAlg", lambda: _der.oid(
            _der.children(_der.expect(_der.single(alg), 0x30, "AlgorithmIdentifier")
                          .value)[0]))

    @property
    def protection_alg_name(self) -> str | None:
        """OpenSSL's long name of ``protection_alg`` (``"ecdsa-with-SHA256"``,
        ``"password based MAC"``), the dotted OID if OpenSSL does not know it, or None."""
        dotted = self.protection_alg
        if dotted is None:
            return None
        nid = lib.OBJ_txt2nid(dotted.encode("ascii"))  # a dotted OID never matches a name
        if nid == lib.NID_undef:
            return dotted
        return ffi.string(lib.OBJ_nid2ln(nid)).decode("ascii", "replace")

    @property
    def message_time(self) -> datetime.datetime | None:
        """The header's messageTime (timezone-aware, UTC), or None."""
        raw = self._header().get("message_time")
        if raw is None:
            return None
        assert isinstance(raw, bytes)
        return _read("messageTime", lambda: _der.generalized_time(_der.single(raw)))

    def _general_info(self) -> list[tuple[str, bytes]] | None:
        raw = self._header().get("general_info")
        if raw is None:
            return None
        assert isinstance(raw, bytes)
        return _read("generalInfo", _msg_fields.general_info_itavs, raw)

    @property
    def general_info(self) -> list[ITAV] | None:
        """The header's generalInfo ITAVs (copies), or None when the field is absent."""
        itavs = self._general_info()
        return None if itavs is None else [ITAV.from_der(der) for _, der in itavs]

    @property
    def implicit_confirm(self) -> bool:
        """True when generalInfo holds id-it-implicitConfirm (RFC 4210 §5.1.1.1): asked for
        in a request, granted in a response."""
        return any(oid == _msg_fields.IMPLICIT_CONFIRM_OID
                   for oid, _ in self._general_info() or ())

    @property
    def extra_certs(self) -> list[Certificate] | None:
        """The extraCerts, in order, or None when the field is absent."""
        certs = self._parts().extra_certs
        return None if certs is None else [Certificate.from_der(c) for c in certs]

    @property
    def validated_signer(self) -> Certificate | None:
        """The certificate OpenSSL validated this request's signature with: set by a
        ``Server`` on the requests it passes to handlers; None elsewhere (and for a request
        protected by a MAC, or where OpenSSL (before 3.2) does not tell the server)."""
        signer: Certificate | None = getattr(self, "_validated_signer", None)
        return signer

    # -- readers of the body (RFC 4210 §5.3) ----------------------------------------------
    def _cert_rep(self) -> tuple[list[bytes] | None,
                                 list[_msg_fields.CertResponseFields]] | None:
        body = self._body_of(*_CERT_REPS)
        return None if body is None else _read("CertRepMessage", _msg_fields.cert_rep, body)

    @property
    def status_infos(self) -> list[StatusInfo] | None:
        """The PKIStatusInfos of the body: one per CertResponse of an ip/cp/kup, the
        ``status`` list of an rp, the one of an error; None for other bodies (a pollRep
        has none)."""
        parts = self._parts()
        body = parts.body
        ders: list[bytes]
        if parts.body_type in _CERT_REPS:
            ders = [r.status_der for r in _read("CertRepMessage", _msg_fields.cert_rep,
                                                body)[1]]
        elif parts.body_type == BodyType.RP:
            ders = _read("RevRepContent", _msg_fields.rev_rep_statuses, body)
        elif parts.body_type == BodyType.ERROR:
            ders = [_read("ErrorMsgContent", _msg_fields.error_msg, body).status_der]
        else:
            return None
        return [StatusInfo._from_der(d) for d in ders]

    @property
    def certificates(self) -> list[Certificate] | None:
        """The certificates issued in an ip/cp/kup, in response order (a response without
        a certificate, e.g. a rejection, adds none; an encrypted certificate
        (``encryptedCert``) is skipped: it needs the private key to read); None for other
        bodies."""
        rep = self._cert_rep()
        if rep is None:
            return None
        return [Certificate.from_der(r.cert_der) for r in rep[1] if r.cert_der is not None]

    @property
    def ca_pubs(self) -> list[Certificate] | None:
        """The caPubs of an ip/cp/kup; None when absent or for other bodies."""
        rep = self._cert_rep()
        if rep is None or rep[0] is None:
            return None
        return [Certificate.from_der(c) for c in rep[0]]

    @property
    def cert_req_ids(self) -> list[int] | None:
        """The certReqIds of an ir/cr/kur, ip/cp/kup, certConf, pollReq or pollRep, in
        order; None for other bodies (a p10cr has none)."""
        parts = self._parts()
        body, kind = parts.body, parts.body_type
        if kind in _CERT_REPS:
            return [r.cert_req_id for r in _read("CertRepMessage", _msg_fields.cert_rep,
                                                 body)[1]]
        if kind in _CERT_REQS:
            return _read("CertReqMessages", _msg_fields.cert_req_msg_ids, body)
        if kind == BodyType.CERTCONF:
            return [s.cert_req_id for s in _read("CertConfirmContent",
                                                 _msg_fields.cert_confirm, body)]
        if kind in (BodyType.POLLREQ, BodyType.POLLREP):
            return _read("poll content", _msg_fields.poll_ids, body)
        return None

    @property
    def rev_details(self) -> list[RevDetails] | None:
        """The RevDetails of an rr (RFC 4210 §5.3.9), in order; None for other bodies."""
        body = self._body_of(BodyType.RR)
        if body is None:
            return None
        return [RevDetails._from_fields(f)
                for f in _read("RevReqContent", _msg_fields.rev_req, body)]

    @property
    def cert_status(self) -> list[CertStatus] | None:
        """The CertStatus entries of a certConf (RFC 4210 §5.3.18), in order; None for
        other bodies.  An empty list is a certConf that confirms nothing."""
        body = self._body_of(BodyType.CERTCONF)
        if body is None:
            return None
        out = []
        for f in _read("CertConfirmContent", _msg_fields.cert_confirm, body):
            status = None if f.status_der is None else StatusInfo._from_der(f.status_der)
            out.append(CertStatus(f.cert_hash, f.cert_req_id, status, f.hash_alg))
        return out

    def _error(self) -> _msg_fields.ErrorFields | None:
        body = self._body_of(BodyType.ERROR)
        return None if body is None else _read("ErrorMsgContent", _msg_fields.error_msg, body)

    @property
    def error_code(self) -> int | None:
        """The errorCode of an error message (RFC 4210 §5.3.21); None when absent or for
        other bodies.  Its PKIStatusInfo is ``status_infos[0]``."""
        error = self._error()
        return None if error is None else error.error_code

    @property
    def error_details(self) -> list[str] | None:
        """The errorDetails strings of an error message; None when absent or for other
        bodies (``Server.handle_error`` gets ``[]`` for an absent field)."""
        error = self._error()
        return None if error is None else error.details

    def edit(self, *, protection: str = "keep", reprotect: Context | None = None,
             **fields: Any) -> Message:
        """A changed copy of this message; the keywords are the readers' names.

        Header: ``transaction_id``, ``sender_nonce``, ``recip_nonce``, ``sender_kid``
        (bytes), ``sender``, ``recipient`` (``GeneralName`` or ``Name``), ``pvno``,
        ``message_time`` (``datetime``), ``general_info`` (list of ``ITAV``),
        ``extra_certs`` (list of ``Certificate``); None removes an optional field.  Body:
        ``cert_req_id`` (every entry of ir/cr/kur/ip/cp/kup/certConf/pollReq/pollRep),
        ``status`` (``StatusInfo``) and ``fail_info`` (of ip/cp/kup/rp/error),
        ``certificate`` (of an ip/cp/kup response; None removes it), ``cert_hash`` (of a
        certConf), ``error_code`` and ``error_details`` (of an error).

        ``protection``: ``"keep"`` (the protection bits as they were: an edited message then
        usually fails its check), ``"none"`` (protection and protectionAlg removed) or
        ``"break"`` (one bit flipped).  ``reprotect=ctx`` recomputes it with ``ctx``'s
        credentials (MAC or signature; the transactionID stays the message's).

        TypeError for an unknown keyword or a wrong type, ValueError for a field the body
        type does not have or a result OpenSSL cannot decode."""
        _msg_edit.check(self.body_type, fields, protection)
        protect = getattr(reprotect, "_protect_message", None)
        if reprotect is not None and not callable(protect):
            raise TypeError("reprotect must be a Context or None, not %s"
                            % type(reprotect).__name__)
        if reprotect is not None and protection != "keep":
            raise ValueError("reprotect= recomputes the protection: leave protection at "
                             "'keep'")
        fields = dict(fields)
        if fields.get("general_info") is not None:  # _msg_edit takes them as DER
            itavs = fields["general_info"]
            if not isinstance(itavs, (list, tuple)) or \
                    not all(isinstance(i, ITAV) for i in itavs):
                raise TypeError("general_info must be a list of ITAV or None")
            fields["general_info"] = [i.to_der() for i in itavs]
        if "status" in fields:
            status = fields["status"]
            if not isinstance(status, StatusInfo):
                raise TypeError("status must be a StatusInfo, not %s"
                                % type(status).__name__)
            fields["status"] = (int(status.status), int(status.fail_info),
                                list(status.texts))
        der = _msg_edit.edit_der(self.to_der(), self.body_type, fields, protection,
                                 need_alg=reprotect is not None)
        try:
            result = Message.from_der(der)
        except OpenSSLError as exc:
            raise ValueError("the edited message is not a valid PKIMessage: %s"
                             % exc) from None
        if protect is not None:
            protect(result)
        return result

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Message):
            return NotImplemented
        return self.to_der() == other.to_der()

    def __hash__(self) -> int:
        return hash(self.to_der())

    def _repr_detail(self) -> str:
        return "%s tid=%s" % (self.body_type.name, (self.transaction_id or b"").hex()[:16])


class ITAV(Owned):
    """An InfoTypeAndValue: ``ITAV("1.3.6.1.5.5.7.4.17")`` (value absent) or with the DER of
    its value: ``ITAV(oid, value_der=b"\\x30\\x00")``."""

    __slots__ = ()
    _free = "OSSL_CMP_ITAV_free"
    _dup = "OSSL_CMP_ITAV_dup"

    def __init__(self, type_oid: str, value_der: bytes | bytearray | None = None) -> None:
        oid_c = _bio.c_string(type_oid, "ITAV type OID")
        if value_der is not None and not isinstance(value_der, (bytes, bytearray)):
            raise TypeError("value_der must be bytes or None, not %s"
                            % type(value_der).__name__)
        obj = lib.OBJ_txt2obj(oid_c, 0)  # a dotted OID or a known name
        if obj == ffi.NULL:
            raise_openssl("invalid ITAV type %r" % type_oid)
        dotted = oid_text(obj)
        if value_der is not None and dotted in TYPED_INFO_OIDS:
            # OpenSSL types this value itself: never an ASN1_TYPE (see _itav_codec)
            lib.ASN1_OBJECT_free(obj)
            decoded = _itav_codec.decode(
                _der.sequence(_der.encode_oid(dotted), bytes(value_der)))
            self._ptr = ffi.gc(decoded, lib.OSSL_CMP_ITAV_free)
            return
        value = ffi.NULL
        if value_der is not None:
            try:
                value, used = _bio.d2i(lib.d2i_ASN1_TYPE, bytes(value_der), "ITAV value")
            except BaseException:
                lib.ASN1_OBJECT_free(obj)
                raise
            if used != len(value_der):
                lib.ASN1_TYPE_free(value)
                lib.ASN1_OBJECT_free(obj)
                raise ValueError("trailing bytes after the ITAV value DER")
        itav = lib.OSSL_CMP_ITAV_create(obj, value)  # consumes obj and value on success
        if itav == ffi.NULL:
            lib.ASN1_OBJECT_free(obj)
            if value != ffi.NULL:
                lib.ASN1_TYPE_free(value)
            raise_openssl("cannot create ITAV")
        self._ptr = ffi.gc(itav, lib.OSSL_CMP_ITAV_free)

    @property
    def type(self) -> str:
        """The infoType as a dotted OID."""
        ptr = self.ptr  # held: the type is a get0 pointer
        return oid_text(lib.OSSL_CMP_ITAV_get0_type(ptr))

    @property
    def name(self) -> str:
        """The infoType's short name (``"signKeyPairTypes"``), or the dotted OID."""
        ptr = self.ptr
        obj = lib.OSSL_CMP_ITAV_get0_type(ptr)
        nid = lib.OBJ_obj2nid(obj)
        if nid == lib.NID_undef:
            return oid_text(obj)
        return ffi.string(lib.OBJ_nid2sn(nid)).decode()

    @property
    def value_der(self) -> bytes | None:
        """The DER of infoValue, or None when absent."""
        ptr = self.ptr  # held: the value is a get0 pointer
        value = lib.OSSL_CMP_ITAV_get0_value(ptr)  # a union member; may not be ASN1_TYPE
        if value == ffi.NULL:
            return None
        if oid_text(lib.OSSL_CMP_ITAV_get0_type(ptr)) in TYPED_INFO_OIDS:
            parts = _der.children(_der.single(_itav_codec.encode(ptr)).value)
            return parts[1].raw if len(parts) > 1 else None
        return _bio.i2d(lib.i2d_ASN1_TYPE, value, "ITAV value")

    @classmethod
    def from_der(cls, data: BytesLike) -> "ITAV":
        """An ITAV from the DER of a whole InfoTypeAndValue."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError("DER data must be bytes")
        parts = _der.children(_der.single(bytes(data)).value)
        if not parts or parts[0].tag != 0x06:
            raise ValueError("not an InfoTypeAndValue")
        return cls._owned(_itav_codec.decode(bytes(data)))

    def to_der(self) -> bytes:
        """The DER of the whole InfoTypeAndValue."""
        return _itav_codec.encode(self.ptr)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ITAV):
            return NotImplemented
        return (self.type, self.value_der) == (other.type, other.value_der)

    def __hash__(self) -> int:
        return hash((self.type, self.value_der))

    def _repr_detail(self) -> str:
        value = self.value_der
        return "%s%s" % (self.name, "" if value is None else " %d bytes" % len(value))


def itavs_from_stack(sk: CData, owned: bool) -> list[ITAV]:
    """A list of ITAVs from a ``STACK_OF(OSSL_CMP_ITAV)`` (freed afterwards if ``owned``)."""
    return list_from_stack(ITAV, sk, owned, "OSSL_CMP_ITAV")


_INT_MIN, _INT_MAX = -2**31, 2**31 - 1  # a C int: what OSSL_CMP_STATUSINFO_new takes


class StatusInfo:
    """A PKIStatusInfo as a Python value: ``StatusInfo(PKIStatus.REJECTION,
    FailInfo.BAD_REQUEST, "no")``.  ``text`` may be a str or a list of str.

    ``status`` is a :class:`PKIStatus`; only a status received from a peer (in a handler's
    ``status`` argument) can be a plain int, when its value is outside the enum.
    ``fail_info`` is a :class:`FailInfo`, ``texts`` the status strings."""

    __slots__ = ("status", "fail_info", "texts")

    status: PKIStatus | int
    fail_info: FailInfo
    texts: list[str]

    def __init__(self, status: PKIStatus | int, fail_info: FailInfo | int = 0,
                 text: str | list[str] | tuple[str, ...] | None = None) -> None:
        if isinstance(status, bool) or not isinstance(status, int):
            raise TypeError("status must be a PKIStatus or int, not %s" % type(status).__name__)
        if not 0 <= status <= 6:
            raise ValueError("PKIStatus must be 0..6, not %r" % (status,))
        if isinstance(fail_info, bool) or not isinstance(fail_info, int):
            raise TypeError("fail_info must be a FailInfo or int")
        if not 0 <= fail_info <= ALL_FAIL_INFO_BITS:
            raise ValueError("fail_info has bits outside PKIFailureInfo: %#x" % fail_info)
        if text is None:
            texts: list[str] = []
        elif isinstance(text, str):
            texts = [text]
        elif isinstance(text, (list, tuple)) and all(isinstance(t, str) for t in text):
            texts = list(text)
        else:
            raise TypeError("text must be str, a list of str or None")
        for t in texts:
            if "\0" in t:
                raise ValueError("status text must not contain NUL characters")
        self.status = PKIStatus(status)
        self.fail_info = FailInfo(fail_info)
        self.texts = texts

    @property
    def text(self) -> str | None:
        """The first status string (None if there is none)."""
        return self.texts[0] if self.texts else None

    @classmethod
    def _from_c(cls, pkisi: CData) -> "StatusInfo":
        """From a borrowed ``OSSL_CMP_PKISI *`` (no getters in C: read its DER)."""
        return cls._from_der(_bio.i2d(lib.i2d_OSSL_CMP_PKISI, pkisi, "PKIStatusInfo"))

    @classmethod
    def _from_der(cls, der: bytes) -> "StatusInfo":
        """From the DER of a PKIStatusInfo (as received: the status may be outside the
        enum, unknown failInfo bits are dropped)."""
        status, fail_info, texts = _read("PKIStatusInfo", _der.pkistatusinfo, der)
        obj = object.__new__(cls)
        obj.status = PKIStatus(status) if -5 <= status <= 6 else status
        obj.fail_info = FailInfo(fail_info & ALL_FAIL_INFO_BITS)
        obj.texts = texts
        return obj

    def _to_c(self) -> CData:
        """A new ``OSSL_CMP_PKISI *`` (the caller, usually OpenSSL, frees it)."""
        if not _INT_MIN <= int(self.status) <= _INT_MAX:  # as received: any INTEGER
            raise ValueError("PKIStatus %d is beyond what OpenSSL can hold" % self.status)
        if len(self.texts) <= 1:  # the common case: OpenSSL's constructor
            text = self.texts[0].encode("utf-8") if self.texts else ffi.NULL
            si = lib.OSSL_CMP_STATUSINFO_new(int(self.status), int(self.fail_info), text)
            if si == ffi.NULL:
                raise_openssl("cannot create PKIStatusInfo")
            return si
        # OSSL_CMP_STATUSINFO_new takes one text: encode all of them ourselves
        der = _der.encode_pkistatusinfo(int(self.status), int(self.fail_info), self.texts)
        si, _ = _bio.d2i(lib.d2i_OSSL_CMP_PKISI, der, "PKIStatusInfo")
        return si

    def __str__(self) -> str:
        """As OpenSSL prints it: ``PKIStatus: rejection; PKIFailureInfo: …``."""
        if not _INT_MIN <= int(self.status) <= _INT_MAX:  # a peer's bad value: say so
            texts = "".join("; StatusString: \"%s\"" % t for t in self.texts)
            return "PKIStatus: %d (not a PKIStatus)%s" % (self.status, texts)
        si = self._to_c()
        try:
            buf = ffi.new("char[]", lib.OSSL_CMP_PKISI_BUFLEN)
            if lib.OSSL_CMP_snprint_PKIStatusInfo(si, buf, lib.OSSL_CMP_PKISI_BUFLEN) == ffi.NULL:
                raise_openssl("cannot print PKIStatusInfo")
            return ffi.string(buf).decode("utf-8", "replace")
        finally:
            lib.OSSL_CMP_PKISI_free(si)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StatusInfo):
            return NotImplemented
        return (self.status, self.fail_info, self.texts) == \
            (other.status, other.fail_info, other.texts)

    def __hash__(self) -> int:
        return hash((self.status, int(self.fail_info), tuple(self.texts)))

    def __repr__(self) -> str:
        status = self.status
        name = status.name if isinstance(status, PKIStatus) else status
        return "StatusInfo(%s, %s, %r)" % (name, self.fail_info.names() or 0, self.texts)


def _tmpl_public_key_der(tmpl: CData) -> bytes | None:
    """SubjectPublicKeyInfo DER of a CertTemplate, without the 3.2+ getter: the template's
    ``publicKey [6] IMPLICIT SubjectPublicKeyInfo`` with the tag put back to SEQUENCE."""
    seq = _der.single(_bio.i2d(lib.i2d_OSSL_CRMF_CERTTEMPLATE, tmpl, "CertTemplate"))
    for field in _der.children(seq.value):
        if field.tag == 0xA6:
            return b"\x30" + field.raw[1:]
    return None


class CertRequest(Owned):
    """A CRMF certificate request message (``OSSL_CRMF_MSG``): what a server handler gets
    for IR/CR/KUR, and what ``Context.setup_crm`` returns."""

    __slots__ = ()
    _free = "OSSL_CRMF_MSG_free"
    _dup = "OSSL_CRMF_MSG_dup"
    _d2i = "d2i_OSSL_CRMF_MSG"
    _i2d = "i2d_OSSL_CRMF_MSG"
    _what = "CRMF request"

    @property
    def cert_req_id(self) -> int:
        """The certReqId."""
        cert_req_id: int = lib.OSSL_CRMF_MSG_get_certReqId(self.ptr)
        return cert_req_id

    # The template and its fields are get0 pointers into the request: each reader holds
    # ``ptr`` until it is done with them (see _ownership, "close() and threads").
    @staticmethod
    def _tmpl(ptr: CData) -> CData:
        tmpl = lib.OSSL_CRMF_MSG_get0_tmpl(ptr)
        if tmpl == ffi.NULL:
            raise_openssl("CRMF message has no certificate template")
        return tmpl

    @property
    def subject(self) -> Name | None:
        """The requested subject (a copy), or None."""
        ptr = self.ptr
        name = lib.OSSL_CRMF_CERTTEMPLATE_get0_subject(self._tmpl(ptr))
        return None if name == ffi.NULL else Name._copied(ffi.cast("X509_NAME *", name))

    @property
    def issuer(self) -> Name | None:
        """The requested issuer (a copy), or None."""
        ptr = self.ptr
        name = lib.OSSL_CRMF_CERTTEMPLATE_get0_issuer(self._tmpl(ptr))
        return None if name == ffi.NULL else Name._copied(ffi.cast("X509_NAME *", name))

    @property
    def serial_number(self) -> int | None:
        """The requested serial number, or None."""
        ptr = self.ptr
        serial = lib.OSSL_CRMF_CERTTEMPLATE_get0_serialNumber(self._tmpl(ptr))
        return None if serial == ffi.NULL else asn1_integer_to_int(serial)

    def public_key(self) -> PublicKey | None:
        """The requested public key (``PublicKey``), or None.  A method, as
        ``Certificate.public_key()`` and ``CSR.public_key()``."""
        ptr = self.ptr
        tmpl = self._tmpl(ptr)
        der: bytes | None
        if hasattr(lib, "OSSL_CRMF_CERTTEMPLATE_get0_publicKey"):
            pub = lib.OSSL_CRMF_CERTTEMPLATE_get0_publicKey(tmpl)
            if pub == ffi.NULL:
                return None
            der = _bio.i2d(lib.i2d_X509_PUBKEY, pub, "public key")
        else:
            der = _tmpl_public_key_der(tmpl)
            if der is None:
                return None
        return PublicKey.from_der(der)

    @property
    def central_keygen_requested(self) -> bool:
        """The client asks the CA to generate its key (RFC 9483 §4.1.6): the template's
        publicKey is absent, or present with an empty key (then its algorithm names the
        wanted key type).  OpenSSL 3.5's ``OSSL_CRMF_MSG_centralkeygen_requested`` where
        available (a request whose POPO contradicts it is refused by the 3.5 server core
        before any handler); the same rule read from the DER before 3.5 (where the server
        core refuses such a request for its missing POPO, badPOP)."""
        ptr = self.ptr
        if hasattr(lib, "OSSL_CRMF_MSG_centralkeygen_requested"):
            with probe():  # -1 (POPO inconsistent with the request) is an answer
                answer = lib.OSSL_CRMF_MSG_centralkeygen_requested(ptr, ffi.NULL)
            if answer < 0:  # not a valid request for central key generation
                return False
            return bool(answer == 1)
        der = _tmpl_public_key_der(self._tmpl(ptr))
        if der is None:
            return True
        parts = _der.children(_der.single(der).value)
        # SubjectPublicKeyInfo: algorithm, subjectPublicKey BIT STRING (the unused-bits
        # octet alone when the key is empty)
        return len(parts) < 2 or len(parts[1].value) <= 1

    def extensions(self) -> Extensions | None:
        """The requested extensions (a copy), or None when the template has none.  A
        method, as ``Certificate.extensions()`` and ``CSR.extensions()``."""
        ptr = self.ptr
        exts = lib.OSSL_CRMF_CERTTEMPLATE_get0_extensions(self._tmpl(ptr))
        if exts == ffi.NULL:
            return None
        return Extensions.from_der(_bio.i2d(lib.i2d_X509_EXTENSIONS, exts, "extensions"))

    @property
    def old_cert_id(self) -> tuple[Name, int] | None:
        """``(issuer Name, serial int)`` of the oldCertID control (KUR), or None."""
        ptr = self.ptr
        cid = lib.OSSL_CRMF_MSG_get0_regCtrl_oldCertID(ptr)
        if cid == ffi.NULL:
            return None
        issuer = lib.OSSL_CRMF_CERTID_get0_issuer(cid)
        serial = lib.OSSL_CRMF_CERTID_get0_serialNumber(cid)
        return (Name._copied(ffi.cast("X509_NAME *", issuer)),
                asn1_integer_to_int(serial))

    def _repr_detail(self) -> str:
        return "id=%d subject=%s" % (self.cert_req_id, self.subject)


@dataclasses.dataclass(frozen=True)
class RevDetails:
    """One RevDetails of a revocation request (RFC 4210 §5.3.9): the CertTemplate that
    names the certificate to revoke, and the crlEntryDetails.

    * ``issuer``, ``serial``: the template's issuer and serialNumber (what OpenSSL's client
      sends, and what ``Server.handle_rr`` gets), each None when absent.
    * ``reason``: the CRLReason (RFC 5280 §5.3.1) of the first reasonCode extension in
      crlEntryDetails, a :class:`RevocationReason` when the value is a known one (a plain
      int otherwise); None when there is no reasonCode.
    * ``reasons``: the CRLReason of every reasonCode extension, in order, so a server can
      reject a request with several (contradictory) ones.
    * ``subject``, ``public_key_der`` (SubjectPublicKeyInfo), ``extensions``: the other
      template fields a client may fill in, each None when absent.
    * ``crl_entry_details``: all of crlEntryDetails, or None when absent.
    * ``template_der``: the DER of the whole CertTemplate, for any other field.
    """

    __slots__ = ("issuer", "serial", "reason", "reasons", "subject", "public_key_der",
                 "extensions", "crl_entry_details", "template_der")

    issuer: Name | None
    serial: int | None
    reason: int | None
    reasons: list[int]
    subject: Name | None
    public_key_der: bytes | None
    extensions: Extensions | None
    crl_entry_details: Extensions | None
    template_der: bytes

    def __repr__(self) -> str:
        """The decoded fields; the DER ones (template, public key) only by their size."""
        shown = ["issuer=%r" % (self.issuer,), "serial=%r" % (self.serial,),
                 "reason=%r" % (self.reason,), "reasons=%r" % (self.reasons,)]
        for name in ("subject", "extensions", "crl_entry_details"):
            value = getattr(self, name)
            if value is not None:
                shown.append("%s=%r" % (name, value))
        if self.public_key_der is not None:
            shown.append("public_key_der=<%d bytes>" % len(self.public_key_der))
        shown.append("template_der=<%d bytes>" % len(self.template_der))
        return "RevDetails(%s)" % ", ".join(shown)

    @classmethod
    def _from_fields(cls, f: _msg_fields.RevDetailsFields) -> "RevDetails":
        reasons = [_crl_reason(r) for r in f.reasons]
        return cls(
            issuer=None if f.issuer_der is None else Name.from_der(f.issuer_der),
            serial=f.serial,
            reason=reasons[0] if reasons else None,
            reasons=reasons,
            subject=None if f.subject_der is None else Name.from_der(f.subject_der),
            public_key_der=f.public_key_der,
            extensions=None if f.extensions_der is None
            else Extensions.from_der(f.extensions_der),
            crl_entry_details=None if f.crl_entry_details_der is None
            else Extensions.from_der(f.crl_entry_details_der),
            template_der=f.template_der)


def _crl_reason(value: int) -> int:
    """A CRLReason as a :class:`RevocationReason` when it is one (NONE, -1, is the
    binding's "send none", never a received value)."""
    if value < 0:
        return value
    try:
        return RevocationReason(value)
    except ValueError:  # 7 (unused in RFC 5280) or beyond 10
        return value


@dataclasses.dataclass(frozen=True)
class CertStatus:
    """One CertStatus of a certConf (RFC 4210 §5.3.18): ``cert_hash`` (the certHash octets),
    ``cert_req_id``, ``status`` (the optional statusInfo; None when absent, which means
    accepted) and ``hash_alg``, the dotted OID of the RFC 9480 ``hashAlg`` (only sent with
    pvno 3, when the certificate's signature algorithm names no hash), None when absent."""

    __slots__ = ("cert_hash", "cert_req_id", "status", "hash_alg")

    cert_hash: bytes
    cert_req_id: int
    status: StatusInfo | None
    hash_alg: str | None
