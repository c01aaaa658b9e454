"""The rules of CMP over HTTP (RFC 6712) that every front end shares: ``serve_http``
(:mod:`openssl_cmp.http`), the ASGI app (:mod:`openssl_cmp.asgi`) and the WSGI app
(:mod:`openssl_cmp.wsgi`).  Each rule is written here once; the front ends only move bytes.

* :func:`check_post`: a POST's header section -> the body length to read, or the
  :class:`Reply` refusing it (strict framing, RFC 9112 section 6: exactly one
  ``Content-Length`` of ASCII digits, no ``Transfer-Encoding``; ``Content-Type``
  ``application/pkixcmp``, RFC 6712 section 3.4; the size limit).
* :func:`not_post`: the answer to any other method (CMP over HTTP uses POST only,
  RFC 6712 section 3.1).
* :func:`answer`: a request body -> the reply (the CMP response, the CMP error message for
  an undecodable body with a readable header (:mod:`openssl_cmp._http_errors`), ``400``,
  or ``500`` when the server core produced no message at all).
* :class:`Tally`: the ``requests`` and ``errors`` counters of a front end.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import TYPE_CHECKING, Iterable, NamedTuple, TypeVar, Union

from openssl_cmp import _http_errors
from openssl_cmp.errors import OpenSSLError
from openssl_cmp.message import Message

if TYPE_CHECKING:
    from openssl_cmp.server import Server

__all__ = ["CONTENT_TYPE", "MAX_REQUEST", "Reply", "Tally", "check_post", "not_post",
           "answer", "header_fields_ok", "refusal", "framing", "positive",
           "check_server"]

CONTENT_TYPE = "application/pkixcmp"
TEXT = "text/plain"
MAX_REQUEST = 1 << 20  # bytes; CMP requests are a few KiB
logger: logging.Logger = logging.getLogger("openssl_cmp.http")

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 field name
_DIGITS = re.compile(r"[0-9]+")  # str pattern: ASCII digits only ("٤" is not a digit here)
_OWS = " \t"
N = TypeVar("N", int, float)


def positive(name: str, value: N, integer: bool = False) -> N:
    """``value``, checked: a positive number (an int when ``integer``)."""
    kinds = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise TypeError("%s must be %s, not %s" % (name, "int" if integer else "a number",
                                                   type(value).__name__))
    if not value > 0:
        raise ValueError("%s must be positive" % name)
    return value


def check_server(server: object) -> None:
    """TypeError unless ``server`` is a :class:`~openssl_cmp.server.Server` (told by its
    serving entry point: server imports the front ends, so they cannot import it)."""
    if not callable(getattr(server, "_process", None)) or isinstance(server, type):
        raise TypeError("server must be an openssl_cmp.Server, not %s"
                        % type(server).__name__)


class Reply(NamedTuple):
    """An HTTP answer: status, Content-Type, body, and whether the connection must close
    (the request body was left unread: on keep-alive it would be taken for the next
    request)."""

    status: int
    content_type: str
    body: bytes
    close: bool = False


def refusal(status: int, text: str) -> Reply:
    """A plain-text refusal that closes the connection."""
    return Reply(status, TEXT, text.encode() + b"\n", True)


def header_fields_ok(headers: Iterable[tuple[str, str]]) -> bool:
    """Every field name is an RFC 9110 token and no value holds CR or LF."""
    return all(_TOKEN.fullmatch(name) and "\r" not in value and "\n" not in value
               for name, value in headers)


def _body_length(headers: list[tuple[str, str]]) -> Union[int, Reply, None]:
    """The length the header section announces, None when it announces none, or the
    refusal of an ambiguous framing."""
    if not header_fields_ok(headers):
        return refusal(400, "malformed header field")
    names = [name.lower() for name, _ in headers]
    if "transfer-encoding" in names:
        return refusal(400, "Transfer-Encoding is not supported")
    values = [value for name, value in headers if name.lower() == "content-length"]
    if not values:
        return None
    if len(values) > 1:
        return refusal(400, "more than one Content-Length")
    value = values[0].strip(_OWS)
    if not _DIGITS.fullmatch(value):
        return refusal(400, "invalid Content-Length")
    return int(value) if len(value) <= 12 else 10 ** 12  # beyond any max_request


def framing(headers: Iterable[tuple[str, str]]) -> Union[int, Reply, None]:
    """For a request of any method: the announced body length, None, or the refusal of an
    ambiguous framing (``400``)."""
    return _body_length(list(headers))


def check_post(headers: Iterable[tuple[str, str]], max_request: int,
               closing: bool = False) -> Union[int, Reply]:
    """The body length of a POST with this header section, or the reply refusing it.  The
    order of the checks is the order of the answers: framing (400), no length (411), the
    server closing (503), Content-Type (415), an empty body (400), too large (413)."""
    fields = list(headers)
    length = _body_length(fields)
    if isinstance(length, Reply):
        return length
    if length is None:
        return refusal(411, "Content-Length required")
    if closing:
        return refusal(503, "server closing")
    ctype = next((value for name, value in fields if name.lower() == "content-type"), "")
    if ctype.split(";")[0].strip(_OWS).lower() != CONTENT_TYPE:
        return refusal(415, "Content-Type must be application/pkixcmp")
    if length == 0:
        return Reply(400, TEXT, b"empty request\n")  # nothing unread: may stay open
    if length > max_request:
        return refusal(413, "request too large")
    return length


def not_post(length: Union[int, None]) -> Reply:
    """The answer to a method other than POST (``405``); it closes the connection when
    the request announced a body (rather than read it)."""
    return Reply(405, TEXT, b"CMP over HTTP uses POST\n", length is not None)


class Tally:
    """``requests``: requests answered by the CMP server core; ``errors``: exceptions
    raised by handlers while serving (logged to ``openssl_cmp.server`` and answered with a
    CMP error message, never re-raised)."""

    def __init__(self) -> None:
        self.errors: list[BaseException] = []
        self.requests: int = 0
        self._tally_lock = threading.Lock()

    def _record(self, exc: BaseException) -> None:
        with self._tally_lock:
            self.errors.append(exc)
        logging.getLogger("openssl_cmp.server").error("handler failed: %s", exc,
                                                      exc_info=exc)

    def _count(self) -> None:
        with self._tally_lock:
            self.requests += 1


def _undecodable(server: Server, body: bytes, exc: Exception, peer: str) -> Reply:
    try:
        der = _http_errors.error_response(server, body)
    except Exception as error:  # noqa: BLE001 - never let a bad body kill the caller
        logger.error("%s cannot build a CMP error message", peer, exc_info=error)
        der = None
    if der is None:
        logger.info("%s rejecting undecodable CMP request (no readable header): %s", peer,
                    exc)
        return Reply(400, TEXT, b"not a DER PKIMessage\n")
    logger.info("%s undecodable CMP request, answered with a badDataFormat error message: "
                "%s", peer, exc)
    return Reply(200, CONTENT_TYPE, der)


def answer(server: Server, body: bytes, tally: Tally, peer: str = "") -> Reply:
    """The reply to a request body (blocking: the server core and the handlers run on the
    calling thread; an asynchronous front end calls this in a worker thread)."""
    try:
        request = Message.from_der(body)
    except (OpenSSLError, ValueError) as exc:
        return _undecodable(server, body, exc, peer)
    try:
        # the connection is the pool's second key: one connection cannot evict other
        # clients' transactions, whatever senders it names
        response, failure = server._process(request, peer if peer not in ("", "-") else None)
    except Exception as exc:  # noqa: BLE001 - the core produced no message at all
        tally._record(exc)
        return Reply(500, TEXT, b"server error\n")
    if failure is not None:
        tally._record(failure)
    tally._count()
    return Reply(200, CONTENT_TYPE, response.to_der())
