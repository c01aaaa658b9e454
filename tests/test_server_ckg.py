"""Central key generation (RFC 9483 §4.1.6): the handler returns the key in
``CertResponse(private_key=...)``, OpenSSL 3.5's server core encrypts it for the client.

Tests marked ``needs_35`` only run where ``OSSL_CRMF_MSG_centralkeygen_requested`` exists
(OpenSSL 3.5+); the others check the refusals before 3.5 and the API everywhere."""

from __future__ import annotations

import subprocess

import pytest

from openssl_cmp import (CMPError, Certificate, Context, FailInfo, LogLevel, Option,
                         PKIStatus, PrivateKey, StatusInfo, TrustStore, UnsupportedError)
from openssl_cmp.binding import has
from openssl_cmp.server import CertResponse, Server
from openssl_cmp.testing import MockCA

from helpers import process_client, OPENSSL

HAS_CKG = has("OSSL_CRMF_MSG_centralkeygen_requested")
needs_35 = pytest.mark.skipif(not HAS_CKG, reason="central key generation needs OpenSSL 3.5")
before_35 = pytest.mark.skipif(HAS_CKG, reason="checks the refusal before OpenSSL 3.5")
KGA_EKU = "1.3.6.1.5.5.7.3.32"

CA_KEY = PrivateKey.generate()
CA = Certificate.create("/CN=CKG CA", CA_KEY, CA_KEY, ca=True)


def test_cert_response_private_key_validation():
    key = PrivateKey.generate()
    cert = Certificate.create("/CN=k", key, CA_KEY, issuer=CA)
    assert CertResponse.accepted(cert, private_key=key).private_key is key
    assert CertResponse.accepted(cert).private_key is None
    with pytest.raises(TypeError):
        CertResponse.accepted(cert, private_key=key.public_key())
    with pytest.raises(ValueError):
        CertResponse(StatusInfo(PKIStatus.REJECTION), private_key=key)


class KeyGiver(Server):
    """Returns a key of its own making with every certificate."""

    def __init__(self):
        super().__init__()
        self.ctx.reference_value, self.ctx.secret_value = b"srv", b"pw"
        self.ctx.log_verbosity = LogLevel.EMERG
        self.requested = []

    def handle_cert_request(self, request, cert_req_id, crm, csr):
        self.requested.append(crm.central_keygen_requested)
        key = PrivateKey.generate()
        cert = Certificate.create(crm.subject, key, CA_KEY, issuer=CA)
        return CertResponse.accepted(cert, private_key=key)

    def handle_cert_conf(self, request, cert_req_id, cert_hash, status):
        return True


def pbm_client(server):
    return process_client(server, "/CN=ckg")


@before_35
def test_returning_a_key_before_35_is_unsupported_naming_35():
    server = KeyGiver()
    with pbm_client(server) as ctx, pytest.raises(UnsupportedError, match="3.5"):
        ctx.exec_ir()  # process() re-raises the handler's failure inside the transfer
    assert server.requested == [False]


@before_35
def test_mockca_central_keygen_needs_35():
    with pytest.raises(UnsupportedError, match="3.5"):
        MockCA(central_keygen=True)


@before_35
def test_request_without_popo_is_bad_pop_before_35():
    """RFC 9483 §4.1.6: a CA that cannot generate keys refuses; OpenSSL 3.0's core does
    (missing POPO) before any handler."""
    mock = MockCA()
    with mock.client(subject_name="/CN=x", new_pkey=PrivateKey.generate()) as ctx:
        ctx.set_option(Option.POPO_METHOD, -1)
        with pytest.raises(CMPError):
            ctx.exec_ir()
        assert ctx.status == PKIStatus.REJECTION
        assert ctx.fail_info & FailInfo.BAD_POP
    assert mock.issued == []


@needs_35
def test_key_for_a_request_not_asking_is_refused():
    server = KeyGiver()
    with pbm_client(server) as ctx, pytest.raises(ValueError, match="central key"):
        ctx.exec_ir()


def signed_holder(mock):
    """A certificate of ``mock`` and its key, for signature-protected requests."""
    key = PrivateKey.generate()
    with mock.client(subject_name="/CN=holder", new_pkey=key) as ctx:
        return key, ctx.exec_ir()


def signed_ckg_client(mock, key, cert):
    ctx = Context()
    ctx.log_verbosity = LogLevel.EMERG
    ctx.cert, ctx.pkey = cert, key
    ctx.trusted = TrustStore([mock.ca_cert])
    ctx.subject_name = "/CN=generated"
    ctx.central_key_generation = True
    mock.attach(ctx)
    return ctx


