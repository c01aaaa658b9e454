"""``Server.asgi_app()``: CMP over HTTP (RFC 6712) as an ASGI 3 application.

The HTTP rules are checked by calling the app directly (every answer of ``serve_http``,
RFC 6712 section 3 and RFC 9112 section 6 framing), then the app is served by uvicorn
(in-process, on a free port), by granian and hypercorn (subprocesses) and mounted in
Starlette, with our ``Context`` and the ``openssl cmp`` command as clients.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from contextlib import contextmanager
from http.client import HTTPConnection

import pytest

from openssl_cmp import (Certificate, Context, Message, Name, Option, PrivateKey, ReqType,
                         TrustStore)
from openssl_cmp.asgi import ASGIApp
from openssl_cmp.testing import MockCA

from helpers import OPENSSL

TIMEOUT = 60
CMP_TYPE = "application/pkixcmp"
HERE = os.path.dirname(os.path.abspath(__file__))


# --- helpers -----------------------------------------------------------------------------

def call(app, method="POST", body=b"", headers=(), more=None):
    """(status, headers dict, body) of one request handed to ``app`` directly."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": method, "path": "/pkix/", "raw_path": b"/pkix/", "query_string": b"",
             "headers": [(n.lower().encode("latin-1"), v.encode("utf-8"))
                         for n, v in headers], "client": ("127.0.0.1", 5000)}
    events = list(more) if more is not None else [
        {"type": "http.request", "body": body, "more_body": False}]
    sent = []

    async def receive():
        return events.pop(0) if events else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    if not sent:
        return None, {}, b""
    start, body_msg = sent
    return (start["status"], {k.decode(): v.decode() for k, v in start["headers"]},
            body_msg["body"])


def post(app, body, ctype=CMP_TYPE, extra=()):
    headers = [("Content-Type", ctype), ("Content-Length", str(len(body))), *extra]
    return call(app, body=body, headers=headers)


def free_socket():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def free_port():
    with free_socket() as sock:
        return sock.getsockname()[1]


def wait_for_port(port, proc=None, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError("server exited: %s" % proc.stdout.read())
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("nothing listens on port %d" % port)


@contextmanager
def uvicorn_serving(app):
    """``app`` under uvicorn on a free port, in a thread; yields the URL."""
    uvicorn = pytest.importorskip("uvicorn")
    sock = free_socket()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="auto"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + TIMEOUT
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)
        yield "http://127.0.0.1:%d/pkix/" % sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(TIMEOUT)
        sock.close()
    assert not thread.is_alive()


