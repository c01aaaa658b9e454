"""Typed CMP support messages (RFC 9483 §4.3, RFC 4210 §5.3.19, RFC 9480): constructors
and accessors for the InfoTypeAndValue (``ITAV``) of each info type.

``new_*`` builds an ITAV, ``get_*`` reads one (``ValueError`` for an ITAV of another info
type or a value that does not decode).  A request usually carries the info type with its
value absent: ``ITAV(CA_CERTS)``.

Where the linked OpenSSL has its own constructor (``OSSL_CMP_ITAV_new_caCerts`` 3.2+,
``new0_certProfile`` 3.3+, ``new_crls``/``new0_crlStatusList`` 3.4+) it is used (not
``new0_certReqTemplate``, which leaks on 3.4/3.5); elsewhere the value is encoded here in DER, which gives the same bytes
(tests/test_itavs.py compares both where both exist).  Accessors read the DER of the value,
on every version alike.
"""

from __future__ import annotations

import datetime
from typing import Callable, Iterable, NamedTuple

from openssl_cmp import _bio, _der, binding
from openssl_cmp._asn1 import oid_text
from openssl_cmp._typing import CData
from openssl_cmp.binding import ffi, lib
from openssl_cmp.errors import raise_openssl
from openssl_cmp.message import ITAV, Message
from openssl_cmp.objects import CRL, CertStack, Certificate, Extensions, GeneralName, Name

__all__ = [
    "CA_PROT_ENC_CERT", "SIGN_KEY_PAIR_TYPES", "ENC_KEY_PAIR_TYPES", "PREFERRED_SYMM_ALG",
    "CURRENT_CRL", "UNSUPPORTED_OIDS", "IMPLICIT_CONFIRM", "CONFIRM_WAIT_TIME",
    "ORIG_PKI_MESSAGE", "SUPP_LANG_TAGS", "CA_CERTS", "ROOT_CA_KEY_UPDATE",
    "CERT_REQ_TEMPLATE", "ROOT_CA_CERT", "CERT_PROFILE", "CRL_STATUS_LIST", "CRLS",
    "REG_CTRL_ALG_ID", "REG_CTRL_RSA_KEY_LEN",
    "RootCaKeyUpdate", "CertReqTemplate", "CRLStatus",
    "new_ca_certs", "get_ca_certs", "new_root_ca_cert", "get_root_ca_cert",
    "new_root_ca_key_update", "get_root_ca_key_update", "new_cert_req_template",
    "get_cert_req_template", "template_der", "new_crl_status_list", "get_crl_status_list",
    "new_crls",
    "get_crls", "new_cert_profile", "get_cert_profile", "new_sign_key_pair_types",
    "get_sign_key_pair_types", "new_enc_key_pair_types", "get_enc_key_pair_types",
    "new_preferred_symm_alg", "get_preferred_symm_alg", "new_supp_lang_tags",
    "get_supp_lang_tags", "new_ca_prot_enc_cert", "get_ca_prot_enc_cert",
    "new_current_crl", "get_current_crl", "new_unsupported_oids", "get_unsupported_oids",
    "new_implicit_confirm", "new_confirm_wait_time", "get_confirm_wait_time",
    "new_orig_pki_message", "get_orig_pki_message",
]

