"""The value objects of the Pythonic layer: Certificate, CRL, Name, GeneralName, TrustStore,
CSR, Extensions, PolicyInfo, PrivateKey/PublicKey, Message, ITAV, StatusInfo, CertRequest,
plus the small DER reader and the name parser behind them.

Expected values come from the ``openssl`` command line wherever it can print them.
Several tests here pin down defects found in review (crashes among them); they keep them
fixed.
"""

from __future__ import annotations

import copy
import ctypes
import datetime
import gc
import subprocess
import sys
import textwrap

import pytest

import openssl_cmp
from openssl_cmp import (CRL, CSR, ITAV, BodyType, Certificate, CertRequest, CMPError,
                         Context, Extensions, FailInfo, GeneralName, Message, Name,
                         OpenSSLError, PKIStatus, PolicyInfo, PrivateKey, PublicKey,
                         StatusInfo, TrustStore, UnsupportedError)
from openssl_cmp import _der, _names, errors
from openssl_cmp.binding import ffi, lib

from helpers import run_openssl

LONG_OID = "1.2." + ".".join(["123456789"] * 20)  # 203 characters


# -- helpers -----------------------------------------------------------------------------

def openssl_out(*args, cwd=None) -> str:
    return run_openssl(*args, cwd=cwd).stdout


def openssl_bytes(*args) -> bytes:
    return subprocess.run(["openssl", *args], capture_output=True, check=True,
                          timeout=30).stdout


def drain_queue() -> list:
    """Empty the error queue inside a test and return what was there (so that a failing
    assertion is reported by the test itself, not by the fixture's teardown)."""
    return errors.drain()


def run_isolated(code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter: a crash there cannot take pytest down."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)


def store_flags(store: TrustStore) -> int:
    """X509_VERIFY_PARAM_get_flags(X509_STORE_get0_param(store)) through ctypes (the same
    libcrypto the binding links), since the binding has no getter for the flags."""
    crypto = ctypes.CDLL("libcrypto.so.3")
    crypto.X509_STORE_get0_param.restype = ctypes.c_void_p
    crypto.X509_STORE_get0_param.argtypes = [ctypes.c_void_p]
    crypto.X509_VERIFY_PARAM_get_flags.restype = ctypes.c_ulong
    crypto.X509_VERIFY_PARAM_get_flags.argtypes = [ctypes.c_void_p]
    param = crypto.X509_STORE_get0_param(int(ffi.cast("uintptr_t", store.ptr)))
    return crypto.X509_VERIFY_PARAM_get_flags(param)


# -- fixtures ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
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


@pytest.fixture(scope="module")
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


@pytest.fixture(scope="module")
def odd_certs(tmp_path_factory):
    """Self-signed certificates with a negative serial and a GeneralizedTime notAfter, with
    serial 0, and an impostor CA named like the PKI's CA but with another key."""
    d = tmp_path_factory.mktemp("odd")
    run_openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-nodes", "-keyout", "neg.key", "-out", "neg.crt", "-subj", "/CN=neg",
                "-set_serial", "-5", "-days", "30000", cwd=str(d))
    run_openssl("req", "-x509", "-key", "neg.key", "-out", "zero.crt", "-subj", "/CN=zero",
                "-set_serial", "0", "-days", "1", cwd=str(d))
    run_openssl("req", "-x509", "-key", "neg.key", "-out", "impostor.crt",
                "-subj", "/CN=Test CA", "-days", "1", cwd=str(d))
    return d


@pytest.fixture(scope="module")
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


@pytest.fixture(scope="module")
def rsa_key():
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


# ======================================================================================
# Certificate
# ======================================================================================

def test_certificate_from_pem_bytes_and_str(pki):
    data = pki.ee_crt.read_bytes()
    a = Certificate.from_pem(data)
    b = Certificate.from_pem(data.decode("ascii"))
    assert a == b
    assert str(a.subject) == "CN=test-client"


def test_certificate_to_pem_matches_cli(pki, ee_cert):
    assert ee_cert.to_pem() == openssl_out("x509", "-in", str(pki.ee_crt)).encode()


def test_certificate_to_der_matches_cli(ders, ee_cert):
    assert ee_cert.to_der() == ders["ee"].read_bytes()


def test_certificate_from_der_round_trip(ders):
    der = ders["ca"].read_bytes()
    cert = Certificate.from_der(der)
    assert cert.to_der() == der
    assert Certificate.from_der(bytearray(der)).to_der() == der
    assert Certificate.from_der(memoryview(der)).to_der() == der


def test_certificate_pem_der_round_trip(ee_cert):
    assert Certificate.from_pem(ee_cert.to_pem()) == ee_cert
    assert Certificate.from_der(ee_cert.to_der()).to_pem() == ee_cert.to_pem()


def test_certificate_from_file_pem_and_der(pki, ders):
    assert Certificate.from_file(pki.ee_crt) == Certificate.from_file(ders["ee"])
    assert Certificate.from_file(str(ders["ee"])).to_der() == ders["ee"].read_bytes()


def test_certificate_from_file_missing(tmp_path):
    with pytest.raises(OSError):
        Certificate.from_file(tmp_path / "missing.crt")


def test_certificate_from_file_wrong_type():
    with pytest.raises(TypeError):
        Certificate.from_file(12)


def test_certificate_from_file_pem_with_leading_text(pki, tmp_path):
    path = tmp_path / "text.crt"
    path.write_text(openssl_out("x509", "-in", str(pki.ee_crt), "-text"))
    assert Certificate.from_file(path) == Certificate.from_file(pki.ee_crt)


def test_certificate_list_from_pem(pki):
    bundle = pki.ee_crt.read_bytes() + b"junk between\n" + pki.ca_crt.read_text().encode()
    certs = Certificate.list_from_pem(bundle)
    assert [str(c.subject) for c in certs] == ["CN=test-client", "CN=Test CA"]
    assert Certificate.list_from_pem(bundle.decode())[1] == Certificate.from_file(pki.ca_crt)


def test_certificate_list_from_pem_without_certificates(pki):
    with pytest.raises(ValueError):
        Certificate.list_from_pem(b"nothing here")
    with pytest.raises(TypeError):
        Certificate.list_from_pem(None)


def test_certificate_subject_and_issuer_match_cli(pki, ee_cert, ca_cert):
    subject = openssl_out("x509", "-in", str(pki.ee_crt), "-noout", "-subject",
                          "-nameopt", "RFC2253").strip()
    issuer = openssl_out("x509", "-in", str(pki.ee_crt), "-noout", "-issuer",
                         "-nameopt", "RFC2253").strip()
    assert "subject=" + str(ee_cert.subject) == subject
    assert "issuer=" + str(ee_cert.issuer) == issuer
    assert ee_cert.subject == Name.parse("/CN=test-client")
    assert ee_cert.issuer == ca_cert.subject
    assert isinstance(ee_cert.subject, Name)


def test_certificate_serial_number_matches_cli(pki, ee_cert, ca_cert):
    for path, cert in ((pki.ee_crt, ee_cert), (pki.ca_crt, ca_cert)):
        line = openssl_out("x509", "-in", str(path), "-noout", "-serial").strip()
        assert cert.serial_number == int(line.split("=", 1)[1], 16)
        assert cert.serial_number > 0


def test_certificate_serial_number_negative_and_zero(odd_certs):
    assert Certificate.from_file(odd_certs / "neg.crt").serial_number == -5
    assert Certificate.from_file(odd_certs / "zero.crt").serial_number == 0


def _cli_date(text: str) -> datetime.datetime:
    value = text.strip().split("=", 1)[1]
    return datetime.datetime.strptime(value, "%b %d %H:%M:%S %Y GMT").replace(
        tzinfo=datetime.timezone.utc)


def test_certificate_validity_matches_cli(pki, ee_cert):
    start = openssl_out("x509", "-in", str(pki.ee_crt), "-noout", "-startdate")
    end = openssl_out("x509", "-in", str(pki.ee_crt), "-noout", "-enddate")
    assert ee_cert.not_valid_before == _cli_date(start)
    assert ee_cert.not_valid_after == _cli_date(end)
    assert ee_cert.not_valid_before.tzinfo is datetime.timezone.utc
    assert ee_cert.not_valid_after - ee_cert.not_valid_before == datetime.timedelta(days=30)


def test_certificate_generalized_time(odd_certs):
    # 30000 days ahead is after 2049: notAfter is a GeneralizedTime
    path = odd_certs / "neg.crt"
    cert = Certificate.from_file(path)
    end = openssl_out("x509", "-in", str(path), "-noout", "-enddate")
    assert cert.not_valid_after == _cli_date(end)
    assert cert.not_valid_after.year > 2049


def test_certificate_public_key_matches_cli(pki, ders, ee_cert, ee_key):
    pub = ee_cert.public_key()
    assert isinstance(pub, PublicKey)
    assert pub.to_der() == ders["pub"].read_bytes()
    assert pub.to_pem() == openssl_out("x509", "-in", str(pki.ee_crt), "-noout",
                                       "-pubkey").encode()
    assert pub == ee_key.public_key()
    assert pub.key_type == "EC" and pub.key_size == 256


def test_certificate_fingerprint_matches_cli(pki, ee_cert):
    for alg in ("sha256", "sha1"):
        line = openssl_out("x509", "-in", str(pki.ee_crt), "-noout", "-fingerprint",
                           "-" + alg).strip()
        expected = bytes.fromhex(line.split("=", 1)[1].replace(":", ""))
        assert ee_cert.fingerprint(alg) == expected
    assert ee_cert.fingerprint() == ee_cert.fingerprint("sha256")
    with pytest.raises(ValueError):
        ee_cert.fingerprint("no-such-digest")


