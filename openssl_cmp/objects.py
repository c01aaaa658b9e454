"""X.509 value objects: certificates, CRLs, names, general names, trust stores, CSRs,
extensions and policies.

Refcounted types (``X509``, ``X509_STORE``, ``X509_CRL``) are shared by reference count;
the others (``X509_NAME``, ``X509_REQ``, extensions, policies) are copied whenever they cross
the boundary, so a Python object never aliases memory that C may free.
"""

from __future__ import annotations

import datetime
import hashlib
import os
from typing import TYPE_CHECKING, Any, Iterable, Mapping, TypeVar

from openssl_cmp import _bio, _names, _store
from openssl_cmp._asn1 import (asn1_integer_to_int, asn1_string_bytes, asn1_time,
                               int_to_asn1_integer, oid_text)
from openssl_cmp._ownership import Owned
from openssl_cmp._typing import CData, PathLike, TextOrBytes
from openssl_cmp.binding import ffi, lib
from openssl_cmp.errors import Error, probe, raise_openssl
from openssl_cmp.keys import PrivateKey, PublicKey
from openssl_cmp.libctx import LibContext
from openssl_cmp.revocation import RevocationCheck, store_state, update_store

if TYPE_CHECKING:
    from cryptography import x509

__all__ = ["Certificate", "CRL", "Name", "GeneralName", "TrustStore", "CSR", "Extensions",
           "PolicyInfo"]

_O = TypeVar("_O", bound=Owned)
_E = TypeVar("_E", bound="Extensions")


class Certificate(Owned):
    """An X.509 certificate."""

    __slots__ = ()
    _free = "X509_free"
    _up_ref = "X509_up_ref"
    _d2i = "d2i_X509"
    _i2d = "i2d_X509"
    _pem_read = "PEM_read_bio_X509"
    _pem_write = "PEM_write_bio_X509"
    _what = "certificate"

    @classmethod
    def list_from_pem(cls, data: TextOrBytes) -> list[Certificate]:
        """Every certificate of a PEM bundle, in order."""
        data = _bio.to_bytes(data, "PEM data")
        marker = b"-----BEGIN CERTIFICATE-----"
        chunks = [marker + c for c in data.split(marker)[1:]]
        if not chunks:
            raise ValueError("no PEM certificate found")
        return [cls.from_pem(c) for c in chunks]

    @classmethod
    def create(cls, subject: Name | str, public_key: PublicKey | PrivateKey,
               signing_key: PrivateKey, *,
               issuer: "Certificate | None" = None, serial_number: int | None = None,
               days: int = 365, extensions: "Extensions | None" = None,
               ca: bool = False) -> "Certificate":
        """Issue an X.509 v3 certificate: self-signed when ``issuer`` is None (then
        ``signing_key`` must be the key of ``public_key``), else signed by the ``issuer``
        certificate's key ``signing_key``.  Adds subjectKeyIdentifier and
        authorityKeyIdentifier; ``ca=True`` adds the basicConstraints/keyUsage of a CA;
        ``extensions`` (e.g. from a request) are copied in.  Valid from one minute ago for
        ``days`` days; the serial number is random (159 bits) unless given."""
        if type(subject) is not Name:
            subject = as_name(subject, "subject")
        if isinstance(public_key, PrivateKey):
            public_key = public_key.public_key()
        _bio.check_instance(public_key, PublicKey, "public_key")
        _bio.check_instance(signing_key, PrivateKey, "signing_key")
        if issuer is not None:
            _bio.check_instance(issuer, Certificate, "issuer")
        if extensions is not None:
            _bio.check_instance(extensions, Extensions, "extensions")
        if isinstance(days, bool) or not isinstance(days, int):
            raise TypeError("days must be int, not %s" % type(days).__name__)
        if not 0 < days <= 365 * 1000:
            raise ValueError("days must be positive (and below a millennium)")
        if serial_number is None:
            serial_number = int.from_bytes(os.urandom(20), "big") >> 1 or 1
        # Every argument's pointer is read once and held until the end (see _ownership,
        # "close() and threads"): the issuer's subject name is a get0 pointer, the
        # X509V3_CTX keeps the issuer certificate, the extension values belong to their stack.
        digest = _digest_for(signing_key)
        key_ptr = signing_key.ptr
        subject_ptr = subject.ptr
        public_ptr = public_key.ptr
        issuer_ptr = None if issuer is None else issuer.ptr
        exts_ptr = None if extensions is None else extensions.ptr
        serial = int_to_asn1_integer(serial_number)
        cert = cls._owned(lib.X509_new())
        try:
            x = cert.ptr
            issuer_name = subject_ptr if issuer_ptr is None else \
                lib.X509_get_subject_name(issuer_ptr)
            ok = (lib.X509_set_version(x, 2) == 1
                  and lib.X509_set_serialNumber(x, serial) == 1
                  and lib.X509_set_issuer_name(x, issuer_name) == 1
                  and lib.X509_set_subject_name(x, subject_ptr) == 1
                  and lib.X509_gmtime_adj(lib.X509_getm_notBefore(x), -60) != ffi.NULL
                  and lib.X509_gmtime_adj(lib.X509_getm_notAfter(x), days * 86400) != ffi.NULL
                  and lib.X509_set_pubkey(x, public_ptr) == 1)
            if not ok:
                raise_openssl("cannot build certificate")
            v3 = ffi.new("X509V3_CTX *")
            lib.X509V3_set_ctx(v3, x if issuer_ptr is None else issuer_ptr, x, ffi.NULL,
                               ffi.NULL, 0)
            wanted = [("subjectKeyIdentifier", "hash"),
                      ("authorityKeyIdentifier", "keyid")]
            if ca:
                wanted += [("basicConstraints", "critical,CA:TRUE"),
                           ("keyUsage", "critical,keyCertSign,cRLSign,digitalSignature")]
            requested = set(_extension_names(exts_ptr)) if exts_ptr is not None else set()
            for name, value in wanted:
                if name in requested:
                    continue  # what the request asks for wins over our defaults
                if issuer_ptr is None and name == "authorityKeyIdentifier":
                    continue  # self-signed: the issuer key id would name itself
                ext = lib.X509V3_EXT_nconf(ffi.NULL, v3, name.encode(), value.encode())
                if ext == ffi.NULL or lib.X509_add_ext(x, ext, -1) != 1:
                    lib.X509_EXTENSION_free(ext)
                    raise_openssl("cannot add %s" % name)
                lib.X509_EXTENSION_free(ext)
            if exts_ptr is not None:
                for i in range(lib.sk_X509_EXTENSION_num(exts_ptr)):
                    if lib.X509_add_ext(x, lib.sk_X509_EXTENSION_value(exts_ptr, i),
                                        -1) != 1:
                        raise_openssl("cannot add requested extension")
            if lib.X509_sign(x, key_ptr, digest) <= 0:
                raise_openssl("cannot sign certificate")
        except BaseException:
            cert.close()
            raise
        finally:
            lib.ASN1_INTEGER_free(serial)
        return cert

    @classmethod
    def from_cryptography(cls, cert: x509.Certificate) -> "Certificate":
        """A copy of a ``cryptography`` certificate."""
        from cryptography.hazmat.primitives import serialization

        return cls.from_der(cert.public_bytes(serialization.Encoding.DER))

    def to_cryptography(self) -> x509.Certificate:
        """A copy as a ``cryptography`` certificate."""
        from cryptography import x509

        return x509.load_der_x509_certificate(self.to_der())

    # Getters of get0 pointers hold ``ptr`` (the certificate) until they are done with
    # them: see _ownership, "close() and threads".
    @property
    def subject(self) -> "Name":
        """The subject name (a copy)."""
        ptr = self.ptr
        return Name._copied(lib.X509_get_subject_name(ptr))

    @property
    def issuer(self) -> "Name":
        """The issuer name (a copy)."""
        ptr = self.ptr
        return Name._copied(lib.X509_get_issuer_name(ptr))

    @property
    def serial_number(self) -> int:
        """The serial number."""
        ptr = self.ptr
        return asn1_integer_to_int(lib.X509_get0_serialNumber(ptr))

    @property
    def not_valid_before(self) -> datetime.datetime:
        """Start of the validity period (an aware UTC datetime)."""
        ptr = self.ptr
        return asn1_time(lib.X509_get0_notBefore(ptr))

    @property
    def not_valid_after(self) -> datetime.datetime:
        """End of the validity period (an aware UTC datetime)."""
        ptr = self.ptr
        return asn1_time(lib.X509_get0_notAfter(ptr))

    def public_key(self) -> PublicKey:
        """The subject's public key."""
        return PublicKey._owned(lib.X509_get_pubkey(self.ptr), "certificate has no public key")

    def fingerprint(self, algorithm: str = "sha256") -> bytes:
        """The digest of the DER encoding (any :func:`hashlib.new` algorithm name)."""
        return hashlib.new(algorithm, self.to_der()).digest()

    def extensions(self) -> "Extensions":
        """The certificate's extensions (a copy)."""
        ptr = self.ptr
        exts = lib.X509_get0_extensions(ptr)
        if exts == ffi.NULL:
            return Extensions({})
        return Extensions.from_der(_bio.i2d(lib.i2d_X509_EXTENSIONS, exts, "extensions"))

    @classmethod
    def load(cls, uri: PathLike, *, libctx: LibContext | None = None,
             propq: str | None = None) -> "Certificate":
        """The first certificate at ``uri`` through OSSL_STORE: a file name, a ``file:``
        URI, or any provider's scheme (``pkcs11:…``); see :mod:`openssl_cmp.store`."""
        return _store.certificates(cls, uri, libctx, propq, 1,
                                   "no certificate at %r" % (uri,))[0]

    def is_issued_by(self, issuer: "Certificate") -> bool:
        """Name chaining and signature check against ``issuer``'s key."""
        _bio.check_instance(issuer, Certificate, "issuer")
        ptr, issuer_ptr = self.ptr, issuer.ptr  # held: the issuer's key is a get0 pointer
        with probe():  # "not issued by" is an answer: what a failed check queues goes
            if lib.X509_check_issued(issuer_ptr, ptr) != 0:  # X509_V_OK == 0
                return False
            ok: bool = lib.X509_verify(ptr, lib.X509_get0_pubkey(issuer_ptr)) == 1
        return ok

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Certificate):
            return NotImplemented
        equal: bool = lib.X509_cmp(self.ptr, other.ptr) == 0
        return equal

    def __hash__(self) -> int:
        return hash(self.fingerprint())

    def _repr_detail(self) -> str:
        return "subject=%r serial=%#x" % (str(self.subject), self.serial_number)


