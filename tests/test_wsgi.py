"""``Server.wsgi_app()``: CMP over HTTP (RFC 6712) as a WSGI application (PEP 3333).

The HTTP rules are checked by calling the app directly (the answers of ``serve_http``),
then the app is served by ``wsgiref`` (in-process) and by gunicorn with several worker
processes (keep-alive off: sync workers close after each response).
"""

from __future__ import annotations

import io
import os
import sys
import textwrap
import threading
from wsgiref.simple_server import WSGIRequestHandler, make_server
from wsgiref.validate import validator

import pytest

from openssl_cmp import Option, PrivateKey
from openssl_cmp.testing import MockCA
from openssl_cmp.wsgi import WSGIApp

from test_asgi import (CMP_TYPE, TIMEOUT, free_port, lifecycle, pbm_client,
                       subprocess_serving)


def call(app, method="POST", body=b"", headers=(), validate=True):
    """(status code, headers dict, body) of one request handed to ``app`` directly,
    through wsgiref's PEP 3333 validator (which refuses an environ with a Content-Length
    that is no number: ``validate=False`` for those)."""
    environ = {"REQUEST_METHOD": method, "PATH_INFO": "/pkix/", "SCRIPT_NAME": "",
               "QUERY_STRING": "", "SERVER_NAME": "test", "SERVER_PORT": "80",
               "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
               "wsgi.version": (1, 0), "wsgi.url_scheme": "http",
               "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr,
               "wsgi.multithread": True, "wsgi.multiprocess": False,
               "wsgi.run_once": False}
    for name, value in headers:
        key = name.upper().replace("-", "_")
        environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + key] = value
    got = {}

    def start_response(status, response_headers, exc_info=None):
        got["status"] = int(status.split()[0])
        got["headers"] = {k.lower(): v for k, v in response_headers}
        return lambda data: None

    result = (validator(app) if validate else app)(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return got["status"], got["headers"], body


def post(app, body, ctype=CMP_TYPE):
    return call(app, body=body, headers=[("Content-Type", ctype),
                                         ("Content-Length", str(len(body)))])


def test_rules_as_serve_http():
    """RFC 6712 section 3.1/3.4 and RFC 9112 section 6: the answers ``serve_http`` gives."""
    app = MockCA().wsgi_app(max_request=100)
    assert call(app, "GET")[0] == 405
    assert post(app, b"\x30\x00", "text/plain")[0] == 415
    assert post(app, b"not DER at all")[0] == 400
    assert post(app, b"\x30\x03\x02\x01\x00")[0] == 400
    assert post(app, b"")[0] == 400
    assert post(app, b"\x30" * 101)[0] == 413
    assert call(app, headers=[("Content-Type", CMP_TYPE)])[0] == 411
    for bad in ("+2", "2_0", "0x2", "2, 2"):  # "2, 2": a server joining two headers
        assert call(app, headers=[("Content-Type", CMP_TYPE), ("Content-Length", bad)],
                    body=b"\x30\x00", validate=False)[0] == 400, bad
    assert call(app, headers=[("Content-Type", CMP_TYPE), ("Transfer-Encoding", "chunked")]
                )[0] == 400
    # a body shorter than announced
    assert call(app, headers=[("Content-Type", CMP_TYPE), ("Content-Length", "10")],
                body=b"\x30\x08")[0] == 400
    assert app.requests == 0 and app.errors == []
    with pytest.raises(TypeError):
        WSGIApp("not a server")
    with pytest.raises(ValueError):
        WSGIApp(MockCA(), max_request=0)


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def test_wsgiref_lifecycle():
    mock = MockCA(protect_with_cert=True)
    app = mock.wsgi_app()
    httpd = make_server("127.0.0.1", 0, app, handler_class=_Quiet)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        lifecycle("http://127.0.0.1:%d/pkix/" % httpd.server_port, mock)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(TIMEOUT)
    assert app.requests == 5 and app.errors == []


APP_MODULE = textwrap.dedent("""
    from openssl_cmp.testing import MockCA
    mock = MockCA(protect_with_cert=True)
    app = mock.wsgi_app()
""")


def test_gunicorn_several_workers(tmp_path):
    """Four worker processes, no keep-alive (sync workers): every enrollment (IR with
    implicit confirmation, RFC 9483 4.1.1: one round trip) completes, whichever worker
    takes it.  ``--preload``: the workers share the CA made before the fork."""
    pytest.importorskip("gunicorn")
    (tmp_path / "cmp_wsgi_app.py").write_text(APP_MODULE)
    port = free_port()
    argv = [os.path.join(os.path.dirname(sys.executable), "gunicorn"), "--workers", "4",
            "--preload", "--bind", "127.0.0.1:%d" % port, "--chdir", str(tmp_path),
            "--log-level", "warning", "cmp_wsgi_app:app"]
    certs = []
    with subprocess_serving(argv, port) as url:
        for i in range(12):
            with pbm_client(url, subject_name="/CN=g%d" % i,
                            new_pkey=PrivateKey.generate("EC")) as ctx:
                ctx.set_option(Option.IMPLICIT_CONFIRM, 1)
                certs.append(ctx.exec_ir())
                ca = ctx.ca_pubs
    assert len({c.serial_number for c in certs}) == 12
    assert all(c.is_issued_by(ca[0]) for c in certs)  # one CA in every worker
