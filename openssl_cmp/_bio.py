"""Moving bytes across the boundary: memory BIOs and i2d/d2i helpers."""

from __future__ import annotations

import os
from typing import Callable, Tuple, Type, Union

from openssl_cmp._typing import CData, PathLike
from openssl_cmp.binding import ffi, lib
from openssl_cmp.errors import raise_openssl


def to_bytes(data: object, what: str) -> bytes:
    """Accept bytes-like or str (PEM text); anything else is a TypeError."""
    if isinstance(data, str):
        return data.encode("ascii", "strict")
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    raise TypeError("%s must be bytes or str, not %s" % (what, type(data).__name__))


def read_path(path: PathLike, what: str) -> bytes:
    """The contents of the file ``path``; TypeError for anything but a path."""
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError("%s path must be str or os.PathLike, not %s"
                        % (what, type(path).__name__))
    with open(path, "rb") as f:
        return f.read()


class MemBIO:
    """A memory BIO, readable (``MemBIO(data)``) or writable (``MemBIO()``)."""

    __slots__ = ("bio", "_keep")

    def __init__(self, data: bytes | None = None) -> None:
        self._keep: CData
        self.bio: CData
        if data is None:
            self._keep = None
            bio = lib.BIO_new(lib.BIO_s_mem())
        else:
            # BIO_new_mem_buf does not copy: keep the buffer alive as long as the BIO.
            self._keep = ffi.from_buffer(data)
            bio = lib.BIO_new_mem_buf(self._keep, len(data))
        if bio == ffi.NULL:
            raise_openssl("cannot create a memory BIO")
        self.bio = ffi.gc(bio, lib.BIO_free)

    def read_all(self) -> bytes:
        """Everything the BIO holds."""
        n = lib.BIO_ctrl_pending(self.bio)
        buf = ffi.new("char[]", n)
        got = lib.BIO_read(self.bio, buf, n) if n else 0
        return ffi.buffer(buf, max(got, 0))[:]

    def close(self) -> None:
        """Free the BIO now."""
        ffi.release(self.bio)
        self._keep = None


def i2d(func: Callable[..., int], ptr: CData, what: str) -> bytes:
    """DER-encode ``ptr`` with an ``i2d_*`` function (OpenSSL allocates the buffer)."""
    out = ffi.new("unsigned char **")
    n = func(ptr, out)
    if n < 0:
        raise_openssl("cannot DER-encode %s" % what)
    try:
        return ffi.buffer(out[0], n)[:]
    finally:
        lib.OPENSSL_free(out[0])


def d2i(func: Callable[..., CData], data: bytes, what: str,
        failure: str | None = None) -> tuple[CData, int]:
    """Decode DER with a ``d2i_*`` function: ``(pointer, bytes used)``.  NULL raises
    OpenSSLError (``failure``, or "invalid DER for ``what``")."""
    buf = ffi.from_buffer(data)
    p = ffi.new("unsigned char **", ffi.cast("unsigned char *", buf))
    ptr = func(ffi.NULL, ffi.cast("const unsigned char **", p), len(data))
    if ptr == ffi.NULL:
        raise_openssl(failure or "invalid DER for %s" % what)
    used: int = ffi.cast("unsigned char *", p[0]) - ffi.cast("unsigned char *", buf)
    return ptr, used


def pem_read(reader: Callable[..., CData], data: bytes, what: str,
             password: CData = ffi.NULL) -> CData:
    """Decode PEM with a ``PEM_read_bio_*`` function; NULL is an error."""
    bio = MemBIO(data)
    ptr = reader(bio.bio, ffi.NULL, ffi.NULL, password)
    bio.close()
    if ptr == ffi.NULL:
        raise_openssl("invalid PEM for %s" % what)
    return ptr


def pem_write(writer: Callable[..., int], ptr: CData, what: str, *args: CData) -> bytes:
    """PEM-encode ``ptr`` with a ``PEM_write_bio_*`` function."""
    bio = MemBIO()
    if writer(bio.bio, ptr, *args) != 1:
        raise_openssl("cannot PEM-encode %s" % what)
    data = bio.read_all()
    bio.close()
    return data


def c_string(value: object, what: str) -> bytes:
    """A Python str for a ``const char *`` argument; rejects embedded NULs."""
    if not isinstance(value, str):
        raise TypeError("%s must be str, not %s" % (what, type(value).__name__))
    encoded = value.encode("utf-8")
    if b"\0" in encoded:
        raise ValueError("%s must not contain NUL characters" % what)
    return encoded


def check_instance(value: object, cls: Union[type, Tuple[Type[object], ...]], what: str,
                   allow_none: bool = False) -> None:
    """TypeError (before any C call) unless ``value`` is a ``cls`` (or None if allowed)."""
    if value is None and allow_none:
        return
    if not isinstance(value, cls):
        names = cls.__name__ if isinstance(cls, type) else " or ".join(c.__name__ for c in cls)
        raise TypeError("%s must be %s%s, not %s" % (what, names, " or None" if allow_none
                                                      else "", type(value).__name__))
