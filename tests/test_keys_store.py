"""Keys and certificates by URI through OSSL_STORE: plain paths, ``file:`` URIs, encrypted
keys, bundles; and keys whose private part cannot be exported (as a token's) are never
encoded behind the caller's back."""

import copy
import pathlib

import pytest

from openssl_cmp import (Certificate, OpenSSLError, PrivateKey, PublicKey, load_certificate,
                         load_certificates)
from openssl_cmp.binding import ffi, lib
from openssl_cmp.libctx import bound
from openssl_cmp.testing import MockCA


def file_uri(path):
    return pathlib.Path(path).resolve().as_uri()


@pytest.mark.parametrize("form", ["str", "pathlike", "bytes", "file-uri"])
def test_private_key_by_path_or_uri(pki, form):
    uri = {"str": str(pki.ee_key), "pathlike": pki.ee_key,
           "bytes": bytes(pki.ee_key), "file-uri": file_uri(pki.ee_key)}[form]
    key = PrivateKey.load(uri)
    assert key.to_der() == PrivateKey.from_file(pki.ee_key).to_der()
    assert bound(key) is None  # the default library context


def test_der_and_encrypted_keys(pki, ders):
    assert PrivateKey.load(ders["key"]).to_der() == PrivateKey.from_file(pki.ee_key).to_der()
    for password in ("sesame", b"sesame", bytearray(b"sesame")):
        assert PrivateKey.load(ders["enc_key"], password).to_der() == \
            PrivateKey.from_file(pki.ee_key).to_der()


def test_wrong_or_missing_password(ders):
    with pytest.raises(OpenSSLError, match="wrong password") as info:
        PrivateKey.load(ders["enc_key"], "not-sesame")
    assert info.value.errors  # OpenSSL's reason: bad decrypt
    with pytest.raises(OpenSSLError, match="give the password"):
        PrivateKey.load(ders["enc_key"])  # never a terminal prompt


def test_password_checked_before_any_c_call(pki):
    with pytest.raises(ValueError, match="NUL"):
        PrivateKey.load(pki.ee_key, "a\0b")
    with pytest.raises(ValueError, match="at most"):
        PrivateKey.load(pki.ee_key, "x" * 1024)
    with pytest.raises(TypeError):
        PrivateKey.load(pki.ee_key, 1234)  # type: ignore[arg-type]


def test_bad_uri_arguments(tmp_path):
    with pytest.raises(FileNotFoundError):
        PrivateKey.load(tmp_path / "missing.pem")
    with pytest.raises(FileNotFoundError):
        PrivateKey.load(str(tmp_path / "missing.pem"))
    with pytest.raises(TypeError, match="uri"):
        PrivateKey.load(42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="empty"):
        load_certificate("")
    with pytest.raises(ValueError, match="NUL"):
        load_certificate("file:///a\0b")
    with pytest.raises(OpenSSLError, match="cannot open"):
        PrivateKey.load(file_uri(tmp_path / "missing.pem"))


def test_no_key_there(pki):
    with pytest.raises(OpenSSLError, match="no private key"):
        PrivateKey.load(pki.ee_crt)


def test_mixed_file_gives_each_kind(pki, tmp_path):
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(pki.ee_crt.read_bytes() + pki.ee_key.read_bytes()
                       + pki.ca_crt.read_bytes())
    key = PrivateKey.load(bundle)
    certs = load_certificates(bundle)
    assert certs == [Certificate.from_file(pki.ee_crt), Certificate.from_file(pki.ca_crt)]
    assert load_certificate(bundle) == certs[0]
    assert certs[0].public_key() == key
    assert PublicKey.load(bundle) == key  # the certificate comes first


def test_certificates(pki, ders):
    assert load_certificate(pki.ca_crt) == Certificate.from_file(pki.ca_crt)
    assert load_certificate(ders["ca"]) == Certificate.from_file(pki.ca_crt)  # DER
    assert load_certificate(file_uri(pki.ee_crt)) == Certificate.from_file(pki.ee_crt)
    assert load_certificates(pki.ee_key) == []
    with pytest.raises(OpenSSLError, match="no certificate"):
        load_certificate(pki.ee_key)


def test_public_keys(pki, ders):
    expected = PrivateKey.from_file(pki.ee_key).public_key()
    for source in (ders["pub_pem"], ders["pub"], pki.ee_key, pki.ee_crt):
        key = PublicKey.load(source)
        assert isinstance(key, PublicKey) and key == expected
    with pytest.raises(OpenSSLError, match="no public key"):
        PublicKey.load(pki.ee_csr)


def test_enrollment_with_a_key_loaded_by_uri(pki):
    """RFC 4210 §5.3.1: ir with a key loaded through a file: URI."""
    mock = MockCA()
    key = PrivateKey.load(file_uri(pki.ee_key))
    with mock.client(subject_name="/CN=by-uri", new_pkey=key) as ctx:
        cert = ctx.exec_ir()
    assert cert.public_key() == key


# -- keys whose private part does not export ----------------------------------------------

@pytest.fixture
def unexportable(pki):
    """A PrivateKey whose private part cannot be encoded (it has none: as with a token's key,
    every i2d of the private key fails), with its public twin."""
    public = PrivateKey.from_file(pki.ee_key).public_key()
    der = public.to_der()
    buf = ffi.new("unsigned char[]", der)
    p = ffi.new("const unsigned char **", buf)
    key = PrivateKey._owned(lib.d2i_PUBKEY(ffi.NULL, p, len(der)))
    with pytest.raises(OpenSSLError):
        key.to_der()  # the premise: exporting it fails
    return key, public


def test_nothing_implicit_exports_the_private_key(unexportable):
    key, public = unexportable
    assert repr(key) == "<PrivateKey EC 256 bits>"
    assert public == key and key == public  # compares public components only
    assert key != PrivateKey.generate()
    assert key == key and hash(key) == hash(key)
    twin = key.copy()
    assert twin.ptr == key.ptr  # a reference, not an encoded copy
    assert copy.deepcopy(key).ptr == key.ptr
    assert copy.copy(key) is key
    assert key.key_type == "EC" and key.key_size == 256
