"""``Certificate.load(uri)``: a certificate through OSSL_STORE, as the
functions of openssl_cmp.store, from the class users look on first."""

import pytest

from openssl_cmp import Certificate, Error, LibContext, load_certificate


def test_load_from_path_and_file_uri(pki):
    expected = Certificate.from_file(pki.ca_crt)
    assert Certificate.load(pki.ca_crt) == expected
    assert Certificate.load(str(pki.ca_crt)) == expected
    assert Certificate.load("file:" + str(pki.ca_crt)) == expected
    assert Certificate.load(pki.ca_crt) == load_certificate(pki.ca_crt)


def test_load_der_file(ders):
    assert Certificate.load(ders["ca"]).subject == Certificate.from_file(ders["ca"]).subject


def test_load_in_a_library_context(pki):
    with LibContext() as lc:
        cert = Certificate.load(pki.ee_crt, libctx=lc)
    assert cert == Certificate.from_file(pki.ee_crt)  # outlives the LibContext object


def test_missing_file_and_no_certificate(pki, tmp_path):
    with pytest.raises(FileNotFoundError):
        Certificate.load(tmp_path / "absent.pem")
    with pytest.raises(Error, match="no certificate"):
        Certificate.load(pki.ee_key)  # a key, not a certificate
    with pytest.raises(TypeError):
        Certificate.load(42)
