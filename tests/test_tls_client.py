"""The CMP client over TLS (``ctx.tls``, ``https://`` URLs) against our HTTPS server, and the
promise that a request that asked for TLS never leaves the process in cleartext."""

import socket
import threading

import pytest

from openssl_cmp import (TLS, CMPError, Certificate, Context, Extensions, LogLevel, Option,
                         PrivateKey, TrustStore, UnsupportedError, binding)
from openssl_cmp.testing import MockCA


def _ca(name):
    key = PrivateKey.generate("EC")
    return key, Certificate.create(name, key, key, ca=True)


def _leaf(name, issuer_key, issuer, sans):
    key = PrivateKey.generate("EC")
    exts = Extensions({"subjectAltName": sans}) if sans else None
    return key, Certificate.create(name, key, issuer_key, issuer=issuer, extensions=exts)


@pytest.fixture(scope="module")
def pki():
    ca_key, ca = _ca("/CN=TLS test CA")
    srv_key, srv = _leaf("/CN=localhost", ca_key, ca, "DNS:localhost,IP:127.0.0.1")
    client_ca_key, client_ca = _ca("/CN=TLS client CA")
    cli_key, cli = _leaf("/CN=device-1", client_ca_key, client_ca, None)
    other_key, other_ca = _ca("/CN=Another CA")
    return dict(ca=ca, srv=srv, srv_key=srv_key, client_ca=client_ca, cli=cli,
                cli_key=cli_key, other_ca=other_ca)


@pytest.fixture(scope="module")
def mock():
    return MockCA()


@pytest.fixture(scope="module")
def https(mock, pki):
    with mock.serve_http(tls=TLS(cert=pki["srv"], key=pki["srv_key"])) as serving:
        yield serving


@pytest.fixture(scope="module")
def https_mutual(mock, pki):
    tls = TLS(cert=pki["srv"], key=pki["srv_key"], trusted=pki["client_ca"])
    with mock.serve_http(tls=tls) as serving:
        yield serving


def _client(mock, url, tls=None):
    ctx = Context()
    ctx.reference_value, ctx.secret_value = mock.reference, mock.secret
    ctx.trusted = TrustStore([mock.ca_cert])
    ctx.subject_name = "/CN=tls-client"
    ctx.set_new_pkey(PrivateKey.generate("EC"))
    ctx.set_option(Option.TOTAL_TIMEOUT, 20)
    ctx.log_verbosity = LogLevel.CRIT
    if tls is not None:
        ctx.tls = tls
    ctx.set_url(url)
    return ctx


# -- the value object ---------------------------------------------------------------------

def test_tls_value_object(pki):
    tls = TLS(trusted=pki["ca"], cert=pki["cli"], key=pki["cli_key"],
              extra_certs=[pki["client_ca"]], host="ca.example")
    assert isinstance(tls.trusted, TrustStore) and len(tls.trusted) == 1
    assert tls.cert == pki["cli"] and tls.key.public_key() == pki["cli_key"].public_key()
    assert tls.extra_certs == [pki["client_ca"]] and tls.host == "ca.example"
    assert "ca.example" in repr(tls)
    assert TLS().trusted is None and TLS().cert is None


@pytest.mark.parametrize("kwargs, exc", [
    (dict(cert="x"), TypeError),
    (dict(trusted="ca.pem"), TypeError),
    (dict(host=1), TypeError),
    (dict(host=""), ValueError),
    (dict(host="a" * 300), ValueError),
    (dict(extra_certs="abc"), TypeError),
])
def test_tls_rejects_bad_arguments(kwargs, exc):
    with pytest.raises(exc):
        TLS(**kwargs)


def test_tls_needs_cert_and_key_that_match(pki):
    with pytest.raises(ValueError, match="both cert and key"):
        TLS(cert=pki["cli"])
    with pytest.raises(ValueError, match="does not match"):
        TLS(cert=pki["cli"], key=pki["srv_key"])


def test_tls_keeps_its_own_references(pki):
    cert = pki["cli"].copy()
    key = pki["cli_key"].copy()
    tls = TLS(cert=cert, key=key)
    cert.close()
    key.close()
    assert tls.cert.subject == pki["cli"].subject  # still usable after the caller closed


# -- enrollment over HTTPS ----------------------------------------------------------------

@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_enroll_over_https(mock, pki, https, host):
    url = "https://%s:%d/pkix/" % (host, https.port)
    with _client(mock, url, TLS(trusted=pki["ca"])) as ctx:
        cert = ctx.exec_ir()
        assert str(cert.subject) == "CN=tls-client"
        assert ctx.tls_connections >= 1
        assert ctx.tls.trusted is not None


