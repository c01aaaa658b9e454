"""The one base class for Python objects that own an OpenSSL pointer.

Its constructors say which C contract produced the pointer:

* ``_owned(ptr)``    – we hold a reference already (``*_new``, ``d2i``, ``get1``).
* ``_borrowed(ptr)`` – a ``get0`` result of a refcounted type: up-ref, then own.
* ``_copied(ptr)``   – a ``get0`` result of a non-refcounted type: duplicate, then own.

Ownership lives in an ``ffi.gc`` pointer, so garbage collection is the safety net and
``close()`` (or ``with``) releases at once.  A closed object raises ValueError on use
instead of touching freed memory.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

from openssl_cmp import _bio
from openssl_cmp.binding import ffi, lib
from openssl_cmp.errors import raise_openssl

T = TypeVar("T", bound="Owned")


class Owned:
    """Owns one C pointer.  Subclasses name the C functions of their type."""

    __slots__ = ("_ptr", "__weakref__")

    _c_type: ClassVar[str] = ""  # e.g. "X509 *"
    _free: ClassVar[str] = ""  # e.g. "X509_free"
    _up_ref: ClassVar[str | None] = None  # e.g. "X509_up_ref" (refcounted types)
    _dup: ClassVar[str | None] = None  # e.g. "X509_NAME_dup" (copyable types)
    _d2i: ClassVar[str | None] = None  # e.g. "d2i_X509"
    _i2d: ClassVar[str | None] = None  # e.g. "i2d_X509"

    def __init__(self, *args, **kwargs):  # pragma: no cover - subclasses define it
        raise TypeError("use the from_* constructors of %s" % type(self).__name__)

    # -- constructors -------------------------------------------------------------------
    @classmethod
    def _owned(cls: type[T], ptr, what: str = "") -> T:
        if ptr == ffi.NULL:
            raise_openssl(what or "cannot create %s" % cls.__name__)
        self = object.__new__(cls)
        self._ptr = ffi.gc(ptr, getattr(lib, cls._free))
        return self

    @classmethod
    def _borrowed(cls: type[T], ptr) -> T:
        """Wrap a borrowed pointer: up-ref it (refcounted types) or copy it."""
        if cls._up_ref is not None:
            if getattr(lib, cls._up_ref)(ptr) != 1:
                raise_openssl("cannot take a reference to %s" % cls.__name__)
            return cls._owned(ptr)
        return cls._copied(ptr)

    @classmethod
    def _copied(cls: type[T], ptr) -> T:
        return cls._owned(getattr(lib, cls._dup)(ptr), "cannot copy %s" % cls.__name__)

    # -- DER, shared by every encodable type ---------------------------------------------
    @classmethod
    def _decode_der(cls: type[T], data) -> T:
        """``cls`` from DER (bytes-like); trailing bytes are a ValueError."""
        if isinstance(data, str):
            raise TypeError("DER data must be bytes, not str (PEM text goes to from_pem)")
        data = _bio.to_bytes(data, "DER data")
        ptr, used = _bio.d2i(getattr(lib, cls._d2i), data, cls.__name__)
        obj = cls._owned(ptr)
        if used != len(data):
            obj.close()
            raise ValueError("%d trailing bytes after the DER %s"
                             % (len(data) - used, cls.__name__))
        return obj

    def _encode_der(self) -> bytes:
        return _bio.i2d(getattr(lib, self._i2d), self.ptr, type(self).__name__)

    # -- PEM/DER/file, for types that name their PEM functions -----------------------------
    _pem_read: ClassVar[str | None] = None  # e.g. "PEM_read_bio_X509"
    _pem_write: ClassVar[str | None] = None  # e.g. "PEM_write_bio_X509"
    _what: ClassVar[str] = "object"  # for error messages: "certificate"

    @classmethod
    def from_pem(cls: type[T], data) -> T:
        if cls._pem_read is None:
            raise TypeError("%s has no PEM form" % cls.__name__)
        data = _bio.to_bytes(data, "PEM data")
        return cls._owned(_bio.pem_read(getattr(lib, cls._pem_read), data, cls._what))

    @classmethod
    def from_der(cls: type[T], data) -> T:
        return cls._decode_der(data)

    @classmethod
    def from_file(cls: type[T], path) -> T:
        """A PEM or DER file (PEM is recognised even after leading text)."""
        data = _bio.read_path(path, cls._what)
        if b"-----BEGIN" in data:
            return cls.from_pem(data)
        return cls.from_der(data)

    def to_der(self) -> bytes:
        return self._encode_der()

    def to_pem(self) -> bytes:
        if self._pem_write is None:
            raise TypeError("%s has no PEM form" % type(self).__name__)
        return _bio.pem_write(getattr(lib, self._pem_write), self.ptr, self._what)

    # -- access ---------------------------------------------------------------------------
    @property
    def ptr(self) -> Any:
        """The C pointer (a cdata usable with ``binding.lib``); valid while self is open."""
        ptr = self._ptr
        if ptr is None:
            raise ValueError("%s is closed" % type(self).__name__)
        return ptr

    def _new_reference(self):
        """A pointer that the caller owns (for set0/push0): up-ref'd or duplicated."""
        if self._up_ref is not None:
            if getattr(lib, self._up_ref)(self.ptr) != 1:
                raise_openssl("cannot take a reference to %s" % type(self).__name__)
            return self.ptr
        copy = getattr(lib, self._dup)(self.ptr)
        if copy == ffi.NULL:
            raise_openssl("cannot copy %s" % type(self).__name__)
        return copy

    @classmethod
    def _view(cls: type[T], ptr) -> T:
        """A non-owning view of a pointer that C lends us for the duration of a callback.
        The trampoline ends it with :func:`end_view` when the callback returns."""
        self = object.__new__(cls)
        self._ptr = ptr
        return self

    def copy(self: T) -> T:
        """An independent object: a new reference (refcounted types) or a deep copy."""
        return type(self)._borrowed(self.ptr)

    def _release_reference(self, ptr) -> None:
        """Give back a pointer from :meth:`_new_reference` that C did not take."""
        getattr(lib, self._free)(ptr)

    # -- lifetime -------------------------------------------------------------------------
    def close(self) -> None:
        """Release the C object now (idempotent).  Other owners keep their references."""
        ptr, self._ptr = self._ptr, None
        if ptr is not None:
            try:
                ffi.release(ptr)
            except ValueError:
                pass  # a view (see _view): the pointer belongs to C, nothing to free

    @property
    def closed(self) -> bool:
        return self._ptr is None

    def __enter__(self: T) -> T:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return type(self)._borrowed(self.ptr)


