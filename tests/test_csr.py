"""CSR: files written by the openssl CLI, PEM/DER round trips, ``CSR.build`` (checked with
``openssl req -verify``) with SANs and extensions, lifetime, the ``cryptography`` bridge."""

from __future__ import annotations

import gc

import pytest

from openssl_cmp import CSR, Extensions, GeneralName, Name, OpenSSLError, PrivateKey

from helpers import openssl_out, run_openssl


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
