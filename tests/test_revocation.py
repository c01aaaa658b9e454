"""Revocation checking of the CMP server's certificate (RFC 9483 §3.5: the client validates
the server's signing certificate, revocation status included): static CRLs, CRLs from the
distribution point (RFC 5280 §4.2.1.13), OCSP (RFC 6960)."""

from __future__ import annotations

import http.server
import re
import subprocess
import threading
from pathlib import Path

import pytest

from openssl_cmp import CMPError, CRL, Certificate, Extensions, TrustStore
from openssl_cmp.revocation import RevocationCheck
from test_trust_params import Pki


# -- a CA database for `openssl ca` (CRLs) and `openssl ocsp` (responder) ------------------

class CADir:
    """The root of ``pki`` as an ``openssl ca`` directory; ``revoke``/``valid`` record the
    server certificate's status in index.txt."""

    def __init__(self, directory: Path, pki: Pki) -> None:
        self.dir = directory
        (directory / "ca.pem").write_bytes(pki.root.to_pem())
        (directory / "ca.key").write_bytes(pki.root_key.to_pem())
        (directory / "srv.pem").write_bytes(pki.server.to_pem())
        (directory / "index.txt").write_text("")
        (directory / "ca.cnf").write_text("[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\n"
                                          "default_md=sha256\ndefault_crl_days=1\n")

    def ca(self, *args: str) -> None:
        subprocess.run(["openssl", "ca", "-config", "ca.cnf", "-keyfile", "ca.key", "-cert",
                        "ca.pem", *args], cwd=self.dir, check=True, capture_output=True,
                       timeout=30)

    def revoke_server(self) -> None:
        self.ca("-revoke", "srv.pem", "-crl_reason", "keyCompromise")

    def server_valid(self) -> None:
        self.ca("-valid", "srv.pem")

    def crl(self) -> CRL:
        self.ca("-gencrl", "-out", "crl.pem")
        return CRL.from_pem((self.dir / "crl.pem").read_bytes())


@pytest.fixture
def pki():
    return Pki()


# -- static CRLs ---------------------------------------------------------------------------

def test_revoked_server_certificate_is_refused(pki, tmp_path):
    """RFC 5280 §6.3.3: the server certificate is listed on the CRL of its issuer."""
    cadir = CADir(tmp_path, pki)
    cadir.revoke_server()
    store = TrustStore([pki.root], crls=[cadir.crl()], check_crls="leaf")
    with pytest.raises(CMPError, match="certificate revoked") as info:
        pki.enroll(store)
    assert "server's certificate was not accepted" in str(info.value)


def test_server_certificate_not_on_the_crl_is_accepted(pki, tmp_path):
    store = TrustStore([pki.root], crls=[CADir(tmp_path, pki).crl()], check_crls="leaf")
    pki.enroll(store)


def test_crls_without_checking_are_not_consulted(pki, tmp_path):
    cadir = CADir(tmp_path, pki)
    cadir.revoke_server()
    pki.enroll(TrustStore([pki.root], crls=[cadir.crl()]))  # check_crls stays "none"


# -- RevocationCheck arguments -------------------------------------------------------------

@pytest.mark.parametrize("kwargs, exc", [
    ({}, ValueError),  # nothing to do
    ({"use_cdp": 1}, TypeError),
    ({"ocsp": "yes"}, TypeError),
    ({"ocsp_url": b"http://x/"}, TypeError),
    ({"ocsp_url": "https://x/"}, ValueError),
    ({"ocsp_url": "http:///path"}, ValueError),
    ({"ocsp_url": "http://x/a b"}, ValueError),
    ({"use_cdp": True, "timeout": 0}, ValueError),
    ({"use_cdp": True, "timeout": "1"}, TypeError),
    ({"use_cdp": True, "max_size": 0}, ValueError),
    ({"use_cdp": True, "max_size": 1.5}, TypeError),
    ({"use_cdp": True, "fail_open": None}, TypeError),
])
def test_bad_arguments_are_refused(kwargs, exc):
    with pytest.raises(exc):
        RevocationCheck(**kwargs)


def test_check_is_attached_to_the_store_and_detached():
    check = RevocationCheck(use_cdp=True, timeout=2, max_size=1000)
    store = TrustStore(revocation=check)
    assert store.revocation is check and store.check_crls == "leaf"
    assert (check.use_cdp, check.ocsp, check.timeout, check.max_size, check.fail_open) == \
        (True, False, 2.0, 1000, False)
    store.revocation = None
    assert store.revocation is None
    assert RevocationCheck(ocsp_url="http://127.0.0.1:1/").ocsp is True


