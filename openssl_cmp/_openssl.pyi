# The typing surface of the cffi extension module that build_ffi.py compiles.
#
# ``lib`` (every C function, constant and extern "Python" slot) is untyped C: ``Any``.
# ``ffi`` is typed for the operations the package uses, so that what crosses the boundary
# as a Python value (bytes, decorators) is typed; a cdata is always ``Any``.
from typing import Any, Callable, Protocol, TypeVar

_F = TypeVar("_F", bound=Callable[..., Any])

class _CBuffer(Protocol):
    """What ``ffi.buffer`` returns: slicing copies the bytes out."""

    def __getitem__(self, index: slice) -> bytes: ...
    def __len__(self) -> int: ...

class FFI:
    """cffi's ``FFI`` object of the compiled module (the operations used are typed; the
    rest of its API is reachable untyped)."""

    NULL: Any
    CData: type
    CType: type
    error: type[Exception]
    def new(self, cdecl: str, init: Any = None) -> Any:
        """Allocate a C object (owned by the returned cdata)."""
    def cast(self, cdecl: Any, value: Any) -> Any:
        """A cdata of type ``cdecl`` from ``value``."""
    def gc(self, cdata: Any, destructor: Callable[[Any], object] | None, size: int = 0) -> Any:
        """A cdata that calls ``destructor`` when it is garbage-collected."""
    def string(self, cdata: Any, maxlen: int = -1) -> bytes:
        """The bytes of a ``char *`` (up to the NUL or ``maxlen``)."""
    def buffer(self, cdata: Any, size: int = -1) -> _CBuffer:
        """A buffer over C memory."""
    def from_buffer(self, python_buffer: Any, require_writable: bool = False) -> Any:
        """A ``char[]`` cdata over a Python buffer (kept alive by the cdata)."""
    def typeof(self, cdecl: Any) -> Any:
        """The C type of a cdata or declaration."""
    def addressof(self, cdata: Any, *fields_or_indexes: str | int) -> Any:
        """The address of a C function of ``lib`` or of a field."""
    def new_handle(self, python_object: object) -> Any:
        """A ``void *`` that :meth:`from_handle` turns back into ``python_object``."""
    def from_handle(self, handle: Any) -> object:
        """The object behind a handle from :meth:`new_handle`."""
    def release(self, cdata: Any) -> None:
        """Release a ``new`` / ``gc`` cdata now."""
    def def_extern(self, name: str | None = None, error: Any = None,
                   onerror: Any = None) -> Callable[[_F], _F]:
        """Attach a Python function to an ``extern "Python"`` declaration."""
    def __getattr__(self, name: str) -> Any: ...  # the rest of cffi's FFI, untyped

ffi: FFI
lib: Any