_ID_IT = "1.3.6.1.5.5.7.4."
CA_PROT_ENC_CERT = _ID_IT + "1"
"""id-it-caProtEncCert (RFC 4210 §5.3.19.1): a CA certificate for encryption."""
SIGN_KEY_PAIR_TYPES = _ID_IT + "2"
"""id-it-signKeyPairTypes: SEQUENCE OF AlgorithmIdentifier (RFC 4210 §5.3.19.2)."""
ENC_KEY_PAIR_TYPES = _ID_IT + "3"
"""id-it-encKeyPairTypes: SEQUENCE OF AlgorithmIdentifier (RFC 4210 §5.3.19.3)."""
PREFERRED_SYMM_ALG = _ID_IT + "4"
"""id-it-preferredSymmAlg: AlgorithmIdentifier (RFC 4210 §5.3.19.4)."""
CURRENT_CRL = _ID_IT + "6"
"""id-it-currentCRL: CertificateList (RFC 4210 §5.3.19.6)."""
UNSUPPORTED_OIDS = _ID_IT + "7"
"""id-it-unsupportedOIDs: SEQUENCE OF OBJECT IDENTIFIER (RFC 4210 §5.3.19.7)."""
IMPLICIT_CONFIRM = _ID_IT + "13"
"""id-it-implicitConfirm: NULL (RFC 4210 §5.1.1.1)."""
CONFIRM_WAIT_TIME = _ID_IT + "14"
"""id-it-confirmWaitTime: GeneralizedTime (RFC 4210 §5.1.1.2)."""
ORIG_PKI_MESSAGE = _ID_IT + "15"
"""id-it-origPKIMessage: PKIMessages (RFC 4210 §5.1.1.3)."""
SUPP_LANG_TAGS = _ID_IT + "16"
"""id-it-suppLangTags: SEQUENCE OF UTF8String (RFC 4210 §5.3.19.9)."""
CA_CERTS = _ID_IT + "17"
"""id-it-caCerts: SEQUENCE SIZE (1..MAX) OF CMPCertificate (RFC 9483 §4.3.1)."""
ROOT_CA_KEY_UPDATE = _ID_IT + "18"
"""id-it-rootCaKeyUpdate: RootCaKeyUpdateContent (RFC 9483 §4.3.2)."""
CERT_REQ_TEMPLATE = _ID_IT + "19"
"""id-it-certReqTemplate: CertReqTemplateContent (RFC 9483 §4.3.3)."""
ROOT_CA_CERT = _ID_IT + "20"
"""id-it-rootCaCert: the requester's current root CA certificate (RFC 9483 §4.3.2)."""
CERT_PROFILE = _ID_IT + "21"
"""id-it-certProfile: SEQUENCE SIZE (1..MAX) OF UTF8String (RFC 9483 §4.3.3, §3.4)."""
CRL_STATUS_LIST = _ID_IT + "22"
"""id-it-crlStatusList: SEQUENCE SIZE (1..MAX) OF CRLStatus (RFC 9483 §4.3.4)."""
CRLS = _ID_IT + "23"
"""id-it-crls: SEQUENCE SIZE (1..MAX) OF CertificateList (RFC 9483 §4.3.4)."""
REG_CTRL_ALG_ID = "1.3.6.1.5.5.7.5.1.11"
"""id-regCtrl-algId: a keySpec control naming the key algorithm (RFC 9483 §4.3.3)."""
REG_CTRL_RSA_KEY_LEN = "1.3.6.1.5.5.7.5.1.12"
"""id-regCtrl-rsaKeyLen: a keySpec control naming the RSA modulus length (RFC 9483 §4.3.3)."""

_EC_PUBLIC_KEY = "1.2.840.10045.2.1"
_RSA_ENCRYPTION = "1.2.840.113549.1.1.1"
_NULL = b"\x05\x00"


class RootCaKeyUpdate(NamedTuple):
    """RootCaKeyUpdateContent (RFC 9483 §4.3.2, RFC 4210 §4.4): the new root certificate
    and the link certificates that chain old and new root."""

    new_with_new: Certificate
    new_with_old: Certificate | None = None
    old_with_new: Certificate | None = None


class CertReqTemplate(NamedTuple):
    """CertReqTemplateContent (RFC 9483 §4.3.3): what the CA wants in a request.

    ``subject`` and ``extensions`` fill the CertTemplate (its publicKey is left out, as
    RFC 9483 requires); ``key_algorithms`` become id-regCtrl-algId controls of keySpec: an
    algorithm OID or name (``"ED25519"``, ``"rsaEncryption"``), or a curve (``"prime256v1"``)
    which means id-ecPublicKey on that curve; ``rsa_key_length`` an id-regCtrl-rsaKeyLen
    control.  OIDs are read back dotted."""

    subject: Name | None = None
    extensions: Extensions | None = None
    key_algorithms: tuple[str, ...] = ()
    rsa_key_length: int | None = None


class CRLStatus(NamedTuple):
    """CRLStatus (RFC 9483 §4.3.4): the CRL a client holds, named by the full name of a
    distribution point or by the CRL issuer's names, and its thisUpdate (None: no CRL yet)."""

    distribution_point: tuple[GeneralName, ...] | None = None
    issuer: tuple[GeneralName, ...] | None = None
    this_update: datetime.datetime | None = None


# -- small DER helpers -----------------------------------------------------------------

def _dotted(text: object, what: str) -> str:
    """A dotted OID for an OID or a name OpenSSL knows."""
    c = _bio.c_string(text, what)
    obj = lib.OBJ_txt2obj(c, 0)
    if obj == ffi.NULL:
        raise_openssl("unknown %s %r" % (what, text))
    try:
        return oid_text(obj)
    finally:
        lib.ASN1_OBJECT_free(obj)


def _is_curve(oid: str) -> bool:
    return oid.startswith("1.2.840.10045.3.1.") or oid.startswith("1.3.132.0.") or \
        oid.startswith("1.3.36.3.3.2.8.1.1.")


def _algorithm_der(text: str) -> bytes:
    """AlgorithmIdentifier: a curve means id-ecPublicKey on it; rsaEncryption carries NULL
    parameters (RFC 3279 §2.3.1); any other algorithm none (RFC 8410 §3)."""
    oid = _dotted(text, "algorithm")
    if _is_curve(oid):
        return _der.sequence(_der.encode_oid(_EC_PUBLIC_KEY), _der.encode_oid(oid))
    if oid == _RSA_ENCRYPTION:
        return _der.sequence(_der.encode_oid(oid), _NULL)
    return _der.sequence(_der.encode_oid(oid))


