"""``HTTPServing`` against a hostile or broken peer: timeouts, the connection limit, the
listen backlog, strict request framing, a bounded ``close()``, quiet logging, and the CMP
error message for an undecodable body.

Every test is bounded: limits are set small where a timeout is the point, and every
socket has a timeout of its own.  Waiting is done on events (a log record, the server's
connection count, the peer closing), never on a guessed sleep.
"""

import logging
import resource
import select
import socket
import struct
import threading
import time

import pytest

from helpers import capture, log_watch

from openssl_cmp import (BodyType, CMPError, Certificate, Context, FailInfo, GeneralName,
                         ITAV, Message, Name, Option, PKIStatus, PrivateKey, TrustStore, _der)
from openssl_cmp._http_errors import STATUS_TEXT
from openssl_cmp.http import HTTPServing
from openssl_cmp.testing import MockCA

TIMEOUT = 30  # seconds: the bound of any single wait in this module
CMP_TYPE = b"application/pkixcmp"
KEY = PrivateKey.generate("EC")


# --- helpers -----------------------------------------------------------------------------

def ir_der(mock, subject="/CN=raw") -> bytes:
    def run(ctx):
        ctx.subject_name = subject
        ctx.set_new_pkey(KEY)
        ctx.exec_ir()

    return capture(mock, run)[0]


def connect(http) -> socket.socket:
    return socket.create_connection((http.host, http.port), timeout=TIMEOUT)


def post_head(length, extra=b"") -> bytes:
    return (b"POST /pkix/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/pkixcmp\r\n"
            + (b"Content-Length: %d\r\n" % length if length is not None else b"")
            + extra + b"\r\n")


def read_response(sock):
    """(status, {lower-case name: [values]}, body) of one response on ``sock``."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed before a complete response: %r" % data)
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, value = line.split(b":", 1)
        headers.setdefault(name.strip().lower().decode(), []).append(value.strip().decode())
    length = int(headers["content-length"][0])
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed in the middle of a response body")
        body += chunk
    return status, headers, body[:length]


def closed_by_peer(sock) -> bool:
    """True once the server has closed (EOF or reset); waits up to TIMEOUT."""
    sock.settimeout(TIMEOUT)
    try:
        return sock.recv(65536) == b""
    except ConnectionResetError:
        return True


def exchange(http, raw: bytes):
    """Send ``raw`` on a new connection; (status, headers, body, closed afterwards)."""
    with connect(http) as sock:
        sock.sendall(raw)
        status, headers, body = read_response(sock)
        closed = closed_by_peer(sock) if headers.get("connection") == ["close"] else None
    return status, headers, body, closed




def wait_connections(http, predicate, timeout=TIMEOUT):
    """Wait on the server's own condition until ``predicate(open connections)``."""
    with http._cond:
        assert http._cond.wait_for(lambda: predicate(len(http._connections)), timeout), \
            len(http._connections)


def enroll(http, mock, subject="/CN=legit") -> Certificate:
    with Context() as ctx:
        ctx.set_url(http.url)
        ctx.set_option(Option.TOTAL_TIMEOUT, TIMEOUT)
        ctx.reference_value = b"legit"
        ctx.secret_value = mock.secret
        ctx.subject_name = subject
        ctx.set_new_pkey(KEY)
        return ctx.exec_ir()


@pytest.fixture(scope="module")
def mock():
    return MockCA()


@pytest.fixture(scope="module")
def ir(mock):
    return ir_der(mock)


# --- 1. timeouts -------------------------------------------------------------------------

def test_idle_connection_closed_after_idle_timeout(mock):
    with HTTPServing(mock, idle_timeout=0.3) as http, log_watch("idle timeout") as log:
        with connect(http) as sock:  # never sends anything
            start = time.monotonic()
            assert closed_by_peer(sock)
            assert 0.25 <= time.monotonic() - start < 10
        with connect(http) as sock:  # idle between two requests of a kept-alive connection
            sock.sendall(b"GET /pkix/ HTTP/1.1\r\nHost: x\r\n\r\n")
            assert read_response(sock)[0] == 405
            start = time.monotonic()
            assert closed_by_peer(sock)
            assert 0.25 <= time.monotonic() - start < 10
        assert log.event.wait(TIMEOUT)
        wait_connections(http, lambda n: n == 0)


