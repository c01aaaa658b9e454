"""``HTTPServing(server, tls=…)``: CMP over HTTPS, reached by Python's ``ssl`` and by the
``openssl cmp`` command (``-tls_used``), with and without client certificates.

The PKI is made here with ``Certificate.create``: a CA, a server certificate for
``DNS:localhost, IP:127.0.0.1``, a client certificate, and an unrelated CA.
"""

import http.client
import socket
import ssl
import subprocess
import time
from types import SimpleNamespace

import pytest

from openssl_cmp import BodyType, Certificate, Extensions, Message, PrivateKey
from openssl_cmp.http import HTTPServing
from openssl_cmp.testing import MockCA
from openssl_cmp.tls import TLS

from helpers import OPENSSL, capture, log_watch

TIMEOUT = 30  # seconds, for every subprocess and every socket


# --- the PKI and helpers -----------------------------------------------------------------

@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls-pki")
    ca_key = PrivateKey.generate("EC")
    ca = Certificate.create("/CN=openssl_cmp TLS test CA", ca_key, ca_key, ca=True)
    server_key = PrivateKey.generate("EC")
    server = Certificate.create(
        "/CN=localhost", server_key, ca_key, issuer=ca,
        extensions=Extensions({"subjectAltName": "DNS:localhost,IP:127.0.0.1"}))
    client_key = PrivateKey.generate("EC")
    client = Certificate.create("/CN=tls-client", client_key, ca_key, issuer=ca)
    other_key = PrivateKey.generate("EC")
    other_ca = Certificate.create("/CN=unrelated CA", other_key, other_key, ca=True)
    files = {"ca.pem": ca.to_pem(), "other-ca.pem": other_ca.to_pem(),
             "client.pem": client.to_pem(), "client.key": client_key.to_pem(),
             "newkey.pem": PrivateKey.generate("EC").to_pem()}
    for name, data in files.items():
        (d / name).write_bytes(data)
    return SimpleNamespace(dir=d, ca=ca, server=server, server_key=server_key,
                           client=client, client_key=client_key,
                           server_tls=TLS(cert=server, key=server_key),
                           mutual_tls=TLS(cert=server, key=server_key, trusted=ca))


def ir_der(mock) -> bytes:
    """DER of an IR as a PBM client sends it to ``mock``."""
    def run(ctx):
        ctx.subject_name = "/CN=tls-raw"
        ctx.set_new_pkey(PrivateKey.generate("EC"))
        ctx.exec_ir()
    return capture(mock, run)[0]


def client_context(pki, cafile="ca.pem", cert=False) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pki.dir / cafile))
    if cert:
        context.load_cert_chain(str(pki.dir / "client.pem"), str(pki.dir / "client.key"))
    return context


def post(serving, der, context, host=None):
    """(status, content type, body) of a POST over HTTPS with Python's ssl."""
    conn = _https(serving, context, host)
    try:
        conn.request("POST", "/pkix/", body=der,
                     headers={"Content-Type": "application/pkixcmp"})
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type"), response.read()
    finally:
        conn.close()


def _https(serving, context, host=None):
    return http.client.HTTPSConnection(host or serving.host, serving.port, context=context,
                                       timeout=TIMEOUT)


def cli(serving, pki, *args, cert_file="c.pem"):
    """``openssl cmp -cmd ir`` over TLS against ``serving`` (PBM with the MockCA's secret)."""
    return subprocess.run(
        [OPENSSL, "cmp", "-config", "", "-cmd", "ir", "-server", serving.address,
         "-path", "pkix/", "-tls_used", "-ref", "cli-client",
         "-secret", "pass:" + serving.server.secret.decode(), "-newkey", "newkey.pem",
         "-subject", "/CN=tls-cli", "-certout", cert_file, *args],
        cwd=str(pki.dir), capture_output=True, text=True, timeout=TIMEOUT)


def ok(proc) -> bool:
    assert proc.returncode == 0, "rc=%d\n%s\n%s" % (proc.returncode, proc.stdout, proc.stderr)
    return True




def closed_by_peer(sock) -> bool:
    sock.settimeout(TIMEOUT)
    try:
        return sock.recv(65536) == b""
    except ConnectionResetError:
        return True


# --- tests -------------------------------------------------------------------------------

def test_python_ssl_client_posts_over_https(pki):
    mock = MockCA()
    der = ir_der(mock)
    with HTTPServing(mock, tls=pki.server_tls) as serving:
        assert serving.url == "https://127.0.0.1:%d/pkix/" % serving.port
        assert serving.tls is pki.server_tls
        for host in ("127.0.0.1", "localhost"):  # the IP and the DNS name of the SAN
            status, ctype, body = post(serving, der, client_context(pki), host)
            assert status == 200 and ctype == "application/pkixcmp"
            assert Message.from_der(body).body_type == BodyType.IP
        # keep-alive over TLS: two requests on one connection
        conn = _https(serving, client_context(pki))
        try:
            for _ in range(2):
                conn.request("POST", "/pkix/", body=der,
                             headers={"Content-Type": "application/pkixcmp"})
                response = conn.getresponse()
                assert response.status == 200 and response.read()
        finally:
            conn.close()
        assert serving.requests == 4 and serving.errors == []