def test_certificate_extensions(ca_cert, ee_cert, pki):
    exts = ca_cert.extensions()
    assert exts.names() == ["subjectKeyIdentifier", "authorityKeyIdentifier",
                            "basicConstraints", "keyUsage"]
    flags = dict(zip(exts.names(), (exts.critical(i) for i in range(len(exts)))))
    assert flags == {"subjectKeyIdentifier": False, "authorityKeyIdentifier": False,
                     "basicConstraints": True, "keyUsage": True}
    assert exts.text(2) == "CA:TRUE"
    assert exts.text(3) == "Digital Signature, Certificate Sign, CRL Sign"
    ski = openssl_out("x509", "-in", str(pki.ca_crt), "-noout", "-ext",
                      "subjectKeyIdentifier").splitlines()[1].strip()
    assert exts.text(0) == ski
    assert not exts.has_san
    # what the CLI put into ee.crt (3.0: nothing, a v1 certificate; 3.5: SKI and AKI)
    text = openssl_out("x509", "-in", str(pki.ee_crt), "-noout", "-text")
    expected = [name for name, label in (("subjectKeyIdentifier", "Subject Key Identifier"),
                                         ("authorityKeyIdentifier",
                                          "Authority Key Identifier"))
                if "X509v3 " + label in text]
    assert ee_cert.extensions().names() == expected


def test_certificate_is_issued_by(pki, ee_cert, ca_cert):
    srv = Certificate.from_file(pki.srv_crt)
    assert ee_cert.is_issued_by(ca_cert)
    assert srv.is_issued_by(ca_cert)
    assert ca_cert.is_issued_by(ca_cert)
    assert not ca_cert.is_issued_by(ee_cert)
    assert not ee_cert.is_issued_by(srv)


def test_certificate_is_issued_by_wrong_key_leaves_queue_empty(odd_certs, ee_cert):
    impostor = Certificate.from_file(odd_certs / "impostor.crt")
    assert impostor.subject == ee_cert.issuer  # name chaining succeeds ...
    assert not ee_cert.is_issued_by(impostor)  # ... the signature check does not


def test_certificate_is_issued_by_type_error(ee_cert):
    with pytest.raises(TypeError):
        ee_cert.is_issued_by("CN=Test CA")


def test_certificate_equality_and_hash(pki, ders, ee_cert, ca_cert):
    other = Certificate.from_file(ders["ee"])
    assert ee_cert == other and not ee_cert != other
    assert hash(ee_cert) == hash(other)
    assert ee_cert != ca_cert
    assert ee_cert != "CN=test-client"
    assert len({ee_cert, other, ca_cert}) == 2


def test_certificate_repr(ee_cert):
    text = repr(ee_cert)
    assert "CN=test-client" in text and ("%#x" % ee_cert.serial_number) in text
    ee_cert.close()
    assert repr(ee_cert) == "<Certificate closed>"


def test_certificate_garbage_pem_and_der():
    with pytest.raises(OpenSSLError) as info:
        Certificate.from_pem(b"not a certificate")
    assert info.value.errors
    with pytest.raises(OpenSSLError):
        Certificate.from_pem(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    with pytest.raises(OpenSSLError):
        Certificate.from_der(b"\x30\x03\x02\x01\x01")
    with pytest.raises(OpenSSLError):
        Certificate.from_der(b"")


def test_certificate_pem_of_other_type_rejected(pki):
    with pytest.raises(OpenSSLError):
        Certificate.from_pem(pki.ee_csr.read_bytes())


def test_certificate_der_trailing_bytes(ders):
    with pytest.raises(ValueError, match="trailing"):
        Certificate.from_der(ders["ee"].read_bytes() + b"\x00")


def test_certificate_wrong_types():
    with pytest.raises(TypeError):
        Certificate.from_der("MIIB")  # text belongs to from_pem
    with pytest.raises(TypeError):
        Certificate.from_der(None)
    with pytest.raises(TypeError):
        Certificate.from_pem(12)
    with pytest.raises(TypeError):
        Certificate()


def test_certificate_from_pem_non_ascii_str():
    with pytest.raises(ValueError):
        Certificate.from_pem("-----BEGIN CERTIFICATE-----\né\n-----END CERTIFICATE-----\n")


def test_certificate_children_outlive_parent(pki):
    cert = Certificate.from_file(pki.ee_crt)
    subject, issuer, pub = cert.subject, cert.issuer, cert.public_key()
    exts = Certificate.from_file(pki.ca_crt)
    ca_exts = exts.extensions()
    cert.close()
    exts.close()
    del cert, exts
    gc.collect()
    assert str(subject) == "CN=test-client"
    assert str(issuer) == "CN=Test CA"
    assert pub == PrivateKey.from_file(pki.ee_key).public_key()
    assert len(ca_exts) == 4


def test_certificate_close_twice_and_use_after_close(ee_cert):
    ee_cert.close()
    ee_cert.close()
    assert ee_cert.closed
    with pytest.raises(ValueError, match="closed"):
        ee_cert.to_der()
    with pytest.raises(ValueError):
        _ = ee_cert.subject
    with pytest.raises(ValueError):
        _ = ee_cert.ptr


def test_certificate_with_closes(pki):
    with Certificate.from_file(pki.ee_crt) as cert:
        assert not cert.closed
        assert cert.serial_number
    assert cert.closed


def test_certificate_ptr_is_usable_with_lib(ee_cert):
    assert lib.X509_get0_serialNumber(ee_cert.ptr) != ffi.NULL


def test_certificate_copy_and_deepcopy(ee_cert):
    assert copy.copy(ee_cert) is ee_cert
    clone = copy.deepcopy(ee_cert)
    assert clone is not ee_cert and clone == ee_cert
    ee_cert.close()
    assert str(clone.subject) == "CN=test-client"


def test_certificate_cryptography_round_trip(ee_cert):
    pytest.importorskip("cryptography")
    theirs = ee_cert.to_cryptography()
    assert theirs.serial_number == ee_cert.serial_number
    assert theirs.subject.rfc4514_string() == str(ee_cert.subject)
    assert Certificate.from_cryptography(theirs) == ee_cert


# ======================================================================================
# CRL
# ======================================================================================

def test_crl_pem_der_file_round_trip(crl_files):
    pem_path, der_path = crl_files
    crl = CRL.from_file(pem_path)
    assert crl.to_der() == der_path.read_bytes()
    assert crl.to_pem() == openssl_out("crl", "-in", str(pem_path)).encode()
    assert CRL.from_file(der_path).to_der() == der_path.read_bytes()
    assert CRL.from_pem(pem_path.read_text()).to_der() == crl.to_der()
    assert CRL.from_der(crl.to_der()).to_pem() == crl.to_pem()


def test_crl_lifetime(crl_files):
    with CRL.from_file(crl_files[0]) as crl:
        clone = copy.deepcopy(crl)
    assert crl.closed
    crl.close()
    with pytest.raises(ValueError):
        crl.to_der()
    assert clone.to_der() == crl_files[1].read_bytes()


def test_crl_bad_input(crl_files):
    with pytest.raises(OpenSSLError):
        CRL.from_pem(b"garbage")
    with pytest.raises(OpenSSLError):
        CRL.from_der(b"\x30\x00")
    with pytest.raises(ValueError, match="trailing"):
        CRL.from_der(crl_files[1].read_bytes() + b"\x00\x00")
    with pytest.raises(TypeError):
        CRL.from_der("text")


# ======================================================================================
# Name
# ======================================================================================

def test_name_parse_openssl_form():
    name = Name.parse("/CN=a/O=b")
    assert str(name) == "O=b,CN=a"
    assert len(name) == 2
    # DER: RDNs in the order written, most significant first
    assert name.to_der() == bytes.fromhex("3018310a300806035504030c0161310a3008060355040a"
                                          "0c0162")


def test_name_parse_matches_cli(tmp_path):
    # the CLI's own -subj parsing gives the same DER
    run_openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-nodes", "-keyout", "k.pem", "-subj", "/C=DE/O=Org\\/Unit/CN=x+UID=y",
                "-out", "r.csr", cwd=str(tmp_path))
    csr = CSR.from_file(tmp_path / "r.csr")
    assert csr.subject.to_der() == Name.parse("/C=DE/O=Org\\/Unit/CN=x+UID=y").to_der()


def test_name_multi_valued_rdn():
    name = Name.parse("/CN=a+O=b/OU=c")
    assert len(name) == 3
    assert str(name) == "OU=c,O=b+CN=a"
    assert name == Name.from_rfc4514("OU=c,CN=a+O=b")
    assert name != Name.parse("/CN=a/O=b/OU=c")


def test_name_escapes():
    assert str(Name.parse(r"/CN=a\/b/O=c")) == "O=c,CN=a/b"
    assert str(Name.parse(r"/CN=a\+b")) == r"CN=a\+b"
    assert len(Name.parse(r"/CN=a\+b")) == 1
    assert str(Name.parse(r"/CN=a\=b")) == "CN=a=b"
    assert str(Name.parse("/CN=a,b")) == r"CN=a\,b"


def test_name_from_rfc4514_order():
    rfc = Name.from_rfc4514("CN=a,O=b")
    assert rfc == Name.parse("/O=b/CN=a")
    assert rfc != Name.parse("/CN=a/O=b")
    assert str(rfc) == "CN=a,O=b"
    assert rfc.to_der() == Name.parse("/O=b/CN=a").to_der()


