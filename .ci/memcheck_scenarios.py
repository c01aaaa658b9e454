"""Scenarios for .ci/memcheck: each one exercises a crash class that was fixed (re-entry from
callbacks, configuration changed inside a handler, close() while another thread uses an
object, TLS set-up and failures, hostile HTTP input), small enough to run under valgrind.

    python .ci/memcheck_scenarios.py NAME     # one scenario; exit 0 when it completes
"""

import socket
import sys
import threading

from openssl_cmp import (TLS, CMPError, Certificate, Context, Extensions, LogLevel, Message,
                         Option, PrivateKey, TrustStore)
from openssl_cmp.testing import MockCA


def reinit_in_log_callback():
    mock = MockCA()
    key = PrivateKey.generate("EC")
    for i in range(10):
        ctx = mock.client(subject_name="/CN=r%d" % i, new_pkey=key)
        ctx.log_verbosity = LogLevel.DEBUG
        ctx.log_callback = lambda *a, ctx=ctx: ctx.reinit()
        try:
            ctx.exec_ir()
        except RuntimeError:
            pass
        ctx.log_callback = None
        ctx.close()


def secret_change_in_handler():
    mock = MockCA()
    issue = mock.handle_cert_request
    secrets = iter(b"secret-%d" % i for i in range(1000))

    def rotating(*args):
        mock.ctx.secret_value = next(secrets)
        return issue(*args)

    mock.handle_cert_request = rotating
    key = PrivateKey.generate("EC")
    for i in range(6):
        for attached in (True, False):
            ctx = mock.client(subject_name="/CN=s", new_pkey=key)
            if not attached:
                ctx.transfer_callback = lambda c, req: mock.process(req)
            try:
                ctx.exec_ir()
            except CMPError:
                pass
            ctx.close()


def close_while_in_use():
    key = PrivateKey.generate("EC")
    for _ in range(20):
        cert = Certificate.create("/CN=t", key, key)
        stop = []

        def use():
            while not stop:
                try:
                    cert.to_der()
                    cert.subject
                    cert.serial_number
                except ValueError:
                    return

        threads = [threading.Thread(target=use) for _ in range(3)]
        for t in threads:
            t.start()
        cert.close()
        stop.append(1)
        for t in threads:
            t.join()


def tls():
    ca_key = PrivateKey.generate("EC")
    ca = Certificate.create("/CN=CA", ca_key, ca_key, ca=True)
    srv_key = PrivateKey.generate("EC")
    srv = Certificate.create("/CN=localhost", srv_key, ca_key, issuer=ca,
                             extensions=Extensions({"subjectAltName": "IP:127.0.0.1"}))
    mock = MockCA()
    shared = TLS(trusted=ca)
    for tls_server in (TLS(cert=srv, key=srv_key),
                       TLS(cert=srv, key=srv_key, trusted=ca)):  # client cert required
        with mock.serve_http(tls=tls_server) as https:
            for client_tls in (shared, shared, TLS(trusted=ca, host="wrong.example"),
                               TLS(trusted=srv)):
                ctx = Context()
                ctx.log_verbosity = LogLevel.CRIT
                ctx.reference_value, ctx.secret_value = mock.reference, mock.secret
                ctx.trusted = TrustStore([mock.ca_cert])
                ctx.subject_name = "/CN=tls"
                ctx.set_new_pkey(PrivateKey.generate("EC"))
                ctx.set_option(Option.TOTAL_TIMEOUT, 10)
                ctx.set_option(Option.KEEP_ALIVE, 2)
                ctx.tls = client_tls
                ctx.set_url(https.url)
                try:
                    ctx.exec_ir()
                except CMPError:
                    pass
                del ctx  # freed with a kept-alive TLS connection open


def hostile_http():
    mock = MockCA()
    good = None
    ctx = mock.client(subject_name="/CN=h", new_pkey=PrivateKey.generate("EC"))
    out = []
    ctx.transfer_callback = lambda c, req: out.append(req.to_der()) or mock.process(req)
    ctx.exec_ir()
    good = out[0]
    with mock.serve_http(read_timeout=1, idle_timeout=1) as http:
        bodies = [good[:len(good) // 2], good[:-3] + b"\x00\x00\x00", b"\x30\x03\x02\x01",
                  good]
        heads = ["Content-Length: %d", "Content-Length: +%d", "Content-Length: %d\r\n"
                 "Content-Length: 1", "Transfer-Encoding: chunked\r\nContent-Length: %d"]
        for head in heads:
            for body in bodies:
                s = socket.create_connection(("127.0.0.1", http.port), timeout=5)
                h = head % len(body) if "%d" in head else head
                s.sendall(b"POST /pkix/ HTTP/1.1\r\nHost: x\r\nContent-Type: "
                          b"application/pkixcmp\r\n" + h.encode() + b"\r\n\r\n" + body)
                try:
                    s.recv(65536)
                except OSError:
                    pass
                s.close()
    Message.from_der(good)


SCENARIOS = {f.__name__: f for f in (reinit_in_log_callback, secret_change_in_handler,
                                     close_while_in_use, tls, hostile_http)}

if __name__ == "__main__":
    SCENARIOS[sys.argv[1]]()
    print("completed", sys.argv[1])