def _trickle_until_closed(sock, first: bytes, unit: bytes, every=0.05, limit=15.0):
    """Send ``first``, then ``unit`` every ``every`` s until the server closes; seconds."""
    start = time.monotonic()
    sock.sendall(first)
    while time.monotonic() - start < limit:
        try:
            sock.sendall(unit)
        except OSError:
            return time.monotonic() - start
        readable, _, _ = select.select([sock], [], [], every)
        if readable:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                data = b""
            assert data == b"", data  # closed without an answer
            return time.monotonic() - start
    raise AssertionError("the server did not close a trickling connection in %s s" % limit)


def test_slowloris_headers_closed_after_read_timeout(mock):
    """A byte every 50 ms keeps a per-recv timeout happy forever; the request as a whole
    has ``read_timeout`` from its first byte."""
    with HTTPServing(mock, read_timeout=0.5, idle_timeout=30) as http, \
            log_watch("read timeout") as log:
        with connect(http) as sock:
            elapsed = _trickle_until_closed(sock, b"POST /pkix/ HTTP/1.1\r\nX-Slow: ", b"a")
        assert 0.45 <= elapsed < 10
        assert log.event.wait(TIMEOUT)


def test_half_sent_body_closed_after_read_timeout(mock):
    with HTTPServing(mock, read_timeout=0.5, idle_timeout=30) as http, \
            log_watch("read timeout") as log:
        with connect(http) as sock:  # announces 1000 bytes, sends 10
            start = time.monotonic()
            sock.sendall(post_head(1000) + b"\x30" * 10)
            assert closed_by_peer(sock)
            assert 0.45 <= time.monotonic() - start < 10
        with connect(http) as sock:  # or trickles the body
            elapsed = _trickle_until_closed(sock, post_head(100000), b"\x00" * 10)
            assert 0.45 <= elapsed < 10
        assert log.event.wait(TIMEOUT)
        assert http.requests == 0


def test_client_that_stops_reading_is_closed_after_write_timeout(mock):
    """Pipelined requests whose responses are never read: the server's write blocks, and
    gives up after ``write_timeout``."""
    with HTTPServing(mock, write_timeout=0.5, idle_timeout=30, read_timeout=30) as http, \
            log_watch("write timeout") as log:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.settimeout(TIMEOUT)
        sock.connect((http.host, http.port))
        ended = threading.Event()

        def flood():
            try:
                while not ended.is_set():
                    sock.sendall(b"GET /pkix/ HTTP/1.1\r\nHost: x\r\n\r\n" * 500)
            except OSError:
                pass
            finally:
                ended.set()

        flooder = threading.Thread(target=flood, daemon=True)
        flooder.start()
        try:
            assert log.event.wait(TIMEOUT)
            assert ended.wait(TIMEOUT)  # the server closed: the flooder's send failed
        finally:
            ended.set()
            sock.close()
            flooder.join(TIMEOUT)
        wait_connections(http, lambda n: n == 0)


# --- 2. the connection limit, EMFILE -----------------------------------------------------

def test_connection_limit_answers_503(mock, ir):
    with HTTPServing(mock, max_connections=2) as http, log_watch("refused") as log:
        first, second = connect(http), connect(http)
        wait_connections(http, lambda n: n == 2)
        with connect(http) as third:  # over the limit: 503 at once, then closed
            status, headers, body = read_response(third)
            assert status == 503 and headers["connection"] == ["close"]
            assert closed_by_peer(third)
        assert http.refused == 1 and log.event.wait(TIMEOUT)
        assert http.connections == 2
        first.close()
        wait_connections(http, lambda n: n <= 1)
        status, headers, body, _ = exchange(http, post_head(len(ir)) + ir)
        assert status == 200 and Message.from_der(body).body_type == BodyType.IP
        second.close()


