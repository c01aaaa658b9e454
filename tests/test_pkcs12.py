"""PKCS#12 (RFC 7292) files written by ``openssl pkcs12 -export``: key, certificate and chain;
wrong passwords; legacy algorithms; enrollment with the key from a PKCS#12 file."""

import pytest

from helpers import run_isolated, run_openssl
from openssl_cmp import (Certificate, OpenSSLError, PrivateKey, WrongPasswordError,
                         load_pkcs12)
from openssl_cmp.testing import MockCA

MODERN = ("-keypbe", "AES-256-CBC", "-certpbe", "AES-256-CBC", "-macalg", "sha256")


def export(pki, tmp_path, name, *args, password="pw", chain=True, key=True):
    out = tmp_path / name
    cmd = ["pkcs12", "-export", "-in", str(pki.ee_crt), "-passout", "pass:" + password,
           "-out", str(out), *args]
    cmd += ["-inkey", str(pki.ee_key)] if key else ["-nokeys"]
    if chain:
        cmd += ["-certfile", str(pki.ca_crt)]
    run_openssl(*cmd)
    return out.read_bytes()


@pytest.mark.parametrize("algorithms", [(), MODERN], ids=["default", "aes-256-sha256"])
def test_key_certificate_and_chain(pki, tmp_path, algorithms):
    data = export(pki, tmp_path, "a.p12", *algorithms)
    key, cert, chain = load_pkcs12(data, "pw")
    assert isinstance(key, PrivateKey)
    assert key.to_der() == PrivateKey.from_file(pki.ee_key).to_der()
    assert cert == Certificate.from_file(pki.ee_crt)
    assert chain == [Certificate.from_file(pki.ca_crt)]
    assert load_pkcs12(bytearray(data), b"pw")[1] == cert  # bytes-like, bytes password


def test_without_key_or_chain(pki, tmp_path):
    key, cert, chain = load_pkcs12(export(pki, tmp_path, "n.p12", key=False, chain=False),
                                   "pw")
    assert key is None and cert is None  # no key: no "its" certificate either
    assert chain == [Certificate.from_file(pki.ee_crt)]


def test_empty_password(pki, tmp_path):
    data = export(pki, tmp_path, "e.p12", password="")
    for password in (None, ""):
        key, cert, _ = load_pkcs12(data, password)
        assert cert == Certificate.from_file(pki.ee_crt) and key is not None


def test_wrong_password(pki, tmp_path):
    data = export(pki, tmp_path, "w.p12")
    with pytest.raises(WrongPasswordError, match="wrong password") as info:
        load_pkcs12(data, "not-pw")
    assert isinstance(info.value, ValueError) and isinstance(info.value, OpenSSLError)
    assert info.value.errors
    with pytest.raises(WrongPasswordError):
        load_pkcs12(data, None)


def test_bad_input(pki, tmp_path):
    data = export(pki, tmp_path, "b.p12")
    with pytest.raises(TypeError):
        load_pkcs12(data.decode("latin-1"), "pw")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        load_pkcs12(data, 5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="NUL"):
        load_pkcs12(data, "p\0w")
    with pytest.raises(ValueError, match="trailing"):
        load_pkcs12(data + b"\0", "pw")
    with pytest.raises(OpenSSLError, match="PKCS#12"):
        load_pkcs12(b"\x30\x03\x02\x01\x03", "pw")


def test_legacy_algorithms(pki, tmp_path):
    """RC2-40 and 3DES (``-legacy``): a clear error in a process without the legacy provider,
    and a result once the legacy provider is loaded in the default library context."""
    result = run_openssl("pkcs12", "-export", "-legacy", "-in", str(pki.ee_crt), "-inkey",
                         str(pki.ee_key), "-passout", "pass:pw", "-out",
                         str(tmp_path / "legacy.p12"), check=False)
    if result.returncode != 0:
        pytest.skip("the openssl CLI cannot write legacy PKCS#12: %s" % result.stderr)
    path = tmp_path / "legacy.p12"
    code = """
        import sys
        from openssl_cmp import OpenSSLError, load_pkcs12
        from openssl_cmp.binding import ffi, lib
        data = open(%r, "rb").read()
        try:
            load_pkcs12(data, "pw")
        except OpenSSLError as exc:
            print("REFUSED", "legacy" in str(exc))
        else:
            print("LOADED-WITHOUT-LEGACY")
        if lib.OSSL_PROVIDER_load(ffi.NULL, b"legacy") == ffi.NULL:
            print("NO-LEGACY"); sys.exit()
        lib.OSSL_PROVIDER_load(ffi.NULL, b"default")
        key, cert, chain = load_pkcs12(data, "pw")
        print("LOADED", key is not None, cert is not None, len(chain))
    """ % str(path)
    out = run_isolated(code)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.split("\n")
    assert lines[0] == "REFUSED True"
    if lines[1] == "NO-LEGACY":
        pytest.skip("OpenSSL's legacy provider is not installed")
    assert lines[1] == "LOADED True True 0"


def test_enrollment_with_a_pkcs12_key(pki, tmp_path):
    """RFC 4210 §5.3.1: ir with the key of a PKCS#12 file, as an agent would."""
    key, _cert, _chain = load_pkcs12(export(pki, tmp_path, "k.p12", *MODERN), "pw")
    mock = MockCA()
    with mock.client(subject_name="/CN=from-p12", new_pkey=key) as ctx:
        assert ctx.exec_ir().public_key() == key