def _oid_of(tlv: _der.TLV) -> str:
    if tlv.tag != 0x06:
        raise ValueError("expected OBJECT IDENTIFIER")
    arcs: list[int] = []
    value = 0
    for byte in tlv.value:
        value = value << 7 | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    if not arcs:
        raise ValueError("empty OBJECT IDENTIFIER")
    first = arcs[0]
    head = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    return ".".join(str(a) for a in head + arcs[1:])


def _algorithm_text(tlv: _der.TLV) -> str:
    """The inverse of :func:`_algorithm_der`: the curve for id-ecPublicKey on a named
    curve, else the algorithm OID."""
    if tlv.tag != 0x30:
        raise ValueError("expected AlgorithmIdentifier")
    parts = _der.children(tlv.value)
    if not parts:
        raise ValueError("empty AlgorithmIdentifier")
    oid = _oid_of(parts[0])
    if oid == _EC_PUBLIC_KEY and len(parts) > 1 and parts[1].tag == 0x06:
        return _oid_of(parts[1])
    return oid


def _time_der(when: datetime.datetime, what: str, generalized: bool = False) -> bytes:
    """RFC 5280 Time (UTCTime through 2049) or GeneralizedTime, in whole seconds, UTC."""
    if not isinstance(when, datetime.datetime):
        raise TypeError("%s must be a datetime" % what)
    if when.tzinfo is None:
        raise ValueError("%s must be timezone-aware" % what)
    utc = when.astimezone(datetime.timezone.utc)
    if utc.year < 2050 and not generalized:
        return _der.encode(0x17, utc.strftime("%y%m%d%H%M%SZ").encode())
    return _der.encode(0x18, utc.strftime("%Y%m%d%H%M%SZ").encode())


def _time_of(tlv: _der.TLV) -> datetime.datetime:
    text = tlv.value.decode("ascii")
    if tlv.tag == 0x17:
        fmt = "%y%m%d%H%M%SZ"
    elif tlv.tag == 0x18:
        fmt = "%Y%m%d%H%M%SZ"
    else:
        raise ValueError("expected UTCTime or GeneralizedTime")
    return datetime.datetime.strptime(text, fmt).replace(tzinfo=datetime.timezone.utc)


def _value(itav: ITAV, oid: str) -> _der.TLV | None:
    """The value TLV of an ITAV of info type ``oid`` (None when absent)."""
    _bio.check_instance(itav, ITAV, "itav")
    if itav.type != oid:
        raise ValueError("expected an ITAV of type %s, not %s" % (oid, itav.type))
    der = itav.value_der
    return None if der is None else _der.single(der)


def _sequence_of(itav: ITAV, oid: str) -> list[_der.TLV]:
    tlv = _value(itav, oid)
    if tlv is None:
        return []
    if tlv.tag != 0x30:
        raise ValueError("expected a SEQUENCE OF")
    return _der.children(tlv.value)


def _utf8_list(texts: Iterable[str], what: str) -> list[str]:
    if isinstance(texts, (str, bytes)):
        raise TypeError("%s must be an iterable of str" % what)
    out = list(texts)
    for t in out:
        if not isinstance(t, str):
            raise TypeError("%s must be str, not %s" % (what, type(t).__name__))
    return out


def _certs(certs: Iterable[Certificate] | None, what: str) -> list[Certificate]:
    out = [] if certs is None else list(certs)
    for c in out:
        _bio.check_instance(c, Certificate, what)
    return out


def _itav_c(ptr: CData, what: str) -> ITAV:
    return ITAV._owned(ptr, "cannot create %s ITAV" % what)


# -- caCerts (RFC 9483 §4.3.1) ---------------------------------------------------------

def _der_ca_certs(certs: list[Certificate]) -> ITAV:
    if not certs:
        return ITAV(CA_CERTS)
    return ITAV(CA_CERTS, _der.sequence(*(c.to_der() for c in certs)))


def _c_ca_certs(certs: list[Certificate]) -> ITAV:
    if not certs:
        return _itav_c(lib.OSSL_CMP_ITAV_new_caCerts(ffi.NULL), "caCerts")
    with CertStack(certs, "certificate") as sk:
        return _itav_c(lib.OSSL_CMP_ITAV_new_caCerts(sk), "caCerts")


def new_ca_certs(certs: Iterable[Certificate] | None) -> ITAV:
    """caCerts with ``certs`` (an empty list or None: the value is absent, as in a request
    or when the CA has none to give)."""
    certs_l = _certs(certs, "caCerts")
    if binding.has("OSSL_CMP_ITAV_new_caCerts"):
        return _c_ca_certs(certs_l)
    return _der_ca_certs(certs_l)


def get_ca_certs(itav: ITAV) -> list[Certificate]:
    """The certificates of a caCerts ITAV (empty when its value is absent)."""
    return [Certificate.from_der(t.raw) for t in _sequence_of(itav, CA_CERTS)]


# -- rootCaCert / rootCaKeyUpdate (RFC 9483 §4.3.2) ---------------------------------------