def test_descriptor_exhaustion_backs_off(mock, monkeypatch):
    """accept() failing with EMFILE leaves the connection queued: the loop must back off
    (and log) instead of spinning, and serve the connection once accept works again."""
    calls = []
    with HTTPServing(mock) as http, log_watch("cannot accept") as log:
        listener = http._listener
        real_accept = type(listener).accept

        class Exhausted(type(listener)):
            __slots__ = ()

            def accept(self):
                calls.append(time.monotonic())
                if len(calls) <= 3:
                    raise OSError(24, "Too many open files")
                return real_accept(self)

        listener.__class__ = Exhausted
        try:
            with connect(http) as sock:
                sock.sendall(b"GET /pkix/ HTTP/1.1\r\nHost: x\r\n\r\n")
                assert read_response(sock)[0] == 405
        finally:
            listener.__class__ = type(listener).__mro__[1]
        assert log.event.wait(TIMEOUT)
        assert len(calls) >= 4
        assert calls[3] - calls[0] >= 0.25  # three back-offs of 0.1 s, no spinning


# --- 3. the listen backlog ---------------------------------------------------------------

def test_listen_backlog_holds_connections_while_accept_is_busy(mock):
    """With the accept loop held up, the kernel keeps completing connections into the
    listen queue.  socketserver's backlog of 5 dropped the 7th SYN (retried after 1 s)."""
    with HTTPServing(mock) as http:
        gate = threading.Event()
        dispatch = http._dispatch

        def stalled(sock, address):
            gate.wait(TIMEOUT)
            dispatch(sock, address)

        http._dispatch = stalled
        socks = []
        try:
            for _ in range(100):
                socks.append(socket.create_connection((http.host, http.port), timeout=0.8))
        finally:
            gate.set()
        try:
            wait_connections(http, lambda n: n == 100)
            assert http.refused == 0
        finally:
            for sock in socks:
                sock.close()


