"""A CMP lifecycle whose messages land on different server processes (docs/scale.md).

Three ``openssl-cmp serve --workers 1 --store …`` processes of one CA share one SQLite
store; a round-robin HTTP balancer in front of them (keep-alive off: one message per
connection) sends every message to the next process.  With implicit confirmation every
transaction is one round trip: IR → KUR → RR completes, each on another process, with our
``Context`` and with ``openssl cmp``.  With explicit confirmation the certConf reaches a
process that never saw the IR, which answers with a CMP error (RFC 9483 section 3.5),
never a wrong certificate.  Last, ``serve --workers 3 --store`` (uvicorn workers forked on
one socket) serves the lifecycle too.
"""

from __future__ import annotations

import http.client
import http.server
import itertools
import signal
import subprocess
import sys
import threading
from contextlib import contextmanager

import pytest

from openssl_cmp import (CMPError, Certificate, Context, FailInfo, Option, PrivateKey,
                         TrustStore)
from openssl_cmp.mockca_store import SQLiteStore
from openssl_cmp.testing import MockCA

from helpers import OPENSSL
from test_asgi import HERE, TIMEOUT, free_port, pbm_client, wait_for_port

pytest.importorskip("uvicorn")


class _Balancer(http.server.ThreadingHTTPServer):
    """Round robin over ``backends`` (ports), one message per connection."""

    daemon_threads = True

    def __init__(self, backends):
        super().__init__(("127.0.0.1", 0), _Forward)
        self.backends = backends
        self.turn = itertools.cycle(range(len(backends)))
        self.lock = threading.Lock()
        self.sent_to: list[int] = []  # the backend index of each message


class _Forward(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with self.server.lock:
            index = next(self.server.turn)
            self.server.sent_to.append(index)
        conn = http.client.HTTPConnection("127.0.0.1", self.server.backends[index],
                                          timeout=TIMEOUT)
        try:
            conn.request("POST", self.path, body, {
                "Content-Type": self.headers["Content-Type"], "Connection": "close"})
            answer = conn.getresponse()
            data = answer.read()
        finally:
            conn.close()
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.getheader("Content-Type", "text/plain"))
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
        self.close_connection = True

    def log_message(self, *args):
        pass


@contextmanager
def _serve(argv, port):
    proc = subprocess.Popen([sys.executable, "-m", "openssl_cmp", "serve", "--port", str(port),
                             "--seconds", "300", *argv], cwd=HERE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL)
    try:
        wait_for_port(port, proc)
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        out = proc.communicate(timeout=TIMEOUT)[0]
        assert proc.returncode == 0, out


@pytest.fixture
def pki(tmp_path):
    """The CA's key and certificate files, its certificate, and the store's path."""
    mock = MockCA()
    (tmp_path / "ca.key").write_bytes(mock.ca_key.to_pem())
    (tmp_path / "ca.pem").write_bytes(mock.ca_cert.to_pem())
    return tmp_path, mock.ca_cert, str(tmp_path / "records.db")


def _ca_args(tmp_path, store, *extra):
    return ["--ca-key", str(tmp_path / "ca.key"), "--ca-cert", str(tmp_path / "ca.pem"),
            "--sign", "--store", store, *extra]


@pytest.fixture
def balanced(pki):
    """Three single-worker servers of one CA and store behind a round-robin balancer."""
    tmp_path, ca_cert, store = pki
    ports = [free_port() for _ in range(3)]
    with _serve(_ca_args(tmp_path, store, "--grant-implicitconf", "--workers", "1"),
                ports[0]), \
            _serve(_ca_args(tmp_path, store, "--grant-implicitconf", "--workers", "1"),
                   ports[1]), \
            _serve(_ca_args(tmp_path, store, "--grant-implicitconf", "--workers", "1"),
                   ports[2]):
        balancer = _Balancer(ports)
        thread = threading.Thread(target=balancer.serve_forever, daemon=True)
        thread.start()
        try:
            yield balancer, "http://127.0.0.1:%d/pkix/" % balancer.server_address[1]
        finally:
            balancer.shutdown()
            balancer.server_close()
            thread.join(TIMEOUT)


def _signed_client(url, ca_cert, cert, key):
    ctx = Context()
    ctx.set_url(url)
    ctx.set_option(Option.TOTAL_TIMEOUT, TIMEOUT)
    ctx.set_option(Option.IMPLICIT_CONFIRM, 1)
    ctx.trusted = TrustStore([ca_cert])
    ctx.cert, ctx.pkey, ctx.old_cert = cert, key, cert
    return ctx


