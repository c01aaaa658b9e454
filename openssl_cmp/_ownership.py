"""The one base class for Python objects that own an OpenSSL pointer.

Its constructors say which C contract produced the pointer:

* ``_owned(ptr)``    – we hold a reference already (``*_new``, ``d2i``, ``get1``).
* ``_borrowed(ptr)`` – a ``get0`` result of a refcounted type: up-ref, then own.
* ``_copied(ptr)``   – a ``get0`` result of a non-refcounted type: duplicate, then own.

Ownership lives in an ``ffi.gc`` pointer, so garbage collection is the safety net and
``close()`` (or ``with``) releases at once.  A closed object raises ValueError on use
instead of touching freed memory.

close() and threads: ``close()`` does not free; it drops the object's one reference to its
``ffi.gc`` cdata, and CPython runs the destructor as soon as the last reference is gone.
When no other thread is using the object that is at once (deterministic release); a thread
that is inside a C call holds the cdata as an argument, so the free waits until that call
returns, and the thread's next use gets ``ValueError("... is closed")``.  Hence the rule
for every method: a pointer derived from ``self.ptr`` (a ``get0`` result: a name, a header,
a stack element, a template) is only valid while the parent cdata is held, so bind it
first (``ptr = self.ptr``) and keep it in a local for the whole derivation; a C object
that stores the pointer without a reference (a ``STACK_OF`` built for a set1 call, an
``X509V3_CTX``) likewise keeps the cdata in a local or attribute while it is used.  Nothing
else may hold an object's gc cdata: a new reference is wrapped in a cdata of its own (see
:func:`_plain`), never in an ``ffi.gc`` of the parent's cdata, which would keep the
parent's destructor waiting for the child.  Views (see :meth:`Owned._view`) hold C's
pointer without a destructor: closing one frees nothing, and :func:`end_view` waits
(briefly, bounded) for other threads' calls in flight on C's pointer before the callback
returns it to C.
"""

from __future__ import annotations

import time
import weakref
from typing import Any, Callable, ClassVar, Optional, TypeVar, cast

from openssl_cmp import _bio
from openssl_cmp._typing import BytesLike, CData, PathLike, TextOrBytes
from openssl_cmp.binding import ffi, lib
from openssl_cmp.errors import quiet_read, raise_openssl

T = TypeVar("T", bound="Owned")

# The type of an ffi.gc cdata (a cdata with a destructor that keeps its origin alive).
_GC_CDATA = type(ffi.gc(ffi.cast("char *", 0), lambda _: None))


def _plain(ptr: CData) -> CData:
    """``ptr`` as a cdata without a destructor.  ``ffi.gc(x, ...)`` keeps ``x`` alive, so
    wrapping an object's own gc cdata for a second owner would delay the first owner's
    release (close()) until the second one dies."""
    if type(ptr) is _GC_CDATA:
        return ffi.cast(ffi.typeof(ptr), ptr)
    return ptr


