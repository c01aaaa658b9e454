"""``MockCA``: a CMP test CA in Python, in-process or over HTTP.

It issues real certificates for what clients request (IR, CR, P10CR, KUR), keeps them,
honours revocation, answers GENM, and injects the faults OpenSSL's mock server knows
(``openssl cmp -port … -poll_count -check_after -pkistatus -failure -statusstring
-send_error -grant_implicitconf``).  A pytest plugin offers the fixtures ``cmp_mock_ca`` and
``cmp_client`` (see :mod:`openssl_cmp.pytest_plugin`).
"""

from __future__ import annotations

import threading
from typing import Any, cast

from openssl_cmp import _der
from openssl_cmp._typing import CData
from openssl_cmp.context import Context
from openssl_cmp.enums import BodyType, FailInfo, PKIStatus
from openssl_cmp.errors import quiet_read
from openssl_cmp.keys import PrivateKey, PublicKey
from openssl_cmp.message import ITAV, CertRequest, Message, StatusInfo
from openssl_cmp.objects import CSR, Certificate, Extensions, Name, TrustStore
from openssl_cmp.server import CertResponse, RejectRequest, Server

__all__ = ["MockCA", "CA_CERTS_OID"]

CA_CERTS_OID = "1.3.6.1.5.5.7.4.17"
"""id-it-caCerts (RFC 9480): the GENM info type MockCA answers with its CA certificate."""
_CERT_REQUESTS = (BodyType.IR, BodyType.CR, BodyType.P10CR, BodyType.KUR)


