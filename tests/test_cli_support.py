"""``openssl-cmp genm`` runs the support operations (RFC 9483 §4.3) with ``openssl cmp``'s
options (``--infotype caCerts --cacertsout``, ``rootCaCert --oldwithold --newwithnew
--newwithold --oldwithnew``, ``crlStatusList --crlcert|--oldcrl --crlout``,
``certReqTemplate --template --keyspec``) on every OpenSSL, where ``openssl cmp`` needs
3.2 / 3.4; the files written are checked against the server's state and, on 3.4+, against
what ``openssl cmp`` writes for the same server."""

import pytest

from openssl_cmp import CRL, Certificate, CertReqTemplate, Name, PrivateKey, binding
from openssl_cmp.cli import main
from openssl_cmp.testing import MockCA

from helpers import run_openssl


def cli(*args):
    return main([str(a) for a in args])


@pytest.fixture
def served():
    mock = MockCA(protect_with_cert=True, secret=b"s3cret",
                  cert_req_template=CertReqTemplate(subject=Name.parse("/O=Ex/CN=dev"),
                                                    key_algorithms=("prime256v1",)))
    with mock.serve_http() as http:
        yield mock, http


def common(mock, http, tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_bytes(mock.ca_cert.to_pem())
    return ("--server", http.address, "--path", "pkix/", "--ref", "me", "--secret",
            "pass:s3cret", "--trusted", ca)


def test_ca_certs(served, tmp_path, capsys):
    mock, http = served
    out = tmp_path / "cacerts.pem"
    assert cli("genm", *common(mock, http, tmp_path), "--infotype", "caCerts",
               "--cacertsout", out) == 0
    assert Certificate.list_from_pem(out.read_bytes()) == [mock.ca_cert]


def test_root_ca_key_update(served, tmp_path, capsys):
    mock, http = served
    old = tmp_path / "old.pem"
    old.write_bytes(mock.ca_cert.to_pem())
    args = common(mock, http, tmp_path)
    files = {name: tmp_path / (name + ".pem") for name in ("nwn", "nwo", "own")}
    assert cli("genm", *args, "--infotype", "rootCaCert", "--oldwithold", old,
               "--newwithnew", files["nwn"]) == 0
    assert "no root CA certificate update available" in capsys.readouterr().out
    assert not files["nwn"].exists()
    update = mock.update_root_key()
    assert cli("genm", *args, "--infotype", "rootCaCert", "--oldwithold", old,
               "--newwithnew", files["nwn"], "--newwithold", files["nwo"],
               "--oldwithnew", files["own"]) == 0
    assert Certificate.from_file(files["nwn"]) == update.new_with_new
    assert Certificate.from_file(files["nwo"]) == update.new_with_old
    assert Certificate.from_file(files["own"]) == update.old_with_new


def test_crl_update(served, tmp_path):
    mock, http = served
    key = PrivateKey.generate("EC")
    with mock.client(subject_name="/CN=crl subject", new_pkey=key) as ctx:
        cert = ctx.exec_ir()
    cert_file, out = tmp_path / "cert.pem", tmp_path / "crl.pem"
    cert_file.write_bytes(cert.to_pem())
    assert cli("genm", *common(mock, http, tmp_path), "--infotype", "crlStatusList",
               "--crlcert", cert_file, "--crlout", out) == 0
    crl = CRL.from_pem(out.read_bytes())
    assert crl.is_signed_by(mock.ca_cert)
    assert crl == mock.crl


def test_cert_req_template(served, tmp_path):
    mock, http = served
    template, keyspec = tmp_path / "template.der", tmp_path / "keyspec.der"
    assert cli("genm", *common(mock, http, tmp_path), "--infotype", "certReqTemplate",
               "--template", template, "--keyspec", keyspec) == 0
    # what openssl cmp writes: the DER of the CertTemplate and of the keySpec Controls
    parsed = run_openssl("asn1parse", "-inform", "DER", "-in", str(template)).stdout
    assert "dev" in parsed
    assert keyspec.read_bytes()[0] == 0x30


@pytest.mark.parametrize("args, needs", [
    (("--infotype", "rootCaCert"), "--newwithnew"),
    (("--infotype", "crlStatusList", "--crlout", "x"), "--crlcert or --oldcrl"),
    (("--infotype", "certReqTemplate"), "--template"),
    (("--infotype", "caCerts", "--template", "x"), "genm --infotype certReqTemplate"),
])
def test_usage_errors(args, needs, capsys):
    assert cli("genm", *args) == 2
    assert needs in capsys.readouterr().err


@pytest.mark.skipif(not binding.has("OSSL_CMP_get1_crlUpdate"),
                    reason="openssl cmp has these options from 3.4 on")
def test_same_files_as_openssl_cmp(served, tmp_path):
    mock, http = served
    ours, theirs = tmp_path / "ours.der", tmp_path / "theirs.der"
    args = common(mock, http, tmp_path)
    assert cli("genm", *args, "--infotype", "certReqTemplate", "--template", ours) == 0
    result = run_openssl("cmp", "-config", "", "-server", http.address, "-path", "pkix/",
                         "-ref", "me", "-secret", "pass:s3cret", "-trusted",
                         str(tmp_path / "ca.pem"), "-cmd", "genm", "-infotype",
                         "certReqTemplate", "-template", str(theirs), timeout=60,
                         check=False)
    assert result.returncode == 0, result.stderr
    assert ours.read_bytes() == theirs.read_bytes()


def test_certificate_uri_goes_through_ossl_store(capsys, pki):
    """Certificate arguments accept OSSL_STORE URIs: an unknown scheme is a
    one-line error naming the option, a file: URI works."""
    assert cli("genm", "--infotype", "caCerts", "--trusted", "nosuch:thing") == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "--trusted: cannot load certificates from nosuch:thing" in err[1]
    assert cli("genm", "--infotype", "caCerts", "--untrusted", "file:" + str(pki.ca_crt)) == 0