class CRL(Owned):
    """An X.509 certificate revocation list."""

    __slots__ = ()
    _free = "X509_CRL_free"
    _up_ref = "X509_CRL_up_ref"
    _d2i = "d2i_X509_CRL"
    _i2d = "i2d_X509_CRL"
    _pem_read = "PEM_read_bio_X509_CRL"
    _pem_write = "PEM_write_bio_X509_CRL"
    _what = "CRL"

    # -- building and reading (MockCA signs its own CRLs; RFC 5280 §5) ---------------------
    @classmethod
    def create(cls, issuer: Certificate, signing_key: PrivateKey,
               revoked: Iterable[tuple[int, datetime.datetime, int | None]] = (), *,
               number: int = 1, last_update: datetime.datetime | None = None,
               next_update: datetime.datetime | None = None) -> "CRL":
        """Sign a v2 CRL as ``issuer`` (its key ``signing_key``): ``revoked`` holds
        ``(serial, revocation time, CRLReason or None)``; the CRL carries cRLNumber
        ``number`` and authorityKeyIdentifier.  ``last_update`` defaults to now,
        ``next_update`` to a day later."""
        _bio.check_instance(issuer, Certificate, "issuer")
        _bio.check_instance(signing_key, PrivateKey, "signing_key")
        if isinstance(number, bool) or not isinstance(number, int) or number < 0:
            raise ValueError("number must be an int >= 0")
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        this = _crl_time_der(last_update or now, "last_update")
        nxt = _crl_time_der(next_update or (last_update or now) + datetime.timedelta(days=1),
                            "next_update")
        entries: list[tuple[CData, bytes, int | None]] = []
        for entry in revoked:
            if not (isinstance(entry, tuple) and len(entry) == 3):
                raise TypeError("revoked entries must be (serial, datetime, reason)")
            serial, when, reason = entry
            if reason is not None and (isinstance(reason, bool) or not isinstance(reason, int)
                                       or not 0 <= reason <= 10 or reason == 7):
                raise ValueError("reason must be a CRLReason 0..10 (not 7) or None")
            entries.append((serial, _crl_time_der(when, "revocation time"), reason))
        issuer_ptr, key_ptr = issuer.ptr, signing_key.ptr  # held until the CRL is signed
        digest = _digest_for(signing_key)
        crl = cls._owned(lib.X509_CRL_new())
        try:
            x = crl.ptr
            times = [_bio.d2i(lib.d2i_ASN1_TIME, this, "time")[0],
                     _bio.d2i(lib.d2i_ASN1_TIME, nxt, "time")[0]]
            try:
                ok = (lib.X509_CRL_set_version(x, 1) == 1
                      and lib.X509_CRL_set_issuer_name(
                          x, lib.X509_get_subject_name(issuer_ptr)) == 1
                      and lib.X509_CRL_set1_lastUpdate(x, times[0]) == 1
                      and lib.X509_CRL_set1_nextUpdate(x, times[1]) == 1)
            finally:
                for t in times:
                    lib.ASN1_TIME_free(t)
            if not ok:
                raise_openssl("cannot build CRL")
            for serial, when_der, reason in entries:
                _crl_add_revoked(x, serial, when_der, reason)
            lib.X509_CRL_sort(x)
            crl_number = int_to_asn1_integer(number)
            try:
                if lib.X509_CRL_add1_ext_i2d(x, lib.NID_crl_number, crl_number, 0, 0) != 1:
                    raise_openssl("cannot add cRLNumber")
            finally:
                lib.ASN1_INTEGER_free(crl_number)
            v3 = ffi.new("X509V3_CTX *")
            lib.X509V3_set_ctx(v3, issuer_ptr, ffi.NULL, ffi.NULL, x, 0)
            ext = lib.X509V3_EXT_nconf(ffi.NULL, v3, b"authorityKeyIdentifier", b"keyid")
            if ext == ffi.NULL or lib.X509_CRL_add_ext(x, ext, -1) != 1:
                lib.X509_EXTENSION_free(ext)
                raise_openssl("cannot add authorityKeyIdentifier")
            lib.X509_EXTENSION_free(ext)
            if lib.X509_CRL_sign(x, key_ptr, digest) <= 0:
                raise_openssl("cannot sign CRL")
        except BaseException:
            crl.close()
            raise
        return crl

    @property
    def issuer(self) -> "Name":
        """The issuer name (a copy)."""
        ptr = self.ptr
        return Name._copied(lib.X509_CRL_get_issuer(ptr))

    @property
    def last_update(self) -> datetime.datetime:
        """thisUpdate (an aware UTC datetime)."""
        ptr = self.ptr
        return asn1_time(lib.X509_CRL_get0_lastUpdate(ptr))

    @property
    def next_update(self) -> datetime.datetime | None:
        """nextUpdate, or None when absent."""
        ptr = self.ptr
        t = lib.X509_CRL_get0_nextUpdate(ptr)
        return None if t == ffi.NULL else asn1_time(t)

    @property
    def number(self) -> int | None:
        """The cRLNumber extension, or None."""
        ptr = self.ptr
        with probe():  # absent or unreadable: both mean "no number"
            value = lib.X509_CRL_get_ext_d2i(ptr, lib.NID_crl_number, ffi.NULL, ffi.NULL)
        if value == ffi.NULL:
            return None
        try:
            return asn1_integer_to_int(ffi.cast("ASN1_INTEGER *", value))
        finally:
            lib.ASN1_INTEGER_free(ffi.cast("ASN1_INTEGER *", value))

    def revoked(self) -> list[tuple[int, datetime.datetime, int | None]]:
        """The entries: ``(serial, revocation time, CRLReason or None)``."""
        ptr = self.ptr
        sk = lib.X509_CRL_get_REVOKED(ptr)
        out: list[tuple[int, datetime.datetime, int | None]] = []
        if sk == ffi.NULL:
            return out
        for i in range(lib.sk_X509_REVOKED_num(sk)):
            rev = lib.sk_X509_REVOKED_value(sk, i)
            reason: int | None = None
            with probe():  # absent or unreadable: no reason
                enum = lib.X509_REVOKED_get_ext_d2i(rev, lib.NID_crl_reason, ffi.NULL,
                                                    ffi.NULL)
            if enum != ffi.NULL:
                reason = int(lib.ASN1_ENUMERATED_get(ffi.cast("ASN1_ENUMERATED *", enum)))
                lib.ASN1_ENUMERATED_free(ffi.cast("ASN1_ENUMERATED *", enum))
            out.append((asn1_integer_to_int(lib.X509_REVOKED_get0_serialNumber(rev)),
                        asn1_time(lib.X509_REVOKED_get0_revocationDate(rev)), reason))
        return out

    def is_signed_by(self, issuer: Certificate) -> bool:
        """Whether ``issuer``'s key verifies the CRL's signature and names match."""
        _bio.check_instance(issuer, Certificate, "issuer")
        ptr, issuer_ptr = self.ptr, issuer.ptr
        if lib.X509_NAME_cmp(lib.X509_CRL_get_issuer(ptr),
                             lib.X509_get_subject_name(issuer_ptr)) != 0:
            return False
        with probe():  # a bad signature is an answer, not an error
            ok: bool = lib.X509_CRL_verify(ptr, lib.X509_get0_pubkey(issuer_ptr)) == 1
        return ok

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CRL):
            return NotImplemented
        return self.to_der() == other.to_der()

    def __hash__(self) -> int:
        return hash(self.to_der())

    def _repr_detail(self) -> str:
        return "issuer=%r entries=%d" % (str(self.issuer), len(self.revoked()))


