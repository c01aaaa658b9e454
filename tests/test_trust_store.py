"""TrustStore: certificates and CRLs in, from files, verification flags, lifetime."""

from __future__ import annotations

import ctypes
import gc

import pytest

from openssl_cmp import CRL, Certificate, OpenSSLError, TrustStore
from openssl_cmp.binding import ffi, lib


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


# Guards against flags beyond C's range reaching C (an OverflowError from cffi).
def test_trust_store_flags_out_of_range():
    with pytest.raises(ValueError):
        TrustStore(flags=2 ** 64)
