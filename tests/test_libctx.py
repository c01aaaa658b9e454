"""LibContext: an OSSL_LIB_CTX with its own providers; objects made in it keep it alive, and
a Context built on it enrolls against MockCA."""

import gc
import os
from pathlib import Path

import pytest

from openssl_cmp import (Context, LibContext, OpenSSLError, PrivateKey, TrustStore,
                         load_certificate)
from openssl_cmp.binding import ffi, lib
from openssl_cmp.testing import MockCA

MODULES = Path("/usr/lib/x86_64-linux-gnu/ossl-modules")
HAS_LEGACY = (MODULES / "legacy.so").exists()


def test_default_provider_only():
    with LibContext() as lc:
        assert lc.providers == ("default",)
        assert lc.is_available("default")
        assert not lc.is_available("legacy")
        assert ffi.typeof(lc.ptr) is ffi.typeof("OSSL_LIB_CTX *")
        assert lc.ptr != ffi.NULL
        key = PrivateKey.generate("EC", libctx=lc)
        assert key.key_type == "EC" and key.key_size == 256
        assert repr(lc) == "<LibContext providers=['default']>"
    assert lc.closed and repr(lc) == "<LibContext closed>"
    with pytest.raises(ValueError, match="closed"):
        lc.ptr


def test_a_fetch_needs_a_provider_of_the_context():
    # "base" has encoders/decoders but no key management: nothing can make an EC key
    with LibContext(providers=("base",)) as lc:
        assert not lc.is_available("default")
        with pytest.raises(OpenSSLError):
            PrivateKey.generate("EC", libctx=lc)


@pytest.mark.skipif(not HAS_LEGACY, reason="OpenSSL's legacy provider is not installed")
def test_legacy_provider():
    with LibContext(providers=("default", "legacy")) as lc:
        assert lc.providers == ("default", "legacy")
        assert lc.is_available("legacy")
        # MD4 lives only in the legacy provider
        md4 = lib.EVP_MD_fetch(lc.ptr, b"MD4", ffi.NULL)
        assert md4 != ffi.NULL
        lib.EVP_MD_free(md4)
    with LibContext() as plain:
        md4 = lib.EVP_MD_fetch(plain.ptr, b"MD4", ffi.NULL)
        assert md4 == ffi.NULL
        lib.ERR_clear_error()  # the failed fetch is what we checked


def test_search_path(tmp_path):
    if not HAS_LEGACY:
        pytest.skip("OpenSSL's legacy provider is not installed")
    os.symlink(MODULES / "legacy.so", tmp_path / "legacy.so")
    with LibContext(providers=("default", "legacy"), search_path=tmp_path) as lc:
        assert lc.is_available("legacy")
    with pytest.raises(OpenSSLError, match="search path"):
        LibContext(providers=("legacy",), search_path=tmp_path / "empty")


def test_missing_provider_is_a_clear_error():
    with pytest.raises(OpenSSLError, match="cannot load the OpenSSL provider 'no-such-provider'"
                       ) as info:
        LibContext(providers=("default", "no-such-provider"))
    assert info.value.errors  # OpenSSL's own reason (the DSO could not be loaded)


def test_config_file(tmp_path):
    cnf = tmp_path / "openssl.cnf"
    cnf.write_text("openssl_conf = init\n[init]\nproviders = provs\n"
                   "[provs]\nbase = base_sect\n[base_sect]\nactivate = 1\n")
    with LibContext(providers=(), config=cnf) as lc:
        assert lc.providers == ()
        assert lc.is_available("base")
    bad = tmp_path / "bad.cnf"
    bad.write_text("[unterminated\n")
    with pytest.raises(OpenSSLError, match="configuration"):
        LibContext(config=bad)
    with pytest.raises(FileNotFoundError):
        LibContext(config=tmp_path / "missing.cnf")


@pytest.mark.parametrize("kwargs, exc", [
    ({"providers": "default"}, TypeError),
    ({"providers": (b"default",)}, TypeError),
    ({"providers": ("",)}, ValueError),
    ({"providers": ("de\0fault",)}, ValueError),
    ({"config": 3}, TypeError),
    ({"search_path": 3}, TypeError),
])
def test_bad_arguments_before_any_c_call(kwargs, exc):
    with pytest.raises(exc):
        LibContext(**kwargs)


def test_bad_libctx_argument():
    with pytest.raises(TypeError, match="libctx"):
        PrivateKey.generate(libctx="default")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="propq"):
        PrivateKey.generate(propq=1)  # type: ignore[arg-type]


def test_objects_keep_the_context_alive(pki):
    """Closing the LibContext and dropping it while keys and certificates made in it are
    alive must not free the C context under them."""
    lc = LibContext()
    key = PrivateKey.generate("EC", libctx=lc)
    loaded = PrivateKey.load(pki.ee_key, libctx=lc)
    cert = load_certificate(pki.ee_crt, libctx=lc)
    copy = key.copy()
    lc.close()
    del lc
    gc.collect()
    del key
    gc.collect()
    # each still works: its keymgmt lives in the context's provider
    assert copy.public_key() == copy
    assert loaded.to_der() and cert.public_key() == loaded
    assert PrivateKey.from_der(copy.to_der()).key_type == "EC"


def test_propq_selects_the_provider():
    with LibContext() as lc:
        assert PrivateKey.generate("EC", libctx=lc, propq="provider=default").key_size == 256
        with pytest.raises(OpenSSLError):
            PrivateKey.generate("EC", libctx=lc, propq="provider=nonesuch")


def test_context_accepts_a_libcontext():
    lc = LibContext()
    ctx = Context(libctx=lc)
    lc.close()
    del lc
    gc.collect()
    assert ctx.libctx is not None  # the context still holds it
    ctx.close()


@pytest.mark.parametrize("source", ["generated", "loaded"])
def test_enrollment_with_a_key_of_a_libcontext(pki, source):
    """RFC 4210 §5.3.1 (ir/ip) with a Context and key of their own library context."""
    mock = MockCA()
    with LibContext() as lc:
        key = (PrivateKey.generate("EC", libctx=lc) if source == "generated"
               else PrivateKey.load(pki.ee_key, libctx=lc))
        with Context(libctx=lc) as ctx:
            ctx.reference_value = b"client-of-" + mock.reference
            ctx.secret_value = mock.secret
            ctx.trusted = TrustStore([mock.ca_cert])
            ctx.subject_name = "/CN=libctx"
            ctx.set_new_pkey(key)
            mock.attach(ctx)
            cert = ctx.exec_ir()
    assert cert.public_key() == key
    assert cert.is_issued_by(mock.ca_cert)


def test_server_and_mock_ca_accept_a_library_context():
    """Server(libctx=LibContext): its workers' contexts use it, and it stays
    alive as long as the server does."""
    lc = LibContext()
    mock = MockCA(libctx=lc)
    del lc  # the server holds the C context
    with mock.client(subject_name="/CN=in a libctx",
                     new_pkey=PrivateKey.generate("EC")) as ctx:
        cert = ctx.exec_ir()
    assert cert.is_issued_by(mock.ca_cert)