# -- CRLs from the distribution point ------------------------------------------------------

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        srv = self.server
        srv.hits += 1
        if srv.hang is not None:
            srv.hang.wait(30)  # never answers within the client's timeout
            return
        body = srv.body
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def crl_server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.hits, srv.hang, srv.body = 0, None, b""
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    srv.url = "http://127.0.0.1:%d/ca.crl" % srv.server_address[1]
    yield srv
    if srv.hang is not None:
        srv.hang.set()
    srv.shutdown()
    srv.server_close()
    thread.join(10)


@pytest.fixture
def cdp_pki(crl_server):
    return Pki(server_ext={"crlDistributionPoints": "URI:" + crl_server.url})


def test_crl_from_the_distribution_point_refuses_a_revoked_server(cdp_pki, crl_server,
                                                                 tmp_path):
    cadir = CADir(tmp_path, cdp_pki)
    cadir.revoke_server()
    crl_server.body = cadir.crl().to_der()
    store = TrustStore([cdp_pki.root], revocation=RevocationCheck(use_cdp=True, timeout=5))
    with pytest.raises(CMPError, match="certificate revoked"):
        cdp_pki.enroll(store)
    assert crl_server.hits >= 1


def test_crl_from_the_distribution_point_is_cached(cdp_pki, crl_server, tmp_path):
    crl_server.body = CADir(tmp_path, cdp_pki).crl().to_der()
    check = RevocationCheck(use_cdp=True, timeout=5)
    cdp_pki.enroll(TrustStore([cdp_pki.root], revocation=check))
    hits = crl_server.hits
    assert hits >= 1
    cdp_pki.enroll(TrustStore([cdp_pki.root], revocation=check))
    assert crl_server.hits == hits  # until its nextUpdate (a day away)
    check.clear_cache()
    cdp_pki.enroll(TrustStore([cdp_pki.root], revocation=check))
    assert crl_server.hits > hits


def test_pem_crl_from_the_distribution_point_is_used(cdp_pki, crl_server, tmp_path):
    cadir = CADir(tmp_path, cdp_pki)
    cadir.revoke_server()
    crl_server.body = cadir.crl().to_pem()
    with pytest.raises(CMPError, match="certificate revoked"):
        cdp_pki.enroll(TrustStore([cdp_pki.root],
                                  revocation=RevocationCheck(use_cdp=True, timeout=5)))


def test_distribution_point_that_never_answers_times_out(cdp_pki, crl_server):
    crl_server.hang = threading.Event()
    check = RevocationCheck(use_cdp=True, timeout=0.5)
    with pytest.raises(CMPError, match="unable to get certificate CRL.*timed out"):
        cdp_pki.enroll(TrustStore([cdp_pki.root], revocation=check))
    assert "timed out" in check.last_error


def test_oversized_crl_is_refused(cdp_pki, crl_server, tmp_path):
    crl_server.body = CADir(tmp_path, cdp_pki).crl().to_der()
    check = RevocationCheck(use_cdp=True, timeout=5, max_size=len(crl_server.body) - 1)
    with pytest.raises(CMPError, match="exceeds max_size"):
        cdp_pki.enroll(TrustStore([cdp_pki.root], revocation=check))


def test_garbage_from_the_distribution_point_is_no_crl(cdp_pki, crl_server):
    crl_server.body = b"not a CRL"
    check = RevocationCheck(use_cdp=True, timeout=5)
    with pytest.raises(CMPError, match="unable to get certificate CRL"):
        cdp_pki.enroll(TrustStore([cdp_pki.root], revocation=check))
    assert "not a DER or PEM CRL" in check.last_error


def test_fail_open_accepts_an_unreachable_distribution_point(cdp_pki, crl_server):
    crl_server.hang = threading.Event()
    check = RevocationCheck(use_cdp=True, timeout=0.5, fail_open=True)
    cdp_pki.enroll(TrustStore([cdp_pki.root], revocation=check))


def test_fail_open_still_refuses_a_revoked_server(cdp_pki, crl_server, tmp_path):
    cadir = CADir(tmp_path, cdp_pki)
    cadir.revoke_server()
    crl_server.body = cadir.crl().to_der()
    check = RevocationCheck(use_cdp=True, timeout=5, fail_open=True)
    with pytest.raises(CMPError, match="certificate revoked"):
        cdp_pki.enroll(TrustStore([cdp_pki.root], revocation=check))


