"""Transcripts: what went over the wire in a transaction, one :class:`Exchange` (request,
response, seconds) per round trip, printable one line per message.

``Context`` fills ``ctx.transcript`` (and ``CMPError.transcript``) through
:class:`Recorder`, the Python transfer callback that sits in front of the real transfer:
a user's callback (or an ``Intercept``) always, and, with ``ctx.record_transcript = True``,
OpenSSL's own HTTP transfer or an in-process ``Server`` (see docs/testing.md).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

from openssl_cmp.binding import ffi, lib
from openssl_cmp.enums import PKIStatus
from openssl_cmp.errors import CMPError, raise_openssl
from openssl_cmp.message import Message

if TYPE_CHECKING:
    from openssl_cmp.context import Context

__all__ = ["Exchange", "format_message", "format_transcript", "Recorder"]


def _rfc_name(name: str) -> str:
    """A FailInfo member name as RFC 4210 spells the bit (BAD_CERT_TEMPLATE ->
    badCertTemplate)."""
    if name == "BAD_POP":
        return "badPOP"
    first, *rest = name.lower().split("_")
    return first + "".join(word.capitalize() for word in rest)


def format_message(msg: Message | None, arrow: str) -> str:
    """One line for one message: direction, body type, transactionID, status, failInfo."""
    if msg is None:
        return "%s (no message)" % arrow
    try:
        line = "%s %-8s tid=%s" % (arrow, msg.body_type.name,
                                   (msg.transaction_id or b"").hex() or "-")
        statuses = msg.status_infos or []
        if statuses:
            status = statuses[0].status
            line += " status=%s" % (status.name.lower() if isinstance(status, PKIStatus)
                                    else status)
            fail = statuses[0].fail_info
            if fail:
                line += " failInfo=%s" % ",".join(_rfc_name(n) for n in fail.names())
            if statuses[0].texts:
                line += " %r" % "; ".join(statuses[0].texts)
        if msg.error_details:
            line += " details=%r" % "; ".join(msg.error_details)
    except (ValueError, AttributeError) as exc:  # a malformed message is shown, not fatal
        line = "%s (malformed: %s)" % (arrow, exc)
    return line


class Exchange:
    """One round trip: the request sent, the response received (None when there was none)
    and the seconds it took.  Unpacks like a tuple: ``request, response, seconds = ex``.

    The messages are kept as DER snapshots and decoded on first access: recording then
    costs an encoding per message, not a copy of OpenSSL's structure (a copy re-parses every
    certificate in it), and the response object goes to OpenSSL without a copy."""

    __slots__ = ("_request_der", "_response_der", "seconds", "_request", "_response")

    def __init__(self, request: Message | bytes, response: Message | bytes | None,
                 seconds: float) -> None:
        self._request: Message | None = None
        self._response: Message | None = None
        self.seconds: float = seconds
        self._request_der: bytes = request if isinstance(request, bytes) else request.to_der()
        # what a transfer callback returned that is not a message (the call then fails
        # with TypeError) is recorded as no response
        self._response_der: bytes | None = (
            response if response is None or isinstance(response, bytes)
            else response.to_der() if hasattr(response, "to_der") else None)

    @property
    def request(self) -> Message:
        """The request as it was sent."""
        if self._request is None:
            self._request = Message.from_der(self._request_der)
        return self._request

    @property
    def response(self) -> Message | None:
        """The response as it was received, or None when none came."""
        if self._response is None and self._response_der is not None:
            self._response = Message.from_der(self._response_der)
        return self._response

    def __iter__(self) -> Iterator[Any]:
        return iter((self.request, self.response, self.seconds))

    def __len__(self) -> int:
        return 3

    def __getitem__(self, index: int) -> Any:
        return (self.request, self.response, self.seconds)[index]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Exchange):
            return NotImplemented
        return (self._request_der, self._response_der, self.seconds) == \
            (other._request_der, other._response_der, other.seconds)

    def __hash__(self) -> int:
        return hash((self._request_der, self._response_der, self.seconds))

    def __repr__(self) -> str:
        return "Exchange(%s)" % format_message(self.request, "->").lstrip("-> ")

    def __str__(self) -> str:
        """Two lines: the request and the response, each with the time taken."""
        return "%s\n%s  (%.3f s)" % (format_message(self.request, "->"),
                                     format_message(self.response, "<-"), self.seconds)


def format_transcript(transcript: Iterable[Exchange]) -> str:
    """A readable trace of a transcript: one line per message (direction, body type,
    transactionID, status, failInfo), each response with the seconds it took."""
    lines = [str(e) for e in transcript]
    return "\n".join(lines) if lines else "(no messages exchanged)"


class Recorder:
    """A transfer callback that times and records each exchange of ``inner`` (the user's
    transfer callback when ``user``, else one of the C transfers below) into
    ``exchanges``."""

    __slots__ = ("inner", "exchanges", "user")

    def __init__(self, inner: Callable[[Context, Message], Message],
                 exchanges: list[Exchange], user: bool) -> None:
        self.inner = inner
        self.exchanges = exchanges
        self.user = user

    def __call__(self, ctx: Context, request: Message) -> Message:
        kept = request.to_der()  # the request is lent by OpenSSL for this call only
        start = time.perf_counter()
        try:
            response = self.inner(ctx, request)
        except BaseException as exc:
            self.exchanges.append(Exchange(kept, None, time.perf_counter() - start))
            if isinstance(exc, CMPError):  # re-raised as is from exec_*: carry the trace
                exc.transcript = list(self.exchanges)
            raise
        self.exchanges.append(Exchange(kept, response, time.perf_counter() - start))
        return response


class TransferFailed(CMPError):
    """The C transfer behind a recording hop failed (OpenSSL's own errors attached)."""


def _c_transfer(call: Callable[[Any, Any], Any], arg: Any, what: str
                ) -> Callable[[Context, Message], Message]:
    """OpenSSL's transfer ``call(ctx, req)`` made from Python, with the context's
    transfer_cb_arg set to ``arg`` for the call (the server context of
    ``OSSL_CMP_CTX_server_perform``; NULL for ``OSSL_CMP_MSG_http_perform``, which from
    3.5 on reads a non-NULL arg as its BIOs) and the recording hop's handle back after."""
    def transfer(ctx: Context, request: Message) -> Message:
        ptr = ctx.ptr
        handle = lib.OSSL_CMP_CTX_get_transfer_cb_arg(ptr)
        lib.OSSL_CMP_CTX_set_transfer_cb_arg(ptr, arg)
        try:
            rsp = call(ptr, request.ptr)
        finally:
            lib.OSSL_CMP_CTX_set_transfer_cb_arg(ptr, handle)
        if rsp == ffi.NULL:
            raise_openssl("%s failed" % what, TransferFailed)
        return Message._owned(rsp)
    return transfer


def http_transfer() -> Callable[[Context, Message], Message]:
    """OpenSSL's default HTTP transfer, as a Python transfer callback."""
    return _c_transfer(lib.OSSL_CMP_MSG_http_perform, ffi.NULL, "HTTP transfer")


def server_transfer(srv_ctx: Any) -> Callable[[Context, Message], Message]:
    """``OSSL_CMP_CTX_server_perform`` with ``srv_ctx``, as a Python transfer callback."""
    return _c_transfer(lib.OSSL_CMP_CTX_server_perform, srv_ctx, "in-process transfer")