def _crl_time_der(when: datetime.datetime, what: str) -> bytes:
    """RFC 5280 Time: UTCTime through 2049, GeneralizedTime after (DER, seconds, Z)."""
    if not isinstance(when, datetime.datetime):
        raise TypeError("%s must be a datetime" % what)
    if when.tzinfo is None:
        raise ValueError("%s must be timezone-aware" % what)
    utc = when.astimezone(datetime.timezone.utc)
    if utc.year < 2050:
        text, tag = utc.strftime("%y%m%d%H%M%SZ"), 0x17
    else:
        text, tag = utc.strftime("%Y%m%d%H%M%SZ"), 0x18
    return bytes((tag, len(text))) + text.encode("ascii")


def _crl_add_revoked(crl: CData, serial: object, when_der: bytes, reason: int | None) -> None:
    """Add one X509_REVOKED to the CRL being built (freed here unless added)."""
    number = int_to_asn1_integer(serial)  # type: ignore[arg-type]  # checked there
    when = _bio.d2i(lib.d2i_ASN1_TIME, when_der, "time")[0]
    rev = lib.X509_REVOKED_new()
    try:
        ok = (rev != ffi.NULL and lib.X509_REVOKED_set_serialNumber(rev, number) == 1
              and lib.X509_REVOKED_set_revocationDate(rev, when) == 1)
        if ok and reason is not None:
            enum = lib.ASN1_ENUMERATED_new()
            ok = (enum != ffi.NULL and lib.ASN1_ENUMERATED_set(enum, reason) == 1
                  and lib.X509_REVOKED_add1_ext_i2d(rev, lib.NID_crl_reason, enum, 0, 0) == 1)
            lib.ASN1_ENUMERATED_free(enum)
        if not ok or lib.X509_CRL_add0_revoked(crl, rev) != 1:  # consumes rev on success
            lib.X509_REVOKED_free(rev)
            raise_openssl("cannot add a revoked certificate to the CRL")
    finally:
        lib.ASN1_INTEGER_free(number)
        lib.ASN1_TIME_free(when)