class MockCA(Server):
    """A CMP server with its own CA that issues real certificates.

    ``MockCA(ca_key=None, ca_cert=None, *, secret=b"mock-secret", reference=b"mock-ca",
    protect_with_cert=False, poll_count=0, check_after=1, pkistatus=None, fail_info=0,
    status_string=None, send_error=False, grant_implicit_confirm=True, validity_days=365)``

    * Protection: PBM with ``reference``/``secret`` (``secret=None`` turns PBM off); with
      ``protect_with_cert`` the CA certificate and key also protect responses, and as in
      OpenSSL a response to a signature-protected request is signed, a response to a
      PBM-protected one is MAC-protected.  Requests signed by certificates this CA issued
      are accepted (its certificate is the server's trust anchor).
    * ``poll_count``: the first answer to a certificate request is "waiting"; the client
      polls ``poll_count`` times, the answers say "check after ``check_after`` s", and the
      last poll brings the certificate.
    * ``pkistatus``/``fail_info``/``status_string``: the status of every certificate and
      revocation response (a rejection carries no certificate).
    * ``send_error``: every request is answered with an error message.
    * ``grant_implicit_confirm``: grant implicit confirmation when a client asks for it.

    ``issued`` lists the certificates issued, ``revoked`` holds revoked serial numbers;
    renewing (KUR) a revoked or unknown certificate is refused.
    """

    def __init__(self, ca_key: PrivateKey | None = None, ca_cert: Certificate | None = None,
                 *, secret: bytes | None = b"mock-secret", reference: bytes = b"mock-ca",
                 protect_with_cert: bool = False, poll_count: int = 0, check_after: int = 1,
                 pkistatus: PKIStatus | None = None, fail_info: int = 0,
                 status_string: str | None = None, send_error: bool = False,
                 grant_implicit_confirm: bool = True, validity_days: int = 365,
                 libctx: CData = None, propq: str | None = None) -> None:
        super().__init__(libctx, propq)
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
        if pkistatus is not None:
            pkistatus = PKIStatus(pkistatus)
            if pkistatus < 0:
                raise ValueError("pkistatus must be a PKIStatus 0..6")
        StatusInfo(pkistatus or 0, fail_info, status_string)  # validates fail_info, text
        self.ca_key: PrivateKey = ca_key or PrivateKey.generate("EC")
        self.ca_cert: Certificate = ca_cert or Certificate.create("/CN=openssl_cmp Mock CA",
                                                     self.ca_key, self.ca_key, ca=True,
                                                     days=3650)
        if self.ca_cert.public_key() != self.ca_key.public_key():
            raise ValueError("ca_cert does not belong to ca_key")
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
        self.issued: list[Certificate] = []
        self.revoked: set[int] = set()
        self.confirmed: list[int] = []  # certReqIds confirmed by clients
        # (status, error_code, details) of the error messages clients sent
        self.errors_received: list[tuple[StatusInfo | None, int | None, list[str]]] = []
        self._lock = threading.Lock()
        self._accepted = StatusInfo(PKIStatus.ACCEPTED)
        self._chain = [self.ca_cert]
        # transaction ID -> [polls left, request]
        self._waiting: dict[bytes | None, list[Any]] = {}
        self._released: set[bytes | None] = set()  # transactions whose polling is over

        self.ctx.reference_value = reference
        if secret is not None:
            self.ctx.secret_value = secret
        if protect_with_cert:
            self.ctx.cert = self.ca_cert
            self.ctx.pkey = self.ca_key
        self.ctx.trusted = TrustStore([self.ca_cert])  # for requests signed by our certs
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

    # -- faults ---------------------------------------------------------------------------
    def _forced_status(self) -> StatusInfo | None:
        if self.pkistatus is None:
            return None
        return StatusInfo(self.pkistatus, self.fail_info, self.status_string)

    def _check_error(self) -> None:
        if self.send_error:
            raise RejectRequest(self.status_string or "MockCA: send_error is set")

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
        subject: Name | None
        public_key: PublicKey | None
        extensions: Extensions | None
        if csr is not None:
            subject, public_key, extensions = csr.subject, csr.public_key(), csr.extensions()
            if not len(extensions):
                extensions = None
        else:
            req = cast(CertRequest, crm)  # the server core passes one of the two
            subject, public_key, extensions = req.subject, req.public_key(), req.extensions()
        body = request.body_type
        if body == BodyType.KUR:
            old = self._old_certificate(crm)
            if isinstance(old, CertResponse):
                return old
            if subject is None or not len(subject):
                subject = old.subject
        if public_key is None:
            return CertResponse.rejected(FailInfo.BAD_CERT_TEMPLATE,
                                         "MockCA: the request has no public key")
        if subject is None:
            return CertResponse.rejected(FailInfo.BAD_CERT_TEMPLATE,
                                         "MockCA: the request has no subject")
        cert = Certificate.create(subject, public_key, self.ca_key, issuer=self.ca_cert,
                                  days=self.validity_days, extensions=extensions)
        with self._lock:
            self.issued.append(cert)
        status = forced or self._accepted
        ca_pubs = self._chain if body == BodyType.IR else ()
        return CertResponse(status, cert, chain=self._chain, ca_pubs=ca_pubs)

    def _find_issued(self, serial: int, issuer: Name | None = None) -> Certificate | None:
        if issuer is not None and issuer != self.ca_cert.subject:
            return None
        with self._lock:
            for cert in self.issued:
                if cert.serial_number == serial:
                    return cert
        return None

    def _old_certificate(self, crm: CertRequest | None) -> Certificate | CertResponse:
        old_id = crm.old_cert_id if crm is not None else None
        if old_id is None:
            return CertResponse.rejected(FailInfo.BAD_CERT_ID,
                                         "MockCA: KUR without oldCertID")
        issuer, serial = old_id
        old = self._find_issued(serial, issuer)
        if old is None:
            return CertResponse.rejected(FailInfo.BAD_CERT_ID,
                                         "MockCA: unknown certificate to update")
        if serial in self.revoked:
            return CertResponse.rejected(FailInfo.CERT_REVOKED,
                                         "MockCA: the certificate to update is revoked")
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
        """Record the confirmation in ``confirmed``; always accepted."""
        self._check_error()
        with self._lock:
            self.confirmed.append(cert_req_id)
        return True

    def handle_rr(self, request: Message, issuer: Name | None,
                  serial: int | None) -> StatusInfo:
        """Revoke a certificate this CA issued (recorded in ``revoked``)."""
        self._check_error()
        forced = self._forced_status()
        if forced is not None:
            return forced
        if serial is None or issuer is None:
            return StatusInfo(PKIStatus.REJECTION, FailInfo.BAD_CERT_TEMPLATE,
                              "MockCA: revocation request without issuer or serial number")
        cert = self._find_issued(serial, issuer)
        if cert is None:
            return StatusInfo(PKIStatus.REJECTION, FailInfo.BAD_CERT_ID,
                              "MockCA: unknown certificate")
        with self._lock:
            if serial in self.revoked:
                return StatusInfo(PKIStatus.REJECTION, FailInfo.CERT_REVOKED,
                                  "MockCA: already revoked")
            self.revoked.add(serial)
        return StatusInfo(PKIStatus.ACCEPTED)

    def handle_genm(self, request: Message, itavs: list[ITAV]) -> list[ITAV]:
        """caCerts is answered with the CA certificate; other ITAVs are echoed."""
        self._check_error()
        answer: list[ITAV] = []
        for itav in itavs:
            if itav.type == CA_CERTS_OID:
                certs = _der.sequence(self.ca_cert.to_der())  # SEQUENCE OF Certificate
                answer.append(ITAV(CA_CERTS_OID, certs))
            else:
                answer.append(itav.copy())  # unknown: echoed, like OpenSSL's mock server
        return answer

    def handle_error(self, request: Message, status: StatusInfo | None,
                     error_code: int | None, details: list[str]) -> None:
        """Record the error message in ``errors_received``."""
        with self._lock:
            self.errors_received.append((status, error_code, details))

    def is_revoked(self, cert: Certificate) -> bool:
        """Whether this CA revoked ``cert``."""
        return cert.serial_number in self.revoked

    def __repr__(self) -> str:
        subject = quiet_read(lambda: str(self.ca_cert.subject))  # the queue is left as it was
        return "<MockCA %s issued=%d revoked=%d>" % (subject or "?", len(self.issued),
                                                   len(self.revoked))
