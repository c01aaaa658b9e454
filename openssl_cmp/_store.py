"""OSSL_STORE: the objects behind a URI (a file, ``file:``, any provider's scheme).

Private: :meth:`openssl_cmp.PrivateKey.load` and :mod:`openssl_cmp.store` build on
:func:`load`.  A passphrase reaches the store's loaders through a UI_METHOD that OpenSSL
makes from ``PEM_def_callback`` (``UI_UTIL_wrap_read_pem_callback``), with the password as
its user data: no Python callback, and no terminal prompt ever (without a password no
UI_METHOD is given, so an encrypted object simply fails to load).
"""

from __future__ import annotations

import os
import re
from typing import Callable, TypeVar

from openssl_cmp import _bio
from openssl_cmp._typing import CData, PathLike, TextOrBytes
from openssl_cmp.binding import ffi, lib
from openssl_cmp.errors import probe, raise_openssl
from openssl_cmp._ownership import Owned
from openssl_cmp.libctx import LibContext, bind, c_args

T = TypeVar("T")
C = TypeVar("C", bound=Owned)

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")

# PEM_def_callback copies at most PEM_BUFSIZE bytes; a longer password would be cut
# silently and then fail as "wrong".
_MAX_PASSWORD = 1023

# Undecodable objects in a row before a load loop gives up (each failure consumes one).
_MAX_FAILURES = 1000


def uri_arg(uri: object) -> bytes:
    """The URI for ``OSSL_STORE_open_ex``: a ``str`` is a URI or a plain path, an
    ``os.PathLike`` (or bytes) always a path.  A plain path that does not exist is a
    FileNotFoundError before any C call."""
    if isinstance(uri, (bytes, os.PathLike)):
        # absolute, so that a relative file name with a colon is never taken for a scheme
        encoded = os.fsencode(os.path.abspath(os.fsdecode(uri)))
        is_path = True
    elif isinstance(uri, str):
        encoded = uri.encode("utf-8")
        is_path = not _SCHEME.match(uri)
    else:
        raise TypeError("uri must be str or os.PathLike, not %s" % type(uri).__name__)
    if not encoded:
        raise ValueError("uri must not be empty")
    if b"\0" in encoded:
        raise ValueError("uri must not contain NUL characters")
    if is_path and not os.path.exists(encoded):
        raise FileNotFoundError("no such file: %r" % (uri,))
    return encoded


def password_arg(password: TextOrBytes | None) -> CData:
    """A NUL-terminated copy of the password (str as UTF-8), or NULL for none."""
    if password is None:
        return ffi.NULL
    data = password.encode("utf-8") if isinstance(password, str) \
        else _bio.to_bytes(password, "password")
    if b"\0" in data:
        raise ValueError("password must not contain NUL bytes")
    if len(data) > _MAX_PASSWORD:
        raise ValueError("password must be at most %d bytes" % _MAX_PASSWORD)
    return ffi.new("char[]", data)


def load(uri: PathLike, expect: int, convert: Callable[[CData], T | None],
         password: TextOrBytes | None = None, libctx: LibContext | None = None,
         propq: str | None = None, limit: int = 0, missing: str | None = None) -> list[T]:
    """The objects of ``uri``: each ``OSSL_STORE_INFO`` goes to ``convert`` (which
    returns an owned Python object, or None to skip it); at most ``limit`` (0: all).
    ``expect`` is an ``OSSL_STORE_INFO_*`` type or 0.  OpenSSLError if the store cannot
    be opened, or (with the message ``missing``) when nothing was found."""
    uri_c = uri_arg(uri)
    libctx_c, propq_c = c_args(libctx, propq)
    password_c = password_arg(password)
    ui = ffi.NULL
    if password_c != ffi.NULL:
        ui = lib.UI_UTIL_wrap_read_pem_callback(ffi.addressof(lib, "PEM_def_callback"), 0)
        if ui == ffi.NULL:
            raise_openssl("cannot create a passphrase method")
        ui = ffi.gc(ui, lib.UI_destroy_method)
    what = "%r" % (uri,)
    out: list[T] = []
    # An object the loader cannot decode (another kind than ``expect``, a wrong password)
    # gives NULL with the error flag set, and the next load goes on with the next object
    # (as OpenSSL's apps do).  The complaints stay on the queue: when nothing was found
    # they go into the exception; on success the probe drops them (pops to its mark).
    with probe():
        ctx = lib.OSSL_STORE_open_ex(uri_c, libctx_c, propq_c, ui, password_c, ffi.NULL,
                                     ffi.NULL, ffi.NULL)
        if ctx == ffi.NULL:
            raise_openssl("cannot open %s" % what)
        ctx = ffi.gc(ctx, lib.OSSL_STORE_close)
        if expect and lib.OSSL_STORE_expect(ctx, expect) != 1:
            raise_openssl("cannot restrict %s to one kind of object" % what)
        failures = 0
        while (not limit or len(out) < limit) and not lib.OSSL_STORE_eof(ctx):
            info = lib.OSSL_STORE_load(ctx)
            if info == ffi.NULL:
                failures += 1
                if failures > _MAX_FAILURES:
                    break  # a loader that does not advance: stop
                continue
            failures = 0
            try:
                obj = convert(info)
            finally:
                lib.OSSL_STORE_INFO_free(info)
            if obj is not None:
                out.append(obj)
        ffi.release(ctx)  # close now, not at the next garbage collection
        del password_c, ui  # held until here: the store may ask for the passphrase late
        if not out and missing is not None:
            raise_openssl(missing)
    return out


def certificates(cls: type[C], uri: PathLike, libctx: LibContext | None = None,
                 propq: str | None = None, limit: int = 0,
                 missing: str | None = None) -> list[C]:
    """The certificates at ``uri`` as ``cls`` objects (``Certificate``, passed in so that
    this module does not import :mod:`openssl_cmp.objects`, which can then use it)."""
    libctx_c, _ = c_args(libctx, propq)

    def convert(info: CData) -> C | None:
        if lib.OSSL_STORE_INFO_get_type(info) != lib.OSSL_STORE_INFO_CERT:
            return None
        cert = cls._owned(lib.OSSL_STORE_INFO_get1_CERT(info))
        bind(cert, libctx_c)  # an X509 keeps its library context's pointer
        return cert

    return load(uri, lib.OSSL_STORE_INFO_CERT, convert, None, libctx, propq, limit, missing)
