"""PrivateKey and PublicKey (``keys.py``): generation, PEM/DER/file I/O with and without a
password (never prompting), equality by public part, lifetime, the ``cryptography`` bridge.

Expected values come from the ``openssl`` command line wherever it can print them.
"""

from __future__ import annotations

import gc
import subprocess

import pytest

from openssl_cmp import Certificate, OpenSSLError, PrivateKey, PublicKey, errors

from helpers import openssl_bytes


def drain_queue() -> list:
    """Empty the error queue inside a test and return what was there (so that a failing
    assertion is reported by the test itself, not by the fixture's teardown)."""
    return errors.drain()


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


# Guards against an absurd RSA size (2**40 bits) reaching key generation.
def test_generate_rsa_bits_out_of_range():
    with pytest.raises(ValueError):
        PrivateKey.generate("RSA", bits=2 ** 40)