try:
    from sys import getrefcount as _getrefcount
except ImportError:  # pragma: no cover - not CPython: always copy
    _getrefcount = None

# References to a view that end_view itself accounts for: the caller's variable, the
# parameter, and getrefcount's own argument.
_VIEW_BASELINE = 3


def end_view(view) -> None:
    """End a callback's view of a borrowed pointer.  If the callee kept the object (it has
    more references than the trampoline's own), it becomes an owned copy in place, so it
    never dangles; otherwise it is simply closed, and nothing was copied."""
    if view is None or view._ptr is None:
        return
    if _getrefcount is None or _getrefcount(view) > _VIEW_BASELINE:
        ptr = view._ptr
        copy = getattr(lib, view._dup)(ptr) if view._dup else ffi.NULL
        if copy == ffi.NULL:  # pragma: no cover - out of memory
            view._ptr = None
            raise_openssl("cannot keep a copy of %s" % type(view).__name__)
        view._ptr = ffi.gc(copy, getattr(lib, view._free))
    else:
        view._ptr = None


def hand_over(obj):
    """The pointer of ``obj`` for a C function that takes ownership of it (OpenSSL frees
    a transfer callback's response).  When the caller's variable is the only other
    reference, ownership moves without a copy and ``obj`` is closed; otherwise C gets a
    copy and ``obj`` stays valid."""
    if _getrefcount is not None and _getrefcount(obj) <= _VIEW_BASELINE:
        ptr = obj.ptr
        obj._ptr = None
        ffi.gc(ptr, None)  # drop our destructor: the pointer is C's now
        return ptr
    return obj._new_reference()
