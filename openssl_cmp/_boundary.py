"""The C-call boundary of one ``OSSL_CMP_CTX``: the one place that says how Python calls
into OpenSSL on a context, for the client (:class:`~openssl_cmp.context.Context`) and for the
server workers (:mod:`openssl_cmp.server`) alike.

A :class:`Boundary` owns, for one C context:

* **the lock**: a context is driven by one thread at a time (an ``RLock``, because
  callbacks run on the driving thread and may read the context);
* **the error-queue discipline**: the queue is cleared at the start of each call
  (:meth:`call`, or :meth:`begin` for an operation that does not go through it), so
  whatever is on it afterwards belongs to that call.  This module and import time
  (``binding``) are the only places that clear it wholesale; an expected failure inside an
  operation is probed with ``errors.probe()`` (a mark), never cleared;
* **callback routing**: the log and HTTP callbacks carry no usable pointer, so the call in
  progress on this thread names the :class:`~openssl_cmp.callbacks.CallbackState` they
  report to (``callbacks.current_state``);
* **the depth**: how many C calls are in progress on the context.  Only the thread that
  holds the lock can be inside one, so a change requested while ``depth > 0`` comes from
  one of the context's own callbacks and is refused (:meth:`refuse_reentry`): OpenSSL keeps
  pointers into the context's state across its callbacks;
* **the stored exception**: a trampoline stores the first exception a callback raised; it
  is re-raised, with its own type, when the C call returns (:meth:`raise_stored`);
* **an optional guard** entered around each call, e.g. the lease of an in-process server
  worker, whose own boundary is then marked as in C for the duration.

This module is package-internal: :func:`boundary_of` is how other modules of the package
reach a context's boundary, instead of reaching into ``Context``'s attributes.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Callable, ContextManager

from openssl_cmp import callbacks
from openssl_cmp.binding import lib

if TYPE_CHECKING:
    from openssl_cmp.context import Context

__all__ = ["Boundary", "boundary_of", "REENTRY"]

REENTRY = ("cannot change a Context from inside one of its own callbacks: OpenSSL is in the "
           "middle of a call on it and keeps pointers into its state (make the change after "
           "the call returns)")

_routing = callbacks._tls  # the thread-local "call in progress" of the trampolines


class Boundary:
    """Lock, error queue, callback routing, depth and stored exception of one C context."""

    __slots__ = ("lock", "state", "depth", "guard")

    def __init__(self, state: callbacks.CallbackState) -> None:
        self.lock = threading.RLock()
        self.state = state
        self.depth = 0
        self.guard: ContextManager[object] | None = None

    def call(self, func: Callable[..., Any], ptr: Any, *args: Any) -> Any:
        """``func(ptr, *args)`` with the queue cleared, callbacks routed here, the depth
        counted and the guard entered; a callback's stored exception is re-raised after.
        The caller holds :attr:`lock` (and has checked that ``ptr`` is open)."""
        state = self.state
        lib.ERR_clear_error()  # the start of the call: what is queued after it is its own
        previous = getattr(_routing, "state", None)
        _routing.state = state
        self.depth += 1
        guard = self.guard
        try:
            if guard is None:
                result = func(ptr, *args)
            else:  # e.g. an attached server worker runs inside this call
                with guard:
                    result = func(ptr, *args)
        finally:
            self.depth -= 1
            _routing.state = previous
        if state.exception is not None:
            self.raise_stored()
        return result

    def begin(self) -> None:
        """Under :attr:`lock`: the start of an operation that does not go through
        :meth:`call`: a setter (setters never call back into Python, so they need no
        routing), or a call the caller routes itself with :meth:`running`.  Refuse re-entry
        (see :meth:`refuse_reentry`), then clear the queue as :meth:`call` does: whatever
        is on it afterwards belongs to the operation."""
        if self.depth:
            raise RuntimeError(REENTRY)
        lib.ERR_clear_error()

    def refuse_reentry(self) -> None:
        """Under :attr:`lock`: raise RuntimeError if a C call is in progress on the context
        (then it is this thread's, from inside one of the context's callbacks)."""
        if self.depth:
            raise RuntimeError(REENTRY)

    def running(self) -> _Running:
        """``with boundary.running():`` around a C call that the caller makes itself (a
        server worker's ``OSSL_CMP_SRV_process_request``, the free of a context): callbacks
        are routed here and the depth is counted.  The caller holds :attr:`lock` and then
        calls :meth:`take_exception` or :meth:`raise_stored`."""
        return _Running(self)

    def take_exception(self) -> BaseException | None:
        """The exception a callback stored (and forget it), or None.  The trampolines store
        it with ``CallbackState.store``; this is the one place that takes it."""
        state = self.state
        exc, state.exception = state.exception, None
        return exc

    def raise_stored(self) -> None:
        """Re-raise the exception a callback stored, if any; the error queue is cleared
        first (what OpenSSL added after the callback failed is a consequence of it)."""
        exc = self.take_exception()
        if exc is not None:
            # Kept wholesale: the call failed because the callback did, and every entry
            # OpenSSL queued after that is a consequence of it, not a diagnosis to keep.
            lib.ERR_clear_error()
            raise exc


class _Running:
    __slots__ = ("boundary", "previous")

    def __init__(self, boundary: Boundary) -> None:
        self.boundary = boundary
        self.previous: callbacks.CallbackState | None = None

    def __enter__(self) -> Boundary:
        self.previous = getattr(_routing, "state", None)
        _routing.state = self.boundary.state
        self.boundary.depth += 1
        return self.boundary

    def __exit__(self, *exc: object) -> None:
        self.boundary.depth -= 1
        _routing.state = self.previous


def boundary_of(ctx: Context) -> Boundary:
    """The boundary of ``ctx`` (package-internal)."""
    return ctx._boundary