class Owned:
    """Owns one C pointer.  Subclasses name the C functions of their type."""

    __slots__ = ("_ptr", "__weakref__")

    _ptr: CData  # the ffi.gc pointer (a view: a plain cdata); None once closed

    _free: ClassVar[str] = ""  # e.g. "X509_free"
    _up_ref: ClassVar[str | None] = None  # e.g. "X509_up_ref" (refcounted types)
    _dup: ClassVar[str | None] = None  # e.g. "X509_NAME_dup" (copyable types)
    _d2i: ClassVar[str | None] = None  # e.g. "d2i_X509"
    _i2d: ClassVar[str | None] = None  # e.g. "i2d_X509"

    def __init__(self, *args: object, **kwargs: object) -> None:  # pragma: no cover
        raise TypeError("use the from_* constructors of %s" % type(self).__name__)

    # -- constructors -------------------------------------------------------------------
    @classmethod
    def _owned(cls: type[T], ptr: CData, what: str = "") -> T:
        if ptr == ffi.NULL:
            raise_openssl(what or "cannot create %s" % cls.__name__)
        self = object.__new__(cls)
        self._ptr = ffi.gc(ptr, getattr(lib, cls._free))
        return self

    @classmethod
    def _borrowed(cls: type[T], ptr: CData) -> T:
        """Wrap a borrowed pointer: up-ref it (refcounted types) or copy it."""
        if cls._up_ref is not None:
            if getattr(lib, cls._up_ref)(ptr) != 1:
                raise_openssl("cannot take a reference to %s" % cls.__name__)
            return cls._owned(_plain(ptr))
        return cls._copied(ptr)

    @classmethod
    def _copied(cls: type[T], ptr: CData) -> T:
        return cls._owned(getattr(lib, cast(str, cls._dup))(ptr), "cannot copy %s" % cls.__name__)

    # -- DER, shared by every encodable type ---------------------------------------------
    @classmethod
    def _decode_der(cls: type[T], data: BytesLike) -> T:
        """``cls`` from DER (bytes-like); trailing bytes are a ValueError."""
        if isinstance(data, str):
            raise TypeError("DER data must be bytes, not str (PEM text goes to from_pem)")
        data = _bio.to_bytes(data, "DER data")
        ptr, used = _bio.d2i(getattr(lib, cast(str, cls._d2i)), data, cls.__name__)
        obj = cls._owned(ptr)
        if used != len(data):
            obj.close()
            raise ValueError("%d trailing bytes after the DER %s"
                             % (len(data) - used, cls.__name__))
        return obj

    def _encode_der(self) -> bytes:
        return _bio.i2d(getattr(lib, cast(str, self._i2d)), self.ptr, type(self).__name__)

    # -- PEM/DER/file, for types that name their PEM functions -----------------------------
    _pem_read: ClassVar[str | None] = None  # e.g. "PEM_read_bio_X509"
    _pem_write: ClassVar[str | None] = None  # e.g. "PEM_write_bio_X509"
    _what: ClassVar[str] = "object"  # for error messages: "certificate"

    @classmethod
    def from_pem(cls: type[T], data: TextOrBytes) -> T:
        """An object from PEM text (``str`` or bytes)."""
        if cls._pem_read is None:
            raise TypeError("%s has no PEM form" % cls.__name__)
        data = _bio.to_bytes(data, "PEM data")
        return cls._owned(_bio.pem_read(getattr(lib, cls._pem_read), data, cls._what))

    @classmethod
    def from_der(cls: type[T], data: BytesLike) -> T:
        """An object from its DER encoding; trailing bytes are a ValueError."""
        return cls._decode_der(data)

    @classmethod
    def from_file(cls: type[T], path: PathLike) -> T:
        """A PEM or DER file (PEM is recognised even after leading text)."""
        data = _bio.read_path(path, cls._what)
        if b"-----BEGIN" in data:
            return cls.from_pem(data)
        return cls.from_der(data)

    def to_der(self) -> bytes:
        """The DER encoding."""
        return self._encode_der()

    def to_pem(self) -> bytes:
        """The PEM encoding."""
        if self._pem_write is None:
            raise TypeError("%s has no PEM form" % type(self).__name__)
        return _bio.pem_write(getattr(lib, self._pem_write), self.ptr, self._what)

    # -- access ---------------------------------------------------------------------------
    @property
    def ptr(self) -> Any:
        """The C pointer (a cdata usable with ``binding.lib``); valid while self is open, or
        while the caller holds it (a get0 pointer derived from it: only while it is held).
        Typed ``Any``: a cffi cdata has no static type.  ValueError once closed."""
        ptr = self._ptr
        if ptr is None:
            raise ValueError("%s is closed" % type(self).__name__)
        return ptr

    def _new_reference(self) -> CData:
        """A pointer that the caller owns (for set0/push0): up-ref'd or duplicated."""
        ptr = self.ptr  # one read: a close() in between must not lose the reference
        if self._up_ref is not None:
            if getattr(lib, self._up_ref)(ptr) != 1:
                raise_openssl("cannot take a reference to %s" % type(self).__name__)
            return _plain(ptr)  # C's reference, not a second handle on our destructor
        copy = getattr(lib, cast(str, self._dup))(ptr)
        if copy == ffi.NULL:
            raise_openssl("cannot copy %s" % type(self).__name__)
        return copy

    @classmethod
    def _view(cls: type[T], ptr: CData) -> T:
        """A non-owning view of a pointer that C lends us for the duration of a callback.
        The trampoline ends it with :func:`end_view` when the callback returns.  The view
        holds a cdata of its own (no destructor), so end_view can count who else holds it."""
        self = object.__new__(cls)
        self._ptr = ffi.cast(ffi.typeof(ptr), ptr)
        return self

    def copy(self: T) -> T:
        """An independent object: a new reference (refcounted types) or a deep copy."""
        return type(self)._borrowed(self.ptr)

    def _release_reference(self, ptr: CData) -> None:
        """Give back a pointer from :meth:`_new_reference` that C did not take."""
        getattr(lib, self._free)(ptr)

    # -- lifetime -------------------------------------------------------------------------
    def close(self) -> None:
        """Release the C object (idempotent): at once, or when the C calls other threads
        have in flight on it return (see "close() and threads" above).  Other owners keep
        their references; a view's pointer belongs to C and is never freed here."""
        self._ptr = None

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._ptr is None

    def __enter__(self: T) -> T:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        """``<Class detail>``, ``<Class closed>``: reads what :meth:`_repr_detail` reads
        and nothing else; the error queue is left as it was (``errors.quiet_read``)."""
        name = type(self).__name__
        if self._ptr is None:
            return "<%s closed>" % name
        detail = quiet_read(self._repr_detail)
        return "<%s %s>" % (name, detail) if detail else "<%s>" % name

    def _repr_detail(self) -> str:
        """What ``repr`` shows after the class name (C reads allowed, no locks)."""
        return ""

    def __copy__(self: T) -> T:
        return self

    def __deepcopy__(self: T, memo: object) -> T:
        return type(self)._borrowed(self.ptr)


