"""Library contexts (``OSSL_LIB_CTX``) with their own providers and configuration.

A :class:`LibContext` owns an ``OSSL_LIB_CTX`` and the providers loaded into it.  Every
object created with it (a key, a certificate, a :class:`~openssl_cmp.Context`) keeps the C
library context alive: they hold its ``ffi.gc`` pointer, so the library context is freed
only when the LibContext is closed (or collected) *and* the last such object is gone.
Freeing it earlier would leave their C objects pointing into freed provider code.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterable
from typing import Any, Callable

from openssl_cmp import _bio
from openssl_cmp._typing import CData, PathLike
from openssl_cmp.binding import ffi, lib
from openssl_cmp.errors import raise_openssl

__all__ = ["LibContext"]


def _path_arg(path: object, what: str) -> bytes:
    """A file system path for a ``const char *`` argument (TypeError / ValueError first)."""
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError("%s must be str or os.PathLike, not %s" % (what, type(path).__name__))
    encoded = os.fsencode(path)
    if b"\0" in encoded:
        raise ValueError("%s must not contain NUL characters" % what)
    return encoded


def _freer(providers: list[CData]) -> Callable[[CData], None]:
    """The destructor of the C library context: unload our providers, then free it."""
    def free(ptr: CData) -> None:
        while providers:
            lib.OSSL_PROVIDER_unload(providers.pop())
        lib.OSSL_LIB_CTX_free(ptr)
    return free


class LibContext:
    """An OpenSSL library context: ``LibContext(providers=("default", "legacy"))``.

    ``providers`` are loaded in order (by name, from ``search_path`` when given, else from
    OpenSSL's module directory); ``config`` is an OpenSSL configuration file loaded first
    (it may activate providers itself).  Pass the object as ``libctx=`` to
    :class:`~openssl_cmp.Context`, ``PrivateKey.load``/``generate`` and
    :func:`openssl_cmp.store.load_certificate`.

    ``close()`` (or ``with``) drops this object's hold on the C library context; the
    context itself is freed once no object created with it is left.
    """

    __slots__ = ("_ptr", "_names", "__weakref__")

    _ptr: CData
    _names: tuple[str, ...]

    def __init__(self, providers: Iterable[str] = ("default",), config: PathLike | None = None,
                 search_path: PathLike | None = None) -> None:
        if isinstance(providers, (str, bytes)):
            raise TypeError("providers must be an iterable of provider names, not a single "
                            "%s" % type(providers).__name__)
        names = tuple(providers)
        encoded = [_bio.c_string(name, "provider name") for name in names]
        if any(not name for name in names):
            raise ValueError("provider names must not be empty")
        config_c = None if config is None else _path_arg(config, "config")
        if config_c is not None and not os.path.isfile(config_c):
            raise FileNotFoundError("OpenSSL configuration file %r not found" % (config,))
        search_c = None if search_path is None else _path_arg(search_path, "search_path")

        ptr = lib.OSSL_LIB_CTX_new()
        if ptr == ffi.NULL:
            raise_openssl("cannot create a library context")
        loaded: list[CData] = []
        self._names = ()
        # From here on the destructor frees whatever was loaded, also on failure below.
        self._ptr = ffi.gc(ptr, _freer(loaded))
        try:
            if search_c is not None and \
                    lib.OSSL_PROVIDER_set_default_search_path(ptr, search_c) != 1:
                raise_openssl("cannot set the provider search path %r" % (search_path,))
            if config_c is not None and lib.OSSL_LIB_CTX_load_config(ptr, config_c) != 1:
                raise_openssl("cannot load the OpenSSL configuration %r" % (config,))
            for name, name_c in zip(names, encoded):
                provider = lib.OSSL_PROVIDER_load(ptr, name_c)
                if provider == ffi.NULL:
                    raise_openssl("cannot load the OpenSSL provider %r (not installed in %s?)"
                                  % (name, "the search path %r" % (search_path,)
                                     if search_path is not None
                                     else "OpenSSL's module directory"))
                loaded.append(provider)
        except BaseException:
            self.close()
            raise
        self._names = names

    @property
    def ptr(self) -> Any:
        """The ``OSSL_LIB_CTX *`` (an ``ffi.gc`` cdata: whoever holds it keeps the C
        library context alive).  ValueError once closed."""
        ptr = self._ptr
        if ptr is None:
            raise ValueError("LibContext is closed")
        return ptr

    @property
    def providers(self) -> tuple[str, ...]:
        """The names of the providers loaded by the constructor, in order."""
        return self._names

    def is_available(self, name: str) -> bool:
        """True when the provider ``name`` is available in this context (loaded by the
        constructor, by the configuration, or as a fallback)."""
        name_c = _bio.c_string(name, "provider name")
        return bool(lib.OSSL_PROVIDER_available(self.ptr, name_c) == 1)

    def close(self) -> None:
        """Drop this object's hold on the C library context (idempotent).  Objects created
        with it stay valid: the C context is freed after the last of them."""
        self._ptr = None

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._ptr is None

    def __enter__(self) -> "LibContext":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        if self._ptr is None:
            return "<LibContext closed>"
        return "<LibContext providers=%s>" % (list(self._names),)


def c_args(libctx: LibContext | None, propq: str | None) -> tuple[CData, CData]:
    """``(OSSL_LIB_CTX *, const char *)`` for a C call; TypeError/ValueError first.  The
    first is the LibContext's gc cdata (or NULL): hold it for as long as the call runs."""
    _bio.check_instance(libctx, LibContext, "libctx", allow_none=True)
    propq_c = ffi.NULL if propq is None else _bio.c_string(propq, "propq")
    return (ffi.NULL if libctx is None else libctx.ptr), propq_c


# id(object) -> the gc cdata of the C library context it was created with.  An entry is
# removed by a finalizer when its object dies, before the id can be reused.
_BOUND: dict[int, CData] = {}


def bind(obj: object, libctx_c: CData) -> None:
    """Keep the C library context ``libctx_c`` (a LibContext's gc cdata, or NULL) alive for
    as long as the Python object ``obj`` (created with it) lives."""
    if libctx_c is None or libctx_c == ffi.NULL:
        return
    _BOUND[id(obj)] = libctx_c
    weakref.finalize(obj, _BOUND.pop, id(obj), None).atexit = False


def bound(obj: object) -> CData:
    """The gc cdata :func:`bind` attached to ``obj``, or None (the default context)."""
    return _BOUND.get(id(obj))