def test_openssl_cli_enrolls_over_https(pki):
    mock = MockCA()
    with HTTPServing(mock, tls=pki.server_tls) as serving:
        assert ok(cli(serving, pki, "-tls_trusted", "ca.pem"))
        cert = Certificate.from_file(pki.dir / "c.pem")
        assert cert.is_issued_by(mock.ca_cert) and mock.issued == [cert]
        assert serving.errors == []


def test_client_without_the_server_ca_fails(pki):
    mock = MockCA()
    with HTTPServing(mock, tls=pki.server_tls) as serving, \
            log_watch("TLS handshake failed") as log:
        proc = cli(serving, pki, "-tls_trusted", "other-ca.pem", cert_file="none.pem")
        assert proc.returncode != 0
        assert not (pki.dir / "none.pem").exists()
        with pytest.raises(ssl.SSLCertVerificationError):
            post(serving, b"\x30\x00", client_context(pki, "other-ca.pem"))
        assert log.event.wait(TIMEOUT)  # the server saw the client give up
        assert mock.issued == [] and serving.requests == 0


def test_client_certificate_required_when_trusted_is_set(pki):
    mock = MockCA()
    der = ir_der(mock)
    with HTTPServing(mock, tls=pki.mutual_tls) as serving, \
            log_watch("TLS handshake failed") as log:
        proc = cli(serving, pki, "-tls_trusted", "ca.pem", cert_file="anonymous.pem")
        assert proc.returncode != 0
        assert not (pki.dir / "anonymous.pem").exists()
        assert log.event.wait(TIMEOUT)
        with pytest.raises((ssl.SSLError, ConnectionError)):
            post(serving, der, client_context(pki))
        assert serving.requests == 0 and len(mock.issued) == 1  # only ir_der's own

        assert ok(cli(serving, pki, "-tls_trusted", "ca.pem", "-tls_cert", "client.pem",
                      "-tls_key", "client.key", cert_file="mutual.pem"))
        assert Certificate.from_file(pki.dir / "mutual.pem").is_issued_by(mock.ca_cert)
        status, _, body = post(serving, der, client_context(pki, cert=True))
        assert status == 200 and Message.from_der(body).body_type == BodyType.IP


def test_handshake_timeout_and_plain_http_on_the_tls_port(pki, capfd):
    mock = MockCA()
    with HTTPServing(mock, tls=pki.server_tls, handshake_timeout=0.3) as serving:
        with log_watch("handshake timeout") as log, \
                socket.create_connection((serving.host, serving.port), TIMEOUT) as sock:
            start = time.monotonic()  # connects, never says hello
            assert closed_by_peer(sock)
            assert 0.25 <= time.monotonic() - start < 10
            assert log.event.wait(TIMEOUT)
        with log_watch("TLS handshake failed") as log, \
                socket.create_connection((serving.host, serving.port), TIMEOUT) as sock:
            sock.sendall(b"POST /pkix/ HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n0\x00")
            assert closed_by_peer(sock)
            assert log.event.wait(TIMEOUT)
        # and the server still serves TLS clients
        status, _, _ = post(serving, ir_der(mock), client_context(pki))
        assert status == 200
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_connection_limit_on_the_tls_port(pki):
    """Beyond the limit a TLS port cannot answer 503 in clear text: it just closes."""
    mock = MockCA()
    with HTTPServing(mock, tls=pki.server_tls, max_connections=1) as serving:
        held = client_context(pki).wrap_socket(
            socket.create_connection((serving.host, serving.port), TIMEOUT),
            server_hostname="localhost")
        try:
            with serving._cond:
                assert serving._cond.wait_for(lambda: len(serving._connections) == 1, TIMEOUT)
            with socket.create_connection((serving.host, serving.port), TIMEOUT) as sock:
                assert closed_by_peer(sock)
            assert serving.refused == 1
        finally:
            held.close()


def test_ssl_context_argument(pki):
    mock = MockCA()
    context = pki.server_tls.server_context()
    with HTTPServing(mock, tls=context) as serving:
        assert serving.url.startswith("https://")
        status, _, _ = post(serving, ir_der(mock), client_context(pki))
        assert status == 200
    with pytest.raises(ValueError):
        HTTPServing(mock, tls=ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))
    with pytest.raises(ValueError):  # a server TLS needs cert and key
        HTTPServing(mock, tls=TLS(trusted=pki.ca))


def test_close_is_quick_with_idle_tls_connections(pki):
    mock = MockCA()
    serving = HTTPServing(mock, tls=pki.server_tls, close_timeout=5)
    socks = []
    try:
        for _ in range(5):  # handshaken, then idle
            sock = client_context(pki).wrap_socket(
                socket.create_connection((serving.host, serving.port), TIMEOUT),
                server_hostname="localhost")
            socks.append(sock)
        socks.append(socket.create_connection((serving.host, serving.port), TIMEOUT))
        with serving._cond:  # five idle, one in its handshake
            assert serving._cond.wait_for(lambda: len(serving._connections) == 6, TIMEOUT)
        start = time.monotonic()
    finally:
        serving.close()
    try:
        assert time.monotonic() - start < 1.0
        assert serving.connections == 0
    finally:
        for sock in socks:
            sock.close()