def test_name_from_rfc4514_escapes_and_spaces():
    assert Name.from_rfc4514(r"CN=a\,b, O=c") == Name.parse("/O=c/CN=a,b")
    assert Name.from_rfc4514(r"CN=a\2Cb") == Name.parse("/CN=a,b")
    assert Name.from_rfc4514(r"CN=\ a") == Name.parse("/CN= a")


def test_name_str_is_rfc4514_round_trip():
    for text in ("/C=DE/O=z/OU=u/CN=c", "/CN=a,b;c<d>e\"f", "/CN= a", "/CN=#a",
                 "/CN=a\\\\b", "/DC=example/DC=com/CN=x", "/CN=a+O=b"):
        name = Name.parse(text)
        assert Name.from_rfc4514(str(name)) == name, text
        assert Name.from_rfc4514(str(name)).to_der() == name.to_der(), text


def test_name_empty():
    assert len(Name.parse("/")) == 0
    assert str(Name.parse("/")) == ""
    assert Name.from_rfc4514("") == Name.parse("/")
    assert Name.parse("/").to_der() == b"\x30\x00"


def test_name_invalid_forms():
    for bad in ("CN=a", "/CN=a//O=b", "/CNa", "/=a"):
        with pytest.raises(ValueError):
            Name.parse(bad)
    for bad in ("CN=a,,O=b", "garbage", "=a"):
        with pytest.raises(ValueError):
            Name.from_rfc4514(bad)


def test_name_unknown_attribute_or_empty_value():
    for bad in ("/XX=a", "/CN="):
        with pytest.raises((ValueError, OpenSSLError)):
            Name.parse(bad)
    with pytest.raises((ValueError, OpenSSLError)):
        Name.from_rfc4514("XX=a")


def test_name_wrong_types():
    with pytest.raises(TypeError):
        Name.parse(b"/CN=a")
    with pytest.raises(TypeError):
        Name.from_rfc4514(None)
    with pytest.raises(TypeError):
        Name.from_der("0")
    with pytest.raises(TypeError):
        Name()


def test_name_rejects_nul_in_value():
    with pytest.raises(ValueError):
        Name.parse("/CN=a\0b")


def test_name_rejects_nul_in_attribute():
    with pytest.raises(ValueError):
        Name.parse("/C\0N=a")


def test_name_der_round_trip(ca_cert):
    der = ca_cert.subject.to_der()
    assert Name.from_der(der).to_der() == der
    assert Name.from_der(der) == ca_cert.subject
    with pytest.raises(ValueError, match="trailing"):
        Name.from_der(der + b"\x00")
    with pytest.raises(OpenSSLError):
        Name.from_der(b"\x31\x00")


def test_name_equality_with_str_and_hash():
    name = Name.parse("/O=b/CN=a")
    assert name == "CN=a,O=b"
    assert name == "/O=b/CN=a"
    assert name != "CN=b,O=b"
    assert name != 5
    same = Name.from_rfc4514("CN=a,O=b")
    assert hash(name) == hash(same)
    assert len({name, same, Name.parse("/CN=z")}) == 2


def test_name_equality_is_case_insensitive_like_openssl():
    # X509_NAME_cmp compares the canonical (lower-cased, space-folded) encoding
    assert Name.parse("/CN=ABC") == Name.parse("/CN=abc")


def test_name_hash_consistent_with_eq():
    a, b = Name.parse("/CN=ABC"), Name.parse("/CN=abc")
    assert a == b
    assert hash(a) == hash(b)


def test_name_eq_with_unparseable_str_is_false():
    name = Name.parse("/CN=a")
    assert (name == "not a name") is False
    assert (name == "XX=a") is False


def test_name_non_ascii_round_trip():
    name = Name.parse("/CN=café")
    assert str(name) == r"CN=caf\C3\A9"
    assert Name.from_rfc4514(str(name)) == name
    assert name == str(name)


def test_name_rfc4514_hex_escape_followed_by_hex_digits():
    assert Name.from_rfc4514(r"CN=\41BC") == Name.parse("/CN=ABC")


def test_name_rfc4514_escaped_backslash_hex():
    assert Name.from_rfc4514(r"CN=a\5Cb").to_der() == Name.parse(r"/CN=a\\b").to_der()


def test_name_rfc4514_escaped_trailing_space():
    name = Name.parse("/CN=a ")
    assert str(name) == "CN=a\\ "
    assert Name.from_rfc4514(str(name)) == name


def test_name_rfc4514_hexstring_value():
    name = Name.parse("/CN=x/1.2.3.4=foo")
    assert str(name) == "1.2.3.4=#0C03666F6F,CN=x"
    assert Name.from_rfc4514(str(name)).to_der() == name.to_der()


def test_name_repr_and_closed():
    name = Name.parse("/CN=a")
    assert repr(name) == "<Name 'CN=a'>"
    name.close()
    name.close()
    assert repr(name) == "<Name 'closed'>"
    with pytest.raises(ValueError):
        str(name)


def test_name_deepcopy_independent():
    name = Name.parse("/CN=a")
    clone = copy.deepcopy(name)
    name.close()
    assert str(clone) == "CN=a"


def test_name_cryptography_round_trip():
    x509 = pytest.importorskip("cryptography.x509")
    name = Name.parse("/C=DE/O=b+OU=c/CN=a,d")
    theirs = name.to_cryptography()
    assert isinstance(theirs, x509.Name)
    assert theirs.public_bytes() == name.to_der()
    assert Name.from_cryptography(theirs) == name
    mine = Name.from_cryptography(x509.Name.from_rfc4514_string("CN=z,O=y"))
    assert mine == Name.parse("/O=y/CN=z")


def test_name_to_cryptography_other_attributes():
    pytest.importorskip("cryptography")
    for text in ("/CN=c/emailAddress=a@b.example", "/CN=x/serialNumber=1",
                 "/CN=x/1.2.3.4=foo"):
        name = Name.parse(text)
        assert name.to_cryptography().public_bytes() == name.to_der(), text


def test_name_parser_internals():
    assert _names.parse_openssl("/CN=a+O=b/OU=c") == [[("CN", "a"), ("O", "b")], [("OU", "c")]]
    assert _names.parse_rfc4514("CN=a,O=b") == [[("O", "b")], [("CN", "a")]]
    assert _names.parse_openssl("/") == []
    assert _names.parse_rfc4514("  ") == []


# ======================================================================================
# GeneralName
# ======================================================================================

def test_general_name_constructors_der_and_str():
    cases = [
        (GeneralName.dns("a"), "820161", "DNS:a"),
        (GeneralName.ip("192.0.2.1"), "8704c0000201", "IP Address:192.0.2.1"),
        (GeneralName.email("a@b"), "8103614062", "email:a@b"),
        (GeneralName.uri("http://x"), "8608687474703a2f2f78", "URI:http://x"),
        (GeneralName.directory("/CN=x"), "a40e300c310a300806035504030c0178",
         "DirName:CN = x"),
    ]
    for gen, der_hex, text in cases:
        assert gen.to_der().hex() == der_hex
        assert str(gen) == text


def test_general_name_ipv6():
    gen = GeneralName.ip("2001:db8::1")
    assert gen.to_der() == b"\x87\x10" + bytes.fromhex("20010db8000000000000000000000001")
    assert str(gen) == "IP Address:2001:DB8:0:0:0:0:0:1"


def test_general_name_parse():
    assert GeneralName.parse("DNS:a.example") == GeneralName.dns("a.example")
    assert GeneralName.parse("dns:a.example") == GeneralName.dns("a.example")
    assert GeneralName.parse("IP:192.0.2.1") == GeneralName.ip("192.0.2.1")
    assert GeneralName.parse("URI:http://x/") == GeneralName.uri("http://x/")
    assert GeneralName.parse("email:a@b") == GeneralName.email("a@b")
    assert GeneralName.parse("dirName:/CN=x/O=y") == GeneralName.directory(Name.parse("/CN=x/O=y"))
    assert GeneralName.parse("dirName:O=y,CN=x") == GeneralName.directory("/CN=x/O=y")
    rid = GeneralName.parse("RID:1.2.3")
    assert rid.to_der().hex() == "88022a03"
    assert str(rid) == "Registered ID:1.2.3"


def test_general_name_directory_copies_name():
    name = Name.parse("/CN=x")
    gen = GeneralName.directory(name)
    name.close()
    gc.collect()
    assert str(gen) == "DirName:CN = x"


def test_general_name_invalid():
    for bad in ("nocolon", "foo:bar", "otherName:1.2.3;UTF8:x"):
        with pytest.raises(ValueError):
            GeneralName.parse(bad)
    for bad in ("DNS:", "email:"):
        with pytest.raises(ValueError):
            GeneralName.parse(bad)
    for bad in ("IP:999.1.1.1", "IP:abc", "RID:notanoid"):
        with pytest.raises(OpenSSLError):
            GeneralName.parse(bad)
    with pytest.raises(ValueError):
        GeneralName.dns("a\0b")
    with pytest.raises(ValueError):
        GeneralName.parse("dirName:CN")


def test_general_name_wrong_types():
    with pytest.raises(TypeError):
        GeneralName.parse(b"DNS:a")
    with pytest.raises(TypeError):
        GeneralName.dns(1)
    with pytest.raises(TypeError):
        GeneralName.ip(None)
    with pytest.raises(TypeError):
        GeneralName.directory(1)
    with pytest.raises(TypeError):
        GeneralName.from_der("x")


def test_general_name_der_round_trip():
    gen = GeneralName.dns("a.example")
    assert GeneralName.from_der(gen.to_der()) == gen
    with pytest.raises(ValueError, match="trailing"):
        GeneralName.from_der(gen.to_der() + b"\x00")
    with pytest.raises(OpenSSLError):
        GeneralName.from_der(b"\x30\x00")  # not a GeneralName CHOICE
    with pytest.raises(OpenSSLError):
        GeneralName.from_der(b"\x82\x05ab")  # truncated