def _der_root_ca_cert(cert: Certificate | None) -> ITAV:
    return ITAV(ROOT_CA_CERT, None if cert is None else cert.to_der())


def _c_root_ca_cert(cert: Certificate | None) -> ITAV:
    ptr = ffi.NULL if cert is None else cert.ptr
    return _itav_c(lib.OSSL_CMP_ITAV_new_rootCaCert(ptr), "rootCaCert")


def new_root_ca_cert(cert: Certificate | None) -> ITAV:
    """rootCaCert: the root CA certificate the requester trusts now (None: absent)."""
    if cert is not None:
        _bio.check_instance(cert, Certificate, "cert")
    if binding.has("OSSL_CMP_ITAV_new_rootCaCert"):
        return _c_root_ca_cert(cert)
    return _der_root_ca_cert(cert)


def get_root_ca_cert(itav: ITAV) -> Certificate | None:
    """The certificate of a rootCaCert ITAV, or None when absent."""
    tlv = _value(itav, ROOT_CA_CERT)
    return None if tlv is None else Certificate.from_der(tlv.raw)


def _check_update(update: RootCaKeyUpdate | None) -> None:
    if update is None:
        return
    _bio.check_instance(update, RootCaKeyUpdate, "update")
    _bio.check_instance(update.new_with_new, Certificate, "new_with_new")
    for name in ("new_with_old", "old_with_new"):
        value = getattr(update, name)
        if value is not None:
            _bio.check_instance(value, Certificate, name)


def _der_root_ca_key_update(update: RootCaKeyUpdate | None) -> ITAV:
    if update is None:
        return ITAV(ROOT_CA_KEY_UPDATE)
    parts = [update.new_with_new.to_der()]
    if update.new_with_old is not None:
        parts.append(_der.encode(0xA0, update.new_with_old.to_der()))  # [0] EXPLICIT
    if update.old_with_new is not None:
        parts.append(_der.encode(0xA1, update.old_with_new.to_der()))  # [1] EXPLICIT
    return ITAV(ROOT_CA_KEY_UPDATE, _der.sequence(*parts))


def _c_root_ca_key_update(update: RootCaKeyUpdate | None) -> ITAV:
    if update is None:
        ptr = lib.OSSL_CMP_ITAV_new_rootCaKeyUpdate(ffi.NULL, ffi.NULL, ffi.NULL)
        return _itav_c(ptr, "rootCaKeyUpdate")
    nwn = update.new_with_new.ptr
    nwo = ffi.NULL if update.new_with_old is None else update.new_with_old.ptr
    own = ffi.NULL if update.old_with_new is None else update.old_with_new.ptr
    return _itav_c(lib.OSSL_CMP_ITAV_new_rootCaKeyUpdate(nwn, nwo, own), "rootCaKeyUpdate")


def new_root_ca_key_update(update: RootCaKeyUpdate | None) -> ITAV:
    """rootCaKeyUpdate: the answer to rootCaCert (None: absent, no update available)."""
    _check_update(update)
    if binding.has("OSSL_CMP_ITAV_new_rootCaKeyUpdate"):
        return _c_root_ca_key_update(update)
    return _der_root_ca_key_update(update)


def get_root_ca_key_update(itav: ITAV) -> RootCaKeyUpdate | None:
    """The :class:`RootCaKeyUpdate` of a rootCaKeyUpdate ITAV, or None when absent."""
    tlv = _value(itav, ROOT_CA_KEY_UPDATE)
    if tlv is None:
        return None
    parts = _der.children(tlv.value)
    if not parts or parts[0].tag != 0x30:
        raise ValueError("RootCaKeyUpdateContent needs newWithNew")
    links: dict[int, Certificate] = {}
    for part in parts[1:]:
        n = part.context_number
        if n not in (0, 1) or n in links:
            raise ValueError("unexpected field in RootCaKeyUpdateContent")
        links[n] = Certificate.from_der(_der.single(part.value).raw)
    return RootCaKeyUpdate(Certificate.from_der(parts[0].raw), links.get(0), links.get(1))


# -- certReqTemplate (RFC 9483 §4.3.3) ---------------------------------------------------

def template_der(template: CertReqTemplate) -> tuple[bytes, bytes | None]:
    """The DER of a :class:`CertReqTemplate`'s parts: (CertTemplate, the keySpec Controls
    or None) — what ``openssl cmp -template -keyspec`` writes."""
    fields = []
    if template.subject is not None:
        fields.append(_der.encode(0xA5, template.subject.to_der()))  # [5] Name: EXPLICIT
    if template.extensions is not None and len(template.extensions):
        exts = _der.single(template.extensions.to_der())
        fields.append(_der.encode(0xA9, exts.value))  # [9] IMPLICIT Extensions
    controls = [_der.sequence(_der.encode_oid(REG_CTRL_ALG_ID), _algorithm_der(a))
                for a in template.key_algorithms]
    if template.rsa_key_length is not None:
        controls.append(_der.sequence(_der.encode_oid(REG_CTRL_RSA_KEY_LEN),
                                      _der.encode_integer(template.rsa_key_length)))
    return _der.sequence(*fields), _der.sequence(*controls) if controls else None