def test_https_keep_alive_reuses_the_connection(mock, pki, https):
    with _client(mock, https.url, TLS(trusted=pki["ca"])) as ctx:
        ctx.set_option(Option.KEEP_ALIVE, 2)
        ctx.exec_ir()  # IR/IP, certConf/PKIconf: one connection
        assert ctx.tls_connections == 1


def test_https_url_alone_uses_the_system_trust_store(mock, https):
    """``https://`` with no ``ctx.tls``: TLS() — our test CA is not trusted by the system."""
    with _client(mock, https.url) as ctx:
        assert ctx.tls is not None and ctx.tls.trusted is None
        with pytest.raises(CMPError, match="certificate was not accepted"):
            ctx.exec_ir()


def test_wrong_trust_anchor_fails_naming_the_cause(mock, pki, https):
    with _client(mock, https.url, TLS(trusted=pki["other_ca"])) as ctx:
        with pytest.raises(CMPError) as info:
            ctx.exec_ir()
    msg = str(info.value)
    assert "TLS: the server's certificate was not accepted" in msg
    assert "unable to get local issuer certificate" in msg
    assert info.value.status is None


def test_wrong_host_name_fails_naming_the_cause(mock, pki, https):
    with _client(mock, https.url, TLS(trusted=pki["ca"], host="ca.example")) as ctx:
        with pytest.raises(CMPError, match=r"not accepted \(hostname mismatch\)"):
            ctx.exec_ir()


def test_ip_address_is_checked_against_ip_sans(mock, pki, https):
    """The server certificate has IP:127.0.0.1; ::1 or another IP does not match."""
    with _client(mock, https.url, TLS(trusted=pki["ca"], host="127.0.0.2")) as ctx:
        with pytest.raises(CMPError, match="IP address mismatch"):
            ctx.exec_ir()


def test_missing_client_certificate_fails_naming_the_cause(mock, pki, https_mutual):
    with _client(mock, https_mutual.url, TLS(trusted=pki["ca"])) as ctx:
        with pytest.raises(CMPError) as info:
            ctx.exec_ir()
    assert "client certificate" in str(info.value)


def test_client_certificate_accepted(mock, pki, https_mutual):
    tls = TLS(trusted=pki["ca"], cert=pki["cli"], key=pki["cli_key"])
    with _client(mock, https_mutual.url, tls) as ctx:
        assert str(ctx.exec_ir().subject) == "CN=tls-client"


def test_plain_http_server_is_not_spoken_to_in_cleartext(mock, pki):
    with mock.serve_http() as plain:
        url = "https://127.0.0.1:%d/pkix/" % plain.port
        with _client(mock, url, TLS(trusted=pki["ca"])) as ctx:
            with pytest.raises(CMPError, match="TLS"):
                ctx.exec_ir()


# -- never cleartext ----------------------------------------------------------------------

