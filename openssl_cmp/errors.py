"""Exceptions, and the bridge from OpenSSL's error queue to them.

Every failure of a C call becomes an :class:`OpenSSLError` (or :class:`CMPError` for a CMP
transaction) carrying the drained queue as :class:`ErrorEntry` tuples, data strings included:
CMP puts its diagnostics (``expected = …, actual = …``, server status texts) there.

The package keeps two idioms, and only these:

* **raising**: ``raise_openssl(message, cls=OpenSSLError)`` after a C call failed; it drains
  the queue into the exception.  (``Context`` builds its :class:`CMPError` from the drained
  queue and the context's status in one place, ``Context._failure``.)
* **probing**: ``with probe():`` around a C call whose failure is an expected answer (a
  signature that does not verify, a decoder that does not apply): what the call adds to the
  queue is discarded, and only that (``ERR_set_mark`` / ``ERR_pop_to_mark``).  A blanket
  ``ERR_clear_error`` is kept for the start of an operation (``_boundary``), import time
  (``binding``), and the consequences of an exception a callback raised.
"""

from __future__ import annotations

import os
import threading
from typing import Any, Callable, Iterable, NamedTuple, NoReturn

from openssl_cmp import binding
from openssl_cmp._typing import CData
from openssl_cmp.binding import ffi, lib, since
from openssl_cmp.enums import FailInfo, PKIStatus

__all__ = [
    "Error",
    "OpenSSLError",
    "CMPError",
    "UnsupportedError",
    "ErrorEntry",
]


class ErrorEntry(NamedTuple):
    """One entry of OpenSSL's error queue."""

    lib: str  # library name, e.g. "CMP routines"
    reason: str  # reason text, e.g. "wrong pbm value"
    reason_code: int  # ERR_GET_REASON, stable across versions: match on this
    func: str | None
    file: str | None
    line: int
    data: str | None  # the additional data string (CMP diagnostics), if any
    lib_code: int = 0  # ERR_GET_LIB, e.g. binding.lib.ERR_LIB_CMP

    def __str__(self) -> str:
        """``"lib: reason (data)"``."""
        text = "%s: %s" % (self.lib, self.reason)
        if self.data:
            text += " (%s)" % self.data
        return text


class Error(Exception):
    """Base class of every exception openssl_cmp raises on purpose."""


class OpenSSLError(Error):
    """An OpenSSL call failed; ``errors`` holds the drained error queue (oldest first)."""

    def __init__(self, message: str, errors: Iterable[ErrorEntry] | None = None) -> None:
        self.errors: list[ErrorEntry] = list(errors or [])
        self.message: str = message
        detail = "; ".join(str(e) for e in self.errors)
        super().__init__("%s: %s" % (message, detail) if detail else message)

    def has(self, lib_code: int, reason_code: int) -> bool:
        """True if any queue entry has this library and reason code."""
        return any(e.lib_code == lib_code and e.reason_code == reason_code
                   for e in self.errors)


class CMPError(OpenSSLError):
    """A CMP transaction failed.

    ``status`` is the PKIStatus the server sent (``PKIStatus.REJECTION`` for a rejection),
    or None when the transaction failed locally (no usable response: transport, protection,
    validation).  ``fail_info`` is the decoded PKIFailureInfo (or None), ``status_strings``
    the server's status texts.  ``server_rejected`` tells the two cases apart;
    ``transcript`` holds what went over the wire (``Context.transcript``);
    ``rejected_by_client`` is True when our own certConf check refused the new certificate
    (OpenSSL reports that as a rejection too).
    """

    def __init__(self, message: str, errors: Iterable[ErrorEntry] | None = None,
                 status: PKIStatus | None = None, fail_info: FailInfo | None = None,
                 status_strings: Iterable[str] = (), rejected_by_client: bool = False) -> None:
        self.status: PKIStatus | None = status
        self.rejected_by_client: bool = rejected_by_client
        self.fail_info: FailInfo | None = fail_info
        self.status_strings: list[str] = list(status_strings)
        # the exchanges of the failed transaction (Context fills it in; see
        # Context.transcript): list[openssl_cmp.testing.Exchange]
        self.transcript: list[Any] = []
        super().__init__(message, errors)
        extra: list[str] = []
        if status is not None:
            extra.append("status=%s" % status.name.lower())
        if fail_info:
            extra.append("fail_info=%s" % fail_info.names())
        if self.status_strings:
            extra.append("status_strings=%r" % self.status_strings)
        if extra:
            self.args: tuple[Any, ...] = ("%s [%s]" % (self.args[0], ", ".join(extra)),)

    @property
    def server_rejected(self) -> bool:
        """True when the server answered with a rejection or an error message."""
        return self.status == PKIStatus.REJECTION and not self.rejected_by_client