def _check_template(template: CertReqTemplate | None) -> None:
    if template is None:
        return
    _bio.check_instance(template, CertReqTemplate, "template")
    if template.subject is not None:
        _bio.check_instance(template.subject, Name, "subject")
    if template.extensions is not None:
        _bio.check_instance(template.extensions, Extensions, "extensions")
    if isinstance(template.key_algorithms, str):
        raise TypeError("key_algorithms must be a tuple of str")
    _utf8_list(template.key_algorithms, "key algorithm")
    bits = template.rsa_key_length
    if bits is not None and (isinstance(bits, bool) or not isinstance(bits, int)):
        raise TypeError("rsa_key_length must be int or None")
    if bits is not None and not 0 < bits <= 65536:
        raise ValueError("rsa_key_length must be 1..65536")


def _der_cert_req_template(template: CertReqTemplate | None) -> ITAV:
    if template is None:
        return ITAV(CERT_REQ_TEMPLATE)
    tmpl, controls = template_der(template)
    return ITAV(CERT_REQ_TEMPLATE, _der.sequence(tmpl, controls or b""))


def _c_cert_req_template(template: CertReqTemplate | None) -> ITAV:
    if template is None:
        return _itav_c(lib.OSSL_CMP_ITAV_new0_certReqTemplate(ffi.NULL, ffi.NULL),
                       "certReqTemplate")
    tmpl_der, controls_der = template_der(template)
    tmpl = _bio.d2i(lib.d2i_OSSL_CRMF_CERTTEMPLATE, tmpl_der, "CertTemplate")[0]
    atavs = ffi.NULL
    try:
        if controls_der is not None:
            atavs = _bio.d2i(lib.d2i_OSSL_CMP_ATAVS, controls_der, "Controls")[0]
        itav = lib.OSSL_CMP_ITAV_new0_certReqTemplate(tmpl, atavs)  # consumes on success
    except BaseException:
        lib.OSSL_CRMF_CERTTEMPLATE_free(tmpl)
        raise
    if itav == ffi.NULL:
        lib.OSSL_CRMF_CERTTEMPLATE_free(tmpl)
        if atavs != ffi.NULL:
            lib.OSSL_CMP_ATAVS_free(atavs)
    return _itav_c(itav, "certReqTemplate")


def new_cert_req_template(template: CertReqTemplate | None) -> ITAV:
    """certReqTemplate: the CA's template (None: absent, the CA has no requirements)."""
    _check_template(template)
    # Our DER on every version: OpenSSL 3.4/3.5's OSSL_CMP_ITAV_new0_certReqTemplate leaks
    # the CertTemplate that OSSL_CMP_CERTREQTEMPLATE_new allocates and the given one
    # replaces (one block per call, found by tests/test_leaks.py "agent" on 3.5.9).
    # _c_cert_req_template stays as the reference tests/test_itavs.py compares the bytes to.
    return _der_cert_req_template(template)


def get_cert_req_template(itav: ITAV) -> CertReqTemplate | None:
    """The :class:`CertReqTemplate` of a certReqTemplate ITAV, or None when absent."""
    tlv = _value(itav, CERT_REQ_TEMPLATE)
    if tlv is None:
        return None
    parts = _der.children(tlv.value)
    if not parts or parts[0].tag != 0x30:
        raise ValueError("CertReqTemplateContent needs a certTemplate")
    subject: Name | None = None
    extensions: Extensions | None = None
    for field in _der.children(parts[0].value):
        if field.tag == 0xA5:
            subject = Name.from_der(_der.single(field.value).raw)
        elif field.tag == 0xA9:
            extensions = Extensions.from_der(_der.encode(0x30, field.value))
    algorithms: list[str] = []
    bits: int | None = None
    if len(parts) > 1:
        for control in _der.children(parts[1].value):
            kv = _der.children(control.value)
            if len(kv) != 2:
                raise ValueError("malformed keySpec control")
            kind = _oid_of(kv[0])
            if kind == REG_CTRL_ALG_ID:
                algorithms.append(_algorithm_text(kv[1]))
            elif kind == REG_CTRL_RSA_KEY_LEN:
                bits = _der.integer(kv[1])
    return CertReqTemplate(subject, extensions, tuple(algorithms), bits)


# -- crlStatusList / crls (RFC 9483 §4.3.4) ------------------------------------------------

def _names_der(names: tuple[GeneralName, ...]) -> bytes:
    for n in names:
        _bio.check_instance(n, GeneralName, "general name")
    return _der.sequence(*(n.to_der() for n in names))


