import pytest

from openssl_cmp import Certificate, PrivateKey
from openssl_cmp.binding import ffi, lib

from helpers import MockServer, make_pki, run_openssl


def _drain():
    errors = []
    while True:
        code = lib.ERR_get_error()
        if code == 0:
            return errors
        buf = ffi.new("char[]", 256)
        lib.ERR_error_string_n(code, buf, 256)
        errors.append(ffi.string(buf).decode())


@pytest.fixture(autouse=True)
def empty_error_queue():
    """Every test starts and ends with OpenSSL's (thread-local) error queue empty."""
    left_before = _drain()
    assert not left_before, "error queue not empty before the test: %s" % left_before
    yield
    left_after = _drain()
    assert not left_after, "test left errors on the OpenSSL error queue: %s" % left_after


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def mock_server(pki):
    """Factory: ``mock_server(*args)`` starts ``openssl cmp -port 0 *args``; stopped after."""
    servers = []

    def start(*args):
        server = MockServer(args, cwd=pki.dir)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


# -- files of the PKI in other encodings, written by the openssl CLI ----------------------

@pytest.fixture(scope="session")
def ders(pki, tmp_path_factory):
    """DER files of the PKI, written by the openssl CLI."""
    d = tmp_path_factory.mktemp("der")
    out = {}
    for name in ("ca", "ee", "srv"):
        path = d / ("%s.der" % name)
        run_openssl("x509", "-in", str(pki.dir / ("%s.crt" % name)), "-outform", "DER",
                    "-out", str(path))
        out[name] = path
    out["csr"] = d / "ee.csr.der"
    run_openssl("req", "-in", str(pki.ee_csr), "-outform", "DER", "-out", str(out["csr"]))
    out["key"] = d / "ee.key.der"  # PKCS#8
    run_openssl("pkcs8", "-topk8", "-nocrypt", "-in", str(pki.ee_key), "-outform", "DER",
                "-out", str(out["key"]))
    out["pub"] = d / "ee.pub.der"
    run_openssl("pkey", "-in", str(pki.ee_key), "-pubout", "-outform", "DER",
                "-out", str(out["pub"]))
    out["pub_pem"] = d / "ee.pub.pem"
    run_openssl("pkey", "-in", str(pki.ee_key), "-pubout", "-out", str(out["pub_pem"]))
    out["enc_key"] = d / "ee.enc.pem"
    run_openssl("pkcs8", "-topk8", "-in", str(pki.ee_key), "-v2", "aes-256-cbc",
                "-passout", "pass:sesame", "-out", str(out["enc_key"]))
    return out


@pytest.fixture(scope="session")
def crl_files(pki, tmp_path_factory):
    """A CRL issued by the PKI's CA (``openssl ca -gencrl``), PEM and DER."""
    d = tmp_path_factory.mktemp("crl")
    (d / "index.txt").write_text("")
    (d / "crlnumber").write_text("01\n")
    (d / "ca.cnf").write_text("[ca]\ndefault_ca = CA_default\n[CA_default]\n"
                              "database = index.txt\ncrlnumber = crlnumber\n"
                              "default_md = sha256\ndefault_crl_days = 30\n")
    run_openssl("ca", "-gencrl", "-config", "ca.cnf", "-keyfile", str(pki.ca_key),
                "-cert", str(pki.ca_crt), "-out", "crl.pem", cwd=str(d))
    run_openssl("crl", "-in", "crl.pem", "-outform", "DER", "-out", "crl.der", cwd=str(d))
    return d / "crl.pem", d / "crl.der"


@pytest.fixture(scope="session")
def cmp_messages(pki, tmp_path_factory):
    """An IR and its IP, recorded from the openssl CLI talking to its own mock server."""
    d = tmp_path_factory.mktemp("cmp")
    result = run_openssl("cmp", "-config", "", "-use_mock_srv", "-srv_ref", "x",
                         "-srv_secret", "pass:s", "-rsp_cert", str(pki.ee_crt), "-cmd", "ir",
                         "-subject", "/CN=x", "-newkey", str(pki.ee_key), "-secret", "pass:s",
                         "-ref", "x", "-reqout", "req.der", "-rspout", "rsp.der",
                         "-certout", "new.crt", cwd=str(d), check=False)
    assert result.returncode == 0, result.stderr
    assert (d / "req.der").stat().st_size > 0 and (d / "rsp.der").stat().st_size > 0
    return d / "req.der", d / "rsp.der"


# -- objects of the PKI, fresh for each test (tests may close them) -----------------------

@pytest.fixture(scope="session")
def rsa_key():
    """A 2048-bit RSA key, generated once (slow)."""
    return PrivateKey.generate("RSA", bits=2048)


@pytest.fixture
def ee_cert(pki):
    return Certificate.from_file(pki.ee_crt)


@pytest.fixture
def ca_cert(pki):
    return Certificate.from_file(pki.ca_crt)


@pytest.fixture
def ee_key(pki):
    return PrivateKey.from_file(pki.ee_key)
