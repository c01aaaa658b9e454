"""CMP messages and the values inside them: ``Message`` (PKIMessage), ``ITAV``
(InfoTypeAndValue), ``StatusInfo`` (PKIStatusInfo) and ``CertRequest`` (a CRMF request)."""

from __future__ import annotations

import os
from typing import Any, Union

from openssl_cmp import _bio, _der, _itav_codec
from openssl_cmp._asn1 import asn1_integer_to_int, asn1_string_bytes, oid_text
from openssl_cmp._itav_codec import TYPED_INFO_OIDS as TYPED_INFO_OIDS
from openssl_cmp._ownership import Owned
from openssl_cmp._typing import BytesLike, CData
from openssl_cmp.binding import ffi, lib
from openssl_cmp.enums import ALL_FAIL_INFO_BITS, BodyType, FailInfo, PKIStatus
from openssl_cmp.errors import raise_openssl
from openssl_cmp.keys import PublicKey
from openssl_cmp.objects import Extensions, GeneralName, Name, list_from_stack

__all__ = ["Message", "ITAV", "StatusInfo", "CertRequest"]


class Message(Owned):
    """A CMP PKIMessage (``OSSL_CMP_MSG``)."""

    __slots__ = ()
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
        status, fail_info, texts = _der.pkistatusinfo(
            _bio.i2d(lib.i2d_OSSL_CMP_PKISI, pkisi, "PKIStatusInfo"))
        obj = object.__new__(cls)
        obj.status = PKIStatus(status) if -5 <= status <= 6 else status
        obj.fail_info = FailInfo(fail_info & ALL_FAIL_INFO_BITS)
        obj.texts = texts
        return obj

    def _to_c(self) -> CData:
        """A new ``OSSL_CMP_PKISI *`` (the caller, usually OpenSSL, frees it)."""
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