class Name(Owned):
    """An X.509 distinguished name.  ``Name.parse("/CN=a/O=b")`` or
    ``Name.from_rfc4514("CN=a,O=b")``; ``str(name)`` is RFC 4514."""

    __slots__ = ()
    _free = "X509_NAME_free"
    _dup = "X509_NAME_dup"
    _d2i = "d2i_X509_NAME"
    _i2d = "i2d_X509_NAME"

    @classmethod
    def _build(cls, rdns: list[list[tuple[str, _names.Value]]], text: str) -> "Name":
        name = cls._owned(lib.X509_NAME_new())
        for rdn in rdns:
            for i, (attr, value) in enumerate(rdn):
                attr_c = _bio.c_string(attr, "name attribute")
                value_c = value if isinstance(value, bytes) else value.encode("utf-8")
                if b"\0" in value_c:
                    name.close()
                    raise ValueError("name value must not contain NUL characters")
                # set=0 starts a new RDN; -1 appends to the previous one (multi-valued RDN)
                if lib.X509_NAME_add_entry_by_txt(name.ptr, attr_c, lib.MBSTRING_UTF8, value_c,
                                                  len(value_c), -1, 0 if i == 0 else -1) != 1:
                    name.close()
                    raise_openssl("invalid name %r (attribute %r)" % (text, attr))
        # A name just built is "modified": OpenSSL encodes it (and its canonical form, for
        # cmp and hash) on first use, freeing and rebuilding its buffers, which races (and
        # crashed) when two threads use a new Name at once.  Encode it here, while it is ours.
        if lib.i2d_X509_NAME(name.ptr, ffi.NULL) < 0:
            name.close()
            raise_openssl("cannot encode name %r" % text)
        return name

    @classmethod
    def parse(cls, text: str) -> "Name":
        """The openssl command-line form: ``/CN=a/O=b`` (``+`` joins a multi-valued RDN)."""
        if not isinstance(text, str):
            raise TypeError("name must be str, not %s" % type(text).__name__)
        return cls._build(_names.parse_openssl(text), text)

    @classmethod
    def from_rfc4514(cls, text: str) -> "Name":
        """The RFC 4514 form: ``CN=a,O=b`` (most significant RDN last)."""
        if not isinstance(text, str):
            raise TypeError("name must be str, not %s" % type(text).__name__)
        return cls._build(_names.parse_rfc4514(text), text)

    @classmethod
    def from_cryptography(cls, name: x509.Name) -> "Name":
        """A copy of a ``cryptography`` name."""
        return cls.from_der(name.public_bytes())

    def to_cryptography(self) -> x509.Name:
        """A copy as a ``cryptography`` name."""
        from cryptography import x509
        from cryptography.x509.oid import ObjectIdentifier

        rdns: dict[int, list[Any]] = {}
        for index, oid, value in self.entries():
            rdns.setdefault(index, []).append(x509.NameAttribute(ObjectIdentifier(oid), value))
        return x509.Name([x509.RelativeDistinguishedName(attrs)
                          for _, attrs in sorted(rdns.items())])

    def __str__(self) -> str:
        """RFC 4514 text (as OpenSSL's ``XN_FLAG_RFC2253`` prints it)."""
        bio = _bio.MemBIO()
        if lib.X509_NAME_print_ex(bio.bio, self.ptr, 0, lib.XN_FLAG_RFC2253) < 0:
            raise_openssl("cannot print name")
        return bio.read_all().decode("utf-8")

    def __len__(self) -> int:
        """The number of attributes."""
        count: int = lib.X509_NAME_entry_count(self.ptr)
        return count

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            try:
                other = as_name(other, "name")
            except (ValueError, Error):  # an Error took the queue with it: nothing is left
                return False
        if not isinstance(other, Name):
            return NotImplemented
        equal: bool = lib.X509_NAME_cmp(self.ptr, other.ptr) == 0
        return equal

    def __hash__(self) -> int:
        # X509_NAME_cmp compares canonical encodings (case and spaces folded): hash those
        ok = ffi.new("int *")
        value: int = lib.X509_NAME_hash_ex(self.ptr, ffi.NULL, ffi.NULL, ok)
        if not ok[0]:
            raise_openssl("cannot hash name")
        return value

    def entries(self) -> list[tuple[int, str, str]]:
        """``(rdn index, dotted OID, value)`` for each attribute, in DER order."""
        out: list[tuple[int, str, str]] = []
        ptr = self.ptr  # held while its entries (get0 pointers) are read
        for i in range(lib.X509_NAME_entry_count(ptr)):
            entry = lib.X509_NAME_get_entry(ptr, i)
            oid = oid_text(lib.X509_NAME_ENTRY_get_object(entry))
            data = asn1_string_bytes(lib.X509_NAME_ENTRY_get_data(entry))
            out.append((lib.X509_NAME_ENTRY_set(entry), oid,
                        data.decode("utf-8", "replace")))
        return out

    def _repr_detail(self) -> str:
        return repr(str(self))


def as_name(value: Name | str, what: str) -> Name:
    """A Name from a Name or a string in either text form."""
    if isinstance(value, Name):
        return value
    if isinstance(value, str):
        return Name.parse(value) if value.startswith("/") else Name.from_rfc4514(value)
    raise TypeError("%s must be a Name or str, not %s" % (what, type(value).__name__))


_GEN_TYPES = {"DNS": "GEN_DNS", "IP": "GEN_IPADD", "URI": "GEN_URI", "EMAIL": "GEN_EMAIL",
              "RID": "GEN_RID"}


class GeneralName(Owned):
    """A GeneralName (subjectAltName entry, RFC 5280)."""

    __slots__ = ()
    _free = "GENERAL_NAME_free"
    _dup = "GENERAL_NAME_dup"
    _d2i = "d2i_GENERAL_NAME"
    _i2d = "i2d_GENERAL_NAME"

    @classmethod
    def _a2i(cls, kind: str, value: str) -> "GeneralName":
        value_c = _bio.c_string(value, kind + " value")
        if not value_c:
            raise ValueError("%s value must not be empty" % kind)
        ptr = lib.a2i_GENERAL_NAME(ffi.NULL, ffi.NULL, ffi.NULL, getattr(lib, _GEN_TYPES[kind]),
                                   value_c, 0)
        if ptr == ffi.NULL:
            raise_openssl("invalid %s general name %r" % (kind, value))
        return cls._owned(ptr)

    @classmethod
    def dns(cls, value: str) -> "GeneralName":
        """A dNSName."""
        return cls._a2i("DNS", value)

    @classmethod
    def ip(cls, value: str) -> "GeneralName":
        """An iPAddress (IPv4 or IPv6 text)."""
        return cls._a2i("IP", value)

    @classmethod
    def uri(cls, value: str) -> "GeneralName":
        """A uniformResourceIdentifier."""
        return cls._a2i("URI", value)

    @classmethod
    def email(cls, value: str) -> "GeneralName":
        """An rfc822Name."""
        return cls._a2i("EMAIL", value)

    @classmethod
    def directory(cls, name: Name | str) -> "GeneralName":
        """A directoryName (a :class:`Name`, or a name in either text form)."""
        name = as_name(name, "directory name")
        gen = cls._owned(lib.GENERAL_NAME_new())
        copy = lib.X509_NAME_dup(name.ptr)
        if copy == ffi.NULL:
            gen.close()
            raise_openssl("cannot copy name")
        lib.GENERAL_NAME_set0_value(gen.ptr, lib.GEN_DIRNAME, copy)
        return gen

    @classmethod
    def parse(cls, text: str) -> "GeneralName":
        """``"DNS:a.example"``, ``"IP:192.0.2.1"``, ``"URI:…"``, ``"email:…"``,
        ``"dirName:/CN=x"``, ``"RID:1.2.3"`` (the openssl config spelling)."""
        if not isinstance(text, str):
            raise TypeError("general name must be str, not %s" % type(text).__name__)
        kind, sep, value = text.partition(":")
        if not sep:
            raise ValueError("general name %r must look like TYPE:value" % text)
        key = kind.strip().upper()
        if key == "DIRNAME":
            return cls.directory(value)
        if key not in _GEN_TYPES:
            raise ValueError("unsupported general name type %r in %r (use DNS, IP, URI, "
                             "email, dirName or RID)" % (kind, text))
        return cls._a2i(key, value)

    def __str__(self) -> str:
        """As OpenSSL prints it: ``DNS:a.example``."""
        bio = _bio.MemBIO()
        lib.GENERAL_NAME_print(bio.bio, self.ptr)
        return bio.read_all().decode("utf-8", "replace")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GeneralName):
            return NotImplemented
        return self.to_der() == other.to_der()

    def __hash__(self) -> int:
        return hash(self.to_der())

    def _repr_detail(self) -> str:
        return str(self)