def test_general_name_equality_and_hash():
    a, b = GeneralName.dns("a"), GeneralName.parse("DNS:a")
    assert a == b and hash(a) == hash(b)
    assert a != GeneralName.dns("b")
    assert a != GeneralName.uri("a")
    assert a != "DNS:a"
    assert len({a, b, GeneralName.dns("b")}) == 2


def test_general_name_repr_and_close():
    gen = GeneralName.dns("a")
    assert repr(gen) == "<GeneralName DNS:a>"
    with gen:
        pass
    assert gen.closed
    assert repr(gen) == "<GeneralName closed>"
    with pytest.raises(ValueError):
        gen.to_der()


# ======================================================================================
# TrustStore
# ======================================================================================

def test_trust_store_add_and_certs(pki, ca_cert, ee_cert):
    store = TrustStore([ca_cert])
    assert store.certs == [ca_cert]
    store.add(ca_cert)  # a duplicate is not an error and not stored twice
    assert len(store) == 1
    store.add(ee_cert)
    assert sorted(str(c.subject) for c in store.certs) == ["CN=Test CA", "CN=test-client"]
    assert repr(store) == "<TrustStore 2 certs>"


def test_trust_store_empty():
    store = TrustStore()
    assert store.certs == [] and len(store) == 0


def test_trust_store_from_file(pki, tmp_path):
    store = TrustStore.from_file(pki.ca_crt)
    assert store.certs == [Certificate.from_file(pki.ca_crt)]
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(pki.ca_crt.read_bytes() + pki.srv_crt.read_bytes())
    assert len(TrustStore.from_file(str(bundle))) == 2


def test_trust_store_from_file_errors(pki, tmp_path):
    with pytest.raises(OpenSSLError):
        TrustStore.from_file(tmp_path / "missing.pem")
    with pytest.raises(OpenSSLError):
        TrustStore.from_file(pki.ee_key)  # no certificate in it


def test_trust_store_from_file_path_types(pki):
    assert len(TrustStore.from_file(bytes(pki.ca_crt))) == 1
    with pytest.raises(TypeError):
        TrustStore.from_file(12)


def test_trust_store_add_crl(crl_files, pki):
    store = TrustStore([Certificate.from_file(pki.ca_crt)])
    store.add_crl(CRL.from_file(crl_files[0]))
    with pytest.raises(TypeError):
        store.add_crl(Certificate.from_file(pki.ca_crt))
    # a PEM file may carry CRLs too: they are loaded, certificates are none
    assert len(TrustStore.from_file(crl_files[0])) == 0


def test_trust_store_flags():
    store = TrustStore(flags=lib.X509_V_FLAG_PARTIAL_CHAIN)
    assert store_flags(store) & lib.X509_V_FLAG_PARTIAL_CHAIN
    assert not store_flags(store) & lib.X509_V_FLAG_CRL_CHECK
    store.set_flags(lib.X509_V_FLAG_CRL_CHECK)
    assert store_flags(store) & lib.X509_V_FLAG_CRL_CHECK
    assert store_flags(TrustStore()) == 0


def test_trust_store_wrong_types(ca_cert):
    with pytest.raises(TypeError):
        TrustStore(["not a cert"])
    with pytest.raises(TypeError):
        TrustStore([ca_cert], flags="x")
    with pytest.raises(TypeError):
        TrustStore().add("cert")


def test_trust_store_certs_outlive_store_and_source(pki):
    cert = Certificate.from_file(pki.ca_crt)
    store = TrustStore([cert])
    cert.close()  # the store holds its own reference
    certs = store.certs
    store.close()
    store.close()
    del store
    gc.collect()
    assert str(certs[0].subject) == "CN=Test CA"


def test_trust_store_closed_and_with(ca_cert):
    with TrustStore([ca_cert]) as store:
        assert len(store) == 1
    assert store.closed
    assert repr(store) == "<TrustStore closed>"
    with pytest.raises(ValueError):
        _ = store.certs
    with pytest.raises(ValueError):
        store.add(ca_cert)


# ======================================================================================
# Keys
# ======================================================================================

@pytest.mark.parametrize("curve,bits", [("P-256", 256), ("P-384", 384)])
def test_generate_ec(curve, bits):
    key = PrivateKey.generate("EC", curve=curve)
    assert key.key_type == "EC" and key.key_size == bits
    text = subprocess.run(["openssl", "pkey", "-noout", "-text"], input=key.to_pem(),
                          capture_output=True, check=True, timeout=30).stdout.decode()
    assert "NIST CURVE: %s" % curve in text
    assert key.public_key().key_size == bits


def test_generate_default_is_ec_p256():
    key = PrivateKey.generate()
    assert (key.key_type, key.key_size) == ("EC", 256)


def test_generate_ed25519_and_ed448():
    ed = PrivateKey.generate("Ed25519")
    assert ed.key_type == "ED25519" and ed.key_size == 256
    assert ed.public_key().to_der()[:12] == bytes.fromhex("302a300506032b6570032100")
    assert PrivateKey.generate("ed448").key_type == "ED448"


def test_generate_rsa(rsa_key):
    assert rsa_key.key_type == "RSA" and rsa_key.key_size == 2048
    assert "Private-Key: (2048 bit" in subprocess.run(
        ["openssl", "pkey", "-noout", "-text"], input=rsa_key.to_pem(), capture_output=True,
        check=True, timeout=30).stdout.decode()


def test_generate_bad_arguments():
    with pytest.raises(ValueError):
        PrivateKey.generate("DSA")
    with pytest.raises(TypeError):
        PrivateKey.generate(1)
    with pytest.raises(ValueError):
        PrivateKey.generate("RSA", bits=512)
    with pytest.raises(TypeError):
        PrivateKey.generate("EC", curve=256)
    with pytest.raises(ValueError):
        PrivateKey.generate("EC", curve="P-256\0")
    with pytest.raises(OpenSSLError):
        PrivateKey.generate("EC", curve="no-such-curve")


def test_generate_rsa_bits_wrong_type():
    with pytest.raises(TypeError):
        PrivateKey.generate("RSA", bits="2048")


def test_private_key_pem_matches_cli_file(pki, ee_key):
    assert ee_key.to_pem() == pki.ee_key.read_bytes()
    assert ee_key.to_pem().startswith(b"-----BEGIN PRIVATE KEY-----")


def test_private_key_der_matches_cli(ders, ee_key):
    assert ee_key.to_der() == ders["key"].read_bytes()
    assert PrivateKey.from_der(ders["key"].read_bytes()).to_pem() == ee_key.to_pem()


def test_private_key_from_file_pem_and_der(pki, ders):
    assert (PrivateKey.from_file(ders["key"]).public_key()
            == PrivateKey.from_file(str(pki.ee_key)).public_key())


def test_private_key_from_pem_str(pki):
    key = PrivateKey.from_pem(pki.ee_key.read_text())
    assert key.key_type == "EC"


def test_private_key_traditional_der(pki, ee_key):
    traditional = openssl_bytes("pkey", "-in", str(pki.ee_key), "-outform", "DER")
    assert PrivateKey.from_der(traditional).to_der() == ee_key.to_der()


def test_private_key_password_round_trip():
    key = PrivateKey.generate("EC")
    for password in (b"sesame", "sesame", bytearray(b"sesame")):
        pem = key.to_pem(password=password)
        assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
        again = PrivateKey.from_pem(pem, password=password)
        assert again.to_der() == key.to_der()


def test_private_key_encrypted_by_cli(ders, ee_key):
    key = PrivateKey.from_file(ders["enc_key"], password=b"sesame")
    assert key.to_der() == ee_key.to_der()
    assert PrivateKey.from_pem(ders["enc_key"].read_bytes(), "sesame").to_der() == key.to_der()


def test_private_key_encrypted_readable_by_cli(tmp_path):
    key = PrivateKey.generate("EC")
    (tmp_path / "k.pem").write_bytes(key.to_pem(password="pw"))
    out = openssl_bytes("pkcs8", "-in", str(tmp_path / "k.pem"), "-passin", "pass:pw",
                        "-nocrypt", "-topk8", "-outform", "DER")
    assert out == key.to_der()


def test_private_key_wrong_password():
    pem = PrivateKey.generate("EC").to_pem(password=b"right")
    with pytest.raises(OpenSSLError):
        PrivateKey.from_pem(pem, password=b"wrong")


def test_private_key_encrypted_without_password_does_not_prompt(ders):
    # with no password given the library must fail at once, never ask on a terminal
    with pytest.raises(OpenSSLError):
        PrivateKey.from_pem(ders["enc_key"].read_bytes())
    with pytest.raises(OpenSSLError):
        PrivateKey.from_file(ders["enc_key"])


def test_private_key_encrypted_der_without_password(tmp_path, ders):
    der = openssl_bytes("pkcs8", "-topk8", "-in", str(ders["key"]), "-inform", "DER",
                        "-v2", "aes-256-cbc", "-passout", "pass:x", "-outform", "DER")
    with pytest.raises(OpenSSLError):
        PrivateKey.from_der(der)


def test_private_key_password_errors():
    key = PrivateKey.generate("EC")
    with pytest.raises(ValueError):
        key.to_pem(password=b"")
    with pytest.raises(TypeError):
        key.to_pem(password=123)
    with pytest.raises(ValueError):
        PrivateKey.from_pem(key.to_pem(password=b"x"), password=b"x\0y")
    with pytest.raises(TypeError):
        PrivateKey.from_pem(key.to_pem(password=b"x"), password=5)


