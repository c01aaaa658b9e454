"""CRL: PEM/DER/file round trips against the openssl CLI, lifetime, bad input."""

from __future__ import annotations

import copy

import pytest

from openssl_cmp import CRL, OpenSSLError

from helpers import openssl_out


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
