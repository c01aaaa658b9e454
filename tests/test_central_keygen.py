"""Central key generation on the client (RFC 9483 §4.1.6): ``ctx.central_key_generation``.

OpenSSL 3.5 asks for it with POPO method NONE and decrypts the key the CA returns; older
releases cannot, and the setter says so before anything is sent.  The peer is OpenSSL's own
mock server (``openssl cmp -port … -rsp_key``), which needs signature protection and a
server certificate with extended key usage id-kp-cmKGA.
"""

import pytest

from openssl_cmp import Context, Option, PrivateKey, TrustStore, UnsupportedError, binding
from openssl_cmp.objects import Certificate

from helpers import MockServer, run_openssl

HAS_CKG = binding.has("OSSL_CRMF_MSG_centralkeygen_requested")
ID_KP_CMKGA = "1.3.6.1.5.5.7.3.32"


def test_off_by_default():
    with Context() as ctx:
        assert ctx.central_key_generation is False
        assert ctx.get_option(Option.POPO_METHOD) == 1  # signature, OpenSSL's default


def test_type_checked_before_anything():
    with Context() as ctx:
        with pytest.raises(TypeError):
            ctx.central_key_generation = 1


@pytest.mark.skipif(HAS_CKG, reason="OpenSSL >= 3.5 has central key generation")
def test_unsupported_before_3_5_raises_at_once():
    with Context() as ctx:
        with pytest.raises(UnsupportedError, match=r"central key generation needs OpenSSL 3\.5"):
            ctx.central_key_generation = True
        assert ctx.central_key_generation is False
        assert ctx.get_option(Option.POPO_METHOD) == 1  # nothing half-applied
        ctx.central_key_generation = False  # switching off is always fine


@pytest.mark.skipif(not HAS_CKG, reason="OpenSSL < 3.5")
def test_switch_sets_popo_none_and_back():
    with Context() as ctx:
        ctx.central_key_generation = True
        assert ctx.get_option(Option.POPO_METHOD) == -1
        assert ctx.central_key_generation is True
        ctx.central_key_generation = False
        assert ctx.get_option(Option.POPO_METHOD) == 1


@pytest.fixture
def kga_pki(tmp_path):
    """A CA, a CMP server certificate with EKU cmKGA, a client and a key to hand out."""
    d = str(tmp_path)
    run_openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-subj", "/CN=KGA Test CA",
                "-days", "30", "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature", cwd=d)
    (tmp_path / "kga.ext").write_text("extendedKeyUsage=%s\n" % ID_KP_CMKGA)
    for name in ("srv", "ee", "rsp"):
        run_openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-out", name + ".key", cwd=d)
        run_openssl("req", "-new", "-key", name + ".key", "-subj", "/CN=" + name,
                    "-out", name + ".csr", cwd=d)
        extra = ["-extfile", "kga.ext"] if name == "srv" else []
        run_openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                    "-CAcreateserial", "-days", "30", "-out", name + ".crt", *extra, cwd=d)
    return tmp_path


@pytest.mark.skipif(not HAS_CKG, reason="OpenSSL < 3.5")
def test_centrally_generated_key_against_openssl_mock_server(kga_pki):
    server = MockServer(("-srv_cert", "srv.crt", "-srv_key", "srv.key", "-srv_trusted",
                         "ca.crt", "-rsp_cert", "rsp.crt", "-rsp_key", "rsp.key",
                         "-rsp_capubs", "ca.crt"), cwd=kga_pki)
    try:
        _enroll_centrally(kga_pki, server)
    finally:
        server.stop()


def _enroll_centrally(kga_pki, server):
    expected = PrivateKey.from_pem((kga_pki / "rsp.key").read_bytes())
    with Context() as ctx:
        ctx.set_url("http://%s/pkix/" % server.url)
        ctx.cert = Certificate.from_file(kga_pki / "ee.crt")
        ctx.pkey = PrivateKey.from_pem((kga_pki / "ee.key").read_bytes())
        ctx.trusted = TrustStore([Certificate.from_file(kga_pki / "ca.crt")])
        ctx.subject_name = "/CN=ckg"
        ctx.set_option(Option.TOTAL_TIMEOUT, 30)
        ctx.central_key_generation = True
        cert = ctx.exec_ir()
        key = ctx.get_new_pkey(private=True)
        assert isinstance(key, PrivateKey)
        # the key came back decrypted, and it is the one the certificate certifies
        assert key.public_key() == cert.public_key() == expected.public_key()