def test_64_concurrent_enrollments():
    mock = MockCA(allow_key_reuse=True)  # 64 enrollments of KEY
    results = [None] * 64
    barrier = threading.Barrier(64)

    def run(i):
        try:
            with Context() as ctx:
                ctx.set_url(http.url)
                ctx.set_option(Option.TOTAL_TIMEOUT, TIMEOUT)
                ctx.reference_value = b"load"
                ctx.secret_value = mock.secret
                ctx.subject_name = "/CN=load-%d" % i
                ctx.set_new_pkey(KEY)
                barrier.wait(TIMEOUT)
                results[i] = ctx.exec_ir()
        except Exception as exc:  # noqa: BLE001 - reported below
            results[i] = exc

    with mock.serve_http() as http:
        threads = [threading.Thread(target=run, args=(i,)) for i in range(64)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(TIMEOUT * 2)
        failures = [r for r in results if not isinstance(r, Certificate)]
        assert not failures, failures[:3]
        assert len(mock.issued) == 64 and http.errors == []
        assert http.requests == 128 and http.refused == 0


# --- 4. strict framing -------------------------------------------------------------------

def _cl(value: bytes) -> bytes:
    return b"Content-Length: " + value + b"\r\n"


BAD_FRAMING = {
    "plus sign": lambda n: _cl(b"+%d" % n),
    "underscore": lambda n: _cl(b"%d_%d" % divmod(n, 10)),
    "minus sign": lambda n: _cl(b"-%d" % n),
    "hexadecimal": lambda n: _cl(b"0x%x" % n),
    "two numbers": lambda n: _cl(b"%d %d" % (n, n)),
    "list": lambda n: _cl(b"%d,%d" % (n, n)),
    "empty": lambda n: _cl(b""),
    "non-ASCII digit": lambda n: _cl(b"%d\xb2" % n),  # '²'.isdigit() is True
    "two identical": lambda n: _cl(b"%d" % n) * 2,
    "two different": lambda n: _cl(b"%d" % n) + _cl(b"5"),
    "two, differently cased": lambda n: _cl(b"%d" % n) + b"content-length: %d\r\n" % n,
    "obsolete line folding": lambda n: b"Content-Length: %d\r\n %d\r\n" % divmod(n, 10),
    "space before colon": lambda n: b"Content-Length : %d\r\n" % n,
    "chunked without length": lambda n: b"Transfer-Encoding: chunked\r\n",
    "chunked with length": lambda n: b"Transfer-Encoding: chunked\r\n" + _cl(b"%d" % n),
    "identity with length": lambda n: b"Transfer-Encoding: identity\r\n" + _cl(b"%d" % n),
}


@pytest.mark.parametrize("variant", sorted(BAD_FRAMING))
def test_ambiguous_framing_is_refused_and_closed(mock, ir, variant):
    head = (b"POST /pkix/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/pkixcmp\r\n"
            + BAD_FRAMING[variant](len(ir)) + b"\r\n")
    with HTTPServing(mock) as http:
        status, headers, body, closed = exchange(http, head + ir)
        assert status == 400, (status, body)
        assert headers["connection"] == ["close"] and closed
        assert http.requests == 0


@pytest.mark.parametrize("value", [b"%d", b" %d ", b"\t%d\t", b"  %d"])
def test_content_length_with_surrounding_blanks_is_accepted(mock, ir, value):
    with HTTPServing(mock) as http:
        head = (b"POST /pkix/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/pkixcmp\r\n"
                + _cl(value % len(ir)) + b"\r\n")
        status, headers, body, _ = exchange(http, head + ir)
        assert status == 200 and headers["content-type"] == [CMP_TYPE.decode()]
        assert Message.from_der(body).body_type == BodyType.IP


def test_size_limits(mock, ir):
    with HTTPServing(mock, max_request=len(ir) - 1, max_header_bytes=2048) as http:
        status, headers, _, closed = exchange(http, post_head(len(ir)) + ir)
        assert status == 413 and closed
        status, headers, _, closed = exchange(
            http, post_head(len(ir), b"X-Big: %s\r\n" % (b"a" * 4096)) + ir)
        assert status == 431 and closed
        status, headers, _, closed = exchange(http, post_head(None) + ir)
        assert status == 411 and closed
        with connect(http) as sock:  # a request line alone over the budget: just closed
            sock.sendall(b"GET /" + b"a" * 4096 + b" HTTP/1.1\r\n\r\n")
            assert closed_by_peer(sock)
        assert http.requests == 0


def test_get_with_a_body_is_closed(mock):
    with HTTPServing(mock) as http:
        status, headers, _, closed = exchange(
            http, b"GET /pkix/ HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nGET /")
        assert status == 405 and closed


# --- 5. close() is bounded ---------------------------------------------------------------

def test_close_is_bounded_with_a_client_that_does_not_read():
    """A GENM answered with 12 MiB (more than the socket buffers hold, autotuning
    included), from a client that never reads: the handler blocks in its write.  close()
    must not wait for the write timeout (60 s here)."""
    huge = ITAV("1.3.6.1.4.1.99999.2", _der.encode(0x04, bytes(12 << 20)))

    class Generous(MockCA):
        def handle_genm(self, request, itavs):
            return [huge]

    mock = Generous()
    genm = capture(mock, lambda ctx: (ctx.push_genm_itav(ITAV("1.3.6.1.4.1.99999.1")),
                                      ctx.exec_genm()))[0]
    http = HTTPServing(mock, write_timeout=60, close_timeout=0.5)
    try:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.settimeout(TIMEOUT)
        sock.connect((http.host, http.port))
        sock.sendall(post_head(len(genm)) + genm)
        readable, _, _ = select.select([sock], [], [], TIMEOUT)  # the response started
        assert readable
        (conn,) = http._connections
        assert conn.state == "busy"
        start = time.monotonic()
    finally:
        http.close()
    elapsed = time.monotonic() - start
    sock.close()
    assert elapsed < 0.5 + 1.0 + 0.5, elapsed  # close_timeout + the kill wait, + slack
    assert elapsed >= 0.4  # the request in flight had its grace period
    assert http.connections == 0


def test_close_is_quick_with_idle_keep_alive_connections(mock):
    http = HTTPServing(mock, close_timeout=5)
    socks = []
    try:
        for _ in range(20):
            sock = connect(http)
            sock.sendall(b"GET /pkix/ HTTP/1.1\r\nHost: x\r\n\r\n")
            assert read_response(sock)[0] == 405  # kept alive, idle now
            socks.append(sock)
        socks.append(connect(http))  # one that never sent anything
        socks[-1].sendall(b"POST /pkix/ HTTP/1.1\r\n")  # and one in the middle of a request
        wait_connections(http, lambda n: n == 21)
        start = time.monotonic()
    finally:
        http.close()
    elapsed = time.monotonic() - start
    try:
        assert elapsed < 1.0, elapsed  # nothing in flight: no grace period used
        assert http.connections == 0
        assert all(closed_by_peer(sock) for sock in socks)
    finally:
        for sock in socks:
            sock.close()


def test_request_in_flight_is_answered_during_close(ir):
    """close() lets a request already received finish (the answer says close)."""
    entered, release = threading.Event(), threading.Event()

    class Slow(MockCA):
        def handle_cert_request(self, *args):
            entered.set()
            release.wait(TIMEOUT)
            return super().handle_cert_request(*args)

    mock = Slow()
    http = HTTPServing(mock, close_timeout=TIMEOUT)
    with connect(http) as sock:
        sock.sendall(post_head(len(ir)) + ir)
        assert entered.wait(TIMEOUT)
        closer = threading.Thread(target=http.close)
        closer.start()
        assert http._stop.wait(TIMEOUT)  # close() has begun (closing is set)
        release.set()
        status, headers, body = read_response(sock)
        closer.join(TIMEOUT)
        assert not closer.is_alive()
    assert status == 200 and headers["connection"] == ["close"]
    assert Message.from_der(body).body_type == BodyType.IP


# --- 6. logging, not stderr --------------------------------------------------------------

def test_aborted_connections_are_logged_not_printed(mock, ir, capfd):
    with HTTPServing(mock) as http, log_watch(r"failed: .*reset") as log:
        sock = connect(http)
        sock.sendall(b"POST /pkix/ HTTP/1.1\r\nHost: x\r\n")  # then a reset
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
        assert log.event.wait(TIMEOUT)
        assert log.records[0].levelno == logging.INFO and log.records[0].exc_info is None
        # a reset after sending a whole request (the answer may or may not be written)
        for _ in range(5):
            sock = connect(http)
            sock.sendall(post_head(len(ir)) + ir)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
        with connect(http) as sock:  # garbage
            sock.sendall(b"\x16\x03\x01\x00\x05hello\r\n\r\n")
            assert read_response(sock)[0] == 400
        wait_connections(http, lambda n: n == 0)
    out, err = capfd.readouterr()
    assert err == "" and out == ""


# --- 7. an undecodable body with a readable header ---------------------------------------

def _corrupt_body(der: bytes, pvno=None) -> bytes:
    """``der`` with its PKIBody tag replaced by an unknown one (and pvno changed)."""
    outer = _der.single(der)
    start = len(der) - len(outer.value)
    header, body_at = _der.read_tlv(der, start)
    data = bytearray(der)
    assert data[body_at] & 0xE0 == 0xA0
    data[body_at] = 0xBE  # [30]: no such PKIBody choice
    if pvno is not None:
        at = start + (len(header.raw) - len(header.value))
        assert data[at:at + 3] == b"\x02\x01\x02"
        data[at + 2] = pvno
    return bytes(data)


def _error_parts(response: Message):
    """(status, fail_info, texts) of an error message, and its header fields."""
    der = response.to_der()
    outer = _der.single(der)
    header, body = _der.children(outer.value)[:2]
    assert body.tag == 0xB7  # error [23]
    content = _der.single(body.value)
    status = _der.pkistatusinfo(_der.children(content.value)[0].raw)
    return status, _der.pkiheader(header.raw)


def test_undecodable_body_gets_a_bad_data_format_error(mock, ir):
    request = Message.from_der(ir)
    with HTTPServing(mock) as http:
        for pvno in (None, 3):
            status, headers, body, _ = exchange(
                http, post_head(len(ir)) + _corrupt_body(ir, pvno))
            assert status == 200 and headers["content-type"] == [CMP_TYPE.decode()]
            response = Message.from_der(body)
            assert response.body_type == BodyType.ERROR
            assert response.transaction_id == request.transaction_id
            assert response.recip_nonce == request.sender_nonce
            assert str(response.recipient) == str(request.sender)
            assert len(response.sender_nonce) == 16
            assert response.sender_nonce != request.sender_nonce
            assert response.pvno == (pvno or 2)
            (code, fail, texts), fields = _error_parts(response)
            assert code == PKIStatus.REJECTION and fail == FailInfo.BAD_DATA_FORMAT
            assert texts == [STATUS_TEXT]
            assert "protection_alg" in fields  # PBM-protected with the MockCA's secret
            assert response.sender_kid == mock.reference
        # a truncated body whose header is intact gets the same answer
        cut = ir[:len(ir) // 2]
        status, _, body, _ = exchange(http, post_head(len(cut)) + cut)
        assert status == 200 and Message.from_der(body).body_type == BodyType.ERROR
        # no readable header: HTTP 400 as before
        for junk in (b"not DER at all", b"\x30\x03\x02\x01\x00", b"\x30\x80" + ir[2:]):
            assert exchange(http, post_head(len(junk)) + junk)[0] == 400
        assert http.requests == 0 and http.errors == []


def _client_sending_corrupted(http, **attributes):
    """A Context whose requests travel corrupted (body tag broken) over raw HTTP."""
    def transfer(ctx, request):
        der = _corrupt_body(request.to_der())
        with connect(http) as sock:
            sock.sendall(post_head(len(der)) + der)
            status, _, body = read_response(sock)
        assert status == 200
        return Message.from_der(body)

    ctx = Context()
    ctx.transfer_callback = transfer
    for name, value in attributes.items():
        setattr(ctx, name, value)
    return ctx


def test_openssl_client_accepts_the_bad_data_format_error():
    """OpenSSL's client validates the error (PBM with the shared secret; or the MockCA's
    signature for a signature-protected request) and reports badDataFormat."""
    mock = MockCA(protect_with_cert=True)
    with HTTPServing(mock) as http:
        signer_key = PrivateKey.generate("EC")
        signer = Certificate.create("/CN=signer", signer_key, mock.ca_key,
                                    issuer=mock.ca_cert)
        for credentials in ({"reference_value": b"c", "secret_value": mock.secret},
                            {"cert": signer, "pkey": signer_key}):
            with _client_sending_corrupted(http, trusted=TrustStore([mock.ca_cert]),
                                           subject_name="/CN=x", **credentials) as ctx:
                ctx.set_new_pkey(KEY)
                with pytest.raises(CMPError) as info:
                    ctx.exec_ir()
                assert info.value.server_rejected
                assert ctx.status == PKIStatus.REJECTION
                assert ctx.fail_info == FailInfo.BAD_DATA_FORMAT
                assert ctx.status_strings == [STATUS_TEXT]
        assert mock.issued == [] and http.errors == []


def test_bad_data_format_error_unprotected_when_asked(ir):
    mock = MockCA()
    mock.send_unprotected_errors = True
    with HTTPServing(mock) as http:
        status, _, body, _ = exchange(http, post_head(len(ir)) + _corrupt_body(ir))
        assert status == 200
        response = Message.from_der(body)
        (code, fail, _), fields = _error_parts(response)
        assert code == PKIStatus.REJECTION and fail == FailInfo.BAD_DATA_FORMAT
        assert "protection_alg" not in fields
        # a client accepts it only with UNPROTECTED_ERRORS
        with _client_sending_corrupted(http, reference_value=b"c", secret_value=mock.secret,
                                       subject_name="/CN=x") as ctx:
            ctx.set_new_pkey(KEY)
            ctx.set_option(Option.UNPROTECTED_ERRORS, 1)
            with pytest.raises(CMPError):
                ctx.exec_ir()
            assert ctx.fail_info == FailInfo.BAD_DATA_FORMAT


# --- 8. load: idle attackers and a legitimate client -------------------------------------

def _raise_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            pytest.skip("RLIMIT_NOFILE hard limit %d < %d descriptors needed" % (hard, needed))
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))


