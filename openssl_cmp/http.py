"""CMP over HTTP (RFC 6712) for a :class:`~openssl_cmp.server.Server`: a threaded HTTP (or
HTTPS) server on a background thread, usable by any CMP client (``openssl cmp -server …``).

It serves tests and :class:`~openssl_cmp.testing.MockCA`, and is built to withstand a
hostile peer.  Every limit is a keyword argument of :class:`HTTPServing` (and of
``Server.serve_http``) and an attribute of the same name:

================== ========= ==============================================================
limit              default   meaning
================== ========= ==============================================================
idle_timeout       30 s      a connection that sends no (next) request for this long is
                             closed (before the first request too)
read_timeout       10 s      a whole request (request line, headers and body), from its
                             first byte, must arrive within this time, else the connection
                             is closed (slowloris)
write_timeout      10 s      a whole response must be taken by the client within this time,
                             else the connection is closed (a client that stops reading)
handshake_timeout  10 s      the TLS handshake (HTTPS only), done in the connection's thread
max_connections    256       connections served at once; one more is answered ``503`` with
                             ``Connection: close`` (HTTPS: closed) by the accept loop,
                             without a thread
backlog            1024      the listen queue (``listen(2)``; the kernel caps it at
                             ``net.core.somaxconn``)
max_request        1 MiB     the largest request body (``413`` beyond)
max_header_bytes   32 KiB    request line plus header section (the connection is refused
                             with ``431`` / closed beyond)
close_timeout      2 s       how long :meth:`HTTPServing.close` lets requests in flight
                             finish (see there for the bound)
================== ========= ==============================================================

Request framing is strict (RFC 9112 section 6): a POST needs exactly one
``Content-Length`` made of ASCII digits (optional surrounding blanks); two of them (even
identical), a sign, an underscore or any other character, any ``Transfer-Encoding``, an
obsolete line folding or a malformed header line are answered ``400`` and the connection is
closed.  A body that is not a decodable PKIMessage but whose PKIHeader is readable is
answered with a CMP error message (rejection, badDataFormat; see
:mod:`openssl_cmp._http_errors`), one with no readable header with ``400``.

Connection trouble (resets, timeouts, TLS handshake failures, broken pipes) is logged to
the ``openssl_cmp.http`` logger (INFO), refusals at the connection limit and descriptor
exhaustion while accepting (WARNING, at most every few seconds): nothing is printed to
stderr.  When ``accept`` fails for lack of descriptors (EMFILE), the accept loop backs off
for 100 ms instead of spinning.
"""

from __future__ import annotations

import errno
import http.client
import io
import logging
import selectors
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from openssl_cmp import _rfc6712
from openssl_cmp._rfc6712 import CONTENT_TYPE, MAX_REQUEST
from openssl_cmp._rfc6712 import positive as _positive
from openssl_cmp.tls import TLS

if TYPE_CHECKING:  # server imports this module (on demand, in Server.serve_http)
    from openssl_cmp.server import Server

__all__ = ["HTTPServing", "CONTENT_TYPE"]

logger: logging.Logger = logging.getLogger("openssl_cmp.http")

# defaults of the limits (documented in the module docstring and docs/server.md)
IDLE_TIMEOUT = 30.0
READ_TIMEOUT = 10.0
WRITE_TIMEOUT = 10.0
HANDSHAKE_TIMEOUT = 10.0
MAX_CONNECTIONS = 256
BACKLOG = 1024
MAX_HEADER_BYTES = 32 * 1024
CLOSE_TIMEOUT = 2.0

_KILL_WAIT = 1.0  # close(): seconds for the threads to end once their sockets are shut down
_LINGER = 1.0  # seconds to drain an unread request before closing (see _close_socket)
_LINGER_BYTES = 4 * MAX_REQUEST
_ACCEPT_BACKOFF = 0.1  # seconds, after accept() failed for lack of resources
_WARN_EVERY = 5.0  # seconds between two warnings of the same kind
_WRITE_CHUNK = 64 * 1024  # bytes per send(): bounds each TLS write call as well
_ACCEPT_BATCH = 64  # connections accepted per wake-up of the accept loop
_RESOURCE_ERRORS = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)

