"""The ``extern "Python"`` trampolines behind every Context callback.

Each Context owns one :class:`CallbackState`.  C reaches it

* through the context's ``transfer_cb_arg`` / ``certConf_cb_arg`` (a ``ffi.new_handle`` kept
  alive by the Context for as long as the C context lives), or
* for the log and HTTP callbacks, which carry no usable pointer, through the thread-local
  "call in progress" that every C call on a Context sets (see ``_boundary.Boundary``).

A trampoline never lets an exception escape into C: it stores the first one on the state
(:meth:`CallbackState.store`, the only writer) and returns the fail-closed value (transfer:
NULL, certConf: a failure bit, log: 0, http: NULL); the public call that drove C takes it
from the context's boundary (``Boundary.take_exception``) and re-raises it with its own
type.  The state holds only a weak reference to its Context, so there is no reference
cycle through C.
"""

from __future__ import annotations

import logging
import threading
import weakref
from typing import TYPE_CHECKING, Any, Callable, Optional, Tuple, Union, cast

from openssl_cmp._ownership import end_view, hand_over, lend
from openssl_cmp._typing import CData
from openssl_cmp.binding import ffi, lib
from openssl_cmp.enums import FailInfo, LogLevel
from openssl_cmp.message import Message
from openssl_cmp.objects import Certificate

if TYPE_CHECKING:  # context imports this module
    from openssl_cmp.context import Context

LogCallback = Callable[[Optional[str], Optional[str], int, Union[LogLevel, int], Optional[str]],
                       object]
"""``callback(component, file, line, level, message)``: one CMP log line.  ``level`` is a
:class:`LogLevel` (a plain int for a level OpenSSL does not define); the return value is
ignored."""

TransferCallback = Callable[["Context", "Message"], "Message"]
"""``callback(ctx, request) -> response``: sends a request, returns the response."""

CertConfCallback = Callable[["Context", "Certificate", FailInfo],
                            Union[int, Tuple[int, Optional[str]]]]
"""``callback(ctx, cert, fail_info) -> bits or (bits, text)``: 0 accepts the new
certificate, :class:`FailInfo` bits reject it."""

HttpCallback = Callable[["Context", Any, bool, int], Any]
"""``callback(ctx, bio, connect, detail) -> BIO * cdata or None`` (cdata are untyped)."""

logger: logging.Logger = logging.getLogger("openssl_cmp")
# A library leaves output to the application: without a handler configured, nothing is
# printed (instead of logging's last-resort handler writing warnings to stderr).
logger.addHandler(logging.NullHandler())

_LEVELS: dict[int, int] = {
    LogLevel.EMERG: logging.CRITICAL,
    LogLevel.ALERT: logging.CRITICAL,
    LogLevel.CRIT: logging.CRITICAL,
    LogLevel.ERR: logging.ERROR,
    LogLevel.WARNING: logging.WARNING,
    LogLevel.NOTICE: logging.INFO,
    LogLevel.INFO: logging.INFO,
    LogLevel.DEBUG: logging.DEBUG,
    LogLevel.TRACE: 5,  # below DEBUG
}

_tls = threading.local()


def log_to_logging(component: str | None, file: str | None, line: int,
                   level: LogLevel | int, message: str | None) -> None:
    """The default ``log_callback``: OpenSSL CMP log lines go to the ``openssl_cmp`` logger
    (EMERG..CRIT -> CRITICAL, ERR -> ERROR, WARNING, NOTICE/INFO -> INFO, DEBUG, TRACE -> 5)."""
    pylevel = _LEVELS.get(level, logging.INFO)
    if logger.isEnabledFor(pylevel):
        logger.log(pylevel, "%s", message,
                   extra={"cmp_component": component, "cmp_file": file, "cmp_line": line})


class CallbackState:
    """Python-side callback configuration of one Context, reachable from C."""

    __slots__ = ("context", "log_callback", "transfer_callback", "transfer_callback_arg",
                 "cert_conf_callback", "cert_conf_callback_arg", "http_callback",
                 "http_callback_arg", "exception", "cert_conf_text", "__weakref__")

    context: weakref.ref[Context]
    log_callback: LogCallback | None
    transfer_callback: TransferCallback | None
    transfer_callback_arg: object
    cert_conf_callback: CertConfCallback | None
    cert_conf_callback_arg: object
    http_callback: HttpCallback | None
    http_callback_arg: object
    exception: BaseException | None
    cert_conf_text: CData

    def __init__(self, context: Context) -> None:
        self.context = weakref.ref(context)
        self.log_callback = log_to_logging
        self.transfer_callback = None
        self.transfer_callback_arg = None
        self.cert_conf_callback = None
        self.cert_conf_callback_arg = None
        self.http_callback = None
        self.http_callback_arg = None
        self.exception = None
        self.cert_conf_text = None  # keeps *txt of the certConf callback alive

    def store(self, exc: BaseException) -> None:
        """Keep ``exc`` unless an earlier exception is kept already (the boundary of the
        context takes it: ``Boundary.take_exception``)."""
        if self.exception is None:
            self.exception = exc


