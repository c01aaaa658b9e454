"""A :class:`~openssl_cmp.server.Server` as a WSGI application (``server.wsgi_app()``):
CMP over HTTP (RFC 6712) under gunicorn, uWSGI, mod_wsgi, ``wsgiref``, or routed to from
Django or Flask.

The HTTP rules are those of ``serve_http`` (:mod:`openssl_cmp._rfc6712`: the same framing
checks, limits and error answers).  WSGI calls the app on the server's worker threads, which
is where the server core runs; OpenSSL releases the GIL, so threaded workers (gunicorn
``--threads``) answer in parallel.  ``Connection: close`` is a hop-by-hop header a WSGI
app may not send (PEP 3333): when a request is refused with its body unread, closing the
connection is the WSGI server's business.
"""

from __future__ import annotations

from http import HTTPStatus  # the standard library's (no openssl_cmp.http)
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Optional

from openssl_cmp import _rfc6712
from openssl_cmp._rfc6712 import MAX_REQUEST

if TYPE_CHECKING:
    from openssl_cmp.server import Server

__all__ = ["WSGIApp"]

StartResponse = Callable[..., Optional[Callable[[bytes], object]]]


def _headers(environ: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The request's header fields as the WSGI server passed them (CGI-style names)."""
    fields = []
    for key, value in environ.items():
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if value != "":  # some servers pass "" for a header that was not sent
                fields.append((key.replace("_", "-").title(), str(value)))
        elif key.startswith("HTTP_") and key not in ("HTTP_CONTENT_TYPE",
                                                     "HTTP_CONTENT_LENGTH"):
            fields.append((key[5:].replace("_", "-").title(), str(value)))
    return fields


def _read(stream: Any, length: int) -> bytes | None:
    """``length`` bytes of ``wsgi.input``, or None if the client sent fewer."""
    parts = []
    left = length
    while left > 0:
        chunk = stream.read(left)
        if not chunk:
            return None
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


class WSGIApp(_rfc6712.Tally):
    """``WSGIApp(server, *, max_request=1 MiB)``: a WSGI application serving ``server``
    (any path; POST only).  ``requests`` and ``errors`` count as on
    :class:`~openssl_cmp.http.HTTPServing` (per process)."""

    def __init__(self, server: Server, *, max_request: int = MAX_REQUEST) -> None:
        _rfc6712.check_server(server)
        super().__init__()
        self.server: Server = server
        self.max_request: int = _rfc6712.positive("max_request", max_request, True)

    def __call__(self, environ: Mapping[str, Any],
                 start_response: StartResponse) -> Iterable[bytes]:
        headers = _headers(environ)
        if environ.get("REQUEST_METHOD") != "POST":
            length = _rfc6712.framing(headers)
            reply = length if isinstance(length, _rfc6712.Reply) else \
                _rfc6712.not_post(length)
        else:
            checked = _rfc6712.check_post(headers, self.max_request)
            if isinstance(checked, _rfc6712.Reply):
                reply = checked
            else:
                body = _read(environ["wsgi.input"], checked)
                if body is None:
                    reply = _rfc6712.refusal(400, "body does not match Content-Length")
                else:
                    reply = _rfc6712.answer(self.server, body, self, _peer(environ))
        start_response("%d %s" % (reply.status, HTTPStatus(reply.status).phrase),
                       [("Content-Type", reply.content_type),
                        ("Content-Length", str(len(reply.body)))])
        return [reply.body]


def _peer(environ: Mapping[str, Any]) -> str:
    """``host:port`` of the client as the WSGI server reports it (REMOTE_PORT is not in
    PEP 3333, but gunicorn, uWSGI and wsgiref set it), ``host`` alone without it, or
    ``-``."""
    host = environ.get("REMOTE_ADDR")
    if not host:
        return "-"
    port = environ.get("REMOTE_PORT")
    return "%s:%s" % (host, port) if port else str(host)