def test_private_key_to_pem_rejects_nul_password():
    with pytest.raises(ValueError):
        PrivateKey.generate("EC").to_pem(password=b"a\0b")


def test_private_key_garbage():
    with pytest.raises(OpenSSLError):
        PrivateKey.from_pem(b"garbage")
    with pytest.raises(OpenSSLError):
        PrivateKey.from_der(b"\x30\x03\x02\x01\x00")
    with pytest.raises(TypeError):
        PrivateKey.from_pem(None)
    with pytest.raises(TypeError):
        PrivateKey.from_der(12)


def test_private_key_from_pem_rejects_public_key(ders):
    with pytest.raises(OpenSSLError):
        PrivateKey.from_pem(ders["pub_pem"].read_bytes())


def test_private_key_der_trailing_bytes(ders):
    with pytest.raises(ValueError):
        PrivateKey.from_der(ders["key"].read_bytes() + b"junk")


def test_key_from_der_rejects_str():
    with pytest.raises(TypeError):
        PublicKey.from_der("MIIB")
    with pytest.raises(TypeError):
        PrivateKey.from_der("MIIB")


def test_private_key_from_file_pem_with_leading_text(pki, tmp_path):
    path = tmp_path / "bag.pem"
    path.write_bytes(b"Bag Attributes\n    localKeyID: 01\n" + pki.ee_key.read_bytes())
    assert PrivateKey.from_file(path).to_der() == PrivateKey.from_file(pki.ee_key).to_der()


def test_private_key_public_key_matches_cli(ders, ee_key):
    pub = ee_key.public_key()
    assert isinstance(pub, PublicKey) and not isinstance(pub, PrivateKey)
    assert pub.to_der() == ders["pub"].read_bytes()
    assert pub.to_pem() == ders["pub_pem"].read_bytes()


def test_private_key_repr(ee_key):
    assert repr(ee_key) == "<PrivateKey EC 256 bits>"
    ee_key.close()
    assert repr(ee_key) == "<PrivateKey closed>"


def test_private_key_public_key_outlives_private(pki):
    key = PrivateKey.from_file(pki.ee_key)
    pub = key.public_key()
    key.close()
    key.close()
    gc.collect()
    assert pub == Certificate.from_file(pki.ee_crt).public_key()
    with pytest.raises(ValueError):
        key.public_key()
    with pytest.raises(ValueError):
        _ = key.key_type


def test_private_key_with_closes():
    with PrivateKey.generate("Ed25519") as key:
        assert key.key_type == "ED25519"
    assert key.closed


def test_public_key_pem_der_round_trip(ders):
    der = ders["pub"].read_bytes()
    pem = ders["pub_pem"].read_bytes()
    pub = PublicKey.from_der(der)
    assert pub.to_der() == der and pub.to_pem() == pem
    assert PublicKey.from_pem(pem) == pub
    assert PublicKey.from_pem(pem.decode()) == pub
    assert PublicKey.from_der(bytearray(der)) == pub
    assert (pub.key_type, pub.key_size) == ("EC", 256)
    assert repr(pub) == "<PublicKey EC 256 bits>"


def test_public_key_bad_input(ders, pki):
    with pytest.raises(OpenSSLError):
        PublicKey.from_pem(b"garbage")
    with pytest.raises(OpenSSLError):
        PublicKey.from_pem(pki.ee_key.read_bytes())  # a private key is no PUBKEY PEM
    with pytest.raises(OpenSSLError):
        PublicKey.from_der(b"\x30\x00")
    with pytest.raises(ValueError, match="trailing"):
        PublicKey.from_der(ders["pub"].read_bytes() + b"\x00")
    with pytest.raises(TypeError):
        PublicKey.from_der(1.5)


def test_public_key_equality_and_hash(ee_key, pki):
    pub = ee_key.public_key()
    same = Certificate.from_file(pki.ee_crt).public_key()
    other = PrivateKey.generate("EC").public_key()
    assert pub == same and hash(pub) == hash(same)
    assert pub != other
    assert pub == ee_key  # a private key compares by its public part
    assert ee_key == pub  # reflected
    assert pub != PrivateKey.generate("EC")
    assert pub != "key"
    assert len({pub, same, other}) == 2


def test_public_key_equality_same_type_different_curve():
    assert PrivateKey.generate("EC").public_key() != \
        PrivateKey.generate("EC", curve="P-384").public_key()


def test_public_key_equality_different_types_leaves_queue_empty():
    ec = PrivateKey.generate("EC").public_key()
    ed = PrivateKey.generate("Ed25519").public_key()
    result = ec == ed
    left = drain_queue()
    assert result is False
    assert left == []


def test_keys_cryptography_round_trip(ee_key):
    pytest.importorskip("cryptography")
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    theirs = ee_key.to_cryptography()
    assert isinstance(theirs, ec.EllipticCurvePrivateKey)
    assert theirs.curve.name == "secp256r1"
    assert PrivateKey.from_cryptography(theirs).to_der() == ee_key.to_der()
    pub = ee_key.public_key()
    their_pub = pub.to_cryptography()
    assert isinstance(their_pub, ec.EllipticCurvePublicKey)
    assert PublicKey.from_cryptography(their_pub) == pub
    ed = ed25519.Ed25519PrivateKey.generate()
    mine = PrivateKey.from_cryptography(ed)
    assert mine.key_type == "ED25519"
    assert mine.public_key() == PublicKey.from_cryptography(ed.public_key())


# ======================================================================================
# CSR
# ======================================================================================

def test_csr_from_cli_files(pki, ders, ee_key):
    csr = CSR.from_file(pki.ee_csr)
    assert csr == CSR.from_file(ders["csr"])
    assert csr.to_der() == ders["csr"].read_bytes()
    assert csr.to_pem() == openssl_out("req", "-in", str(pki.ee_csr)).encode()
    assert csr.subject == Name.parse("/CN=test-client")
    assert csr.public_key() == ee_key.public_key()
    assert len(csr.extensions()) == 0


def test_csr_pem_der_round_trip(pki):
    csr = CSR.from_pem(pki.ee_csr.read_text())
    assert CSR.from_der(csr.to_der()) == csr
    assert CSR.from_pem(csr.to_pem()) == csr
    assert hash(CSR.from_der(csr.to_der())) == hash(csr)
    assert csr != "csr"


def test_csr_bad_input(ders):
    with pytest.raises(OpenSSLError):
        CSR.from_pem(b"garbage")
    with pytest.raises(OpenSSLError):
        CSR.from_der(b"\x30\x00")
    with pytest.raises(ValueError, match="trailing"):
        CSR.from_der(ders["csr"].read_bytes() + b"\x00")
    with pytest.raises(TypeError):
        CSR.from_der("text")


def _req_text_and_verify(tmp_path, csr):
    path = tmp_path / "built.csr"
    path.write_bytes(csr.to_pem())
    text = openssl_out("req", "-in", str(path), "-noout", "-text")
    verify = run_openssl("req", "-in", str(path), "-noout", "-verify")
    return text, verify.stdout + verify.stderr


def test_csr_build_with_sans(tmp_path):
    key = PrivateKey.generate("EC", curve="P-384")
    csr = CSR.build("/CN=csr/O=Org", key,
                    sans=["DNS:a.example", GeneralName.ip("192.0.2.1"), "email:x@a.example",
                          "URI:https://a.example/p", "IP:2001:db8::1"])
    text, verify = _req_text_and_verify(tmp_path, csr)
    assert "Subject: CN = csr, O = Org" in text.replace("CN=csr, O=Org", "CN = csr, O = Org")
    assert ("DNS:a.example, IP Address:192.0.2.1, email:x@a.example, URI:https://a.example/p, "
            "IP Address:2001:DB8:0:0:0:0:0:1") in text
    assert "ecdsa-with-SHA256" in text
    assert "verify OK" in verify
    assert csr.subject == "O=Org,CN=csr"
    assert csr.subject == "/CN=csr/O=Org"
    assert csr.public_key() == key
    exts = csr.extensions()
    assert exts.names() == ["subjectAltName"] and exts.has_san


def test_csr_build_ed25519_and_rfc4514_subject(tmp_path):
    key = PrivateKey.generate("Ed25519")
    csr = CSR.build(Name.from_rfc4514("CN=ed,O=x"), key)
    text, verify = _req_text_and_verify(tmp_path, csr)
    assert "Subject: O = x, CN = ed" in text.replace("O=x, CN=ed", "O = x, CN = ed")
    assert "Signature Algorithm: ED25519" in text
    assert "verify OK" in verify
    assert len(csr.extensions()) == 0


def test_csr_build_rsa(tmp_path, rsa_key):
    csr = CSR.build("CN=rsa", rsa_key, sans=["DNS:r.example"])
    text, verify = _req_text_and_verify(tmp_path, csr)
    assert "sha256WithRSAEncryption" in text and "DNS:r.example" in text
    assert "verify OK" in verify


def test_csr_build_with_extensions(tmp_path):
    key = PrivateKey.generate("EC")
    csr = CSR.build("/CN=x", key,
                    extensions=Extensions({"keyUsage": "critical,digitalSignature"}))
    text, verify = _req_text_and_verify(tmp_path, csr)
    assert "X509v3 Key Usage: critical" in text and "Digital Signature" in text
    assert "verify OK" in verify
    assert csr.extensions().names() == ["keyUsage"]
    assert csr.extensions().critical(0)


def test_csr_build_with_sans_and_extensions():
    csr = CSR.build("/CN=x", PrivateKey.generate("EC"), sans=["DNS:a.example"],
                    extensions=Extensions({"keyUsage": "digitalSignature"}))
    assert sorted(csr.extensions().names()) == ["keyUsage", "subjectAltName"]


