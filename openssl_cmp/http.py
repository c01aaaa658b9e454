"""CMP over HTTP (RFC 6712) for a :class:`~openssl_cmp.server.Server`: a threaded HTTP
server on a background thread, usable by any CMP client (``openssl cmp -server …``)."""

from __future__ import annotations

import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from openssl_cmp.errors import OpenSSLError
from openssl_cmp.message import Message

__all__ = ["HTTPServing", "CONTENT_TYPE"]

CONTENT_TYPE = "application/pkixcmp"
MAX_REQUEST = 1 << 20  # bytes; CMP requests are a few KiB
logger = logging.getLogger("openssl_cmp.http")


_QUICKACK = getattr(socket, "TCP_QUICKACK", None)  # Linux


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as OpenSSL's client prefers
    server_version = "openssl_cmp"

    def _ack_now(self) -> None:
        """OpenSSL's HTTP client writes the headers and the body separately; on a kept-alive
        connection its Nagle algorithm then waits for our ACK of the headers, which Linux
        delays by ~40 ms.  TCP_QUICKACK (not sticky, so re-armed per request) sends it at
        once: ~20 instead of ~350 enrollments/s over one connection."""
        if _QUICKACK is not None:
            try:
                self.connection.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
            except OSError:  # pragma: no cover - not a TCP socket
                pass

    def _reply(self, code: int, body: bytes, content_type: str = "text/plain",
               close: bool = False) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def setup(self):
        super().setup()
        self.server.serving._track(self.connection, True)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.serving._track(self.connection, False)

    def do_POST(self):  # noqa: N802 - http.server's naming
        self._ack_now()  # the headers are in: let the client send its body now
        serving: HTTPServing = self.server.serving
        if serving.closing:
            self.close_connection = True
            self._reply(503, b"server closing\n", close=True)
            return
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        # Refusals that leave the body unread must close the connection: on keep-alive the
        # unread body would be taken for the next request.
        if ctype != CONTENT_TYPE:
            self.close_connection = True
            self._reply(415, b"Content-Type must be application/pkixcmp\n", close=True)
            return
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self.close_connection = True
            self._reply(411, b"Content-Length required\n", close=True)
            return
        if length <= 0:
            self._reply(400, b"empty request\n")
            return
        if length > MAX_REQUEST:
            self.close_connection = True
            self._reply(413, b"request too large\n", close=True)
            return
        body = self.rfile.read(length)
        try:
            request = Message.from_der(body)
        except (OpenSSLError, ValueError) as exc:
            logger.info("rejecting undecodable CMP request from %s: %s",
                        self.client_address[0], exc)
            self._reply(400, b"not a DER PKIMessage\n")
            return
        try:
            response, exc = serving.server._process(request)
        except Exception as exc:  # noqa: BLE001 - the core produced no message at all
            serving._record(exc)
            self._reply(500, b"server error\n")
            return
        if exc is not None:
            serving._record(exc)
        with serving._lock:
            serving.requests += 1
        self._reply(200, response.to_der(), CONTENT_TYPE)
        self._ack_now()

    def do_GET(self):  # noqa: N802
        self._reply(405, b"CMP over HTTP uses POST\n")

    def log_message(self, fmt, *args):
        logger.debug("%s " + fmt, self.client_address[0], *args)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = False  # joined by server_close() (block_on_close)
    block_on_close = True
    allow_reuse_address = True


class HTTPServing:
    """A running HTTP endpoint; ``with server.serve_http() as http: http.url``.

    ``errors`` collects exceptions raised by handlers while serving (they are logged to
    ``openssl_cmp.server`` and answered with a CMP error message, never re-raised in the
    server thread); ``requests`` counts answered requests."""

    def __init__(self, server, host: str = "127.0.0.1", port: int = 0):
        if not isinstance(host, str) or not isinstance(port, int):
            raise TypeError("host must be str and port int")
        self.server = server
        self.errors: list[BaseException] = []
        self.requests = 0
        self.closing = False
        self._lock = threading.Lock()
        self._connections: set = set()
        self._httpd = _HTTPServer((host, port), _Handler)
        self._httpd.serving = self
        self.host, self.port = self._httpd.server_address[:2]
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.2},
                                        name="openssl_cmp-http-%d" % self.port, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """``http://host:port/pkix/`` (any path is served)."""
        return "http://%s:%d/pkix/" % (self.host, self.port)

    @property
    def address(self) -> str:
        """``host:port``, the form ``openssl cmp -server`` takes."""
        return "%s:%d" % (self.host, self.port)

    def _record(self, exc: BaseException) -> None:
        with self._lock:
            self.errors.append(exc)
        logging.getLogger("openssl_cmp.server").error("handler failed: %s", exc,
                                                      exc_info=exc)

    def _track(self, connection, open_: bool) -> None:
        with self._lock:
            (self._connections.add if open_ else self._connections.discard)(connection)

    def close(self) -> None:
        """Stop accepting, end kept-alive connections (a request still being handled is
        finished first), and join every server thread."""
        if self._httpd is None:
            return
        self.closing = True
        self._httpd.shutdown()  # no new connections
        with self._lock:
            connections = list(self._connections)
        for connection in connections:  # wake handlers waiting for a next request
            try:
                connection.shutdown(socket.SHUT_RD)
            except OSError:
                pass
        self._httpd.server_close()  # joins the handler threads
        self._thread.join(30)
        self._httpd = None

    def __enter__(self) -> "HTTPServing":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self):
        return "<HTTPServing %s>" % self.url
