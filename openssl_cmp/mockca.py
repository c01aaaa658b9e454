"""``MockCA``: a CMP test CA that tells clients the truth (RFC 9483 conformance).

It issues real certificates for what clients request (IR, CR, P10CR, KUR) under the
extension profile it enforces, revokes and revives them only for those authorized, signs a
CRL of its revocations, can update its root key (RFC 4210 §4.4), answers every support
message of RFC 9483 §4.3 and injects the faults OpenSSL's mock server knows.  See
docs/mockca.md.
"""

from __future__ import annotations

import collections
import datetime
import hashlib
import os
import threading
from typing import Any, Callable, Iterable, Mapping, NamedTuple, Union, cast

from openssl_cmp import _der, itavs
from openssl_cmp.message import _tmpl_public_key_der
from openssl_cmp._typing import CData
from openssl_cmp.context import Context
from openssl_cmp.enums import BodyType, FailInfo, Option, PKIStatus
from openssl_cmp._asn1 import asn1_string_bytes
from openssl_cmp.binding import ffi, lib
from openssl_cmp.errors import Error, quiet_read, raise_openssl, require
from openssl_cmp.keys import PrivateKey, PublicKey
from openssl_cmp.mockca_store import (CRLSigner, DBAPIStore, MemoryStore, RecordStore,
                                      Revocation, SQLiteStore)
from openssl_cmp.message import ITAV, CertRequest, Message, StatusInfo
from openssl_cmp.objects import (CRL, CSR, Certificate, Extensions, GeneralName, Name,
                                 TrustStore)
from openssl_cmp.server import CertResponse, RejectRequest, Server

__all__ = ["MockCA", "Profile", "CA_CERTS_OID"]

CA_CERTS_OID = itavs.CA_CERTS
"""id-it-caCerts (RFC 9480): the GENM info type MockCA answers with its CA certificate."""

_KGA_EKU = "1.3.6.1.5.5.7.3.32"  # id-kp-cmKGA (RFC 9480 §2.10)
_EC_OID = "1.2.840.10045.2.1"
_CURVES = {"1.2.840.10045.3.1.7": "P-256", "1.3.132.0.34": "P-384", "1.3.132.0.35": "P-521"}
_KEY_KINDS = {"1.2.840.113549.1.1.1": "RSA", "1.3.101.112": "ED25519", "1.3.101.113": "ED448"}
_CERTIFICATE_HOLD = 6
_REMOVE_FROM_CRL = 8
_CRL_REASONS = frozenset(range(11)) - {7}  # RFC 5280 §5.3.1: value 7 is not used


class Profile(NamedTuple):
    """What a certificate profile allows (``MockCA(profiles={"ca": Profile(ca=True)})``,
    selected by the request's certProfile, RFC 9483 §4.1.1).

    ``ca``: CA certificates may be requested (basicConstraints cA:TRUE, pathLenConstraint,
    keyUsage keyCertSign/cRLSign; RFC 5280 §4.2.1.9, §4.2.1.3) and are issued as CA
    certificates; ``validity_days``: overrides the CA's ``validity_days``."""

    ca: bool = False
    validity_days: int | None = None


_END_ENTITY = Profile()
_AWAITING_CONF_MAX = 4096  # transactions remembered for their certConf


def _cert_hash(cert: Certificate) -> bytes:
    """The certHash a client sends for ``cert`` (RFC 4210 §5.3.18, RFC 9480: the digest of
    the certificate's signature algorithm), as OpenSSL's client computes it."""
    digest = lib.X509_digest_sig(cert.ptr, ffi.NULL, ffi.NULL)
    if digest == ffi.NULL:
        raise_openssl("cannot compute the certHash")
    try:
        return asn1_string_bytes(digest)
    finally:
        lib.ASN1_OCTET_STRING_free(digest)


def _template_spki(crm: CertRequest) -> bytes | None:
    """The template's SubjectPublicKeyInfo DER (possibly with an empty key), or None."""
    ptr = crm.ptr
    return _tmpl_public_key_der(CertRequest._tmpl(ptr))


def _reject(fail_info: FailInfo, text: str) -> StatusInfo:
    return StatusInfo(PKIStatus.REJECTION, fail_info, "MockCA: " + text)


def _ca_extension(extensions: Extensions | None) -> str | None:
    """The CA-only extension content a request asks for, or None (RFC 5280 §4.2.1.9:
    cA and pathLenConstraint; §4.2.1.3: keyCertSign and cRLSign)."""
    if extensions is None:
        return None
    for i, name in enumerate(extensions.names()):
        text = extensions.text(i)
        if name == "basicConstraints" and ("CA:TRUE" in text or "pathlen" in text):
            return "basicConstraints %s" % text
        if name == "keyUsage" and ("Certificate Sign" in text or "CRL Sign" in text):
            return "keyUsage %s" % text
    return None


StoreSpec = Union[RecordStore, str, "os.PathLike[str]", Callable[[], Any], None]
"""What ``MockCA(store=…)`` takes: None (this process's memory), a path of an SQLite file
(``":memory:"``: a database of this process), a function opening a DB-API 2 connection
(qmark parameters, as sqlite3; other drivers: a :class:`DBAPIStore`), or a
:class:`RecordStore`."""