@pytest.mark.parametrize("san", ["RID:1.2.3.4", "dirName:/CN=y"])
def test_csr_build_rid_and_dirname_sans(san):
    csr = CSR.build("/CN=x", PrivateKey.generate("EC"), sans=[san])
    assert csr.extensions().has_san


def test_csr_build_uri_with_comma():
    csr = CSR.build("/CN=x", PrivateKey.generate("EC"), sans=["URI:http://a.example/a,b"])
    assert "URI:http://a.example/a,b" in csr.extensions().text(0)


def test_csr_build_bad_arguments(ee_key):
    with pytest.raises(TypeError):
        CSR.build("/CN=x", ee_key.public_key())
    with pytest.raises(TypeError):
        CSR.build("/CN=x", "key")
    with pytest.raises(TypeError):
        CSR.build(5, ee_key)
    with pytest.raises(TypeError):
        CSR.build("/CN=x", ee_key, sans=[5])
    with pytest.raises(TypeError):
        CSR.build("/CN=x", ee_key, extensions={"keyUsage": "digitalSignature"})
    with pytest.raises(ValueError):
        CSR.build("/CN=x", ee_key, sans=["bogus"])
    with pytest.raises(ValueError):
        CSR.build("CN", ee_key)


def test_csr_children_outlive_parent(pki, ee_key):
    csr = CSR.from_file(pki.ee_csr)
    subject, pub = csr.subject, csr.public_key()
    csr.close()
    csr.close()
    gc.collect()
    assert str(subject) == "CN=test-client"
    assert pub == ee_key
    with pytest.raises(ValueError):
        csr.to_der()


def test_csr_with_closes(pki):
    with CSR.from_file(pki.ee_csr) as csr:
        assert csr.subject
    assert csr.closed


def test_csr_cryptography_round_trip(pki):
    pytest.importorskip("cryptography")
    csr = CSR.from_file(pki.ee_csr)
    theirs = csr.to_cryptography()
    assert theirs.is_signature_valid
    assert theirs.subject.rfc4514_string() == "CN=test-client"
    assert CSR.from_cryptography(theirs) == csr


# ======================================================================================
# Extensions
# ======================================================================================

def test_extensions_from_mapping():
    exts = Extensions({"subjectAltName": "DNS:a.example",
                       "keyUsage": "critical,digitalSignature"})
    assert len(exts) == 2
    assert exts.names() == ["subjectAltName", "keyUsage"]
    assert [exts.critical(0), exts.critical(1)] == [False, True]
    assert exts.text(0) == "DNS:a.example"
    assert exts.text(1) == "Digital Signature"
    assert exts.has_san
    assert repr(exts) == "<Extensions ['subjectAltName', 'keyUsage']>"


def test_extensions_from_pairs_and_empty():
    exts = Extensions([("basicConstraints", "critical,CA:FALSE")])
    assert exts.names() == ["basicConstraints"] and not exts.has_san
    assert exts.text(0) == "CA:FALSE"
    empty = Extensions()
    assert len(empty) == 0 and empty.names() == [] and not empty.has_san
    assert empty.to_der() == b"\x30\x00"
    assert Extensions({}) == empty


def test_extensions_der_round_trip_and_equality():
    exts = Extensions({"subjectAltName": "DNS:a.example"})
    der = exts.to_der()
    # SEQUENCE { Extension { OID subjectAltName, OCTET STRING { SEQUENCE { [2] "a.example" } } } }
    assert der == bytes.fromhex("301630140603551d11040d300b8209612e6578616d706c65")
    again = Extensions.from_der(der)
    assert again == exts and hash(again) == hash(exts)
    assert again != Extensions({"subjectAltName": "DNS:b.example"})
    assert exts != {"subjectAltName": "DNS:a.example"}
    with pytest.raises(ValueError, match="trailing"):
        Extensions.from_der(der + b"\x00")
    with pytest.raises(OpenSSLError):
        Extensions.from_der(b"\x30\x03\x02\x01\x00")


def test_extensions_unknown_oid_name():
    exts = Extensions.from_der(bytes.fromhex("300d300b06032a0304040430020500"))
    assert exts.names() == ["1.2.3.4"]


def test_extensions_invalid():
    with pytest.raises(OpenSSLError):
        Extensions({"noSuchExtension": "x"})
    with pytest.raises(OpenSSLError):
        Extensions({"keyUsage": "nonsense"})
    with pytest.raises(TypeError):
        Extensions([("keyUsage",)])
    with pytest.raises(TypeError):
        Extensions("keyUsage")
    with pytest.raises(TypeError):
        Extensions({1: "x"})
    with pytest.raises(TypeError):
        Extensions({"keyUsage": None})
    with pytest.raises(TypeError):
        Extensions(5)
    with pytest.raises(ValueError):
        Extensions({"keyUsage": "digitalSignature\0"})


def test_extensions_critical_index_out_of_range():
    exts = Extensions({"keyUsage": "critical,digitalSignature"})
    with pytest.raises(IndexError):
        exts.critical(5)