# How long end_view waits for other threads' calls on C's pointer (seconds).  Such a call
# ends within microseconds; a longer hold is a raw ``view.ptr`` kept somewhere (e.g. to
# compare addresses), which must not stall the server.
_VIEW_WAIT = 0.2


# Views and hand-over are decided by *who still holds an object*, asked of weak references
# after the trampoline has dropped its own strong ones: an object nobody else holds is gone
# at once on CPython (reference counting), and one that is still reachable was kept.  No
# reference-count constant is involved, so the protocol does not depend on how a CPython
# version counts references; where objects outlive their last reference (another
# implementation, or a cycle), the answer is "kept", and a copy is made: safe, not wrong.


def _wait_unused(in_use: weakref.ref[Any]) -> None:
    """Wait (bounded) until no other thread holds C's pointer (a cdata that only the view
    held until now): a thread holds it while it is inside a call or a derivation with it."""
    deadline = None
    delay = 1e-6
    while in_use() is not None:
        if deadline is None:
            deadline = time.monotonic() + _VIEW_WAIT
        elif time.monotonic() > deadline:
            return
        time.sleep(delay)  # releases the GIL: the holder can finish
        delay = min(delay * 2, 1e-3)


def lend(view: Owned | None) -> weakref.ref[Owned] | None:
    """A weak reference to a callback's view (see :meth:`Owned._view`): the trampoline
    passes the view to the callback, drops its own references, then calls
    :func:`end_view` with this."""
    return None if view is None else weakref.ref(view)


def end_view(kept: weakref.ref[Owned] | None) -> None:
    """End a callback's view of a borrowed pointer, given :func:`lend`'s weak reference
    (the trampoline holds no strong reference any more).  A view nobody kept is gone, and
    nothing was copied.  One the callee kept becomes an owned copy in place, so it never
    dangles, and a call another thread started on C's pointer before the swap is waited
    for."""
    view = None if kept is None else kept()
    if view is None or view._ptr is None:
        return
    raw = view._ptr
    copy = getattr(lib, view._dup)(raw) if view._dup else ffi.NULL
    if copy == ffi.NULL:  # pragma: no cover - out of memory
        view._ptr = None
        raise_openssl("cannot keep a copy of %s" % type(view).__name__)
    view._ptr = ffi.gc(copy, getattr(lib, view._free))
    del view
    in_use = weakref.ref(raw)
    del raw
    _wait_unused(in_use)


def hand_over(kept: weakref.ref[Owned], ptr: CData, cls: type[Owned]) -> CData:
    """The pointer for a C function that takes ownership of an object (OpenSSL frees a
    transfer callback's response).  ``ptr`` is the object's cdata, taken before the
    trampoline dropped its reference to the object, and ``kept`` a weak reference to it.
    When nobody else holds the object, ownership moves without a copy; otherwise C gets
    a copy and the object stays valid.  A view (C's own pointer) is always copied."""
    obj = kept()
    if obj is None and type(ptr) is _GC_CDATA:
        ffi.gc(ptr, None)  # drop our destructor: the pointer is C's now
        return ptr
    if obj is not None:
        return obj._new_reference()
    if cls._dup is None:  # pragma: no cover - every lent type can be copied
        raise TypeError("%s cannot be handed over" % cls.__name__)
    copy = getattr(lib, cls._dup)(ptr)
    if copy == ffi.NULL:  # pragma: no cover - out of memory
        raise_openssl("cannot copy %s" % cls.__name__)
    return copy