@contextmanager
def subprocess_serving(argv, port, env=None):
    """A server command (granian, hypercorn, gunicorn) listening on ``port``."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, cwd=HERE, env=env, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        wait_for_port(port, proc)
        yield "http://127.0.0.1:%d/pkix/" % port
    finally:
        proc.terminate()
        try:
            proc.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(TIMEOUT)
        proc.stdout.close()


def pbm_client(url, mock_secret=b"mock-secret", **attributes):
    ctx = Context()
    try:
        ctx.set_url(url)
        ctx.set_option(Option.TOTAL_TIMEOUT, TIMEOUT)
        ctx.reference_value = b"asgi-client"
        ctx.secret_value = mock_secret
        new_pkey = attributes.pop("new_pkey", None)
        ctx.set_new_pkey(new_pkey or PrivateKey.generate("EC"))
        for name, value in attributes.items():
            setattr(ctx, name, value)
    except BaseException:
        ctx.close()
        raise
    return ctx


def lifecycle(url, mock=None):
    """IR (PBM) -> certConf, KUR (signed with the IR certificate) -> certConf, RR (signed):
    our Context over HTTP against a MockCA(protect_with_cert=True).  Returns the two
    certificates."""
    with pbm_client(url, subject_name="/CN=asgi-ir") as ctx:
        c1 = ctx.exec_ir()
        key1 = ctx.get_new_pkey(private=True)
        ca_certs = ctx.ca_pubs
    assert c1.subject == Name.parse("/CN=asgi-ir") and ca_certs
    with Context() as ctx:
        ctx.set_url(url)
        ctx.set_option(Option.TOTAL_TIMEOUT, TIMEOUT)
        ctx.trusted = TrustStore(ca_certs)
        ctx.cert, ctx.pkey, ctx.old_cert = c1, key1, c1
        ctx.set_new_pkey(PrivateKey.generate("EC"))
        c2 = ctx.exec_kur()
        assert c2.subject == c1.subject and c2.serial_number != c1.serial_number
        ctx.reinit()
        ctx.old_cert = c1  # the signer's own certificate (RFC 9483 4.2)
        ctx.exec_rr()
    if mock is not None:
        assert c1 in mock.issued and c2 in mock.issued and mock.is_revoked(c1)
        assert mock.open_transactions == 0
    return c1, c2


# --- 1. the HTTP rules, app called directly ---------------------------------------------

def test_rules_as_serve_http():
    """RFC 6712 section 3.1/3.4 and RFC 9112 section 6: the answers ``serve_http`` gives."""
    mock = MockCA()
    app = mock.asgi_app()
    try:
        assert call(app, "GET")[0] == 405
        assert call(app, "PUT", headers=[("Content-Length", "2")], body=b"\x30\x00")[0] == 405
        assert call(app, "GET", headers=[("Content-Length", "2")])[1].get("connection") == \
            "close"
        assert post(app, b"\x30\x00", "text/plain")[0] == 415
        assert post(app, b"\x30\x00", CMP_TYPE + "; charset=x")[0] != 415
        assert post(app, b"not DER at all")[0] == 400
        assert post(app, b"\x30\x03\x02\x01\x00")[0] == 400  # no PKIMessage
        assert post(app, b"")[0] == 400
        assert call(app, headers=[("Content-Type", CMP_TYPE)])[0] == 411
        two = [("Content-Type", CMP_TYPE), ("Content-Length", "2"), ("Content-Length", "2")]
        assert call(app, headers=two, body=b"\x30\x00")[0] == 400
        for bad in ("+2", "2_0", "0x2", "٤", "2 2"):
            status, headers, _ = call(app, headers=[("Content-Type", CMP_TYPE),
                                                    ("Content-Length", bad)])
            assert (status, headers["connection"]) == (400, "close"), bad
        chunked = [("Content-Type", CMP_TYPE), ("Transfer-Encoding", "chunked")]
        assert call(app, headers=chunked)[0] == 400
        assert app.requests == 0 and app.errors == []
    finally:
        app.close()


def test_size_limit_and_errors_answered_with_cmp():
    mock = MockCA()
    app = mock.asgi_app(max_request=100)
    try:
        status, headers, _ = post(app, b"\x30" * 101)
        assert (status, headers["connection"]) == (413, "close")
        # a readable PKIHeader with a broken body: a CMP error message (badDataFormat,
        # RFC 4210 section 5.3.21)
        app2 = mock.asgi_app()
        with Context() as ctx:
            ctx.reference_value = b"r"
            ctx.secret_value = b"mock-secret"
            ctx.subject_name = "/CN=x"
            ctx.set_new_pkey(PrivateKey.generate("EC"))
            captured = []

            def transfer(c, request):
                captured.append(request.to_der())
                raise RuntimeError("stop")

            ctx.transfer_callback = transfer
            with pytest.raises(Exception):
                ctx.exec_ir()
        der = captured[0]
        broken = der[:-3] + b"\x00\x00\x00"  # signature/protection bytes spoiled
        truncated = der[:len(der) // 2]
        status, headers, body = post(app2, truncated)
        assert status == 200 and headers["content-type"] == CMP_TYPE
        answer = Message.from_der(body)
        assert answer.body_type.name == "ERROR"
        status, _, body = post(app2, broken)
        assert status == 200
        app2.close()
    finally:
        app.close()


def test_disconnect_mid_body_is_not_answered():
    app = MockCA().asgi_app()
    try:
        events = [{"type": "http.request", "body": b"\x30", "more_body": True},
                  {"type": "http.disconnect"}]
        assert call(app, headers=[("Content-Type", CMP_TYPE), ("Content-Length", "10")],
                    more=events)[0] is None
        short = [{"type": "http.request", "body": b"\x30\x00", "more_body": False}]
        assert call(app, headers=[("Content-Type", CMP_TYPE), ("Content-Length", "10")],
                    more=short)[0] == 400
    finally:
        app.close()


def test_arguments_checked():
    mock = MockCA()
    with pytest.raises(TypeError):
        ASGIApp(object())
    with pytest.raises(ValueError):
        mock.asgi_app(max_in_flight=0)
    with pytest.raises(TypeError):
        mock.asgi_app(max_request=1.5)
    app = mock.asgi_app()
    app.close()
    app.close()  # twice is fine


def test_closed_app_answers_503():
    app = MockCA().asgi_app()
    app.close()
    status, headers, _ = call(app, headers=[("Content-Type", CMP_TYPE),
                                            ("Content-Length", "2")], body=b"\x30\x00")
    assert (status, headers["connection"]) == (503, "close")


def test_lifespan_closes_the_pool():
    app = MockCA().asgi_app()
    events = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent = []

    async def receive():
        return events.pop(0)

    async def send(message):
        sent.append(message["type"])

    asyncio.run(app({"type": "lifespan"}, receive, send))
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert post(app, b"\x30\x00")[0] == 503


# --- 2. under uvicorn --------------------------------------------------------------------

def test_uvicorn_context_lifecycle():
    mock = MockCA(protect_with_cert=True)
    app = mock.asgi_app()
    with uvicorn_serving(app) as url:
        lifecycle(url, mock)
        # RFC 6712 over a real HTTP stack: the refusals come through as well
        conn = HTTPConnection("127.0.0.1", int(url.split(":")[2].split("/")[0]),
                              timeout=TIMEOUT)
        conn.request("GET", "/pkix/")
        assert conn.getresponse().status == 405
        conn.close()
    assert app.requests == 5 and app.errors == []  # IR, certConf, KUR, certConf, RR


def test_uvicorn_openssl_cli(tmp_path):
    mock = MockCA(poll_count=1, check_after=0)
    PrivateKey.generate("EC").to_pem()
    (tmp_path / "k.pem").write_bytes(PrivateKey.generate("EC").to_pem())
    with uvicorn_serving(mock.asgi_app()) as url:
        address = url.split("//")[1].split("/")[0]
        proc = subprocess.run([OPENSSL, "cmp", "-config", "", "-server", address, "-path",
                               "pkix/", "-cmd", "ir", "-ref", "cli", "-secret",
                               "pass:mock-secret", "-newkey", "k.pem", "-subject",
                               "/CN=cli-asgi", "-certout", "c.pem"], cwd=str(tmp_path),
                              capture_output=True, text=True, timeout=TIMEOUT)
        assert proc.returncode == 0, proc.stderr
    cert = Certificate.from_file(tmp_path / "c.pem")
    assert cert in mock.issued and mock.open_transactions == 0


def test_uvicorn_many_concurrent_clients():
    """Requests of different transactions answered in parallel on the app's threads."""
    mock = MockCA()
    app = mock.asgi_app(max_in_flight=4)
    results = []
    with uvicorn_serving(app) as url:
        def enroll(i):
            with pbm_client(url, subject_name="/CN=c%d" % i) as ctx:
                results.append(ctx.exec_ir())

        threads = [threading.Thread(target=enroll, args=(i,)) for i in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(TIMEOUT)
    assert len(results) == 16 and len(mock.issued) == 16 and mock.open_transactions == 0


# --- 3. mounted in Starlette --------------------------------------------------------------

def test_mounted_in_starlette():
    pytest.importorskip("starlette")
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Mount, Route

    mock = MockCA(protect_with_cert=True)
    cmp_app = mock.asgi_app()
    site = Starlette(routes=[Route("/", lambda request: PlainTextResponse("home")),
                             Mount("/.well-known/cmp", app=cmp_app)])
    with uvicorn_serving(site) as url:
        base = url.rsplit("/pkix/", 1)[0]
        lifecycle(base + "/.well-known/cmp/", mock)
    cmp_app.close()


# --- 4. granian and hypercorn (processes of their own) ---------------------------------

APP_MODULE = textwrap.dedent("""
    from openssl_cmp.testing import MockCA
    mock = MockCA(protect_with_cert=True)
    app = mock.asgi_app()
""")


@pytest.mark.parametrize("runner", ["granian", "hypercorn"])
def test_other_asgi_servers(tmp_path, runner):
    pytest.importorskip(runner)
    (tmp_path / "cmp_asgi_app.py").write_text(APP_MODULE)
    port = free_port()
    bindir = os.path.dirname(sys.executable)
    if runner == "granian":
        argv = [os.path.join(bindir, "granian"), "--interface", "asgi", "--host",
                "127.0.0.1", "--port", str(port), "--workers", "1", "cmp_asgi_app:app"]
    else:
        argv = [os.path.join(bindir, "hypercorn"), "--bind", "127.0.0.1:%d" % port,
                "cmp_asgi_app:app"]
    env = dict(os.environ, PYTHONPATH=str(tmp_path) + os.pathsep
               + os.environ.get("PYTHONPATH", ""))
    with subprocess_serving(argv, port, env) as url:
        lifecycle(url)


def test_request_types_round_trip():
    """CR and P10CR through the app as well (every request type reaches the core)."""
    mock = MockCA()
    with uvicorn_serving(mock.asgi_app()) as url:
        with pbm_client(url, subject_name="/CN=cr") as ctx:
            assert ctx.exec_certreq(ReqType.CR).subject == Name.parse("/CN=cr")
    assert len(mock.issued) == 1
