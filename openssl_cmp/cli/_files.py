"""Reading the credentials named on the command line and writing what a transaction
returned, the way ``openssl cmp`` does (PEM, one certificate after the other)."""

from __future__ import annotations

import os
import re
from typing import TypeVar

from openssl_cmp.cli._errors import CLIError, UsageError
from openssl_cmp.errors import Error
from openssl_cmp.keys import PrivateKey, PublicKey
from openssl_cmp.objects import CRL, CSR, Certificate, TrustStore
from openssl_cmp.store import load_certificates

_O = TypeVar("_O", CRL, CSR)

__all__ = ["split_list", "load_key", "load_public_key", "load_certs", "load_cert",
           "load_store", "load_csr", "write_certs", "write_key"]

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def split_list(text: str) -> list[str]:
    """``"a.pem, b.pem c.pem"`` -> the names (``openssl cmp`` separates by ``,`` and
    blanks)."""
    return [item for item in re.split(r"[,\s]+", text) if item]


def _path_of(spec: str, option: str) -> str:
    """A file name from a file name or a ``file:`` URI (CSRs and CRLs are read from files;
    keys and certificates also from any OSSL_STORE URI)."""
    if spec.startswith("file:"):
        spec = spec[5:]
        if spec.startswith("//"):
            spec = spec[2:]  # file:///abs/path -> /abs/path
    elif _SCHEME.match(spec) and not os.path.exists(spec):
        raise UsageError("%s: only file names and file: URIs are supported here, not %r"
                         % (option, spec))
    return spec


def _read(spec: str, option: str) -> bytes:
    path = _path_of(spec, option)
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise CLIError("%s: cannot read %s: %s" % (option, path, exc.strerror or exc)) \
            from None


def load_key(spec: str, password: str | None, option: str) -> PrivateKey:
    """A private key from a file (PEM/DER, encrypted with ``password``) or an OSSL_STORE
    URI."""
    try:
        if _SCHEME.match(spec) and not spec.startswith("file:") and not os.path.exists(spec):
            return PrivateKey.load(spec, password)
        data = _read(spec, option)
        if b"-----BEGIN" in data:
            return PrivateKey.from_pem(data, password)
        return PrivateKey.from_der(data)
    except (Error, ValueError, TypeError) as exc:
        raise CLIError("%s: cannot load a private key from %s%s" % (
            option, spec, " (wrong password?)" if password is not None else
            " (encrypted? give its password)" if b"ENCRYPTED" in _safe_read(spec) else
            ": %s" % _first_line(exc))) from None


def _safe_read(spec: str) -> bytes:
    try:
        with open(_path_of(spec, ""), "rb") as f:
            return f.read(4096)
    except (OSError, UsageError):
        return b""


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def load_public_key(spec: str, password: str | None, option: str) -> PrivateKey | PublicKey:
    """``--newkey``: a private key, or a public key (the server then cannot check POPO)."""
    data = _safe_read(spec) if not _SCHEME.match(spec) or spec.startswith("file:") else b""
    if b"PUBLIC KEY-----" in data:
        try:
            return PublicKey.from_pem(data)
        except (Error, ValueError) as exc:
            raise CLIError("%s: cannot load a public key from %s: %s"
                           % (option, spec, _first_line(exc))) from None
    return load_key(spec, password, option)


def load_certs(specs: str, option: str) -> list[Certificate]:
    """Every certificate of the comma-separated files (PEM bundles or DER)."""
    certs: list[Certificate] = []
    for spec in split_list(specs):
        if _SCHEME.match(spec) and not spec.startswith("file:") and not os.path.exists(spec):
            try:  # an OSSL_STORE URI of any provider's scheme (pkcs11:, ...)
                certs += load_certificates(spec)
            except (Error, ValueError, OSError) as exc:
                raise CLIError("%s: cannot load certificates from %s: %s"
                               % (option, spec, _first_line(exc))) from None
            continue
        data = _read(spec, option)
        try:
            if b"-----BEGIN" in data:
                certs += Certificate.list_from_pem(data)
            else:
                certs.append(Certificate.from_der(data))
        except (Error, ValueError) as exc:
            raise CLIError("%s: %s holds no certificate: %s"
                           % (option, spec, _first_line(exc))) from None
    if not certs:
        raise UsageError("%s: no file given" % option)
    return certs


def load_cert(spec: str, option: str) -> tuple[Certificate, list[Certificate]]:
    """The first certificate of the file, and the others (its chain)."""
    certs = load_certs(spec, option)
    return certs[0], certs[1:]


def load_store(specs: str, option: str) -> TrustStore:
    """A trust store of every certificate of the files."""
    return TrustStore(load_certs(specs, option))


def _load_one(cls: type[_O], spec: str, option: str, what: str) -> _O:
    """One PEM or DER object of ``cls`` (a CRL, a CSR) from a file."""
    data = _read(spec, option)
    try:
        return cls.from_pem(data) if b"-----BEGIN" in data else cls.from_der(data)
    except (Error, ValueError) as exc:
        raise CLIError("%s: %s holds no %s: %s" % (option, spec, what, _first_line(exc))) \
            from None


def load_crl(spec: str, option: str) -> CRL:
    """A CRL, PEM or DER."""
    return _load_one(CRL, spec, option, "CRL")


def write_bytes(path: str, data: bytes, option: str) -> None:
    """Write a file (a CRL, a DER template) for an output option."""
    _write(path, data, option)


def load_csr(spec: str, option: str) -> CSR:
    """A PKCS#10 request, PEM or DER."""
    return _load_one(CSR, spec, option, "CSR")


def _write(path: str, data: bytes, option: str) -> None:
    try:
        with open(path, "wb") as f:
            f.write(data)
    except OSError as exc:
        raise CLIError("%s: cannot write %s: %s" % (option, path, exc.strerror or exc)) \
            from None


def write_certs(path: str, certs: list[Certificate], option: str, form: str = "PEM") -> int:
    """Write the certificates as ``openssl cmp`` does (``save_free_certs``): PEM one after
    the other (DER: concatenated); no certificate gives an empty file, as there.  Returns
    how many."""
    if form == "DER":
        _write(path, b"".join(c.to_der() for c in certs), option)
    else:
        _write(path, b"".join(c.to_pem() for c in certs), option)
    return len(certs)


def write_key(path: str, key: PrivateKey, option: str) -> None:
    """A private key as unencrypted PEM, readable by its owner only."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as exc:
        raise CLIError("%s: cannot write %s: %s" % (option, path, exc.strerror or exc)) \
            from None
    with os.fdopen(fd, "wb") as f:
        f.write(key.to_pem())