def as_general_name(value: GeneralName | str, what: str = "subject alt name") -> GeneralName:
    """A GeneralName from a GeneralName or its text form (``"DNS:a.example"``)."""
    if isinstance(value, GeneralName):
        return value
    if isinstance(value, str):
        return GeneralName.parse(value)
    raise TypeError("%s must be a GeneralName or str, not %s" % (what, type(value).__name__))


class TrustStore(Owned):
    """An ``X509_STORE`` of trust anchors (and CRLs), with the parameters of the path
    verification done with it.  Shared by reference: a context that was given this store
    sees later additions and changes.

    ``TrustStore(certs=(), *, flags=0, verify_time=None, purpose=None, partial_chain=None,
    depth=None, check_crls=None, crls=(), revocation=None)``: each keyword sets the property
    of the same name; None leaves OpenSSL's default (or what ``flags`` says).  Everything is
    checked before the store is made."""

    __slots__ = ()
    _free = "X509_STORE_free"
    _up_ref = "X509_STORE_up_ref"

    _CHECK_CRLS = ("none", "leaf", "all")

    def __init__(self, certs: Iterable[Certificate] = (), *, flags: int = 0,
                 verify_time: datetime.datetime | None = None, purpose: str | None = None,
                 partial_chain: bool | None = None, depth: int | None = None,
                 check_crls: str | None = None, crls: Iterable[CRL] = (),
                 revocation: RevocationCheck | None = None) -> None:
        certs = list(certs)
        for cert in certs:
            _bio.check_instance(cert, Certificate, "trusted certificate")
        if isinstance(flags, bool) or not isinstance(flags, int):
            raise TypeError("flags must be int")
        if not 0 <= flags < 1 << 63:
            raise ValueError("flags out of range")
        crls = list(crls)
        for crl in crls:
            _bio.check_instance(crl, CRL, "crl")
        time_c = None if verify_time is None else self._time_arg(verify_time)
        purpose_id = None if purpose is None else self._purpose_arg(purpose)
        if partial_chain is not None and not isinstance(partial_chain, bool):
            raise TypeError("partial_chain must be bool or None")
        if depth is not None:
            self._depth_arg(depth)
        if check_crls is not None:
            self._check_crls_arg(check_crls)
        if revocation is not None:
            _bio.check_instance(revocation, RevocationCheck, "revocation")
        ptr = lib.X509_STORE_new()
        if ptr == ffi.NULL:
            raise_openssl("cannot create X509_STORE")
        self._ptr = ffi.gc(ptr, lib.X509_STORE_free)
        # says why a verification failed (on the error queue and for the error hint)
        lib.ocmp_store_install_verify_cb(ptr)
        if flags:
            self.set_flags(flags)
        param = lib.X509_STORE_get0_param(ptr)
        if time_c is not None:
            lib.X509_VERIFY_PARAM_set_time(param, time_c)
        if purpose_id is not None:
            self._set_purpose(purpose_id, purpose)
        if partial_chain is not None:
            self.partial_chain = partial_chain
        if depth is not None:
            lib.X509_VERIFY_PARAM_set_depth(param, depth)
        if check_crls is not None:
            self.check_crls = check_crls
        for cert in certs:
            self.add(cert)
        for crl in crls:
            self.add_crl(crl)
        if revocation is not None:
            self.revocation = revocation

    @classmethod
    def from_file(cls, path: PathLike) -> "TrustStore":
        """Every certificate (and CRL) of a PEM file."""
        if not isinstance(path, (str, bytes, os.PathLike)):
            raise TypeError("path must be str, bytes or os.PathLike, not %s"
                            % type(path).__name__)
        path_c = os.fsencode(path)
        if b"\0" in path_c:
            raise ValueError("path must not contain NUL")
        store = cls()
        if lib.X509_STORE_load_file(store.ptr, path_c) != 1:
            store.close()
            raise_openssl("cannot load trust anchors from %s" % str(path))
        return store

    def add(self, cert: Certificate) -> None:
        """Add a trust anchor."""
        _bio.check_instance(cert, Certificate, "certificate")
        if lib.X509_STORE_add_cert(self.ptr, cert.ptr) != 1:
            raise_openssl("cannot add certificate to the trust store")

    def add_crl(self, crl: CRL) -> None:
        """Add a CRL (used when CRL checking is enabled by the flags)."""
        _bio.check_instance(crl, CRL, "crl")
        if lib.X509_STORE_add_crl(self.ptr, crl.ptr) != 1:
            raise_openssl("cannot add CRL to the trust store")

    def set_flags(self, flags: int) -> None:
        """``X509_V_FLAG_*`` bits (e.g. ``lib.X509_V_FLAG_PARTIAL_CHAIN``)."""
        if lib.X509_STORE_set_flags(self.ptr, flags) != 1:
            raise_openssl("cannot set trust store flags")

    @property
    def certs(self) -> list[Certificate]:
        """The certificates in the store (new references)."""
        return certs_from_stack(lib.X509_STORE_get1_all_certs(self.ptr), owned=True)

    def __len__(self) -> int:
        """The number of certificates in the store."""
        return len(self.certs)

    def _repr_detail(self) -> str:
        return "%d certs" % len(self)

    # -- verification parameters (X509_VERIFY_PARAM of the store) -------------------------
    @staticmethod
    def _time_arg(when: object) -> int:
        if not isinstance(when, datetime.datetime):
            raise TypeError("verify_time must be a datetime or None, not %s"
                            % type(when).__name__)
        if when.tzinfo is None or when.utcoffset() is None:
            raise ValueError("verify_time must be timezone-aware (e.g. tzinfo=timezone.utc)")
        stamp = int(when.timestamp())
        if not -(1 << 40) < stamp < 1 << 40:
            raise ValueError("verify_time out of range")
        return stamp

    @staticmethod
    def _purpose_arg(purpose: object) -> int:
        if not isinstance(purpose, str):
            raise TypeError("purpose must be str or None, not %s" % type(purpose).__name__)
        if not purpose.isascii() or not purpose.isalnum():
            raise ValueError("purpose must be a short name such as 'sslserver' or 'any'")
        index = lib.X509_PURPOSE_get_by_sname(purpose.encode())
        if index < 0:
            raise ValueError("unknown purpose %r (e.g. 'sslclient', 'sslserver', "
                             "'smimesign', 'crlsign', 'ocsphelper', 'any')" % purpose)
        return int(lib.X509_PURPOSE_get_id(lib.X509_PURPOSE_get0(index)))

    @staticmethod
    def _depth_arg(depth: object) -> int:
        if isinstance(depth, bool) or not isinstance(depth, int):
            raise TypeError("depth must be int or None, not %s" % type(depth).__name__)
        if not 0 <= depth <= 100:
            raise ValueError("depth must be 0..100 (None: no limit)")
        return depth

    @classmethod
    def _check_crls_arg(cls, value: object) -> str:
        if not isinstance(value, str):
            raise TypeError("check_crls must be 'none', 'leaf' or 'all'")
        if value not in cls._CHECK_CRLS:
            raise ValueError("check_crls must be 'none', 'leaf' or 'all', not %r" % value)
        return value

    def _flags(self) -> int:
        return int(lib.X509_VERIFY_PARAM_get_flags(lib.X509_STORE_get0_param(self.ptr)))

    def _set_flag(self, flag: int, on: bool) -> None:
        param = lib.X509_STORE_get0_param(self.ptr)
        set_or_clear = lib.X509_VERIFY_PARAM_set_flags if on \
            else lib.X509_VERIFY_PARAM_clear_flags
        if set_or_clear(param, flag) != 1:
            raise_openssl("cannot change trust store flags")

    @property
    def verify_time(self) -> datetime.datetime | None:
        """The time certificates are checked at (UTC), or None for "now"
        (``X509_VERIFY_PARAM_set_time``, which sets ``X509_V_FLAG_USE_CHECK_TIME``)."""
        if not self._flags() & lib.X509_V_FLAG_USE_CHECK_TIME:
            return None
        stamp = lib.X509_VERIFY_PARAM_get_time(lib.X509_STORE_get0_param(self.ptr))
        return datetime.datetime.fromtimestamp(stamp, datetime.timezone.utc)

    @verify_time.setter
    def verify_time(self, when: datetime.datetime | None) -> None:
        if when is None:
            self._set_flag(lib.X509_V_FLAG_USE_CHECK_TIME, False)
            return
        stamp = self._time_arg(when)
        lib.X509_VERIFY_PARAM_set_time(lib.X509_STORE_get0_param(self.ptr), stamp)

    @property
    def purpose(self) -> str | None:
        """The purpose every certificate of the path must fit (``X509_PURPOSE`` short name,
        e.g. ``"sslserver"``, ``"any"``), or None (no purpose check).  OpenSSL 3.0 cannot
        unset a purpose: setting None then selects ``"any"``, which checks nothing."""
        state = store_state(self.ptr)
        return None if state is None else state.purpose

    @purpose.setter
    def purpose(self, purpose: str | None) -> None:
        if purpose is None:
            if self.purpose is None:
                return
            self._set_purpose(self._purpose_arg("any"), None)
            return
        self._set_purpose(self._purpose_arg(purpose), purpose)

    def _set_purpose(self, purpose_id: int, name: str | None) -> None:
        state = store_state(self.ptr, create=True)
        assert state is not None
        if lib.X509_VERIFY_PARAM_set_purpose(lib.X509_STORE_get0_param(self.ptr),
                                             purpose_id) != 1:
            raise_openssl("cannot set the verification purpose")
        state.purpose = name

    @property
    def partial_chain(self) -> bool:
        """Accept a path that ends at any certificate of the store, not only at a
        self-signed root (``X509_V_FLAG_PARTIAL_CHAIN``): trust an intermediate CA."""
        return bool(self._flags() & lib.X509_V_FLAG_PARTIAL_CHAIN)

    @partial_chain.setter
    def partial_chain(self, on: bool) -> None:
        if not isinstance(on, bool):
            raise TypeError("partial_chain must be bool")
        self._set_flag(lib.X509_V_FLAG_PARTIAL_CHAIN, on)

    @property
    def depth(self) -> int | None:
        """The most intermediate CA certificates a path may have, or None (no limit)."""
        depth = lib.X509_VERIFY_PARAM_get_depth(lib.X509_STORE_get0_param(self.ptr))
        return None if depth < 0 else int(depth)

    @depth.setter
    def depth(self, depth: int | None) -> None:
        value = -1 if depth is None else self._depth_arg(depth)
        lib.X509_VERIFY_PARAM_set_depth(lib.X509_STORE_get0_param(self.ptr), value)

    @property
    def check_crls(self) -> str:
        """Which certificates must not be revoked by a CRL: ``"none"``, ``"leaf"``
        (``X509_V_FLAG_CRL_CHECK``: the certificate verified, e.g. the CMP server's) or
        ``"all"`` (plus ``X509_V_FLAG_CRL_CHECK_ALL``: every certificate of the path).  With
        CRL checking on, a certificate without a CRL for it is refused ("unable to get
        certificate CRL")."""
        flags = self._flags()
        if not flags & lib.X509_V_FLAG_CRL_CHECK:
            return "none"
        return "all" if flags & lib.X509_V_FLAG_CRL_CHECK_ALL else "leaf"

    @check_crls.setter
    def check_crls(self, value: str) -> None:
        value = self._check_crls_arg(value)
        self._set_flag(lib.X509_V_FLAG_CRL_CHECK, value != "none")
        self._set_flag(lib.X509_V_FLAG_CRL_CHECK_ALL, value == "all")

    @property
    def crls(self) -> list[CRL]:
        """The CRLs in the store (new references)."""
        ptr = self.ptr
        objects = lib.X509_STORE_get0_objects(ptr)
        found = []
        for i in range(lib.sk_X509_OBJECT_num(objects)):
            obj = lib.sk_X509_OBJECT_value(objects, i)
            if lib.X509_OBJECT_get_type(obj) == lib.X509_LU_CRL:
                found.append(CRL._borrowed(lib.X509_OBJECT_get0_X509_CRL(obj)))
        return found

    @property
    def revocation(self) -> RevocationCheck | None:
        """Revocation information beyond the store's CRLs: CRLs from the distribution point
        and OCSP (see :class:`openssl_cmp.revocation.RevocationCheck`), or None.  Setting
        one with ``use_cdp`` turns ``check_crls`` from "none" to "leaf"."""
        state = store_state(self.ptr)
        return None if state is None else state.revocation

    @revocation.setter
    def revocation(self, check: RevocationCheck | None) -> None:
        if check is not None:
            _bio.check_instance(check, RevocationCheck, "revocation")
        ptr = self.ptr
        state = store_state(ptr, create=check is not None)
        if state is None:
            return
        state.revocation = check
        update_store(ptr, state)
        if check is not None and check.use_cdp and self.check_crls == "none":
            self.check_crls = "leaf"