def test_legitimate_client_enrolls_among_500_idle_connections():
    """500 attacker connections (a request line, then nothing) stay open while a
    legitimate client enrolls in well under a second.

    The connection limit is set above the attack here, deliberately: a limit protects the
    process (threads, descriptors), not availability.  Below it, every slot would be held
    by an attacker until its read timeout and the legitimate client would get 503; what
    keeps the service available is that an idle or slow connection costs only a parked
    thread and a descriptor, so the limit can be generous, and that every attacker is
    dropped after ``read_timeout``.  ``test_refused_connections_cost_no_thread`` shows the
    other side: beyond the limit, refusals are immediate and cost nothing."""
    _raise_fd_limit(2 * 500 + 300)
    mock = MockCA(allow_key_reuse=True)  # KEY enrolled twice
    attackers = []
    with HTTPServing(mock, max_connections=600, read_timeout=TIMEOUT) as http:
        enroll(http, mock, "/CN=warm-up")
        try:
            for _ in range(500):
                sock = connect(http)
                sock.sendall(b"POST /pkix/ HTTP/1.1\r\n")
                attackers.append(sock)
            wait_connections(http, lambda n: n >= 500)
            start = time.monotonic()
            cert = enroll(http, mock)
            elapsed = time.monotonic() - start
            assert cert.is_issued_by(mock.ca_cert)
            assert elapsed < 1.0, elapsed
            assert http.refused == 0 and http.connections >= 500
        finally:
            for sock in attackers:
                sock.close()
        wait_connections(http, lambda n: n == 0)