def _status_der(status: CRLStatus) -> bytes:
    _bio.check_instance(status, CRLStatus, "status")
    if (status.distribution_point is None) == (status.issuer is None):
        raise ValueError("a CRLStatus names either a distribution point or an issuer")
    if status.distribution_point is not None:
        # [0] EXPLICIT DistributionPointName, whose fullName is [0] IMPLICIT GeneralNames
        full = _der.single(_names_der(tuple(status.distribution_point)))
        source = _der.encode(0xA0, _der.encode(0xA0, full.value))
    else:
        source = _der.encode(0xA1, _names_der(tuple(status.issuer or ())))  # [1] EXPLICIT
    parts = [source]
    if status.this_update is not None:
        parts.append(_time_der(status.this_update, "this_update"))
    return _der.sequence(*parts)


def _der_crl_status_list(statuses: list[CRLStatus]) -> ITAV:
    return ITAV(CRL_STATUS_LIST, _der.sequence(*(_status_der(s) for s in statuses)))


def _c_status(status: CRLStatus) -> CData:
    """A new ``OSSL_CMP_CRLSTATUS *`` from OpenSSL's own constructor."""
    fields = _der.children(_der.single(_status_der(status)).value)
    source = fields[0]
    inner = _der.single(source.value)
    dpn = names = when = ffi.NULL
    try:
        if source.tag == 0xA0:
            dpn = _bio.d2i(lib.d2i_DIST_POINT_NAME, inner.raw, "DistributionPointName")[0]
        else:
            names = _bio.d2i(lib.d2i_GENERAL_NAMES, inner.raw, "GeneralNames")[0]
        if len(fields) > 1:
            when = _bio.d2i(lib.d2i_ASN1_TIME, fields[1].raw, "Time")[0]
        ptr = lib.OSSL_CMP_CRLSTATUS_new1(dpn, names, when)  # copies its arguments
        if ptr == ffi.NULL:
            raise_openssl("cannot create CRLStatus")
        return ptr
    finally:
        if dpn != ffi.NULL:
            lib.DIST_POINT_NAME_free(dpn)
        if names != ffi.NULL:
            lib.GENERAL_NAMES_free(names)
        if when != ffi.NULL:
            lib.ASN1_TIME_free(when)


def _c_crl_status_list(statuses: list[CRLStatus]) -> ITAV:
    sk = lib.OPENSSL_sk_new_null()
    if sk == ffi.NULL:
        raise_openssl("cannot allocate a CRLStatus stack")
    free = ffi.cast("void (*)(void *)", ffi.addressof(lib, "OSSL_CMP_CRLSTATUS_free"))
    try:
        for status in statuses:
            item = _c_status(status)
            if lib.OPENSSL_sk_push(sk, item) <= 0:
                lib.OSSL_CMP_CRLSTATUS_free(item)
                raise_openssl("cannot build a CRLStatus stack")
        itav = lib.OSSL_CMP_ITAV_new0_crlStatusList(
            ffi.cast("OCMP_STACK_OF_OSSL_CMP_CRLSTATUS *", sk))  # consumes on success
    except BaseException:
        lib.OPENSSL_sk_pop_free(sk, free)
        raise
    if itav == ffi.NULL:
        lib.OPENSSL_sk_pop_free(sk, free)
    return _itav_c(itav, "crlStatusList")


def new_crl_status_list(statuses: Iterable[CRLStatus]) -> ITAV:
    """crlStatusList: the CRLs the requester holds (at least one status)."""
    items = list(statuses)
    if not items:
        raise ValueError("crlStatusList needs at least one CRLStatus")
    for s in items:
        _status_der(s)  # validates before any C call
    if binding.has("OSSL_CMP_ITAV_new0_crlStatusList"):
        return _c_crl_status_list(items)
    return _der_crl_status_list(items)


def get_crl_status_list(itav: ITAV) -> list[CRLStatus]:
    """The :class:`CRLStatus` entries of a crlStatusList ITAV."""
    out: list[CRLStatus] = []
    for status in _sequence_of(itav, CRL_STATUS_LIST):
        fields = _der.children(status.value)
        if not fields:
            raise ValueError("empty CRLStatus")
        source = fields[0]
        this_update = _time_of(fields[1]) if len(fields) > 1 else None
        inner = _der.single(source.value)
        if source.tag == 0xA0:
            if inner.tag != 0xA0:
                raise ValueError("only the fullName form of DistributionPointName is read")
            dp = tuple(GeneralName.from_der(n.raw) for n in _der.children(inner.value))
            out.append(CRLStatus(distribution_point=dp, this_update=this_update))
        elif source.tag == 0xA1:
            names = tuple(GeneralName.from_der(n.raw) for n in _der.children(inner.value))
            out.append(CRLStatus(issuer=names, this_update=this_update))
        else:
            raise ValueError("unknown CRLSource")
    return out


def _der_crls(crls: list[CRL]) -> ITAV:
    if not crls:
        return ITAV(CRLS)
    return ITAV(CRLS, _der.sequence(*(c.to_der() for c in crls)))


def _c_crls(crls: list[CRL]) -> ITAV:
    ptr = ffi.NULL if not crls else crls[0].ptr
    return _itav_c(lib.OSSL_CMP_ITAV_new_crls(ptr), "crls")