def list_from_stack(cls: type[_O], sk: CData, owned: bool, kind: str) -> list[_O]:
    """A Python list of ``cls`` objects (each with its own reference or copy) from a
    ``STACK_OF(kind)``; an owned stack (a get1 result) is freed afterwards."""
    if sk == ffi.NULL:
        return []
    value = getattr(lib, "sk_%s_value" % kind)
    try:
        return [cls._borrowed(value(sk, i))
                for i in range(getattr(lib, "sk_%s_num" % kind)(sk))]
    finally:
        if owned:
            getattr(lib, "sk_%s_pop_free" % kind)(sk, ffi.addressof(lib, cls._free))


def certs_from_stack(sk: CData, owned: bool) -> list[Certificate]:
    """A list of Certificates from a ``STACK_OF(X509)`` (see :func:`list_from_stack`)."""
    return list_from_stack(Certificate, sk, owned, "X509")


class CertStack:
    """A temporary ``STACK_OF(X509)`` holding references to Python certificates, for set1
    calls (which copy it); freed when the ``with`` block ends.  The stack does not up-ref
    its certificates: it holds their cdata instead, so a concurrent ``close()`` of one of
    them cannot free it while the stack is in use."""

    def __init__(self, certs: Certificate | Iterable[Certificate] | None, what: str) -> None:
        if certs is None:
            certs = ()
        if isinstance(certs, Certificate):
            certs = (certs,)
        self.certs: list[Certificate] = list(certs)
        for c in self.certs:
            _bio.check_instance(c, Certificate, what)

    def __enter__(self) -> CData:
        ptrs = [c.ptr for c in self.certs]
        sk = lib.sk_X509_new_null()
        if sk == ffi.NULL:
            raise_openssl("cannot allocate a certificate stack")
        for ptr in ptrs:
            if lib.sk_X509_push(sk, ptr) <= 0:
                lib.sk_X509_free(sk)
                raise_openssl("cannot build a certificate stack")
        self.sk: CData = sk
        self._ptrs: list[CData] | None = ptrs
        return sk

    def __exit__(self, *exc: object) -> None:
        lib.sk_X509_free(self.sk)  # the certificates stay owned by their Python objects
        self._ptrs = None