def test_refused_connections_cost_no_thread():
    mock = MockCA()
    held = []
    with HTTPServing(mock, max_connections=20) as http:
        try:
            for _ in range(20):
                held.append(connect(http))
            wait_connections(http, lambda n: n == 20)
            threads = threading.active_count()
            start = time.monotonic()
            for _ in range(100):
                with connect(http) as sock:
                    assert read_response(sock)[0] == 503
            assert time.monotonic() - start < 10
            assert threading.active_count() <= threads
            assert http.refused == 100 and http.connections == 20
        finally:
            for sock in held:
                sock.close()


# --- 9. arguments ------------------------------------------------------------------------

@pytest.mark.parametrize("name, value, error", [
    ("idle_timeout", 0, ValueError), ("read_timeout", -1, ValueError),
    ("write_timeout", "10", TypeError), ("max_connections", 1.5, TypeError),
    ("backlog", True, TypeError), ("close_timeout", 0, ValueError),
    ("max_request", 0, ValueError), ("tls", "cert.pem", TypeError),
])
def test_invalid_limits(name, value, error):
    with pytest.raises(error):
        HTTPServing(MockCA(), **{name: value})


def test_limits_are_attributes():
    limits = dict(idle_timeout=1.5, read_timeout=2, write_timeout=3, handshake_timeout=4,
                  max_connections=5, backlog=6, max_request=7, max_header_bytes=8,
                  close_timeout=9)
    with HTTPServing(MockCA(), **limits) as http:
        assert {name: getattr(http, name) for name in limits} == limits
        assert http.tls is None and http.url.startswith("http://")