# -- OCSP ----------------------------------------------------------------------------------

class Responder:
    """``openssl ocsp -port 0`` on the CA directory (answers from index.txt)."""

    def __init__(self, cadir: CADir) -> None:
        self.proc = subprocess.Popen(
            ["openssl", "ocsp", "-port", "0", "-index", "index.txt", "-CA", "ca.pem",
             "-rsigner", "ca.pem", "-rkey", "ca.key", "-nmin", "5"],
            cwd=cadir.dir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        timer = threading.Timer(20, self.proc.kill)  # bounded start-up
        timer.start()
        try:
            for line in self.proc.stdout:
                m = re.match(r"^ACCEPT .*:(\d+) PID=\d+$", line.strip())
                if m:
                    self.url = "http://127.0.0.1:%s/" % m.group(1)
                    break
            else:
                raise RuntimeError("openssl ocsp did not start")
        finally:
            timer.cancel()
        # keep the pipe drained so the responder never blocks on its output
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def ocsp_setup(pki, tmp_path):
    cadir = CADir(tmp_path, pki)
    yield pki, cadir
    for responder in getattr(cadir, "responders", []):
        responder.stop()


def start(cadir: CADir) -> Responder:
    responder = Responder(cadir)
    cadir.responders = getattr(cadir, "responders", []) + [responder]
    return responder


def test_ocsp_good_server_certificate_is_accepted(ocsp_setup):
    pki, cadir = ocsp_setup
    cadir.server_valid()
    check = RevocationCheck(ocsp_url=start(cadir).url, timeout=10)
    pki.enroll(TrustStore([pki.root], revocation=check))
    assert check.last_error is None


def test_ocsp_revoked_server_certificate_is_refused(ocsp_setup):
    """RFC 6960 §2.2: status "revoked"."""
    pki, cadir = ocsp_setup
    cadir.revoke_server()
    check = RevocationCheck(ocsp_url=start(cadir).url, timeout=10)
    with pytest.raises(CMPError, match="certificate revoked"):
        pki.enroll(TrustStore([pki.root], revocation=check))


def test_ocsp_unknown_server_certificate_is_refused(ocsp_setup):
    """RFC 6960 §2.2: status "unknown" is no proof of validity (fail closed)."""
    pki, cadir = ocsp_setup  # index.txt does not list the server certificate
    check = RevocationCheck(ocsp_url=start(cadir).url, timeout=10)
    with pytest.raises(CMPError, match="OCSP unknown cert.*does not know the certificate"):
        pki.enroll(TrustStore([pki.root], revocation=check))
    assert "does not know" in check.last_error
    open_check = RevocationCheck(ocsp_url=check.ocsp_url, timeout=10, fail_open=True)
    pki.enroll(TrustStore([pki.root], revocation=open_check))


def test_ocsp_responder_from_the_certificate(ocsp_setup):
    """Without ocsp_url the certificate's authorityInfoAccess OCSP URI (RFC 5280 §4.2.2.1)
    is asked.  The responder starts first (the certificate names its port) and re-reads
    index.txt when it changes."""
    pki, cadir = ocsp_setup
    responder = start(cadir)
    pki.server = Certificate.create(
        "/CN=CMP server", pki.server_key, pki.root_key, issuer=pki.root, ca=True, days=30,
        extensions=Extensions({"authorityInfoAccess": "OCSP;URI:" + responder.url}))
    pki.client = Certificate.create("/CN=client", pki.client_key, pki.server_key,
                                    issuer=pki.server)
    (cadir.dir / "srv.pem").write_bytes(pki.server.to_pem())
    cadir.revoke_server()
    check = RevocationCheck(ocsp=True, timeout=10)
    with pytest.raises(CMPError, match="certificate revoked"):
        pki.enroll(TrustStore([pki.root], revocation=check))


def test_ocsp_responder_that_is_not_there_fails_closed(pki):
    check = RevocationCheck(ocsp_url="http://127.0.0.1:9/", timeout=2)
    with pytest.raises(CMPError, match="OCSP"):
        pki.enroll(TrustStore([pki.root], revocation=check))
    assert "request failed" in check.last_error


def test_certificate_without_an_ocsp_responder_fails_closed(pki):
    check = RevocationCheck(ocsp=True, timeout=2)
    with pytest.raises(CMPError, match="OCSP"):
        pki.enroll(TrustStore([pki.root], revocation=check))
    assert "names no OCSP responder" in check.last_error