_QUICKACK = getattr(socket, "TCP_QUICKACK", None)  # Linux


def _canned(code: int, reason: str, text: str) -> bytes:
    body = text.encode()
    return (b"HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
            b"Connection: close\r\n\r\n" % (code, reason.encode(), len(body))) + body


_BUSY = _canned(503, "Service Unavailable", "too many connections\n")

# connection states, for close()
_IDLE, _READING, _BUSY_STATE = "idle", "reading", "busy"


class _Deadline(Exception):
    """A connection ran out of time (idle, read, write or TLS handshake timeout).  Not an
    OSError, so that http.server's own TimeoutError handling does not swallow it."""


class _Connection:
    """One accepted connection: its socket (a TLS socket after the handshake), peer and
    state."""

    __slots__ = ("sock", "peer", "state", "thread", "linger")

    sock: socket.socket
    peer: str
    state: str
    thread: threading.Thread | None
    linger: bool

    def __init__(self, sock: socket.socket, address: Any) -> None:
        self.sock = sock
        self.peer = "[%s]:%d" % address[:2] if ":" in address[0] else "%s:%d" % address[:2]
        self.state = _IDLE
        self.thread = None
        self.linger = False  # a response went out with part of the request left unread

    def kill(self) -> None:
        """Shut both directions down: a thread blocked on this socket returns at once.
        (The plain socket method, also on a TLS socket: SSLSocket.shutdown would drop its
        SSL object under the feet of the thread using it.)"""
        try:
            socket.socket.shutdown(self.sock, socket.SHUT_RDWR)
        except OSError:
            pass