class CSR(Owned):
    """A PKCS#10 certificate signing request (``X509_REQ``)."""

    __slots__ = ()
    _free = "X509_REQ_free"
    _dup = "X509_REQ_dup"
    _d2i = "d2i_X509_REQ"
    _i2d = "i2d_X509_REQ"
    _pem_read = "PEM_read_bio_X509_REQ"
    _pem_write = "PEM_write_bio_X509_REQ"
    _what = "CSR"

    @classmethod
    def from_cryptography(cls, csr: x509.CertificateSigningRequest) -> "CSR":
        """A copy of a ``cryptography`` CSR."""
        from cryptography.hazmat.primitives import serialization

        return cls.from_der(csr.public_bytes(serialization.Encoding.DER))

    @classmethod
    def build(cls, subject: Name | str, key: PrivateKey,
              sans: Iterable[GeneralName | str] = (),
              extensions: Extensions | None = None) -> "CSR":
        """A CSR for ``subject`` signed by ``key`` (SHA-256; none for EdDSA), with optional
        subjectAltNames (``GeneralName`` or ``"DNS:…"`` strings) and ``Extensions``."""
        subject = as_name(subject, "subject")
        _bio.check_instance(key, PrivateKey, "key")
        san_list = [as_general_name(s) for s in sans]
        if extensions is not None:
            _bio.check_instance(extensions, Extensions, "extensions")
            if san_list and extensions.has_san:
                raise ValueError("subjectAltName given both in sans and in extensions")
        exts = Extensions.from_der(extensions.to_der()) if extensions is not None \
            else Extensions({})
        if san_list:
            exts._append(san_extension(san_list))
        req = cls._owned(lib.X509_REQ_new())
        try:
            ok = (lib.X509_REQ_set_version(req.ptr, 0) == 1
                  and lib.X509_REQ_set_subject_name(req.ptr, subject.ptr) == 1
                  and lib.X509_REQ_set_pubkey(req.ptr, key.ptr) == 1)
            if not ok:
                raise_openssl("cannot build CSR")
            if len(exts) and lib.X509_REQ_add_extensions(req.ptr, exts.ptr) != 1:
                raise_openssl("cannot add extensions to CSR")
            if lib.X509_REQ_sign(req.ptr, key.ptr, _digest_for(key)) <= 0:
                raise_openssl("cannot sign CSR")
        except BaseException:
            req.close()
            raise
        return req

    def to_cryptography(self) -> x509.CertificateSigningRequest:
        """A copy as a ``cryptography`` CSR."""
        from cryptography import x509

        return x509.load_der_x509_csr(self.to_der())

    @property
    def subject(self) -> Name:
        """The subject name (a copy)."""
        ptr = self.ptr  # held: the name is a get0 pointer
        return Name._copied(lib.X509_REQ_get_subject_name(ptr))

    def public_key(self) -> PublicKey:
        """The requested public key."""
        return PublicKey._owned(lib.X509_REQ_get_pubkey(self.ptr), "CSR has no public key")

    def extensions(self) -> "Extensions":
        """The requested extensions (empty when there are none)."""
        ptr = self.ptr
        with probe():  # NULL reads as "no extensions": what a failed read queued goes
            sk = lib.X509_REQ_get_extensions(ptr)
        if sk == ffi.NULL:
            return Extensions({})
        try:
            return Extensions.from_der(_bio.i2d(lib.i2d_X509_EXTENSIONS, sk, "extensions"))
        finally:
            lib.sk_X509_EXTENSION_pop_free(sk, ffi.addressof(lib, "X509_EXTENSION_free"))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CSR):
            return NotImplemented
        return self.to_der() == other.to_der()

    def __hash__(self) -> int:
        return hash(self.to_der())

    def _repr_detail(self) -> str:
        return "subject=%r" % str(self.subject)


def _digest_for(key: PrivateKey) -> CData:
    # EdDSA signs the message itself: OpenSSL wants no digest for it.
    return ffi.NULL if key.key_type in ("ED25519", "ED448") else lib.EVP_sha256()


def san_extension(sans: Iterable[GeneralName], critical: bool = False) -> CData:
    """A new ``X509_EXTENSION *`` subjectAltName for GeneralNames (caller frees)."""
    sk = lib.sk_GENERAL_NAME_new_null()
    if sk == ffi.NULL:
        raise_openssl("cannot allocate general names")
    free = ffi.addressof(lib, "GENERAL_NAME_free")
    try:
        for gen in sans:
            ref = gen._new_reference()
            if lib.sk_GENERAL_NAME_push(sk, ref) <= 0:
                lib.GENERAL_NAME_free(ref)
                raise_openssl("cannot build subjectAltName")
        ext = lib.X509V3_EXT_i2d(lib.NID_subject_alt_name, int(critical), sk)
        if ext == ffi.NULL:
            raise_openssl("cannot encode subjectAltName")
        return ext
    finally:
        lib.sk_GENERAL_NAME_pop_free(sk, free)


