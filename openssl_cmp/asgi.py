"""A :class:`~openssl_cmp.server.Server` as an ASGI 3 application (``server.asgi_app()``):
CMP over HTTP (RFC 6712) under uvicorn, hypercorn, granian, or mounted in Starlette,
FastAPI or Django.

The HTTP rules are those of ``serve_http`` (:mod:`openssl_cmp._rfc6712`: the same framing
checks, limits and error answers).  The crypto work (the server core and the handlers) never
runs on the event loop: each request body is answered on a thread of the app's own pool,
``max_in_flight`` threads (16 by default), so at most that many requests are inside OpenSSL
at once and the others wait their turn without holding the loop.  The ASGI server's own
limits (connections, timeouts, keep-alive) apply in front of it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from typing import TYPE_CHECKING, Any, Awaitable, Callable, MutableMapping

from openssl_cmp import _rfc6712
from openssl_cmp._rfc6712 import MAX_REQUEST

if TYPE_CHECKING:
    from openssl_cmp.server import Server

__all__ = ["ASGIApp", "MAX_IN_FLIGHT"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

MAX_IN_FLIGHT = 16
"""Default number of requests answered at once (threads of the app's pool)."""


class ASGIApp(_rfc6712.Tally):
    """``ASGIApp(server, *, max_request=1 MiB, max_in_flight=16)``: an ASGI 3 application
    serving ``server`` (any path; POST only).  ``requests`` and ``errors`` count as on
    :class:`~openssl_cmp.http.HTTPServing`.  ``close()`` (also run at the ASGI lifespan's
    shutdown) ends the thread pool."""

    def __init__(self, server: Server, *, max_request: int = MAX_REQUEST,
                 max_in_flight: int = MAX_IN_FLIGHT) -> None:
        _rfc6712.check_server(server)
        super().__init__()
        self.server: Server = server
        self.max_request: int = _rfc6712.positive("max_request", max_request, True)
        self.max_in_flight: int = _rfc6712.positive("max_in_flight", max_in_flight, True)
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self._closed = False

    def _executor(self) -> concurrent.futures.ThreadPoolExecutor:
        # created on first use: an app mounted in another one never sees a lifespan event,
        # and an app that is never called costs no thread
        with self._pool_lock:
            if self._closed:
                raise RuntimeError("the ASGI app is closed")
            if self._pool is None:
                self._pool = concurrent.futures.ThreadPoolExecutor(
                    self.max_in_flight, thread_name_prefix="openssl_cmp-asgi")
            return self._pool

    def close(self) -> None:
        """End the thread pool (requests in flight finish first)."""
        with self._pool_lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope.get("type")
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        elif kind == "websocket":
            await receive()  # websocket.connect
            await send({"type": "websocket.close", "code": 1003})
        else:
            raise ValueError("unsupported ASGI scope type %r" % kind)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            event = await receive()
            if event["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif event["type"] == "lifespan.shutdown":
                await asyncio.get_running_loop().run_in_executor(None, self.close)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(bytes(name).decode("latin-1"), bytes(value).decode("latin-1"))
                   for name, value in scope.get("headers", ())]
        if scope.get("method") != "POST":
            length = _rfc6712.framing(headers)
            await _respond(send, length if isinstance(length, _rfc6712.Reply)
                           else _rfc6712.not_post(length))
            return
        checked = _rfc6712.check_post(headers, self.max_request, self._closed)
        if isinstance(checked, _rfc6712.Reply):
            await _respond(send, checked)
            return
        body = await _read_body(receive, checked)
        if body is None:
            return  # the client went away in the middle of its body: nobody to answer
        if len(body) != checked:  # a server that does not enforce Content-Length
            await _respond(send,
                           _rfc6712.refusal(400, "body does not match Content-Length"))
            return
        client = scope.get("client")
        peer = "%s:%s" % tuple(client[:2]) if client else "-"
        future = self._executor().submit(_rfc6712.answer, self.server, body, self, peer)
        # a cancelled request (client gone) leaves the thread to finish its transaction
        # step: the server's state stays consistent
        await _respond(send, await asyncio.wrap_future(future))


async def _read_body(receive: Receive, length: int) -> bytes | None:
    """The body as received (``length`` bytes when the ASGI server enforces
    Content-Length), or None if the client disconnected first."""
    parts: list[bytes] = []
    size = 0
    while True:
        event = await receive()
        if event["type"] == "http.disconnect":
            return None
        chunk = bytes(event.get("body", b""))
        parts.append(chunk)
        size += len(chunk)
        if size > length or not event.get("more_body", False):
            break
    return b"".join(parts)


async def _respond(send: Send, reply: _rfc6712.Reply) -> None:
    headers = [(b"content-type", reply.content_type.encode()),
               (b"content-length", b"%d" % len(reply.body))]
    if reply.close:  # honoured by uvicorn, hypercorn and granian: the body stays unread
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    await send({"type": "http.response.body", "body": reply.body})