def new_crls(crls: Iterable[CRL] | None) -> ITAV:
    """crls: the CRLs that update those of a crlStatusList (empty or None: absent, no
    newer CRL)."""
    items = [] if crls is None else list(crls)
    for c in items:
        _bio.check_instance(c, CRL, "crl")
    # OpenSSL's constructor takes one CRL: a longer list is encoded here
    if binding.has("OSSL_CMP_ITAV_new_crls") and len(items) <= 1:
        return _c_crls(items)
    return _der_crls(items)


def get_crls(itav: ITAV) -> list[CRL]:
    """The CRLs of a crls ITAV (empty when absent)."""
    return [CRL.from_der(t.raw) for t in _sequence_of(itav, CRLS)]


# -- certProfile (RFC 9483 §4.3.3) -----------------------------------------------------------

def _der_cert_profile(names: list[str]) -> ITAV:
    return ITAV(CERT_PROFILE, _der.sequence(*(_der.encode_utf8(n) for n in names)))


def _c_cert_profile(names: list[str]) -> ITAV:
    sk = lib.sk_ASN1_UTF8STRING_new_null()
    if sk == ffi.NULL:
        raise_openssl("cannot allocate a UTF8String stack")
    free = ffi.addressof(lib, "ASN1_UTF8STRING_free")
    for name in names:
        raw = name.encode("utf-8")
        s = lib.ASN1_UTF8STRING_new()
        if s == ffi.NULL or lib.ASN1_STRING_set(s, raw, len(raw)) != 1 or \
                lib.sk_ASN1_UTF8STRING_push(sk, s) <= 0:
            if s != ffi.NULL:
                lib.ASN1_UTF8STRING_free(s)
            lib.sk_ASN1_UTF8STRING_pop_free(sk, free)
            raise_openssl("cannot build certProfile")
    itav = lib.OSSL_CMP_ITAV_new0_certProfile(sk)  # consumes sk on success
    if itav == ffi.NULL:
        lib.sk_ASN1_UTF8STRING_pop_free(sk, free)
    return _itav_c(itav, "certProfile")


def new_cert_profile(profile: str | Iterable[str]) -> ITAV:
    """certProfile: the profile name(s); a request names exactly one (RFC 9483 §3.4)."""
    names = [profile] if isinstance(profile, str) else _utf8_list(profile, "profile")
    if not names or any(not n for n in names):
        raise ValueError("certProfile needs at least one non-empty name")
    if binding.has("OSSL_CMP_ITAV_new0_certProfile"):
        return _c_cert_profile(names)
    return _der_cert_profile(names)


def get_cert_profile(itav: ITAV) -> str | None:
    """The profile name of a certProfile ITAV (None when absent); ValueError when it
    names more than one, which RFC 9483 §3.4 does not allow in a request."""
    names = [_der.single(t.raw).value.decode("utf-8") for t in
             _sequence_of(itav, CERT_PROFILE) if t.tag == 0x0C]
    if len(names) > 1:
        raise ValueError("certProfile names %d profiles, expected one" % len(names))
    return names[0] if names else None


# -- the RFC 4210 general info types ---------------------------------------------------------

def _new_algorithms(oid: str, algorithms: Iterable[str] | None) -> ITAV:
    if algorithms is None:
        return ITAV(oid)
    return ITAV(oid, _der.sequence(*(_algorithm_der(a)
                                     for a in _utf8_list(algorithms, "algorithm"))))


def new_sign_key_pair_types(algorithms: Iterable[str] | None) -> ITAV:
    """signKeyPairTypes: key algorithms the CA certifies for signing (OIDs or names; a curve
    means id-ecPublicKey on it).  None: absent (a request)."""
    return _new_algorithms(SIGN_KEY_PAIR_TYPES, algorithms)


def get_sign_key_pair_types(itav: ITAV) -> list[str]:
    """The algorithm OIDs of signKeyPairTypes (the curve OID for id-ecPublicKey on one)."""
    return [_algorithm_text(t) for t in _sequence_of(itav, SIGN_KEY_PAIR_TYPES)]


def new_enc_key_pair_types(algorithms: Iterable[str] | None) -> ITAV:
    """encKeyPairTypes: as :func:`new_sign_key_pair_types`, for encryption keys."""
    return _new_algorithms(ENC_KEY_PAIR_TYPES, algorithms)


def get_enc_key_pair_types(itav: ITAV) -> list[str]:
    """The algorithm OIDs of encKeyPairTypes."""
    return [_algorithm_text(t) for t in _sequence_of(itav, ENC_KEY_PAIR_TYPES)]


def new_preferred_symm_alg(algorithm: str | None) -> ITAV:
    """preferredSymmAlg: the symmetric algorithm the CA prefers (``"AES-256-CBC"``)."""
    if algorithm is None:
        return ITAV(PREFERRED_SYMM_ALG)
    oid = _dotted(algorithm, "algorithm")
    return ITAV(PREFERRED_SYMM_ALG, _der.sequence(_der.encode_oid(oid)))