@needs_35
def test_mockca_generates_the_key_and_client_decrypts_it():
    """RFC 9483 §4.1.6: the CA generates an EC P-256 key, the client gets it decrypted."""
    mock = MockCA(central_keygen=True)
    exts = mock.kga_cert.extensions()
    eku = exts.text(exts.names().index("extendedKeyUsage"))
    assert KGA_EKU in eku or "Key Generation Authority" in eku  # OID or its name
    assert mock.kga_cert.is_issued_by(mock.ca_cert)
    key, cert = signed_holder(mock)
    with signed_ckg_client(mock, key, cert) as ctx:
        new_cert = ctx.exec_ir()
        new_key = ctx.get_new_pkey(private=True)
    assert new_key is not None and new_key.public_key() == new_cert.public_key()
    assert new_key.key_type == "EC"
    assert new_cert.is_issued_by(mock.ca_cert)


@needs_35
def test_mockca_generates_the_requested_key_type():
    """The template's publicKey algorithm (with an empty key) names the key type."""
    mock = MockCA(central_keygen=True)
    key, cert = signed_holder(mock)
    with signed_ckg_client(mock, key, cert) as ctx:
        ctx.set_new_pkey(PrivateKey.generate("RSA").public_key())  # the wanted type
        new_cert = ctx.exec_ir()
        new_key = ctx.get_new_pkey(private=True)
    assert new_key.key_type == "RSA"
    assert new_key.public_key() == new_cert.public_key()


@needs_35
def test_mockca_without_central_keygen_refuses_with_bad_pop():
    mock = MockCA(protect_with_cert=True)
    key, cert = signed_holder(mock)
    with signed_ckg_client(mock, key, cert) as ctx:
        with pytest.raises(CMPError):
            ctx.exec_ir()
        assert ctx.fail_info & FailInfo.BAD_POP
    assert mock.issued == [cert]


@needs_35
def test_openssl_cli_central_keygen_against_serve_http(tmp_path):
    """``openssl cmp -cmd ir -centralkeygen -newkeyout`` against MockCA over HTTP,
    signature-protected; the response is signed by the KGA certificate (id-kp-cmKGA)."""
    mock = MockCA(central_keygen=True)
    key, cert = signed_holder(mock)
    (tmp_path / "key.pem").write_bytes(key.to_pem())
    (tmp_path / "cert.pem").write_bytes(cert.to_pem())
    (tmp_path / "ca.pem").write_bytes(mock.ca_cert.to_pem())
    with mock.serve_http() as http:
        proc = subprocess.run(
            [OPENSSL, "cmp", "-cmd", "ir", "-server", http.address, "-path", "pkix/",
             "-cert", str(tmp_path / "cert.pem"), "-key", str(tmp_path / "key.pem"),
             "-trusted", str(tmp_path / "ca.pem"), "-subject", "/CN=cli-generated",
             "-centralkeygen", "-newkeyout", str(tmp_path / "new.key"),
             "-certout", str(tmp_path / "new.pem")],
            capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    new_key = PrivateKey.from_pem((tmp_path / "new.key").read_bytes())
    new_cert = Certificate.from_pem((tmp_path / "new.pem").read_bytes())
    assert new_key.public_key() == new_cert.public_key()


@needs_35
def test_central_keygen_works_more_than_once_per_process():
    """RFC 9483 §4.1.6, regression: OpenSSL 3.5 checks the KGA purpose (id-kp-cmKGA) only on
    the first centrally generated key of a process; afterwards it used the purpose table
    index as the purpose id (code signing) and rejected the KGA certificate."""
    for _ in range(2):
        mock = MockCA(central_keygen=True)
        key, cert = signed_holder(mock)
        with signed_ckg_client(mock, key, cert) as ctx:
            new_cert = ctx.exec_ir()
            assert ctx.get_new_pkey(private=True).public_key() == new_cert.public_key()


@needs_35
def test_a_key_signed_without_id_kp_cmkga_is_rejected_every_time():
    """RFC 9483 §4.1.6: the client accepts a generated key only from a KGA certificate, on
    later keys of the process too."""
    for _ in range(2):
        mock = MockCA(central_keygen=True)
        key, cert = signed_holder(mock)
        plain_key = PrivateKey.generate("EC")
        mock.ctx.cert = Certificate.create("/CN=not a KGA", plain_key, mock.ca_key,
                                           issuer=mock.ca_cert)
        mock.ctx.pkey = plain_key
        with signed_ckg_client(mock, key, cert) as ctx:
            with pytest.raises(CMPError, match="unsuitable certificate purpose"):
                ctx.exec_ir()