class Extensions(Owned):
    """A list of X.509v3 extensions (``X509_EXTENSIONS``), built from openssl config syntax:
    ``Extensions({"subjectAltName": "DNS:a.example", "keyUsage": "critical,digitalSignature"})``.
    Immutable once built."""

    __slots__ = ()
    _free = ""  # a stack: freed with pop_free by _free_extensions (see _owned)
    _d2i = "d2i_X509_EXTENSIONS"
    _i2d = "i2d_X509_EXTENSIONS"

    def __init__(self, extensions: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        items = list(extensions.items()) if isinstance(extensions, Mapping) else list(extensions)
        sk = lib.sk_X509_EXTENSION_new_null()
        if sk == ffi.NULL:
            raise_openssl("cannot allocate extensions")
        self._ptr = ffi.gc(sk, _free_extensions)
        v3ctx = ffi.new("X509V3_CTX *")
        lib.X509V3_set_ctx(v3ctx, ffi.NULL, ffi.NULL, ffi.NULL, ffi.NULL, 0)
        for item in items:
            if not (isinstance(item, tuple) and len(item) == 2):
                raise TypeError("extensions must be a mapping or (name, value) pairs")
            name, value = item
            name_c = _bio.c_string(name, "extension name")
            value_c = _bio.c_string(value, "extension value")
            ext = lib.X509V3_EXT_nconf(ffi.NULL, v3ctx, name_c, value_c)
            if ext == ffi.NULL:
                self.close()
                raise_openssl("invalid extension %s=%s" % (name, value))
            if lib.sk_X509_EXTENSION_push(sk, ext) <= 0:
                lib.X509_EXTENSION_free(ext)
                self.close()
                raise_openssl("cannot add extension")

    @classmethod
    def _owned(cls: type[_E], ptr: CData, what: str = "") -> _E:
        if ptr == ffi.NULL:
            raise_openssl(what or "cannot create Extensions")
        self = object.__new__(cls)
        self._ptr = ffi.gc(ptr, _free_extensions)
        return self

    def _append(self, ext: CData) -> None:
        """Append an ``X509_EXTENSION *`` this object takes over (internal building)."""
        if lib.sk_X509_EXTENSION_push(self.ptr, ext) <= 0:
            lib.X509_EXTENSION_free(ext)
            raise_openssl("cannot add extension")

    def copy(self) -> "Extensions":
        """An independent copy."""
        return Extensions.from_der(self.to_der())

    def __deepcopy__(self, memo: object) -> "Extensions":
        return self.copy()

    def _new_reference(self) -> CData:
        """A deep copy that C may own (set0_reqExtensions)."""
        ptr, _ = _bio.d2i(lib.d2i_X509_EXTENSIONS, self.to_der(), "extensions")
        return ptr

    def _release_reference(self, ptr: CData) -> None:
        _free_extensions(ptr)

    def __len__(self) -> int:
        """The number of extensions."""
        count: int = lib.sk_X509_EXTENSION_num(self.ptr)
        return count

    def names(self) -> list[str]:
        """Short names (or dotted OIDs) of the extensions, in order."""
        return _extension_names(self.ptr)

    @staticmethod
    def _ext(ptr: CData, index: int) -> CData:
        """Extension ``index`` of the stack ``ptr`` (a get0 pointer: the caller holds
        ``ptr`` while it uses it)."""
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError("extension index must be int")
        n = lib.sk_X509_EXTENSION_num(ptr)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError("extension index out of range")
        return lib.sk_X509_EXTENSION_value(ptr, index)

    def critical(self, index: int) -> bool:
        """Whether extension ``index`` is critical."""
        ptr = self.ptr
        return bool(lib.X509_EXTENSION_get_critical(self._ext(ptr, index)))

    def text(self, index: int) -> str:
        """The value as ``openssl x509 -text`` prints it."""
        ptr = self.ptr
        ext = self._ext(ptr, index)
        bio = _bio.MemBIO()
        with probe():  # a value OpenSSL cannot parse is printed raw, with errors queued
            lib.X509V3_EXT_print(bio.bio, ext, 0, 0)
        return bio.read_all().decode("utf-8", "replace")

    @property
    def has_san(self) -> bool:
        """Whether a subjectAltName extension is present."""
        found: bool = lib.X509v3_get_ext_by_NID(self.ptr, lib.NID_subject_alt_name, -1) >= 0
        return found

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Extensions):
            return NotImplemented
        return self.to_der() == other.to_der()

    def __hash__(self) -> int:
        return hash(self.to_der())

    def _repr_detail(self) -> str:
        return str(self.names())


def _free_extensions(sk: CData) -> None:
    lib.sk_X509_EXTENSION_pop_free(sk, ffi.addressof(lib, "X509_EXTENSION_free"))


def _extension_names(sk: CData) -> list[str]:
    """Short names (or dotted OIDs) of a ``STACK_OF(X509_EXTENSION)``, which the caller
    holds while this runs."""
    out: list[str] = []
    for i in range(lib.sk_X509_EXTENSION_num(sk)):
        obj = lib.X509_EXTENSION_get_object(lib.sk_X509_EXTENSION_value(sk, i))
        nid = lib.OBJ_obj2nid(obj)
        if nid != lib.NID_undef:
            out.append(ffi.string(lib.OBJ_nid2sn(nid)).decode())
        else:
            out.append(oid_text(obj))
    return out


class PolicyInfo(Owned):
    """A certificate policy (``POLICYINFO``) by OID: ``PolicyInfo("1.2.3.4")``."""

    __slots__ = ()
    _free = "POLICYINFO_free"
    _d2i = "d2i_POLICYINFO"
    _i2d = "i2d_POLICYINFO"

    def __init__(self, oid: str) -> None:
        oid_c = _bio.c_string(oid, "policy OID")
        obj = lib.OBJ_txt2obj(oid_c, 1)
        if obj == ffi.NULL:
            raise_openssl("invalid policy OID %r" % oid)
        pi = lib.POLICYINFO_new()
        if pi == ffi.NULL:
            lib.ASN1_OBJECT_free(obj)
            raise_openssl("cannot create POLICYINFO")
        lib.ASN1_OBJECT_free(pi.policyid)
        pi.policyid = obj
        self._ptr = ffi.gc(pi, lib.POLICYINFO_free)

    @property
    def oid(self) -> str:
        """The policy identifier, dotted."""
        ptr = self.ptr  # held: policyid belongs to it
        return oid_text(ptr.policyid)

    def _new_reference(self) -> CData:
        ptr, _ = _bio.d2i(lib.d2i_POLICYINFO, self.to_der(), "policy")
        return ptr

    def copy(self) -> "PolicyInfo":
        """An independent copy."""
        return PolicyInfo.from_der(self.to_der())

    def __deepcopy__(self, memo: object) -> "PolicyInfo":
        return self.copy()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PolicyInfo):
            return NotImplemented
        return self.oid == other.oid

    def __hash__(self) -> int:
        return hash(self.oid)

    def _repr_detail(self) -> str:
        return self.oid