class UnsupportedError(Error, NotImplementedError):
    """The linked OpenSSL lacks the function or option; the message names the version."""


def _string(ptr: CData) -> str | None:
    return None if ptr == ffi.NULL else ffi.string(ptr).decode("utf-8", "replace")


def drain() -> list[ErrorEntry]:
    """Remove and return every entry of this thread's OpenSSL error queue (nothing inside a
    quiet :func:`probe`, whose entries the probe discards)."""
    entries: list[ErrorEntry] = []
    if getattr(_local, "quiet", 0):
        return entries
    file_p = ffi.new("const char **")
    line_p = ffi.new("int *")
    func_p = ffi.new("const char **")
    data_p = ffi.new("const char **")
    flags_p = ffi.new("int *")
    while True:
        code = lib.ERR_get_error_all(file_p, line_p, func_p, data_p, flags_p)
        if code == 0:
            return entries
        reason_code = lib.ERR_GET_REASON(code)
        lib_code = lib.ERR_GET_LIB(code)
        data = _string(data_p[0]) if flags_p[0] & lib.ERR_TXT_STRING else None
        reason = _string(lib.ERR_reason_error_string(code))
        if reason is None and lib_code == lib.ERR_LIB_SYS:
            # OpenSSL has no text for most errno values ("reason(111)"): the C library has
            reason = os.strerror(reason_code)
        entries.append(ErrorEntry(
            lib=_string(lib.ERR_lib_error_string(code)) or "lib(%d)" % lib_code,
            reason=reason or "reason(%d)" % reason_code,
            reason_code=reason_code,
            func=_string(func_p[0]),
            file=_string(file_p[0]),
            line=line_p[0],
            data=data or None,
            lib_code=lib_code,
        ))


def raise_openssl(message: str, cls: type[OpenSSLError] = OpenSSLError) -> NoReturn:
    """Raise ``cls(message)`` with the drained error queue: the one way the package raises
    an OpenSSL failure."""
    raise cls(message, drain())


_local = threading.local()  # .quiet: depth of quiet probes on this thread


class _Probe:
    """See :func:`probe`."""

    __slots__ = ("quiet",)

    quiet: bool

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet

    def __enter__(self) -> None:
        lib.ERR_set_mark()  # on an empty queue no mark is needed: the pop takes everything
        if self.quiet:
            _local.quiet = getattr(_local, "quiet", 0) + 1

    def __exit__(self, *exc: object) -> None:
        if self.quiet:
            _local.quiet -= 1
        lib.ERR_pop_to_mark()


_PROBE = _Probe(False)
_QUIET = _Probe(True)


def probe(quiet: bool = False) -> _Probe:
    """``with probe():`` around C calls whose failure is an expected answer, not an error:
    whatever they add to this thread's error queue is discarded when the block ends, and
    only that (``ERR_set_mark`` / ``ERR_pop_to_mark``): entries queued before the block
    stay, e.g. those of an operation in progress whose callback is probing.  Decide on the
    C return values inside the block.  An OpenSSLError raised inside still carries the whole
    drained queue, unless ``quiet``: then it carries nothing and drains nothing, and the
    queue ends exactly as it was (for :func:`quiet_read`)."""
    return _QUIET if quiet else _PROBE


def quiet_read(read: Callable[[], str]) -> str | None:
    """``read()`` for a ``__repr__`` that reads C state, inside a quiet :func:`probe`: the
    error queue is left exactly as it was, and a failure (out of memory, the object closed
    by another thread meanwhile) gives None instead of an exception.  ``read`` takes no
    lock that can block."""
    try:
        with _QUIET:
            return read()
    except Exception:  # noqa: BLE001 - a repr never raises
        return None


def require(name: str, what: str | None = None) -> None:
    """Raise UnsupportedError unless the build has ``name``."""
    if not hasattr(lib, name):
        raise UnsupportedError(
            "%s needs OpenSSL %s or later (%s lacks %s)"
            % (what or name, since(name) or "?", _linked(), name))


def _linked() -> str:
    return binding.OPENSSL_VERSION