def get_preferred_symm_alg(itav: ITAV) -> str | None:
    """The algorithm OID of preferredSymmAlg, or None when absent."""
    tlv = _value(itav, PREFERRED_SYMM_ALG)
    return None if tlv is None else _algorithm_text(tlv)


def new_supp_lang_tags(tags: Iterable[str] | None) -> ITAV:
    """suppLangTags: RFC 5646 language tags (``["en", "de"]``); None: absent."""
    if tags is None:
        return ITAV(SUPP_LANG_TAGS)
    return ITAV(SUPP_LANG_TAGS, _der.sequence(*(_der.encode_utf8(t)
                                                for t in _utf8_list(tags, "language tag"))))


def get_supp_lang_tags(itav: ITAV) -> list[str]:
    """The language tags of suppLangTags."""
    return [t.value.decode("utf-8") for t in _sequence_of(itav, SUPP_LANG_TAGS)]


def new_ca_prot_enc_cert(cert: Certificate | None) -> ITAV:
    """caProtEncCert: a CA certificate for encrypting to the CA (None: absent)."""
    if cert is not None:
        _bio.check_instance(cert, Certificate, "cert")
    return ITAV(CA_PROT_ENC_CERT, None if cert is None else cert.to_der())


def get_ca_prot_enc_cert(itav: ITAV) -> Certificate | None:
    """The certificate of caProtEncCert, or None."""
    tlv = _value(itav, CA_PROT_ENC_CERT)
    return None if tlv is None else Certificate.from_der(tlv.raw)


def new_current_crl(crl: CRL | None) -> ITAV:
    """currentCRL: the CA's current CRL (None: absent)."""
    if crl is not None:
        _bio.check_instance(crl, CRL, "crl")
    return ITAV(CURRENT_CRL, None if crl is None else crl.to_der())


def get_current_crl(itav: ITAV) -> CRL | None:
    """The CRL of currentCRL, or None."""
    tlv = _value(itav, CURRENT_CRL)
    return None if tlv is None else CRL.from_der(tlv.raw)


def new_unsupported_oids(oids: Iterable[str]) -> ITAV:
    """unsupportedOIDs: the info types the responder does not support."""
    return ITAV(UNSUPPORTED_OIDS, _der.sequence(*(
        _der.encode_oid(_dotted(o, "OID")) for o in _utf8_list(oids, "OID"))))


def get_unsupported_oids(itav: ITAV) -> list[str]:
    """The OIDs of unsupportedOIDs, dotted."""
    return [_oid_of(t) for t in _sequence_of(itav, UNSUPPORTED_OIDS)]


def new_implicit_confirm() -> ITAV:
    """implicitConfirm (value NULL, RFC 4210 §5.1.1.1)."""
    return ITAV(IMPLICIT_CONFIRM, _NULL)


def new_confirm_wait_time(until: datetime.datetime) -> ITAV:
    """confirmWaitTime: how long the CA waits for a certConf (GeneralizedTime)."""
    return ITAV(CONFIRM_WAIT_TIME, _time_der(until, "until", generalized=True))


def get_confirm_wait_time(itav: ITAV) -> datetime.datetime | None:
    """The time of confirmWaitTime, or None."""
    tlv = _value(itav, CONFIRM_WAIT_TIME)
    return None if tlv is None else _time_of(tlv)


def new_orig_pki_message(messages: Iterable[Message]) -> ITAV:
    """origPKIMessage: the original request(s) an RA forwards (RFC 4210 §5.1.1.3)."""
    items = list(messages)
    for m in items:
        _bio.check_instance(m, Message, "message")
    if not items:
        raise ValueError("origPKIMessage needs at least one message")
    return ITAV(ORIG_PKI_MESSAGE, _der.sequence(*(m.to_der() for m in items)))


def get_orig_pki_message(itav: ITAV) -> list[Message]:
    """The messages of origPKIMessage."""
    return [Message.from_der(t.raw) for t in _sequence_of(itav, ORIG_PKI_MESSAGE)]


# The constructors that OpenSSL offers, with our DER twin, for tests: name -> (C, DER).
_PAIRS: dict[str, tuple[Callable[..., ITAV], Callable[..., ITAV]]] = {
    "OSSL_CMP_ITAV_new_caCerts": (_c_ca_certs, _der_ca_certs),
    "OSSL_CMP_ITAV_new_rootCaCert": (_c_root_ca_cert, _der_root_ca_cert),
    "OSSL_CMP_ITAV_new_rootCaKeyUpdate": (_c_root_ca_key_update, _der_root_ca_key_update),
    "OSSL_CMP_ITAV_new0_certReqTemplate": (_c_cert_req_template, _der_cert_req_template),
    "OSSL_CMP_ITAV_new0_crlStatusList": (_c_crl_status_list, _der_crl_status_list),
    "OSSL_CMP_ITAV_new_crls": (_c_crls, _der_crls),
    "OSSL_CMP_ITAV_new0_certProfile": (_c_cert_profile, _der_cert_profile),
}