class _Capture:
    """A TCP listener that records whatever a client sends, and answers nothing."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(10)
        self.port = self.sock.getsockname()[1]
        self.data = b""
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        conn.settimeout(2)
        try:
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                self.data += chunk
        except OSError:
            pass
        conn.close()

    def close(self):
        self.thread.join(10)
        self.sock.close()


@pytest.mark.parametrize("scheme", ["https", "http"])
def test_request_never_leaves_in_cleartext(mock, pki, scheme):
    """With TLS asked for (an https:// URL, or ctx.tls with any URL), the only bytes that
    reach a peer that does not speak TLS are a TLS ClientHello, never the HTTP request."""
    capture = _Capture()
    try:
        url = "%s://127.0.0.1:%d/pkix/" % (scheme, capture.port)
        with _client(mock, url, TLS(trusted=pki["ca"])) as ctx:
            ctx.set_option(Option.TOTAL_TIMEOUT, 3)
            with pytest.raises(CMPError):
                ctx.exec_ir()
    finally:
        capture.close()
    assert capture.data, "the client sent nothing at all"
    assert capture.data[0] == 0x16, "not a TLS handshake record: %r" % capture.data[:20]
    assert b"POST" not in capture.data and b"pkixcmp" not in capture.data


def test_tls_cannot_be_switched_off_under_an_https_url(mock, pki):
    ctx = _client(mock, "https://127.0.0.1:1/pkix/", TLS(trusted=pki["ca"]))
    with pytest.raises(ValueError, match="TLS stays on"):
        ctx.tls = None
    assert ctx.tls is not None
    if binding.has("OSSL_CMP_OPT_USE_TLS"):
        with pytest.raises(ValueError, match="USE_TLS=0"):
            ctx.set_option(Option.USE_TLS, 0)
        assert ctx.get_option(Option.USE_TLS) == 1
    else:
        with pytest.raises(UnsupportedError):
            ctx.set_option(Option.USE_TLS, 0)
    ctx.set_url("http://127.0.0.1:1/pkix/")
    ctx.tls = None  # an http:// URL: now it may be switched off
    assert ctx.tls is None
    ctx.close()


def test_tls_and_http_callback_exclude_each_other(mock, pki):
    ctx = Context()
    ctx.tls = TLS(trusted=pki["ca"])
    with pytest.raises(ValueError, match="HTTP callback"):
        ctx.http_callback = lambda *a: a[1]
    with pytest.raises(ValueError, match="HTTP callback"):
        ctx.http_callback_arg = object()
    ctx.tls = None
    ctx.http_callback = lambda c, bio, connect, detail: bio
    with pytest.raises(ValueError, match="HTTP callback slot"):
        ctx.tls = TLS()
    with pytest.raises(ValueError, match="HTTP callback slot"):
        ctx.set_url("https://ca.example/")
    assert ctx.tls is None
    ctx.close()


def test_tls_type_checked(mock):
    ctx = Context()
    with pytest.raises(TypeError):
        ctx.tls = "yes"
    ctx.close()


def test_tls_objects_outlive_nothing(mock, pki, https):
    """The SSL_CTX and the callback's settings live exactly as long as the C context:
    dropping every Python reference (no close) frees them without a crash."""
    import gc

    for _ in range(20):
        ctx = _client(mock, https.url, TLS(trusted=pki["ca"]))
        ctx.set_option(Option.KEEP_ALIVE, 2)
        ctx.exec_ir()  # leaves a kept-alive TLS connection that the free must close
        del ctx
        gc.collect()


def test_https_through_a_connect_proxy(mock, pki, https):
    """An HTTPS proxy is used through CONNECT (as `openssl cmp -proxy` does)."""
    seen = []
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.settimeout(10)

    def pump(a, b):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def proxy():
        conn, _ = listener.accept()
        head = b""
        while b"\r\n\r\n" not in head:
            head += conn.recv(4096)
        seen.append(head.split(b"\r\n")[0].decode())
        target = head.split()[1].decode()
        host, port = target.rsplit(":", 1)
        upstream = socket.create_connection((host, int(port)))
        conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        t = threading.Thread(target=pump, args=(upstream, conn), daemon=True)
        t.start()
        pump(conn, upstream)
        t.join(5)
        conn.close()
        upstream.close()

    t = threading.Thread(target=proxy, daemon=True)
    t.start()
    try:
        with _client(mock, https.url, TLS(trusted=pki["ca"])) as ctx:
            ctx.set_option(Option.KEEP_ALIVE, 2)
            ctx.no_proxy = ""
            ctx.proxy = "http://127.0.0.1:%d" % listener.getsockname()[1]
            assert str(ctx.exec_ir().subject) == "CN=tls-client"
    finally:
        t.join(10)
        listener.close()
    assert seen == ["CONNECT 127.0.0.1:%d HTTP/1.0" % https.port] or \
        seen[0].startswith("CONNECT 127.0.0.1:%d " % https.port)


def test_sessions_are_resumed_per_peer(mock, pki, https):
    """Contexts sharing one TLS object resume its last session, but only with the same
    host name and server: a resumed handshake does not check the certificate again."""
    tls = TLS(trusted=pki["ca"])
    ip_url = "https://127.0.0.1:%d/pkix/" % https.port
    name_url = "https://localhost:%d/pkix/" % https.port
    for _ in range(2):
        with _client(mock, ip_url, tls) as ctx:
            ctx.exec_ir()
    assert tls.resumptions == 1  # the second context resumed the first one's session
    with _client(mock, name_url, tls) as ctx:
        ctx.exec_ir()
    assert tls.resumptions == 1  # another host name: a full handshake, name checked
    with _client(mock, name_url, TLS(trusted=pki["ca"], host="ca.example")) as ctx:
        with pytest.raises(CMPError, match="hostname mismatch"):
            ctx.exec_ir()  # a separate TLS object never sees the others' sessions


# Guards against SNI going missing or carrying an IP literal (RFC 6066 3 forbids that).
def test_sni_is_the_host_name_and_never_an_ip_address(mock, pki):
    seen = []
    server_side = TLS(cert=pki["srv"], key=pki["srv_key"]).server_context()
    server_side.sni_callback = lambda sock, name, context: seen.append(name)
    with mock.serve_http(tls=server_side) as serving:
        port = serving.port
        cases = (("https://localhost:%d/pkix/" % port, TLS(trusted=pki["ca"]), "localhost"),
                 ("https://127.0.0.1:%d/pkix/" % port, TLS(trusted=pki["ca"], host="localhost"),
                  "localhost"),
                 ("https://127.0.0.1:%d/pkix/" % port, TLS(trusted=pki["ca"]), None))
        for url, tls, expected in cases:
            del seen[:]
            with _client(mock, url, tls) as ctx:
                assert ctx.exec_ir().is_issued_by(mock.ca_cert)
            assert seen and set(seen) == {expected}, (url, seen)

