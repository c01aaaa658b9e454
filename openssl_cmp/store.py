"""Certificates by URI (OSSL_STORE) and keys with certificates from PKCS#12.

``load_certificate(uri)`` and ``load_certificates(uri)`` read a PEM or DER file, a
``file:`` URI, or any scheme of a provider loaded in a :class:`~openssl_cmp.LibContext`;
``load_pkcs12(data, password)`` returns the key, certificate and chain of a PKCS#12 file
(RFC 7292).  Keys by URI: :meth:`openssl_cmp.PrivateKey.load`.
"""

from __future__ import annotations

from openssl_cmp import _bio, _store
from openssl_cmp._typing import BytesLike, PathLike, TextOrBytes
from openssl_cmp.binding import ffi, lib
from openssl_cmp.errors import OpenSSLError, drain
from openssl_cmp.keys import PrivateKey
from openssl_cmp.libctx import LibContext
from openssl_cmp.objects import Certificate

__all__ = ["load_certificate", "load_certificates", "load_pkcs12", "WrongPasswordError"]


class WrongPasswordError(OpenSSLError, ValueError):
    """The password does not open the PKCS#12 data (its MAC does not verify).

    An :class:`~openssl_cmp.OpenSSLError` (OpenSSL found it, and ``errors`` holds its
    queue) that is also a ``ValueError`` (the caller's input is wrong, not the library)."""


def load_certificate(uri: PathLike, *, libctx: LibContext | None = None,
                     propq: str | None = None) -> Certificate:
    """The first certificate at ``uri`` (a plain path, ``file:`` URI, or a provider's
    scheme such as ``pkcs11:``), loaded in ``libctx`` (which the certificate keeps alive).
    FileNotFoundError for a missing plain path; OpenSSLError when there is none."""
    return _store.certificates(Certificate, uri, libctx, propq, 1,
                               "no certificate at %r" % (uri,))[0]


def load_certificates(uri: PathLike, *, libctx: LibContext | None = None,
                      propq: str | None = None) -> list[Certificate]:
    """Every certificate at ``uri`` (e.g. a PEM bundle), in order; possibly none."""
    return _store.certificates(Certificate, uri, libctx, propq)


def load_pkcs12(data: BytesLike, password: TextOrBytes | None = None
                ) -> tuple[PrivateKey | None, Certificate | None, list[Certificate]]:
    """``(key, certificate, chain)`` from DER PKCS#12 data (RFC 7292): the private key and
    its certificate (None where the file has none) and the other certificates.

    ``password`` opens both the MAC and the encrypted bags (None tries no password and
    the empty one, as OpenSSL does).  A password that does not verify the MAC raises
    :class:`WrongPasswordError`.  Files made with legacy algorithms (RC2, the default of
    OpenSSL 1.1's ``pkcs12 -export``) need the ``legacy`` provider loaded in the default
    library context; without it they fail with an OpenSSLError naming the algorithm."""
    if isinstance(data, str):
        raise TypeError("PKCS#12 data must be bytes (DER), not str")
    der = _bio.to_bytes(data, "PKCS#12 data")
    password_c = _store.password_arg(password)
    ptr, used = _bio.d2i(lib.d2i_PKCS12, der, "PKCS#12")
    p12 = ffi.gc(ptr, lib.PKCS12_free)
    if used != len(der):
        raise ValueError("%d trailing bytes after the DER PKCS#12" % (len(der) - used))
    pkey = ffi.new("EVP_PKEY **")
    cert = ffi.new("X509 **")
    chain = ffi.new("OCMP_STACK_OF_X509 **")
    ok = lib.PKCS12_parse(p12, password_c, pkey, cert, chain)
    # PKCS12_parse returns new references (and frees them itself on failure): own them
    # before anything can raise.
    key_obj = None if pkey[0] == ffi.NULL else PrivateKey._owned(pkey[0])
    cert_obj = None if cert[0] == ffi.NULL else Certificate._owned(cert[0])
    others: list[Certificate] = []
    if chain[0] != ffi.NULL:
        stack = ffi.gc(chain[0], lambda sk: lib.sk_X509_pop_free(
            sk, ffi.addressof(lib, "X509_free")))
        while lib.sk_X509_num(stack) > 0:  # pop from the end, moving each reference out
            others.append(Certificate._owned(lib.sk_X509_pop(stack)))
        others.reverse()
        ffi.release(stack)
    ffi.release(p12)
    if ok != 1:
        errors = drain()
        if any(e.lib_code == lib.ERR_LIB_PKCS12
               and e.reason_code == lib.PKCS12_R_MAC_VERIFY_FAILURE for e in errors):
            raise WrongPasswordError("cannot open the PKCS#12 data (wrong password)", errors)
        hint = ""
        if any(e.lib_code == lib.ERR_LIB_EVP and e.reason_code == lib.ERR_R_UNSUPPORTED
               for e in errors):
            hint = (" (an algorithm of the default library context's providers is missing: "
                    "legacy PKCS#12 needs the 'legacy' provider loaded there)")
        raise OpenSSLError("cannot open the PKCS#12 data" + hint, errors)
    return key_obj, cert_obj, others