def current_state() -> CallbackState | None:
    """The state of the Context call in progress on this thread, or None."""
    return getattr(_tls, "state", None)


def _text(ptr: CData) -> str | None:
    return None if ptr == ffi.NULL else ffi.string(ptr).decode("utf-8", "replace")


@ffi.def_extern(name="ocmp_log_cb")
def _log_trampoline(func: CData, file: CData, line: int, level: int, msg: CData) -> int:
    state = current_state()
    callback = state.log_callback if state is not None else log_to_logging
    if callback is None:
        return 1
    try:
        log_level: LogLevel | int = level
        try:
            log_level = LogLevel(level)
        except ValueError:
            pass  # OpenSSL may pass -1 for "unknown"
        message = _text(msg)
        if message is not None:
            message = message.rstrip("\n")
        callback(_text(func), _text(file), line, log_level, message)
        return 1
    except BaseException as exc:  # noqa: BLE001 - re-raised by the public call
        if state is not None:
            state.store(exc)
        return 0


def _state_from_arg(arg: CData) -> CallbackState | None:
    if arg == ffi.NULL:
        return None
    state = ffi.from_handle(arg)
    return state if isinstance(state, CallbackState) else None


@ffi.def_extern(name="ocmp_transfer_cb")
def _transfer_trampoline(ctx_ptr: CData, req_ptr: CData) -> CData:
    state = _state_from_arg(lib.OSSL_CMP_CTX_get_transfer_cb_arg(ctx_ptr))
    if state is None or state.transfer_callback is None:
        return ffi.NULL
    # The request is lent for the call; it is copied only if the callback keeps it.
    request: Message | None = Message._view(req_ptr)
    kept = lend(request)
    try:
        response = state.transfer_callback(cast("Context", state.context()),
                                           cast(Message, request))
        request = None  # from here on, only what the callback kept holds the view
        if not isinstance(response, Message):  # the callback's code is not type-checked
            raise TypeError("transfer_callback must return a Message, not %s"
                            % type(response).__name__)
        # OpenSSL frees the response: it takes ours if nobody else holds it, else a copy
        ptr, cls, taken = response.ptr, type(response), lend(response)
        del response
        assert taken is not None
        return hand_over(taken, ptr, cls)
    except BaseException as exc:  # noqa: BLE001
        state.store(exc)
        return ffi.NULL
    finally:
        request = None
        end_view(kept)


def _cert_conf_result(result: object) -> tuple[int, str | None]:
    """``int`` or ``(int, str)`` -> (fail bits, text or None), validated."""
    text = None
    if isinstance(result, tuple):
        if len(result) != 2:
            raise TypeError("cert_conf_callback must return int or (int, str)")
        result, text = result
        if text is not None and not isinstance(text, str):
            raise TypeError("cert_conf_callback text must be str or None")
    if isinstance(result, bool) or not isinstance(result, int):
        raise TypeError("cert_conf_callback must return an int (0 accepts, FailInfo bits "
                        "reject), not %s" % type(result).__name__)
    if not 0 <= result < (1 << 27):
        raise ValueError("cert_conf_callback returned bits outside PKIFailureInfo: %#x"
                         % result)
    return result, text


@ffi.def_extern(name="ocmp_certconf_cb")
def _cert_conf_trampoline(ctx_ptr: CData, cert_ptr: CData, fail_info: int,
                          txt: CData) -> int:
    state = _state_from_arg(lib.OSSL_CMP_CTX_get_certConf_cb_arg(ctx_ptr))
    if state is None or state.cert_conf_callback is None:
        return fail_info
    try:
        cert = Certificate._borrowed(cert_ptr)
        bits, text = _cert_conf_result(
            state.cert_conf_callback(cast("Context", state.context()), cert,
                                     FailInfo(fail_info)))
        if text is not None:
            # *txt must outlive this call: the state keeps the buffer.
            state.cert_conf_text = ffi.new("char[]", text.encode("utf-8"))
            txt[0] = state.cert_conf_text
        return bits
    except BaseException as exc:  # noqa: BLE001
        state.store(exc)
        return int(FailInfo.SYSTEM_FAILURE)


@ffi.def_extern(name="ocmp_http_cb")
def _http_trampoline(bio: CData, arg: CData, connect: int, detail: int) -> CData:
    state = current_state()
    if state is None or state.http_callback is None:
        return bio if connect else ffi.NULL
    try:
        result = state.http_callback(cast("Context", state.context()), bio, bool(connect),
                                     detail)
        if result is None:
            return ffi.NULL
        if not isinstance(result, ffi.CData) or ffi.typeof(result) is not ffi.typeof("BIO *"):
            raise TypeError("http_callback must return a BIO * cdata or None, not %r"
                            % (result,))
        return result
    except BaseException as exc:  # noqa: BLE001
        state.store(exc)
        return ffi.NULL
