"""``request.validated_signer`` on every OpenSSL version (RFC 9483 §3.1, §3.5): the
certificate the server core validated a signed request with.  OpenSSL 3.2+ tells it
(``OSSL_CMP_CTX_get0_validatedSrvCert``); on 3.0/3.1 the Server replays the core's search
(openssl_cmp/_signer.py).  Handlers must see the same value everywhere, and never a
certificate whose key did not sign the request."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from openssl_cmp import (CMPError, Certificate, Context, LogLevel, Message, PrivateKey,
                         TrustStore, _der)
from openssl_cmp.server import CertResponse, Server

CA_KEY = PrivateKey.generate()
CA = Certificate.create("/CN=Signer test CA", CA_KEY, CA_KEY, ca=True)


class Recorder(Server):
    """Issues from CA to anyone; records what each handler saw as the signer."""

    def __init__(self):
        super().__init__()
        key = PrivateKey.generate()
        self.ctx.cert = Certificate.create("/CN=signer test server", key, CA_KEY, issuer=CA)
        self.ctx.pkey = key
        self.ctx.trusted = TrustStore([CA])
        self.ctx.log_verbosity = LogLevel.EMERG
        self.requests = []
        self.confirms = []

    def handle_cert_request(self, request, cert_req_id, crm, csr):
        self.requests.append(request.validated_signer)
        return CertResponse.accepted(
            Certificate.create(crm.subject, crm.public_key(), CA_KEY, issuer=CA))

    def handle_cert_conf(self, request, cert_req_id, cert_hash, status):
        self.confirms.append(request.validated_signer)
        return True


def holder(subject="/CN=holder", key=None):
    key = key or PrivateKey.generate()
    return key, Certificate.create(subject, key, CA_KEY, issuer=CA)


def signed_client(key, cert, edit=None, server=None):
    ctx = Context()
    ctx.log_verbosity = LogLevel.EMERG
    ctx.cert, ctx.pkey = cert, key
    ctx.trusted = TrustStore([CA])
    ctx.subject_name = "/CN=new"
    ctx.set_new_pkey(PrivateKey.generate())
    if server is not None:
        def transfer(c, request):
            return server.process(edit(request) if edit is not None else request)
        ctx.transfer_callback = transfer
    return ctx


def top_level(message):
    """header, body, [0] protection, [1] extraCerts (each a TLV, absent ones left out)."""
    return _der.children(_der.single(message.to_der()).value)


def with_extra_certs(message, certs):
    """``message`` with its extraCerts replaced (they are outside the protection)."""
    parts = [t.raw for t in top_level(message) if t.tag != 0xA1]
    extra = _der.encode(0xA1, _der.sequence(*(c.to_der() for c in certs)))
    return Message.from_der(_der.sequence(*parts, extra))


def test_holder_signed_request_has_holder_as_validated_signer():
    """RFC 9483 §3.1: the request and its certConf are signed by the holder; handlers see
    its certificate (through the process() path)."""
    server = Recorder()
    key, cert = holder()
    with signed_client(key, cert, server=server) as ctx:
        assert ctx.exec_ir()
    assert server.requests == [cert]
    assert server.confirms == [cert]


def test_attached_client_validated_signer():
    """The C fast path (attach) runs the same trampolines."""
    server = Recorder()
    key, cert = holder()
    with signed_client(key, cert) as ctx:
        server.attach(ctx)
        assert ctx.exec_cr()
    assert server.requests == [cert]


def test_mac_protected_request_has_no_signer():
    server = Recorder()
    server.ctx.reference_value, server.ctx.secret_value = b"srv", b"pw"
    with Context() as ctx:
        ctx.log_verbosity = LogLevel.EMERG
        ctx.reference_value, ctx.secret_value = b"cli", b"pw"
        ctx.subject_name = "/CN=mac"
        ctx.set_new_pkey(PrivateKey.generate())
        ctx.transfer_callback = lambda c, r: server.process(r)
        assert ctx.exec_ir()
    assert server.requests == [None]


def test_forged_certificate_in_front_of_extra_certs_is_not_the_signer():
    """extraCerts are not protected: a certificate with the holder's name, key identifier
    and public key, but not issued by the trusted CA, put first by someone on the path,
    must not become the validated signer (RFC 9483 §3.5 signerNotTrusted otherwise)."""
    server = Recorder()
    key, cert = holder()
    mallory = PrivateKey.generate()
    forged = Certificate.create("/CN=holder", key.public_key(), mallory)
    assert forged.extensions().text(forged.extensions().names().index(
        "subjectKeyIdentifier")) == cert.extensions().text(
        cert.extensions().names().index("subjectKeyIdentifier"))

    def edit(request):
        return with_extra_certs(request, [forged] + (request.extra_certs or []))

    with signed_client(key, cert, edit=edit, server=server) as ctx:
        assert ctx.exec_ir()
    assert server.requests == [cert]


def test_attacker_own_certificate_with_victim_name_is_the_signer():
    """An attacker certified under the victim's name (without senderKID pointing at the
    victim) signs with its own key and sends the victim's certificate first: the signer is
    the attacker's certificate, never the victim's."""
    server = Recorder()
    _, victim = holder("/CN=victim")
    akey, attacker = holder("/CN=victim")

    def edit(request):
        return with_extra_certs(request, [victim, attacker])

    with signed_client(akey, attacker, edit=edit, server=server) as ctx:
        assert ctx.exec_ir()
    assert server.requests == [attacker]
    assert server.requests[0] != victim


def _resign(message, key, header_fields):
    """``message`` with its header made of ``header_fields`` and its protection a new
    ECDSA-SHA256 signature by ``key`` over DER(SEQUENCE{header, body}) (RFC 4210
    §5.1.3.3)."""
    top = top_level(message)
    header = _der.sequence(*header_fields)
    protected_part = _der.sequence(header, top[1].raw)
    signature = key.to_cryptography().sign(protected_part, ec.ECDSA(hashes.SHA256()))
    protection = _der.encode(0xA0, _der.encode(0x03, b"\x00" + signature))
    rest = [t.raw for t in top[3:]]
    return Message.from_der(_der.sequence(header, top[1].raw, protection, *rest))


def test_attacker_claiming_victim_identity_is_refused():
    """The attacker signs with its own key, but names the victim as sender, with the
    victim's senderKID and certificate: the core refuses it (no acceptable certificate
    verifies the signature), so no handler ever sees the victim as signer."""
    server = Recorder()
    _, victim = holder("/CN=victim")
    akey, attacker = holder("/CN=attacker")
    victim_skid = bytes.fromhex(victim.extensions().text(
        victim.extensions().names().index("subjectKeyIdentifier")).replace(":", ""))

    def edit(request):
        fields = _der.children(top_level(request)[0].value)
        out = [fields[0].raw, _der.encode(0xA4, victim.subject.to_der()), fields[2].raw]
        for f in fields[3:]:
            if f.context_number == 2:  # senderKID
                out.append(_der.encode(0xA2, _der.encode(0x04, victim_skid)))
            else:
                out.append(f.raw)
        return with_extra_certs(_resign(request, akey, out), [victim])

    with signed_client(akey, attacker, edit=edit, server=server) as ctx, \
            pytest.raises(CMPError):
        ctx.exec_ir()
    assert server.requests == []


def test_resigned_request_machinery_is_accepted_when_honest():
    """The re-signing helper above produces requests the core accepts when the header is
    left as it is: the refusal above is the forgery's, not the helper's."""
    server = Recorder()
    akey, attacker = holder("/CN=attacker")

    def edit(request):
        fields = [f.raw for f in _der.children(top_level(request)[0].value)]
        return _resign(request, akey, fields)

    with signed_client(akey, attacker, edit=edit, server=server) as ctx:
        assert ctx.exec_ir()
    assert server.requests == [attacker]