def _context_lifecycle(url, ca_cert):
    """IR (PBM) → KUR (signed by the IR certificate) → RR (signed by the KUR one), every
    transaction one round trip (implicit confirmation, RFC 9483 section 4.1.1)."""
    key1 = PrivateKey.generate("EC")
    with pbm_client(url, subject_name="/CN=spread", new_pkey=key1) as ctx:
        ctx.set_option(Option.IMPLICIT_CONFIRM, 1)
        c1 = ctx.exec_ir()
    key2 = PrivateKey.generate("EC")
    with _signed_client(url, ca_cert, c1, key1) as ctx:
        ctx.set_new_pkey(key2)
        c2 = ctx.exec_kur()  # RFC 9483 4.1.3: the certificate another process issued
    with _signed_client(url, ca_cert, c2, key2) as ctx:
        ctx.exec_rr()  # RFC 9483 4.2
    with _signed_client(url, ca_cert, c2, key2) as ctx:
        with pytest.raises(CMPError) as info:  # revoked, on yet another process
            ctx.exec_rr()
        assert info.value.fail_info == FailInfo.SIGNER_NOT_TRUSTED
    return c1, c2


def _check_store(store, issued, revoked):
    records = SQLiteStore(store)
    try:
        assert all(records.issued(c.serial_number) == c.to_der() for c in issued)
        assert set(records.revocations()) == {c.serial_number for c in revoked}
        assert records.crl()[0] == 1 + len(revoked)  # one CRL number per change
    finally:
        records.close()


def test_context_lifecycle_each_message_on_another_process(pki, balanced):
    tmp_path, ca_cert, store = pki
    balancer, url = balanced
    c1, c2 = _context_lifecycle(url, ca_cert)
    assert balancer.sent_to == [0, 1, 2, 0]  # IR, KUR, RR, RR: four processes in turn
    assert c1.is_issued_by(ca_cert) and c2.subject == c1.subject
    _check_store(store, [c1, c2], [c2])


def _cli(tmp_path, url, *args):
    address = url.split("//")[1].split("/")[0]
    proc = subprocess.run([OPENSSL, "cmp", "-config", "", "-server", address, "-path", "pkix/",
                           "-trusted", "ca.pem", *args], cwd=str(tmp_path),
                          capture_output=True, text=True, timeout=TIMEOUT)
    return proc


def test_openssl_cli_lifecycle_each_message_on_another_process(pki, balanced):
    tmp_path, ca_cert, store = pki
    balancer, url = balanced
    for name in ("k1.pem", "k2.pem"):
        (tmp_path / name).write_bytes(PrivateKey.generate("EC").to_pem())
    for args in (["-cmd", "ir", "-ref", "cli", "-secret", "pass:mock-secret", "-newkey",
                  "k1.pem", "-subject", "/CN=cli-spread", "-certout", "c1.pem"],
                 ["-cmd", "kur", "-cert", "c1.pem", "-key", "k1.pem", "-newkey", "k2.pem",
                  "-certout", "c2.pem"],
                 ["-cmd", "rr", "-cert", "c2.pem", "-key", "k2.pem", "-oldcert", "c2.pem"]):
        proc = _cli(tmp_path, url, "-implicit_confirm", *args)
        assert proc.returncode == 0, proc.stderr
    assert balancer.sent_to == [0, 1, 2]
    c1 = Certificate.from_file(tmp_path / "c1.pem")
    c2 = Certificate.from_file(tmp_path / "c2.pem")
    _check_store(store, [c1, c2], [c2])


def test_explicit_confirmation_on_another_process_is_refused(pki, balanced):
    """The certConf reaches a process that holds no such transaction: a CMP error
    (rejection, badRequest; RFC 9483 section 3.5), never a silent success."""
    tmp_path, ca_cert, store = pki
    balancer, url = balanced
    with pbm_client(url, subject_name="/CN=explicit") as ctx:
        with pytest.raises(CMPError) as info:
            ctx.exec_ir()
    assert info.value.server_rejected and info.value.fail_info == FailInfo.BAD_REQUEST
    assert "no open transaction" in str(info.value)
    assert balancer.sent_to == [0, 1]  # the IR on one process, the certConf on the next
    (tmp_path / "k.pem").write_bytes(PrivateKey.generate("EC").to_pem())
    proc = _cli(tmp_path, url, "-cmd", "ir", "-ref", "cli", "-secret", "pass:mock-secret",
                "-newkey", "k.pem", "-subject", "/CN=cli-explicit", "-certout", "c.pem")
    assert proc.returncode != 0 and "unexpected certconf" in proc.stdout, proc.stdout
    assert not (tmp_path / "c.pem").exists()


def test_serve_workers_with_a_shared_store(pki):
    """``serve --workers 3 --store``: uvicorn workers forked on one socket, records
    shared whichever worker a message reaches."""
    tmp_path, ca_cert, store = pki
    port = free_port()
    with _serve(_ca_args(tmp_path, store, "--grant-implicitconf", "--workers", "3"), port):
        url = "http://127.0.0.1:%d/pkix/" % port
        c1, c2 = _context_lifecycle(url, ca_cert)
        issued = [c1, c2]
        for i in range(6):
            with pbm_client(url, subject_name="/CN=w%d" % i) as ctx:
                ctx.set_option(Option.IMPLICIT_CONFIRM, 1)
                issued.append(ctx.exec_ir())
    _check_store(store, issued, [c2])
