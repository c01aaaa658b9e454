"""Certificate: PEM/DER/file I/O, the fields (subject, issuer, serial, validity, public key,
fingerprint, extensions), issuer checks, equality, lifetime, and the ``cryptography`` bridge.

Expected values come from the ``openssl`` command line wherever it can print them.
"""

from __future__ import annotations

import copy
import datetime
import gc

import pytest

from openssl_cmp import Certificate, Name, OpenSSLError, PrivateKey, PublicKey
from openssl_cmp.binding import ffi, lib

from helpers import openssl_out, run_openssl


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


# Guards against a non-int ``days`` raising ValueError instead of TypeError.
def test_certificate_create_days_wrong_type():
    key = PrivateKey.generate()
    with pytest.raises(TypeError):
        Certificate.create("/CN=x", key, key, days="1")