def test_extensions_text_index_out_of_range_does_not_crash():
    result = run_isolated("""
        from openssl_cmp import Extensions
        exts = Extensions({"keyUsage": "digitalSignature"})
        try:
            exts.text(1)
        except IndexError:
            print("IndexError")
        try:  # Python-style negative indexing would be fine too
            print("ok" if exts.text(-1) == "Digital Signature" else "wrong")
        except IndexError:
            print("ok")
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["IndexError", "ok"]


def test_extensions_closed():
    exts = Extensions({"keyUsage": "digitalSignature"})
    with exts:
        pass
    exts.close()
    assert exts.closed
    assert repr(exts) == "<Extensions closed>"
    with pytest.raises(ValueError):
        len(exts)
    with pytest.raises(ValueError):
        _ = exts.has_san


def test_extensions_and_policy_deepcopy():
    exts = Extensions({"keyUsage": "digitalSignature"})
    assert copy.deepcopy(exts) == exts
    policy = PolicyInfo("1.2.3.4")
    assert copy.deepcopy(policy) == policy


# ======================================================================================
# PolicyInfo
# ======================================================================================

def test_policy_info():
    policy = PolicyInfo("1.2.3.4")
    assert policy.oid == "1.2.3.4"
    assert policy.to_der() == bytes.fromhex("300506032a0304")
    assert PolicyInfo.from_der(policy.to_der()) == policy
    assert PolicyInfo("2.5.29.32.0").oid == "2.5.29.32.0"
    assert repr(policy) == "<PolicyInfo 1.2.3.4>"


def test_policy_info_equality_and_hash():
    a, b = PolicyInfo("1.2.3.4"), PolicyInfo("1.2.3.4")
    assert a == b and hash(a) == hash(b)
    assert a != PolicyInfo("1.2.3.5")
    assert a != "1.2.3.4"


def test_policy_info_invalid():
    for bad in ("not an oid", "1", "anyPolicy", "", "1.2.x"):
        with pytest.raises((ValueError, OpenSSLError)):
            PolicyInfo(bad)
    with pytest.raises(TypeError):
        PolicyInfo(1234)
    with pytest.raises(ValueError):
        PolicyInfo("1.2\x003")
    with pytest.raises(ValueError, match="trailing"):
        PolicyInfo.from_der(bytes.fromhex("300506032a0304") + b"\x00")
    with pytest.raises(OpenSSLError):
        PolicyInfo.from_der(b"\x30\x00")


def test_policy_info_closed():
    policy = PolicyInfo("1.2.3.4")
    policy.close()
    policy.close()
    assert repr(policy) == "<PolicyInfo closed>"
    with pytest.raises(ValueError):
        _ = policy.oid


def test_long_oids_not_truncated():
    long_oid_tlv = _der.single(PolicyInfo(LONG_OID).to_der()).value  # the OID TLV
    ext = _seq(long_oid_tlv, b"\x04\x02\x05\x00")
    ext_der = b"\x30" + bytes([len(ext)]) + ext
    results = [PolicyInfo(LONG_OID).oid, ITAV(LONG_OID).type,
               Extensions.from_der(ext_der).names()[0]]
    assert results == [LONG_OID] * 3


# ======================================================================================
# ITAV
# ======================================================================================

def test_itav_without_value():
    itav = ITAV("1.2.3.4")
    assert itav.type == "1.2.3.4"
    assert itav.value_der is None
    assert itav.name == "1.2.3.4"
    assert repr(itav) == "<ITAV 1.2.3.4>"


def test_itav_with_value():
    itav = ITAV("1.2.3.4", value_der=b"\x30\x03\x02\x01\x07")
    assert itav.value_der == b"\x30\x03\x02\x01\x07"
    assert ITAV("1.2.3.4", bytearray(b"\x05\x00")).value_der == b"\x05\x00"
    assert repr(itav) == "<ITAV 1.2.3.4 5 bytes>"


def test_itav_known_type_by_name_and_oid():
    by_oid = ITAV("1.3.6.1.5.5.7.4.17")
    assert by_oid.name == "id-it-caCerts"
    by_name = ITAV("id-it-caCerts")
    assert by_name.type == "1.3.6.1.5.5.7.4.17"
    assert by_name == by_oid


def test_itav_equality_and_hash():
    a = ITAV("1.2.3.4", b"\x05\x00")
    b = ITAV("1.2.3.4", b"\x05\x00")
    assert a == b and hash(a) == hash(b)
    assert a != ITAV("1.2.3.4")
    assert a != ITAV("1.2.3.5", b"\x05\x00")
    assert a != ("1.2.3.4", b"\x05\x00")
    assert len({a, b, ITAV("1.2.3.4")}) == 2


def test_itav_invalid():
    for bad in ("not an oid", "1.2.x"):
        with pytest.raises((ValueError, OpenSSLError)):
            ITAV(bad)
    with pytest.raises(OpenSSLError):
        ITAV("1.2.3.4", b"\x30\x05\x02")
    with pytest.raises(ValueError):
        ITAV("1.2.3.4", b"\x05\x00\x05\x00")
    with pytest.raises(TypeError):
        ITAV(1234)
    with pytest.raises(TypeError):
        ITAV("1.2.3.4", value_der="\x05\x00")
    with pytest.raises(ValueError):
        ITAV("1.2.3.4\0")


def test_itav_deepcopy_and_close():
    itav = ITAV("1.2.3.4", b"\x05\x00")
    clone = copy.deepcopy(itav)
    itav.close()
    itav.close()
    assert clone == ITAV("1.2.3.4", b"\x05\x00")
    assert repr(itav) == "<ITAV closed>"
    with pytest.raises(ValueError):
        _ = itav.type


def test_itav_known_info_type_with_value_does_not_crash():
    result = run_isolated("""
        import gc
        from openssl_cmp import ITAV
        for oid, der in (("1.3.6.1.5.5.7.4.1", b"\\x05\\x00"),
                         ("1.3.6.1.5.5.7.4.2", b"\\x30\\x00"),
                         ("1.3.6.1.5.5.7.4.16", b"\\x30\\x00")):
            try:
                itav = ITAV(oid, der)
                itav.value_der
                del itav
            except Exception as exc:
                print(type(exc).__name__)
            gc.collect()
        print("done")
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == "done"


# ======================================================================================
# StatusInfo
# ======================================================================================

def test_status_info_fields():
    si = StatusInfo(PKIStatus.REJECTION, FailInfo.BAD_REQUEST | FailInfo.BAD_POP, "no")
    assert si.status is PKIStatus.REJECTION
    assert si.fail_info == FailInfo.BAD_REQUEST | FailInfo.BAD_POP
    assert isinstance(si.fail_info, FailInfo)
    assert si.text == "no" and si.texts == ["no"]
    plain = StatusInfo(0)
    assert plain.status is PKIStatus.ACCEPTED
    assert plain.fail_info == 0 and plain.text is None and plain.texts == []
    assert StatusInfo(3, 0, ["a", "b"]).text == "a"
    assert StatusInfo(3, 0, ("a",)).texts == ["a"]


def test_status_info_str_is_openssl_snprint():
    assert str(StatusInfo(0)) == "PKIStatus: accepted"
    assert str(StatusInfo(PKIStatus.REJECTION, FailInfo.BAD_REQUEST | FailInfo.BAD_POP, "no")) \
        == 'PKIStatus: rejection; PKIFailureInfo: badRequest, badPOP; StatusString: "no"'
    assert str(StatusInfo(PKIStatus.GRANTED_WITH_MODS, FailInfo.DUPLICATE_CERT_REQ)) \
        == "PKIStatus: granted with modifications; PKIFailureInfo: duplicateCertReq"
    assert str(StatusInfo(PKIStatus.WAITING)) == "PKIStatus: waiting; <no failure info>"


def test_status_info_c_round_trip():
    for si in (StatusInfo(0), StatusInfo(2, FailInfo.BAD_ALG, "x"),
               StatusInfo(6, FailInfo.DUPLICATE_CERT_REQ | FailInfo.BAD_ALG, "ü"),
               StatusInfo(PKIStatus.REVOCATION_NOTIFICATION)):
        pkisi = si._to_c()
        try:
            assert pkisi != ffi.NULL
            again = StatusInfo._from_c(pkisi)
            der = _der.pkistatusinfo(openssl_cmp._bio.i2d(lib.i2d_OSSL_CMP_PKISI, pkisi, "si"))
        finally:
            lib.OSSL_CMP_PKISI_free(pkisi)
        assert again == si
        assert der == (int(si.status), int(si.fail_info), si.texts)


def test_status_info_c_round_trip_keeps_all_texts():
    si = StatusInfo(PKIStatus.WAITING, 0, ["a", "b"])
    pkisi = si._to_c()
    try:
        again = StatusInfo._from_c(pkisi)
    finally:
        lib.OSSL_CMP_PKISI_free(pkisi)
    assert again.texts == ["a", "b"]


def test_status_info_equality_and_hash():
    a = StatusInfo(2, 4, "x")
    b = StatusInfo(PKIStatus.REJECTION, FailInfo.BAD_REQUEST, ["x"])
    assert a == b and hash(a) == hash(b)
    assert a != StatusInfo(2, 4, "y")
    assert a != StatusInfo(2, 8, "x")
    assert a != StatusInfo(0)
    assert a != 2
    assert repr(a) == "StatusInfo(REJECTION, ['BAD_REQUEST'], ['x'])"


def test_status_info_out_of_range():
    for bad in (-1, 7, PKIStatus.TRANS):
        with pytest.raises(ValueError):
            StatusInfo(bad)
    with pytest.raises(ValueError):
        StatusInfo(0, 1 << 27)
    with pytest.raises(ValueError):
        StatusInfo(0, -1)
    StatusInfo(0, (1 << 27) - 1)  # every defined bit is fine


def test_status_info_wrong_types():
    with pytest.raises(TypeError):
        StatusInfo(True)
    with pytest.raises(TypeError):
        StatusInfo("0")
    with pytest.raises(TypeError):
        StatusInfo(0, True)
    with pytest.raises(TypeError):
        StatusInfo(0, 1.0)
    with pytest.raises(TypeError):
        StatusInfo(0, 0, 5)
    with pytest.raises(TypeError):
        StatusInfo(0, 0, ["a", 5])
    with pytest.raises(ValueError):
        StatusInfo(0, 0, "a\0")


# ======================================================================================
# Message
# ======================================================================================

def test_message_read_and_der_round_trip(cmp_messages):
    req_path, rsp_path = cmp_messages
    req = Message.read(req_path)
    assert req.to_der() == req_path.read_bytes()
    assert Message.from_der(req_path.read_bytes()) == req
    assert Message.read(str(rsp_path)).to_der() == rsp_path.read_bytes()


def test_message_body_types(cmp_messages):
    req, rsp = (Message.read(p) for p in cmp_messages)
    assert req.body_type is BodyType.IR
    assert rsp.body_type is BodyType.IP


def test_message_header_fields(cmp_messages):
    req, rsp = (Message.read(p) for p in cmp_messages)
    assert isinstance(req.transaction_id, bytes) and len(req.transaction_id) == 16
    assert rsp.transaction_id == req.transaction_id
    assert len(req.sender_nonce) == 16 and len(rsp.sender_nonce) == 16
    assert rsp.sender_nonce != req.sender_nonce
    assert req.recip_nonce is None
    assert rsp.recip_nonce == req.sender_nonce
    assert req.sender_kid == b"x"  # the PBM reference
    assert rsp.sender_kid == b"x"
    assert req.pvno == 2 and rsp.pvno == 2


def test_message_sender_and_recipient(cmp_messages):
    req, rsp = (Message.read(p) for p in cmp_messages)
    assert req.sender == GeneralName.directory("/CN=x")
    assert str(req.sender) == "DirName:CN = x"
    assert req.recipient == GeneralName.directory(Name.parse("/"))  # NULL-DN
    assert rsp.recipient == GeneralName.directory("/CN=x")


def test_message_write(cmp_messages, tmp_path):
    req = Message.read(cmp_messages[0])
    out = tmp_path / "copy.der"
    req.write(out)
    assert out.read_bytes() == cmp_messages[0].read_bytes()
    req.write(str(tmp_path / "copy2.der"))
    assert Message.read(tmp_path / "copy2.der") == req
    with pytest.raises(OpenSSLError):
        req.write(tmp_path / "no" / "such" / "dir.der")


def test_message_equality_hash_repr(cmp_messages):
    req, rsp = (Message.read(p) for p in cmp_messages)
    again = Message.from_der(cmp_messages[0].read_bytes())
    assert req == again and hash(req) == hash(again)
    assert req != rsp
    assert req != cmp_messages[0].read_bytes()
    assert repr(req) == "<Message IR tid=%s>" % req.transaction_id.hex()[:16]


def test_message_bad_input(cmp_messages, tmp_path):
    with pytest.raises(OpenSSLError):
        Message.from_der(b"\x30\x03\x02\x01\x02")
    with pytest.raises(ValueError, match="trailing"):
        Message.from_der(cmp_messages[0].read_bytes() + b"\x00")
    with pytest.raises(TypeError):
        Message.from_der("text")
    with pytest.raises(OpenSSLError):
        Message.read(tmp_path / "missing.der")
    with pytest.raises(TypeError):
        Message.read(12)
    with pytest.raises(ValueError):
        Message.read("a\0b")
    garbage = tmp_path / "garbage.der"
    garbage.write_bytes(b"garbage")
    with pytest.raises(OpenSSLError):
        Message.read(garbage)


def test_message_write_bad_path(cmp_messages):
    req = Message.read(cmp_messages[0])
    with pytest.raises(ValueError):
        req.write("a\0b")
    with pytest.raises(TypeError):
        req.write(12)


def test_message_lifetime(cmp_messages):
    req = Message.read(cmp_messages[0])
    clone = copy.deepcopy(req)
    sender = req.sender
    with req:
        pass
    assert req.closed
    req.close()
    gc.collect()
    assert repr(req) == "<Message closed>"
    with pytest.raises(ValueError):
        _ = req.body_type
    assert str(sender) == "DirName:CN = x"
    assert clone.body_type is BodyType.IR


# ======================================================================================
# CertRequest
# ======================================================================================

@pytest.fixture
def crm_and_key():
    key = PrivateKey.generate("EC")
    ctx = Context()
    ctx.subject_name = "/CN=crm"
    ctx.set_new_pkey(key)
    ctx.push_subject_alt_name("DNS:a.example")
    crm = ctx.setup_crm()
    ctx.close()
    return crm, key


def test_cert_request_template(crm_and_key):
    crm, key = crm_and_key
    assert isinstance(crm, CertRequest)
    assert crm.subject == Name.parse("/CN=crm")
    assert crm.public_key == key.public_key()
    assert crm.extensions.has_san
    assert crm.extensions.names() == ["subjectAltName"]
    assert crm.extensions.text(0) == "DNS:a.example"
    assert crm.cert_req_id == 0
    assert crm.issuer is None
    assert crm.serial_number is None
    assert crm.old_cert_id is None
    assert repr(crm) == "<CertRequest id=0 subject=CN=crm>"


def test_cert_request_der_round_trip(crm_and_key):
    crm, key = crm_and_key
    der = crm.to_der()
    again = CertRequest.from_der(der)
    assert again.to_der() == der
    assert again.subject == crm.subject and again.public_key == key
    with pytest.raises(ValueError, match="trailing"):
        CertRequest.from_der(der + b"\x00")
    with pytest.raises(OpenSSLError):
        CertRequest.from_der(b"\x30\x00")
    with pytest.raises(TypeError):
        CertRequest.from_der("x")


def test_cert_request_id_issuer_and_old_cert(pki, ee_cert, ee_key):
    ctx = Context()
    ctx.old_cert = ee_cert
    ctx.set_new_pkey(ee_key)
    ctx.issuer = "/CN=Test CA"
    crm = ctx.setup_crm(for_kur=True, cert_req_id=5)
    ctx.close()
    assert crm.cert_req_id == 5
    assert crm.issuer == ee_cert.issuer
    assert crm.subject == ee_cert.subject  # taken from the old certificate
    issuer, serial = crm.old_cert_id
    assert issuer == ee_cert.issuer and serial == ee_cert.serial_number
    assert crm.public_key == ee_cert.public_key()


def test_cert_request_children_outlive_it(crm_and_key):
    crm, key = crm_and_key
    subject, pub, exts = crm.subject, crm.public_key, crm.extensions
    crm.close()
    crm.close()
    gc.collect()
    assert str(subject) == "CN=crm" and pub == key and exts.has_san
    assert repr(crm) == "<CertRequest closed>"
    with pytest.raises(ValueError):
        _ = crm.cert_req_id


# ======================================================================================
# _der
# ======================================================================================

def test_der_read_tlv_short_and_long_lengths():
    tlv, end = _der.read_tlv(b"\x04\x03abc")
    assert (tlv.tag, tlv.value, tlv.raw, end) == (4, b"abc", b"\x04\x03abc", 5)
    data = b"\x04\x81\x80" + b"a" * 128
    tlv, end = _der.read_tlv(data)
    assert tlv.value == b"a" * 128 and end == len(data) and tlv.raw == data
    data = b"\x04\x82\x01\x00" + b"b" * 256
    tlv, end = _der.read_tlv(data)
    assert len(tlv.value) == 256 and end == 260
    # reading at an offset
    tlv, end = _der.read_tlv(b"\x05\x00\x02\x01\x07", 2)
    assert (tlv.tag, tlv.value, end) == (2, b"\x07", 5)


def test_der_read_tlv_errors():
    for bad in (b"", b"\x04", b"\x04\x05abc", b"\x04\x82\x01", b"\x04\x81\x05ab",
                b"\x30\x80\x00\x00", b"\x04\x85\x00\x00\x00\x00\x01a", b"\x1f\x01\x00"):
        with pytest.raises(ValueError):
            _der.read_tlv(bad)


def test_der_children_single_integer():
    assert [t.tag for t in _der.children(b"\x05\x00\x02\x01\x01")] == [5, 2]
    assert _der.children(b"") == []
    with pytest.raises(ValueError):
        _der.children(b"\x05\x00\x02")
    with pytest.raises(ValueError, match="trailing"):
        _der.single(b"\x05\x00\x00")
    assert _der.integer(_der.single(b"\x02\x01\xff")) == -1
    assert _der.integer(_der.single(b"\x02\x02\x00\xff")) == 255
    with pytest.raises(ValueError):
        _der.integer(_der.single(b"\x04\x01\xff"))


def test_der_context_number():
    assert _der.TLV(0xA5, b"", b"").context_number == 5
    assert _der.TLV(0x82, b"", b"").context_number == 2
    assert _der.TLV(0x30, b"", b"").context_number is None


def test_der_bit_string_flags():
    # bit 0 is the first (most significant) bit of the first content octet
    assert _der.bit_string_flags(_der.single(b"\x03\x02\x05\xa0")) == 0b101
    assert _der.bit_string_flags(_der.single(b"\x03\x03\x07\x00\x80")) == 1 << 8
    assert _der.bit_string_flags(_der.single(b"\x03\x01\x00")) == 0
    with pytest.raises(ValueError):
        _der.bit_string_flags(_der.TLV(3, b"", b"\x03\x00"))
    with pytest.raises(ValueError):
        _der.bit_string_flags(_der.single(b"\x04\x01\x00"))


def test_der_utf8_strings():
    assert _der.utf8_strings(_der.single(b"\x30\x07\x0c\x01a\x0c\x02\xc3\xbc")) == ["a", "ü"]
    with pytest.raises(ValueError):
        _der.utf8_strings(_der.single(b"\x0c\x01a"))


def _seq(*parts: bytes) -> bytes:
    body = b"".join(parts)
    return b"\x30" + bytes([len(body)]) + body


def test_der_pkistatusinfo():
    texts = _seq(b"\x0c\x03foo", b"\x0c\x03bar")
    der = _seq(b"\x02\x01\x02", texts, b"\x03\x02\x04\xa0")
    assert _der.pkistatusinfo(der) == (2, 0b101, ["foo", "bar"])
    assert _der.pkistatusinfo(_seq(b"\x02\x01\x00")) == (0, 0, [])
    for bad in (b"\x30\x00", b"\x02\x01\x00", _seq(b"\x04\x01\x00"), der + b"\x00"):
        with pytest.raises(ValueError):
            _der.pkistatusinfo(bad)


def test_der_pkistatusinfo_matches_openssl():
    si = StatusInfo(PKIStatus.REJECTION, FailInfo.BAD_ALG | FailInfo.SYSTEM_FAILURE, "t")
    pkisi = si._to_c()
    try:
        der = openssl_cmp._bio.i2d(lib.i2d_OSSL_CMP_PKISI, pkisi, "si")
    finally:
        lib.OSSL_CMP_PKISI_free(pkisi)
    assert _der.pkistatusinfo(der) == (2, (1 << 0) | (1 << 25), ["t"])


def test_der_pkiheader(cmp_messages):
    req = Message.read(cmp_messages[0])
    hdr_der = openssl_cmp._bio.i2d(lib.i2d_OSSL_CMP_PKIHEADER,
                                   lib.OSSL_CMP_MSG_get0_header(req.ptr), "hdr")
    fields = _der.pkiheader(hdr_der)
    assert fields["pvno"] == 2
    assert fields["sender"] == GeneralName.directory("/CN=x").to_der()
    assert fields["sender_kid"] == b"x"
    assert fields["transaction_id"] == req.transaction_id
    assert "recip_nonce" not in fields
    with pytest.raises(ValueError):
        _der.pkiheader(_seq(b"\x02\x01\x02"))


# ======================================================================================
# errors
# ======================================================================================

def test_openssl_error_carries_queue_entries():
    with pytest.raises(OpenSSLError) as info:
        Certificate.from_der(b"\x30\x03\x02\x01\x01")
    exc = info.value
    assert isinstance(exc, openssl_cmp.Error)
    assert exc.errors and all(isinstance(e, openssl_cmp.ErrorEntry) for e in exc.errors)
    first = exc.errors[0]
    assert first.lib_code == 13  # ERR_LIB_ASN1
    assert exc.has(first.lib_code, first.reason_code)
    assert not exc.has(first.lib_code, 0xFFF)
    assert str(first).startswith(first.lib + ": " + first.reason)
    assert exc.message in str(exc)


def test_error_entry_str_with_data():
    with pytest.raises(OpenSSLError) as info:
        GeneralName.ip("999.1.1.1")
    assert any(e.data == "value=999.1.1.1" and "(value=999.1.1.1)" in str(e)
               for e in info.value.errors)


def test_cmp_error_and_unsupported_error():
    exc = CMPError("failed", [], PKIStatus.REJECTION, FailInfo.BAD_POP, ["why"])
    assert isinstance(exc, OpenSSLError)
    assert exc.server_rejected
    assert exc.status_strings == ["why"]
    assert str(exc) == "failed [status=rejection, fail_info=['BAD_POP'], status_strings=['why']]"
    assert not CMPError("local").server_rejected
    assert issubclass(UnsupportedError, NotImplementedError)
    with pytest.raises(UnsupportedError, match="needs OpenSSL"):
        errors.require("OSSL_CMP_no_such_function")
    errors.require("OSSL_CMP_CTX_new")


def test_errors_check():
    errors.check(1, "fine")
    with pytest.raises(OpenSSLError, match="boom"):
        errors.check(0, "boom")
    with pytest.raises(OpenSSLError):
        errors.check(ffi.NULL, "boom")