def test_bad_data_format_error_names_the_server_as_openssl_would(ir):
    """The sender is the server's certificate subject, else its subject_name, else the
    NULL-DN (as ossl_cmp_hdr_init does)."""
    named = MockCA()
    named.ctx.subject_name = "/CN=named server"
    signing = MockCA(protect_with_cert=True)
    for mock, expected in ((MockCA(), "DirName:"),
                           (named, str(GeneralName.directory(Name.parse("/CN=named server")))),
                           (signing, str(GeneralName.directory(signing.ca_cert.subject)))):
        with HTTPServing(mock) as http:
            status, _, body, _ = exchange(http, post_head(len(ir)) + _corrupt_body(ir))
            assert status == 200
            assert str(Message.from_der(body).sender) == expected


# Guards against close() leaving kept-alive connections open and still served.
def test_http_close_ends_kept_alive_connections():
    import http.client

    mock = MockCA()
    serving = mock.serve_http()
    conn = http.client.HTTPConnection(serving.host, serving.port, timeout=10)
    conn.request("GET", "/")
    conn.getresponse().read()  # the connection is now kept alive by the server
    serving.close()
    issued_before = len(mock.issued)
    with pytest.raises((OSError, http.client.HTTPException)):
        conn.request("POST", "/pkix/", body=b"\x30\x00",
                     headers={"Content-Type": "application/pkixcmp"})
        response = conn.getresponse()
        response.read()
        if response.status == 200:  # was: still served after close()
            raise AssertionError("served after close()")
        raise OSError("refused as expected")
    assert len(mock.issued) == issued_before
    conn.close()