class _Reader(io.RawIOBase):
    """The socket as a raw stream whose reads share one deadline (``arm``): a peer sending
    a byte now and then cannot stretch it, unlike a per-recv socket timeout."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__()
        self.sock = sock
        self.deadline = 0.0
        self.what = ""

    def arm(self, seconds: float, what: str) -> None:
        self.deadline = time.monotonic() + seconds
        self.what = what

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise _Deadline(self.what)
        self.sock.settimeout(left)
        try:
            return self.sock.recv_into(buffer)
        except socket.timeout:
            raise _Deadline(self.what) from None


class _Writer(io.RawIOBase):
    """The socket as a write stream: each response must be sent within ``timeout`` seconds
    from its first byte (``reset`` between responses)."""

    def __init__(self, sock: socket.socket, timeout: float) -> None:
        super().__init__()
        self.sock = sock
        self.timeout = timeout
        self.deadline: float | None = None

    def reset(self) -> None:
        self.deadline = None

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self.deadline is None:
            self.deadline = time.monotonic() + self.timeout
        deadline = self.deadline
        view = memoryview(data).cast("B")
        while view:
            left = deadline - time.monotonic()
            if left <= 0:
                raise _Deadline("the client did not take the response within %g s (write "
                                "timeout)" % self.timeout)
            self.sock.settimeout(left)
            try:
                sent = self.sock.send(view[:_WRITE_CHUNK])
            except socket.timeout:
                raise _Deadline("the client did not take the response within %g s (write "
                                "timeout)" % self.timeout) from None
            view = view[sent:]
        return len(data)


class _HeaderBudget:
    """``rfile`` while the request line and headers are parsed: at most ``budget`` bytes
    (http.server alone would take 100 header lines of 64 KiB each)."""

    def __init__(self, stream: BinaryIO, budget: int) -> None:
        self.stream = stream
        self.left = budget

    def readline(self, size: int = -1) -> bytes:
        limit = self.left + 1 if size is None or size < 0 else min(size, self.left + 1)
        line: bytes = self.stream.readline(limit)
        self.left -= len(line)
        if self.left < 0:
            raise http.client.LineTooLong("request line and header section")
        return line

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as OpenSSL's client prefers
    server_version = "openssl_cmp"
    # no HTTP/0.9: an unparsable request line is answered with a status line and headers
    default_request_version = "HTTP/1.0"

    _headers_buffer: list[bytes]  # http.server's own (private) output buffer

    def __init__(self, conn: _Connection, serving: HTTPServing) -> None:
        self.conn = conn
        self.serving = serving
        # runs setup, handle, finish; the "server" is duck-typed (http.server reads nothing
        # from it but what HTTPServing has)
        super().__init__(conn.sock, conn.peer, cast(Any, serving))

    # -- plumbing -------------------------------------------------------------------------
    def setup(self) -> None:
        self.connection = self.request
        self._raw = _Reader(self.connection)
        self._stream = io.BufferedReader(self._raw, 16384)
        self.rfile = self._stream
        # http.server only calls write() and flush() on wfile
        self._writer = _Writer(self.connection, self.serving.write_timeout)
        self.wfile = cast(io.BufferedIOBase, self._writer)

    def finish(self) -> None:
        pass  # the connection's thread closes the socket (see HTTPServing._serve)

    def version_string(self) -> str:
        return self.server_version

    def address_string(self) -> str:
        return self.conn.peer

    def log_message(self, format: str, *args: Any) -> None:  # the access log
        logger.debug("%s " + format, self.conn.peer, *args)

    def log_error(self, format: str, *args: Any) -> None:  # malformed requests (send_error)
        logger.info("%s " + format, self.conn.peer, *args)

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

    def handle_one_request(self) -> None:
        serving, conn = self.serving, self.conn
        with serving._lock:
            conn.state = _IDLE
            if serving.closing:
                self.close_connection = True
                return
        self._writer.reset()
        self._raw.arm(serving.idle_timeout, "no request within %g s (idle timeout)"
                      % serving.idle_timeout)
        if not self._stream.peek(1):
            self.close_connection = True  # the client closed the connection
            return
        conn.state = _READING
        self._raw.arm(serving.read_timeout, "request not complete within %g s (read "
                      "timeout)" % serving.read_timeout)
        # http.server only calls readline() while it parses the header section
        self.rfile = cast(io.BufferedIOBase,
                          _HeaderBudget(self._stream, serving.max_header_bytes))
        try:
            super().handle_one_request()
        except http.client.LineTooLong:  # the request line alone exceeds the budget
            logger.info("%s request line longer than %d bytes: connection closed",
                        conn.peer, serving.max_header_bytes)
            self.close_connection = True
        finally:
            self.rfile = self._stream

    def send_error(self, code: int, message: str | None = None,
                   explain: str | None = None) -> None:
        self.conn.linger = True  # http.server closes after an error; the rest is unread
        super().send_error(code, message, explain)

    def _reply(self, code: int, body: bytes, content_type: str = "text/plain",
               close: bool = False) -> None:
        if self.serving.closing:
            close = True
        if close:
            self.close_connection = True
            self.conn.linger = True
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
        self._headers_buffer.append(b"\r\n")
        self._headers_buffer.append(body)
        self.flush_headers()  # headers and body in one write

    # -- framing --------------------------------------------------------------------------
    def _fields(self) -> list[tuple[str, str]] | None:
        """The header fields, or None after refusing a header section the email parser
        found defects in (400; the connection closes)."""
        headers = self.headers
        if headers.defects or headers.get_payload():
            self._send(_rfc6712.refusal(400, "malformed header section"))
            return None
        return list(headers.items())

    def _send(self, reply: _rfc6712.Reply) -> None:
        if reply.close:
            logger.info("%s %s %r: %d %s", self.conn.peer, self.command, self.path,
                        reply.status, reply.body.decode(errors="replace").strip())
        self._reply(reply.status, reply.body, reply.content_type, reply.close)

    # -- methods --------------------------------------------------------------------------
    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self._ack_now()  # the headers are in: let the client send its body now
        serving: HTTPServing = self.serving
        fields = self._fields()
        if fields is None:
            return
        length = _rfc6712.check_post(fields, serving.max_request, serving.closing)
        if isinstance(length, _rfc6712.Reply):
            self._send(length)
            return
        body = self._stream.read(length)  # within the read timeout
        if len(body) < length:
            logger.info("%s closed the connection in the middle of a request body",
                        self.conn.peer)
            self.close_connection = True
            return
        self.conn.state = _BUSY_STATE
        self._send(_rfc6712.answer(serving.server, body, serving, self.conn.peer))
        self._ack_now()

    def do_GET(self) -> None:  # noqa: N802
        fields = self._fields()
        if fields is None:
            return
        length = _rfc6712.framing(fields)
        if isinstance(length, _rfc6712.Reply):
            self._send(length)
            return
        # a GET with a body: answer and close rather than read it
        self._send(_rfc6712.not_post(length))


def _server_ssl_context(tls: TLS | ssl.SSLContext | None) -> ssl.SSLContext | None:
    if tls is None:
        return None
    if isinstance(tls, ssl.SSLContext):
        if tls.protocol == ssl.PROTOCOL_TLS_CLIENT:
            raise ValueError("tls must be a server-side SSLContext (not PROTOCOL_TLS_CLIENT)")
        return tls
    if isinstance(tls, TLS):
        return tls.server_context()
    raise TypeError("tls must be an openssl_cmp.TLS, an ssl.SSLContext or None, not %s"
                    % type(tls).__name__)


class _Throttle:
    """Counts events; ``hit()`` returns how many to report now (0: stay quiet)."""

    def __init__(self) -> None:
        self.count = 0
        self.next = 0.0

    def hit(self) -> int:
        self.count += 1
        now = time.monotonic()
        if now < self.next:
            return 0
        count, self.count, self.next = self.count, 0, now + _WARN_EVERY
        return count


class HTTPServing(_rfc6712.Tally):
    """A running HTTP(S) endpoint; ``with server.serve_http() as http: http.url``.

    ``HTTPServing(server, host="127.0.0.1", port=0, *, tls=None, idle_timeout=30,
    read_timeout=10, write_timeout=10, handshake_timeout=10, max_connections=256,
    backlog=1024, max_request=1 MiB, max_header_bytes=32 KiB, close_timeout=2)`` (see the
    module docstring for the limits).  ``tls``: an :class:`openssl_cmp.tls.TLS` with
    ``cert`` and ``key`` (and ``trusted``: client certificates required) or a server-side
    :class:`ssl.SSLContext`; ``url`` then starts with ``https://``.

    ``errors`` collects exceptions raised by handlers while serving (they are logged to
    ``openssl_cmp.server`` and answered with a CMP error message, never re-raised in the
    server thread); ``requests`` counts requests answered by the CMP server core;
    ``refused`` counts connections refused at ``max_connections``; ``connections`` is the
    number of connections open now."""

    def __init__(self, server: Server, host: str = "127.0.0.1", port: int = 0, *,
                 tls: TLS | ssl.SSLContext | None = None,
                 idle_timeout: float = IDLE_TIMEOUT, read_timeout: float = READ_TIMEOUT,
                 write_timeout: float = WRITE_TIMEOUT,
                 handshake_timeout: float = HANDSHAKE_TIMEOUT,
                 max_connections: int = MAX_CONNECTIONS, backlog: int = BACKLOG,
                 max_request: int = MAX_REQUEST, max_header_bytes: int = MAX_HEADER_BYTES,
                 close_timeout: float = CLOSE_TIMEOUT) -> None:
        if not isinstance(host, str) or isinstance(port, bool) or not isinstance(port, int):
            raise TypeError("host must be str and port int")
        self.idle_timeout: float = _positive("idle_timeout", idle_timeout)
        self.read_timeout: float = _positive("read_timeout", read_timeout)
        self.write_timeout: float = _positive("write_timeout", write_timeout)
        self.handshake_timeout: float = _positive("handshake_timeout", handshake_timeout)
        self.max_connections: int = _positive("max_connections", max_connections, True)
        self.backlog: int = _positive("backlog", backlog, True)
        self.max_request: int = _positive("max_request", max_request, True)
        self.max_header_bytes: int = _positive("max_header_bytes", max_header_bytes, True)
        self.close_timeout: float = _positive("close_timeout", close_timeout)
        self._ssl = _server_ssl_context(tls)
        self.tls: TLS | ssl.SSLContext | None = tls
        self.server: Server = server
        _rfc6712.Tally.__init__(self)
        self.refused: int = 0
        self.closing: bool = False
        self._closed = False
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)  # signalled when a connection ends
        self._connections: set[_Connection] = set()
        self._stop = threading.Event()
        self._refusals = _Throttle()
        self._exhaustion = _Throttle()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._listener = socket.create_server((host, port), family=family, backlog=backlog)
        try:
            self._listener.setblocking(False)
            self._wake_r, self._wake_w = socket.socketpair()
        except BaseException:
            self._listener.close()
            raise
        self._wake_r.setblocking(False)
        address = self._listener.getsockname()
        self.host: str = address[0]
        self.port: int = address[1]
        self._thread = threading.Thread(target=self._accept_loop,
                                        name="openssl_cmp-http-%d" % self.port, daemon=True)
        self._thread.start()

    # -- addresses ------------------------------------------------------------------------
    @property
    def scheme(self) -> str:
        """``"http"``, or ``"https"`` with TLS."""
        return "http" if self._ssl is None else "https"

    @property
    def address(self) -> str:
        """``host:port``, the form ``openssl cmp -server`` takes."""
        host = "[%s]" % self.host if ":" in self.host else self.host
        return "%s:%d" % (host, self.port)

    @property
    def url(self) -> str:
        """``http://host:port/pkix/`` (``https://`` with TLS; any path is served)."""
        return "%s://%s/pkix/" % (self.scheme, self.address)

    @property
    def connections(self) -> int:
        """Connections open now (accepted and not yet closed)."""
        with self._lock:
            return len(self._connections)

    # -- accepting ------------------------------------------------------------------------
    def _accept_loop(self) -> None:
        selector = selectors.DefaultSelector()
        try:
            selector.register(self._listener, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while not self._stop.is_set():
                selector.select()
                if self._stop.is_set():
                    break
                try:
                    self._accept_some()
                except Exception as exc:  # noqa: BLE001 - keep accepting
                    logger.error("HTTP accept loop on port %d: %s", self.port, exc,
                                 exc_info=exc)
                    self._stop.wait(_ACCEPT_BACKOFF)
        finally:
            selector.close()

    def _accept_some(self) -> None:
        for _ in range(_ACCEPT_BATCH):
            try:
                sock, address = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                if exc.errno in _RESOURCE_ERRORS:
                    # the connection stays in the listen queue; accepting again at once
                    # would spin at 100% CPU until a descriptor is free
                    count = self._exhaustion.hit()
                    if count:
                        logger.warning("HTTP server on port %d cannot accept connections "
                                       "(%s; %d time(s)): backing off", self.port,
                                       exc.strerror, count)
                    self._stop.wait(_ACCEPT_BACKOFF)
                    return
                if exc.errno in (errno.ECONNABORTED, errno.EPROTO, errno.EPERM):
                    continue  # that connection is gone already
                raise
            self._dispatch(sock, address)

    def _dispatch(self, sock: socket.socket, address: Any) -> None:
        conn = _Connection(sock, address)
        with self._cond:
            admitted = not self.closing and len(self._connections) < self.max_connections
            if admitted:
                self._connections.add(conn)
                self._cond.notify_all()
            elif not self.closing:
                self.refused += 1
        if not admitted:
            self._refuse(conn)
            return
        thread = threading.Thread(target=self._serve, args=(conn,), daemon=True,
                                  name="openssl_cmp-http-%d-conn" % self.port)
        conn.thread = thread
        try:
            thread.start()
        except RuntimeError as exc:  # cannot start a thread: treat as over the limit
            logger.warning("HTTP server on port %d cannot start a thread: %s", self.port, exc)
            self._forget(conn)
            sock.close()

    def _refuse(self, conn: _Connection) -> None:
        """Over the connection limit: answer 503 without blocking (plain HTTP only: a TLS
        client expects a handshake first) and close."""
        count = self._refusals.hit()
        if count and not self.closing:
            logger.warning("HTTP server on port %d: %d connection(s) refused, %d open "
                           "(max_connections)", self.port, count, self.max_connections)
        sock = conn.sock
        try:
            sock.setblocking(False)
            if self._ssl is None:
                try:
                    sock.recv(65536)  # what has arrived: closing on unread data resets
                except OSError:
                    pass
                sock.send(_BUSY)
                sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        finally:
            sock.close()

    # -- one connection -------------------------------------------------------------------
    def _serve(self, conn: _Connection) -> None:
        phase = "connection"
        try:
            # Each response goes out in one write, so Nagle's algorithm has nothing to
            # coalesce; with TLS it would hold the first response back until the client
            # (delaying its ACK by ~40 ms) acknowledged the session tickets sent after the
            # handshake.
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._ssl is not None:
                phase = "TLS handshake"
                self._handshake(conn)
                phase = "connection"
            _Handler(conn, self)
        except _Deadline as exc:
            self._log_end(conn, "%s closed: %s", phase, exc)
        except OSError as exc:  # resets, broken pipes, TLS errors, a socket shut by close()
            self._log_end(conn, "%s failed: %s", phase, exc)
        except Exception as exc:  # noqa: BLE001 - a bug: log it, never print it
            logger.error("%s unexpected error while serving", conn.peer, exc_info=exc)
        finally:
            self._close_socket(conn)
            self._forget(conn)

    def _log_end(self, conn: _Connection, fmt: str, *args: object) -> None:
        # expected while closing (close() shuts the sockets down): keep that quiet
        logger.log(logging.DEBUG if self.closing else logging.INFO, "%s " + fmt, conn.peer,
                   *args)

    def _handshake(self, conn: _Connection) -> None:
        with self._lock:
            if self.closing:
                raise _Deadline("server closing")
            conn.sock.settimeout(self.handshake_timeout)
            tls_sock = cast(ssl.SSLContext, self._ssl).wrap_socket(
                conn.sock, server_side=True, do_handshake_on_connect=False)
            conn.sock = tls_sock
        try:
            tls_sock.do_handshake()  # one deadline for the whole handshake
        except socket.timeout:
            raise _Deadline("not complete within %g s (handshake timeout)"
                            % self.handshake_timeout) from None

    def _close_socket(self, conn: _Connection) -> None:
        """Close; after a response sent with part of the request unread, first shut our
        side down and drain for up to ``_LINGER`` s, so that the kernel does not answer
        the unread bytes with a reset that could destroy the response at the client."""
        sock = conn.sock
        try:
            if conn.linger and not self.closing:
                socket.socket.shutdown(sock, socket.SHUT_WR)
                deadline = time.monotonic() + _LINGER
                drained = 0
                while drained < _LINGER_BYTES:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    sock.settimeout(left)
                    data = sock.recv(65536)
                    if not data:
                        break
                    drained += len(data)
        except (OSError, ValueError):
            pass
        finally:
            sock.close()

    def _forget(self, conn: _Connection) -> None:
        with self._cond:
            self._connections.discard(conn)
            self._cond.notify_all()

    # -- closing --------------------------------------------------------------------------
    def close(self) -> None:
        """Stop accepting and end every connection, in bounded time.

        Idle connections and connections in the middle of receiving a request are shut
        down at once.  A request already received is given up to ``close_timeout``
        seconds to be answered (the response says ``Connection: close``); then every
        remaining socket is shut down (both directions), so a client that does not read
        cannot hold ``close()``.  So ``close()`` returns within ``close_timeout`` + 1 s;
        only a handler that never returns (its own Python code) outlives it, in a daemon
        thread, with a warning logged."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self.closing = True
        start = time.monotonic()
        self._stop.set()
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass
        self._thread.join(self.close_timeout)
        self._listener.close()
        self._wake_r.close()
        self._wake_w.close()
        with self._lock:
            for conn in self._connections:
                if conn.state != _BUSY_STATE:
                    conn.kill()  # nothing to finish: wake its thread now
        grace_end = start + self.close_timeout
        with self._cond:
            self._cond.wait_for(lambda: not self._connections,
                                max(0.0, grace_end - time.monotonic()))
            left = list(self._connections)
        for conn in left:
            conn.kill()
        end = max(grace_end, time.monotonic()) + _KILL_WAIT
        with self._cond:
            self._cond.wait_for(lambda: not self._connections,
                                max(0.0, end - time.monotonic()))
            stuck = len(self._connections)
        if stuck:
            logger.warning("HTTP server on port %d closed with %d connection thread(s) "
                           "still inside a handler", self.port, stuck)

    def __enter__(self) -> "HTTPServing":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return "<HTTPServing %s>" % self.url