def _open_store(store: StoreSpec, max_records: int | None) -> RecordStore:
    if store is None:
        return MemoryStore(max_records)
    if isinstance(store, RecordStore):
        return store
    if isinstance(store, (str, os.PathLike)):
        return SQLiteStore(store, max_records=max_records)
    if callable(store):
        return DBAPIStore(store, max_records=max_records)
    raise TypeError("store must be a RecordStore, a path or a connection function, not %s"
                    % type(store).__name__)


class MockCA(Server):
    """A CMP server with its own CA that issues real certificates (docs/mockca.md).

    ``MockCA(ca_key=None, ca_cert=None, *, secret=b"mock-secret", reference=b"mock-ca",
    protect_with_cert=False, poll_count=0, check_after=1, pkistatus=None, fail_info=0,
    failure=None, status_string=None, send_error=False, send_unprotected=False,
    send_unprot_err=False, grant_implicit_confirm=True, validity_days=365, profiles=None,
    ra_certs=(), allow_key_reuse=False, cert_req_template=None, sign_key_pair_types=…,
    enc_key_pair_types=None, preferred_symm_alg=None, supp_lang_tags=("en",),
    rsp_cert=None, rsp_extracerts=(), rsp_capubs=None, rsp_newwithnew=None,
    rsp_newwithold=None, rsp_oldwithnew=None, rsp_crl=None, max_records=None,
    on_issue=None, central_keygen=False, store=None)``

    * Central key generation (RFC 9483 §4.1.6, OpenSSL 3.5+; ``UnsupportedError``
      before): with ``central_keygen=True`` a request asking for it gets a new key (EC
      P-256, or the type its template's publicKey algorithm names) and its certificate; a
      KGA certificate ``kga_cert`` (issued by the CA, id-kp-cmKGA) signs the key and
      protects the responses to signed requests.  Otherwise such requests are refused with
      badPOP (by the server core itself before OpenSSL 3.5).

    * Protection: PBM with ``reference``/``secret`` (``secret=None`` turns PBM off); with
      ``protect_with_cert`` the CA certificate and key also protect responses.  Requests
      signed by certificates this CA issued are accepted.
    * Enrollment: the end-entity profile unless the request's certProfile names one of
      ``profiles``; CA extensions under a profile without ``ca`` and unknown profiles are
      refused (badCertTemplate); a public key already certified is refused (badCertTemplate)
      unless ``allow_key_reuse``.  KUR must be signed, by the certificate to update (the
      oldCertID control, else the signer) or by an RA of ``ra_certs``.
    * Revocation (RFC 9483 §4.2): signed by the certificate to revoke or by an RA; one
      known reasonCode at most (else badRequest); removeFromCRL revives a certificate on
      certificateHold and is refused otherwise.  ``crl`` is the CRL, re-signed on every
      change.  A request signed by a revoked certificate is refused (signerNotTrusted).
    * Support messages (RFC 9483 §4.3): caCerts, rootCaCert → rootCaKeyUpdate (after
      :meth:`update_root_key`), certReqTemplate (``cert_req_template``), crlStatusList →
      crls, signKeyPairTypes, encKeyPairTypes, preferredSymmAlg, suppLangTags, certProfile
      (the profile names), currentCRL; other info types get no answer.
    * Faults, as ``openssl cmp``'s mock server: ``poll_count``/``check_after``,
      ``pkistatus``/``fail_info`` (bits)/``failure`` (one bit number)/``status_string``,
      ``send_error``, ``send_unprotected``, ``send_unprot_err``, ``grant_implicit_confirm``,
      ``rsp_cert``, ``rsp_extracerts``, ``rsp_capubs``, ``rsp_newwithnew``/
      ``rsp_newwithold``/``rsp_oldwithnew``, ``rsp_crl``.
    * Records: ``issued``, ``confirmed``, ``errors_received`` keep at most ``max_records``
      entries each (None: all), oldest dropped, and so does the index of certificates
      that revocation and KUR look up; ``on_issue(cert)`` sees every certificate issued.
      What decides requests (issued certificates by serial, certified keys, revocations,
      the CRL and its number) is kept in ``store``: this process's memory by default, an
      SQLite file shared by worker processes for a path, a DB-API database for a function
      returning a connection, or any :class:`~openssl_cmp.mockca_store.RecordStore`;
      ``issued``, ``revoked``, ``revocations`` and ``confirmed`` are this process's view.
    """

    def __init__(self, ca_key: PrivateKey | None = None, ca_cert: Certificate | None = None,
                 *, secret: bytes | None = b"mock-secret", reference: bytes = b"mock-ca",
                 protect_with_cert: bool = False, poll_count: int = 0, check_after: int = 1,
                 pkistatus: PKIStatus | None = None, fail_info: int = 0,
                 failure: int | None = None, status_string: str | None = None,
                 send_error: bool = False, send_unprotected: bool = False,
                 send_unprot_err: bool = False, grant_implicit_confirm: bool = True,
                 validity_days: int = 365, profiles: Mapping[str, Profile] | None = None,
                 ra_certs: Iterable[Certificate] = (), allow_key_reuse: bool = False,
                 cert_req_template: itavs.CertReqTemplate | None = None,
                 sign_key_pair_types: Iterable[str] | None = ("prime256v1", "ED25519",
                                                               "rsaEncryption"),
                 enc_key_pair_types: Iterable[str] | None = None,
                 preferred_symm_alg: str | None = None,
                 supp_lang_tags: Iterable[str] | None = ("en",),
                 rsp_cert: Certificate | None = None,
                 rsp_extracerts: Iterable[Certificate] = (),
                 rsp_capubs: Iterable[Certificate] | None = None,
                 rsp_newwithnew: Certificate | None = None,
                 rsp_newwithold: Certificate | None = None,
                 rsp_oldwithnew: Certificate | None = None,
                 rsp_crl: CRL | None = None, max_records: int | None = None,
                 on_issue: Callable[[Certificate], None] | None = None,
                 central_keygen: bool = False, store: StoreSpec = None,
                 libctx: CData = None, propq: str | None = None) -> None:
        super().__init__(libctx, propq)
        if not isinstance(central_keygen, bool):
            raise TypeError("central_keygen must be bool")
        if central_keygen:
            require("OSSL_CRMF_MSG_centralkeygen_requested",
                            "MockCA(central_keygen=True)")
        if ca_cert is not None and ca_key is None:
            raise ValueError("ca_cert needs its ca_key")
        if ca_key is not None and not isinstance(ca_key, PrivateKey):
            raise TypeError("ca_key must be a PrivateKey")
        for name, value in (("poll_count", poll_count), ("check_after", check_after),
                            ("validity_days", validity_days)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError("%s must be int, not %s" % (name, type(value).__name__))
            if value < 0:
                raise ValueError("%s must be >= 0" % name)
        if max_records is not None and (isinstance(max_records, bool)
                                        or not isinstance(max_records, int)
                                        or max_records < 1):
            raise ValueError("max_records must be an int >= 1 or None")
        if on_issue is not None and not callable(on_issue):
            raise TypeError("on_issue must be callable")
        # a wrong kind of store fails here, before any C work; the database is opened (and
        # its tables made) here too, so that a store that cannot be opened is found early
        records = _open_store(store, max_records)
        if pkistatus is not None:
            pkistatus = PKIStatus(pkistatus)
            if pkistatus < 0:
                raise ValueError("pkistatus must be a PKIStatus 0..6")
        if failure is not None:
            fail_info |= FailInfo.from_bit(failure)  # validates 0..26
        StatusInfo(pkistatus or 0, fail_info, status_string)  # validates fail_info, text
        self.profiles: dict[str, Profile] = dict(profiles or {})
        for name, profile in self.profiles.items():
            if not isinstance(name, str) or not isinstance(profile, Profile):
                raise TypeError("profiles must map str to Profile")
        self.ra_certs = list(ra_certs)  # Server.ra_certs: RAs may act for others
        fixed = [c for c in (rsp_cert, rsp_newwithnew, rsp_newwithold, rsp_oldwithnew)
                 if c is not None]
        for cert in list(ra_certs) + list(rsp_extracerts) + list(rsp_capubs or ()) + fixed:
            if not isinstance(cert, Certificate):
                raise TypeError("certificates must be Certificate objects")
        if rsp_crl is not None and not isinstance(rsp_crl, CRL):
            raise TypeError("rsp_crl must be a CRL")
        # the ITAVs are built now: bad values fail here, not in a handler
        itavs.new_cert_req_template(cert_req_template)
        self.ca_key: PrivateKey = ca_key or PrivateKey.generate("EC")
        self.ca_cert: Certificate = ca_cert or Certificate.create("/CN=openssl_cmp Mock CA",
                                                     self.ca_key, self.ca_key, ca=True,
                                                     days=3650)
        if self.ca_cert.public_key() != self.ca_key.public_key():
            raise ValueError("ca_cert does not belong to ca_key")
        self.cert_req_template: itavs.CertReqTemplate | None = cert_req_template
        self.sign_key_pair_types: list[str] | None = None if sign_key_pair_types is None \
            else itavs.get_sign_key_pair_types(itavs.new_sign_key_pair_types(
                sign_key_pair_types))
        self.enc_key_pair_types: list[str] | None = None if enc_key_pair_types is None \
            else itavs.get_enc_key_pair_types(itavs.new_enc_key_pair_types(
                enc_key_pair_types))
        self.preferred_symm_alg: str | None = None if preferred_symm_alg is None \
            else itavs.get_preferred_symm_alg(itavs.new_preferred_symm_alg(
                preferred_symm_alg))
        self.supp_lang_tags: list[str] | None = None if supp_lang_tags is None \
            else itavs.get_supp_lang_tags(itavs.new_supp_lang_tags(supp_lang_tags))
        self.secret: bytes | None = secret
        self.reference: bytes = reference
        self.protect_with_cert: bool = protect_with_cert
        self.poll_count: int = poll_count
        self.check_after: int = check_after
        self.pkistatus: PKIStatus | None = pkistatus
        self.fail_info: FailInfo = FailInfo(fail_info)
        self.status_string: str | None = status_string
        self.send_error: bool = send_error
        self.validity_days: int = validity_days
        self.allow_key_reuse: bool = allow_key_reuse
        self.rsp_cert: Certificate | None = rsp_cert
        self.rsp_capubs: list[Certificate] | None = None if rsp_capubs is None \
            else list(rsp_capubs)
        self.rsp_newwithnew: Certificate | None = rsp_newwithnew
        self.rsp_newwithold: Certificate | None = rsp_newwithold
        self.rsp_oldwithnew: Certificate | None = rsp_oldwithnew
        self.rsp_crl: CRL | None = rsp_crl
        self.max_records: int | None = max_records
        self.on_issue: Callable[[Certificate], None] | None = on_issue
        self.central_keygen: bool = central_keygen
        self.kga_key: PrivateKey | None = None
        """The key of ``kga_cert`` (``central_keygen=True``)."""
        self.kga_cert: Certificate | None = None
        """With ``central_keygen=True``: the certificate (issued by the CA, extended key
        usage id-kp-cmKGA, RFC 9483 §4.1.6) that signs the generated keys and protects the
        responses to signed requests."""
        self.issued: list[Certificate] = []
        self.revoked: set[int] = set()
        # serial -> (revocation time, CRLReason)
        self.revocations: dict[int, tuple[datetime.datetime, int]] = \
            records.revoked_map if isinstance(records, MemoryStore) else {}
        self.confirmed: list[int] = []  # certReqIds confirmed by clients
        # (status, error_code, details) of the error messages clients sent
        self.errors_received: list[tuple[StatusInfo | None, int | None, list[str]]] = []
        self._lock = threading.RLock()
        self._accepted = StatusInfo(PKIStatus.ACCEPTED)
        self._chain = [self.ca_cert]
        self._roots = [self.ca_cert]  # every root this CA had, oldest first
        self._updates: list[tuple[Certificate, itavs.RootCaKeyUpdate]] = []
        self.store: RecordStore = records
        """Where the records that decide requests are kept (issued certificates by serial,
        certified keys, revocations, confirmations, the CRL): shared by worker processes
        when it is a database (docs/mockca.md)."""
        if not records.claim_root(self.ca_cert.to_der()):
            if records is not store:  # opened here: no connection left behind
                records.close()
            raise ValueError("the store holds the records of another CA: give this CA's "
                             "key and certificate, or a new store")
        self.store.add_key(self._key_id(self.ca_key.public_key()))
        self._crl_cache: tuple[int, CRL] | None = None
        self.store.publish_crl(self._crl_signer(), only_if_none=True)
        with self._lock:
            self.revocations.update(self.store.revocations())  # of earlier runs
            self.revoked.update(self.revocations)
        # transaction ID -> [polls left, request]
        self._waiting: dict[bytes | None, list[Any]] = {}
        self._released: set[bytes | None] = set()  # transactions whose polling is over
        # transaction ID -> the certificate its certConf must confirm (by certHash)
        self._awaiting_conf: collections.OrderedDict[bytes | None, Certificate] = \
            collections.OrderedDict()

        self.ctx.reference_value = reference
        if secret is not None:
            self.ctx.secret_value = secret
        if protect_with_cert:
            self.ctx.cert = self.ca_cert
            self.ctx.pkey = self.ca_key
        if central_keygen:
            self._new_kga()
        self.ctx.trusted = TrustStore(self._roots + self.ra_certs)
        if send_unprotected:  # as `openssl cmp -send_unprotected`
            self.ctx.set_option(Option.UNPROTECTED_SEND, 1)
        extra = list(rsp_extracerts)
        if extra:
            self.ctx.extra_certs_out = extra
        self.send_unprotected_errors = send_unprot_err
        self.grant_implicit_confirm = grant_implicit_confirm

    # -- clients --------------------------------------------------------------------------
    def client(self, **attributes: Any) -> Context:
        """A Context attached in-process (C fast path) with matching credentials: PBM
        reference/secret, and trust in ``ca_cert``.  Keyword arguments set Context
        attributes; ``new_pkey=`` calls ``set_new_pkey``."""
        ctx = Context()
        try:
            if self.secret is not None:
                ctx.reference_value = b"client-of-" + self.reference
                ctx.secret_value = self.secret
            ctx.trusted = TrustStore([self.ca_cert])
            new_pkey = attributes.pop("new_pkey", None)
            if new_pkey is not None:
                ctx.set_new_pkey(new_pkey)
            for name, value in attributes.items():
                if name.startswith("_") or not hasattr(Context, name):
                    raise TypeError("Context has no attribute %r" % name)
                setattr(ctx, name, value)
            self.attach(ctx)
        except BaseException:
            ctx.close()
            raise
        return ctx

    # -- the CA ---------------------------------------------------------------------------
    @staticmethod
    def _key_id(key: PublicKey) -> bytes:
        return hashlib.sha256(key.to_der()).digest()

    def _crl_signer(self) -> CRLSigner:
        """Signs the store's revocations as the current CA; the CRL it made is cached so
        that this process does not parse it back."""
        ca_cert, ca_key = self.ca_cert, self.ca_key

        def sign(revocations: dict[int, Revocation], number: int,
                 previous_der: bytes | None) -> bytes:
            entries = [(serial, when, reason) for serial, (when, reason)
                       in sorted(revocations.items())]
            # thisUpdate strictly increases: a client compares it to tell whether its CRL
            # is current (RFC 9483 §4.3.4), and two CRLs of the same second look alike
            now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
            if previous_der is not None:
                last = CRL.from_der(previous_der).last_update
                if now <= last:
                    now = last + datetime.timedelta(seconds=1)
            crl = CRL.create(ca_cert, ca_key, entries, number=number, last_update=now)
            self._crl_cache = (number, crl)
            return crl.to_der()

        return sign

    @property
    def crl(self) -> CRL:
        """The current CRL (RFC 5280 §5), re-signed after every revocation change (by
        whichever worker made it, when the store is shared)."""
        current = self.store.crl()
        if current is None:  # a store emptied under us: sign a first CRL again
            self.store.publish_crl(self._crl_signer(), only_if_none=True)
            current = cast("tuple[int, bytes]", self.store.crl())
        cached = self._crl_cache
        if cached is not None and cached[0] == current[0]:
            return cached[1]
        crl = CRL.from_der(current[1])
        self._crl_cache = (current[0], crl)
        return crl

    def update_root_key(self, new_key: PrivateKey | None = None) -> itavs.RootCaKeyUpdate:
        """Replace the CA key and certificate (RFC 4210 §4.4): a new self-signed root
        (newWithNew) under the same name, and the link certificates newWithOld (the new key
        signed by the old) and oldWithNew (the old key signed by the new).  From now on
        certificates and CRLs are issued under the new root; requests signed by
        certificates of the old one are still accepted.  Returns the update, which
        rootCaCert requests naming the old root are answered with."""
        if new_key is not None and not isinstance(new_key, PrivateKey):
            raise TypeError("new_key must be a PrivateKey")
        key = new_key or PrivateKey.generate("EC")
        with self._lock:
            old_key, old_cert = self.ca_key, self.ca_cert
            subject = old_cert.subject  # RFC 4210 §4.4: the name stays
            new_cert = Certificate.create(subject, key, key, ca=True, days=3650)
            new_with_old = Certificate.create(subject, key.public_key(), old_key,
                                              issuer=old_cert, ca=True, days=3650)
            old_with_new = Certificate.create(subject, old_key.public_key(), key,
                                              issuer=new_cert, ca=True, days=3650)
            update = itavs.RootCaKeyUpdate(new_cert, new_with_old, old_with_new)
            self.ca_key, self.ca_cert = key, new_cert
            self._chain = [new_cert]
            self._roots.append(new_cert)
            self._updates.append((old_cert, update))
            self.store.add_key(self._key_id(key.public_key()))
            self.ctx.trusted = TrustStore(self._roots + self.ra_certs)
            if self.protect_with_cert:
                self.ctx.cert = new_cert
                self.ctx.pkey = key
            if self.central_keygen:
                self._new_kga()  # under the new root
            self.store.publish_crl(self._crl_signer())
        return update

    def _new_kga(self) -> None:
        """Issue the key generation authority's certificate (RFC 9483 §4.1.6: the client
        accepts a generated key only when signed by a certificate with id-kp-cmKGA) and
        protect signed responses with it: OpenSSL's server core signs the key with the
        certificate that protects its responses."""
        key = PrivateKey.generate("EC")
        cert = Certificate.create(
            "/CN=openssl_cmp Mock CA KGA", key, self.ca_key, issuer=self.ca_cert,
            days=3650, extensions=Extensions({"extendedKeyUsage": _KGA_EKU,
                                              "keyUsage": "digitalSignature"}))
        self.kga_key, self.kga_cert = key, cert
        self.ctx.cert = cert
        self.ctx.pkey = key

    @staticmethod
    def _central_key(crm: CertRequest) -> PrivateKey:
        """A new key of the type the template's publicKey algorithm names (RFC 9483
        §4.1.6), EC P-256 when it names none."""
        spki = _template_spki(crm)
        if spki is None:
            return PrivateKey.generate("EC")
        alg = _der.children(_der.children(_der.single(spki).value)[0].value)
        oid = _der.oid(alg[0])
        if oid == _EC_OID:
            curve = _CURVES.get(_der.oid(alg[1]) if len(alg) > 1 and alg[1].tag == 6
                                else "", "P-256")
            return PrivateKey.generate("EC", curve=curve)
        kind = _KEY_KINDS.get(oid)
        if kind is None:
            raise RejectRequest("MockCA: cannot generate a key of algorithm %s" % oid,
                                fail_info=FailInfo.BAD_ALG)
        return PrivateKey.generate(kind)

    # -- faults ---------------------------------------------------------------------------
    def _forced_status(self) -> StatusInfo | None:
        if self.pkistatus is None:
            return None
        return StatusInfo(self.pkistatus, self.fail_info, self.status_string)

    def _check_error(self) -> None:
        if self.send_error:
            raise RejectRequest(self.status_string or "MockCA: send_error is set")

    # -- authorization (RFC 9483 §3.5, §4.1.3, §4.2) ----------------------------------------
    @staticmethod
    def _signer(request: Message) -> Certificate | None:
        """The certificate that signed ``request`` as the server core validated it (None
        if it is MAC-protected): ``Server`` tells it on every OpenSSL version."""
        return request.validated_signer

    def _is_ra(self, cert: Certificate) -> bool:
        return self.is_ra(cert)  # Server.ra_certs

    def _signer_refusal(self, signer: Certificate | None) -> StatusInfo | None:
        """signerNotTrusted when the signer's certificate is one this CA revoked: RFC 9483
        §3.5 names that bit for protection by a certificate that cannot be trusted;
        certRevoked is kept for "the certificate to revoke is already revoked"."""
        if signer is None or self._is_ra(signer):
            return None
        ours = self.store.issued(signer.serial_number)
        revoked = self.store.revocation(signer.serial_number) is not None
        if ours is not None and ours == signer.to_der() and revoked:
            return _reject(FailInfo.SIGNER_NOT_TRUSTED,
                           "the request is signed with a revoked certificate")
        return None

    # -- handlers -------------------------------------------------------------------------
    def handle_cert_request(self, request: Message, cert_req_id: int,
                            crm: CertRequest | None, csr: CSR | None) -> CertResponse:
        """Issue a certificate for the request (after the configured faults)."""
        self._check_error()
        tid = request.transaction_id
        if self.poll_count:
            with self._lock:
                if tid in self._released:
                    self._released.discard(tid)
                else:
                    self._waiting[tid] = [self.poll_count, request.copy()]
                    return CertResponse.waiting()
        forced = self._forced_status()
        if forced is not None and forced.status not in (PKIStatus.ACCEPTED,
                                                        PKIStatus.GRANTED_WITH_MODS):
            return CertResponse(forced)
        signer = self._signer(request)
        refusal = self._signer_refusal(signer)
        if refusal is not None:
            return CertResponse(refusal)
        subject: Name | None
        public_key: PublicKey | None
        extensions: Extensions | None
        central_key: PrivateKey | None = None
        if csr is not None:
            subject, public_key, extensions = csr.subject, csr.public_key(), csr.extensions()
            if not len(extensions):
                extensions = None
        else:
            req = cast(CertRequest, crm)  # the server core passes one of the two
            try:  # a usable key means no central key generation: the common case first
                public_key = req.public_key()
            except (Error, ValueError):  # an empty key: perhaps the wanted type (§4.1.6)
                public_key = None
            if public_key is None and req.central_keygen_requested:  # RFC 9483 §4.1.6
                if not self.central_keygen:  # (before 3.5 the core refused it: badPOP)
                    return CertResponse.rejected(
                        FailInfo.BAD_POP, "MockCA: central key generation is not enabled")
                central_key = self._central_key(req)
                public_key = central_key.public_key()
            subject, extensions = req.subject, req.extensions()
        body = request.body_type
        if body == BodyType.KUR:
            old = self._old_certificate(crm, signer)
            if isinstance(old, StatusInfo):
                return CertResponse(old)
            if subject is None or not len(subject):
                subject = old.subject
        if public_key is None:
            return CertResponse.rejected(FailInfo.BAD_CERT_TEMPLATE,
                                         "MockCA: the request has no public key")
        if subject is None:
            return CertResponse.rejected(FailInfo.BAD_CERT_TEMPLATE,
                                         "MockCA: the request has no subject")
        profile = self._profile(request)
        if isinstance(profile, StatusInfo):
            return CertResponse(profile)
        ca_ext = _ca_extension(extensions)
        if ca_ext is not None and not profile.ca:
            return CertResponse.rejected(
                FailInfo.BAD_CERT_TEMPLATE,
                "MockCA: %s is not allowed for an end entity (use a CA profile)" % ca_ext)
        key_id = self._key_id(public_key)
        if self.rsp_cert is not None:
            cert = self.rsp_cert
        else:
            reused = self.store.has_key(key_id)
            if reused and not self.allow_key_reuse:
                return CertResponse.rejected(FailInfo.BAD_CERT_TEMPLATE,
                                             "MockCA: this public key is already certified")
            with self._lock:
                ca_key, ca_cert = self.ca_key, self.ca_cert
            cert = Certificate.create(subject, public_key, ca_key, issuer=ca_cert,
                                      days=profile.validity_days or self.validity_days,
                                      extensions=extensions, ca=profile.ca)
        self._record(cert, key_id)
        with self._lock:
            self._awaiting_conf[tid] = cert
            while len(self._awaiting_conf) > _AWAITING_CONF_MAX:  # abandoned transactions
                self._awaiting_conf.popitem(last=False)
        status = forced or self._accepted
        chain = self._chain
        ca_pubs: list[Certificate] | tuple[()] = ()
        if body == BodyType.IR:
            ca_pubs = self.rsp_capubs if self.rsp_capubs is not None else chain
        return CertResponse(status, cert, chain=chain, ca_pubs=ca_pubs,
                            private_key=central_key)

    def _record(self, cert: Certificate, key_id: bytes) -> None:
        with self._lock:
            self.issued.append(cert)
            if self.max_records is not None and len(self.issued) > self.max_records:
                del self.issued[0]
        self.store.add_issued(cert.serial_number, cert.to_der(), key_id)
        if self.on_issue is not None:
            self.on_issue(cert)

    def _profile(self, request: Message) -> Profile | StatusInfo:
        """The profile a request's certProfile selects (RFC 9483 §4.1.1)."""
        names = [itavs.get_cert_profile(i) for i in request.general_info or ()
                 if i.type == itavs.CERT_PROFILE]
        if not names or names[0] is None:
            return _END_ENTITY
        profile = self.profiles.get(names[0])
        if profile is None:
            return _reject(FailInfo.BAD_CERT_TEMPLATE,
                           "unknown certificate profile %r" % names[0])
        return profile

    def _find_issued(self, serial: int, issuer: Name | None = None) -> Certificate | None:
        with self._lock:
            if issuer is not None and issuer != self.ca_cert.subject:
                return None
        der = self.store.issued(serial)
        return None if der is None else Certificate.from_der(der)

    def _old_certificate(self, crm: CertRequest | None,
                         signer: Certificate | None) -> Certificate | StatusInfo:
        """The certificate a KUR updates (RFC 9483 §4.1.3): oldCertID, else the signer;
        the request must be signed by it or by an RA."""
        if signer is None:
            return _reject(FailInfo.NOT_AUTHORIZED,
                           "a key update request must be signature-protected")
        old_id = crm.old_cert_id if crm is not None else None
        if old_id is None:
            issuer, serial = signer.issuer, signer.serial_number
        else:
            issuer, serial = old_id
        old = self._find_issued(serial, issuer)
        if old is None:
            return _reject(FailInfo.BAD_CERT_ID, "unknown certificate to update")
        if self.store.revocation(serial) is not None:
            return _reject(FailInfo.CERT_REVOKED, "the certificate to update is revoked")
        if old != signer and not self._is_ra(signer):
            return _reject(FailInfo.NOT_AUTHORIZED,
                           "the key update request is not signed by the certificate to "
                           "update")
        return old

    def handle_poll_req(self, request: Message,
                        cert_req_id: int) -> tuple[Message | None, int]:
        """Count down ``poll_count``; the last poll releases the saved request."""
        tid = request.transaction_id
        with self._lock:
            entry = self._waiting.get(tid)
            if entry is None:
                raise RejectRequest("MockCA: no pending request to poll for")
            entry[0] -= 1
            if entry[0] > 0:
                return None, self.check_after
            del self._waiting[tid]
            self._released.add(tid)
        return entry[1], 0  # the core hands the saved request to handle_cert_request

    def handle_cert_conf(self, request: Message, cert_req_id: int, cert_hash: bytes,
                         status: StatusInfo | None) -> bool:
        """Check the certHash against the certificate issued in this transaction (RFC 9483
        §4.1.1; badCertId when it differs, as OpenSSL's mock server refuses it) and record
        the confirmation in ``confirmed``."""
        self._check_error()
        with self._lock:
            issued = self._awaiting_conf.pop(request.transaction_id, None)
        if issued is not None and cert_hash != _cert_hash(issued):
            raise RejectRequest("MockCA: certHash does not match the certificate issued",
                                fail_info=FailInfo.BAD_CERT_ID)
        self.store.add_confirmation(request.transaction_id, cert_req_id)
        with self._lock:
            self.confirmed.append(cert_req_id)
            if self.max_records is not None and len(self.confirmed) > self.max_records:
                del self.confirmed[0]
        return True

    def handle_rr(self, request: Message, issuer: Name | None,
                  serial: int | None) -> StatusInfo:
        """Revoke (or, for removeFromCRL, revive) a certificate this CA issued, for its
        holder or an RA only (RFC 9483 §4.2)."""
        self._check_error()
        forced = self._forced_status()
        if forced is not None:
            return forced
        if serial is None or issuer is None:
            return _reject(FailInfo.BAD_CERT_TEMPLATE,
                           "revocation request without issuer or serial number")
        details = request.rev_details or []
        reasons = details[0].reasons if len(details) == 1 else []
        if len(details) != 1:
            return _reject(FailInfo.BAD_REQUEST, "a revocation request names one certificate")
        if len(reasons) > 1:
            return _reject(FailInfo.BAD_REQUEST, "several reasonCode extensions")
        reason = int(reasons[0]) if reasons else 0  # absent: unspecified (RFC 5280)
        if reason not in _CRL_REASONS:
            return _reject(FailInfo.BAD_REQUEST, "unknown CRLReason %d" % reason)
        signer = self._signer(request)
        if signer is None:
            return _reject(FailInfo.NOT_AUTHORIZED,
                           "a revocation request must be signature-protected")
        cert = self._find_issued(serial, issuer)
        if cert is None:
            return _reject(FailInfo.BAD_CERT_ID, "unknown certificate")
        if not self._is_ra(signer):
            refusal = self._signer_refusal(signer)
            if refusal is not None:
                return refusal
            if signer != cert:
                return _reject(FailInfo.NOT_AUTHORIZED,
                               "only the holder of the certificate or an RA may revoke it")
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        refused: list[StatusInfo] = []

        def decide(held: Revocation | None) -> tuple[bool, Revocation | None]:
            # runs inside the store's transaction: no other worker changes it meanwhile
            if reason == _REMOVE_FROM_CRL:
                if held is None or held[1] != _CERTIFICATE_HOLD:
                    refused.append(_reject(FailInfo.BAD_REQUEST,
                                           "removeFromCRL for a certificate not on hold"))
                    return False, held
                return True, None
            if held is not None and held[1] != _CERTIFICATE_HOLD:
                refused.append(_reject(FailInfo.CERT_REVOKED, "already revoked"))
            elif held is not None and reason == _CERTIFICATE_HOLD:
                refused.append(_reject(FailInfo.CERT_REVOKED, "already on hold"))
            else:  # new, or a hold made final (RFC 5280 §5.3.1)
                return True, (now, reason)
            return False, held

        with self._lock:
            self.store.revise(serial, decide, self._crl_signer())
            if refused:
                return refused[0]
            if reason == _REMOVE_FROM_CRL:  # this process's view (docs/mockca.md)
                self.revocations.pop(serial, None)
                self.revoked.discard(serial)
            else:
                self.revocations[serial] = (now, reason)
                self.revoked.add(serial)
        return StatusInfo(PKIStatus.ACCEPTED)

    # -- support messages (RFC 9483 §4.3) ---------------------------------------------------
    def handle_genm(self, request: Message, itavs: list[ITAV]) -> list[ITAV]:  # noqa: F811
        """One answer per known info type; unknown ones get none (RFC 9483 §4.3)."""
        self._check_error()
        answer: list[ITAV] = []
        for itav in itavs:  # (the parameter hides the module here only)
            reply = self._support(itav)
            if reply is not None:
                answer.append(reply)
        return answer

    def _support(self, itav: ITAV) -> ITAV | None:
        kind = itav.type
        if kind == itavs.CA_CERTS:
            with self._lock:
                chain = list(self._chain)
            return itavs.new_ca_certs(chain)
        if kind == itavs.ROOT_CA_CERT:
            return itavs.new_root_ca_key_update(self._root_update(itavs.get_root_ca_cert(itav)))
        if kind == itavs.CERT_REQ_TEMPLATE:
            return itavs.new_cert_req_template(self.cert_req_template)
        if kind == itavs.CRL_STATUS_LIST:
            return itavs.new_crls(self._crl_update(itavs.get_crl_status_list(itav)))
        if kind == itavs.CURRENT_CRL:
            return itavs.new_current_crl(self.rsp_crl or self.crl)
        if kind == itavs.CERT_PROFILE and self.profiles:
            return itavs.new_cert_profile(sorted(self.profiles))
        simple: dict[str, Callable[[], ITAV]] = {
            itavs.SIGN_KEY_PAIR_TYPES:
                lambda: itavs.new_sign_key_pair_types(self.sign_key_pair_types),
            itavs.ENC_KEY_PAIR_TYPES:
                lambda: itavs.new_enc_key_pair_types(self.enc_key_pair_types),
            itavs.PREFERRED_SYMM_ALG:
                lambda: itavs.new_preferred_symm_alg(self.preferred_symm_alg),
            itavs.SUPP_LANG_TAGS: lambda: itavs.new_supp_lang_tags(self.supp_lang_tags),
        }
        build = simple.get(kind)
        return None if build is None else build()

    def _root_update(self, old_root: Certificate | None) -> itavs.RootCaKeyUpdate | None:
        """The update for a requester trusting ``old_root`` (RFC 9483 §4.3.2): the step
        that replaced it; None ("absent") when it is current, unknown, or no update
        happened; with no root given, the latest update."""
        if self.rsp_newwithnew is not None:  # the fixed answer of `-rsp_newwithnew …`
            return itavs.RootCaKeyUpdate(self.rsp_newwithnew, self.rsp_newwithold,
                                         self.rsp_oldwithnew)
        with self._lock:
            updates = list(self._updates)
        if old_root is None:
            return updates[-1][1] if updates else None
        for old, update in updates:
            if old == old_root:
                return update
        return None

    def _crl_update(self, statuses: list[itavs.CRLStatus]) -> list[CRL]:
        """Our CRL for each status naming this CA as CRL issuer whose thisUpdate is older
        than it (RFC 9483 §4.3.4); no CRL (crls absent) when the requester is current.
        MockCA publishes no distribution points, so those never match."""
        crl = self.rsp_crl or self.crl
        ours = GeneralName.directory(crl.issuer)
        for status in statuses:
            if not any(n == ours for n in status.issuer or ()):
                continue
            if status.this_update is None or status.this_update < crl.last_update:
                return [crl]
        return []

    def handle_error(self, request: Message, status: StatusInfo | None,
                     error_code: int | None, details: list[str]) -> None:
        """Record the error message in ``errors_received``."""
        with self._lock:
            self.errors_received.append((status, error_code, details))
            if self.max_records is not None and len(self.errors_received) > self.max_records:
                del self.errors_received[0]

    def is_revoked(self, cert: Certificate) -> bool:
        """Whether this CA revoked ``cert`` (certificateHold included), in any worker
        sharing the store."""
        return self.store.revocation(cert.serial_number) is not None

    def __repr__(self) -> str:
        subject = quiet_read(lambda: str(self.ca_cert.subject))  # the queue is left as it was
        return "<MockCA %s issued=%d revoked=%d>" % (subject or "?", len(self.issued),
                                                   len(self.revocations))
