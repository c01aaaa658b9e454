"""``Server.serve_http`` / ``MockCA.serve_http``: CMP over HTTP, driven by the real
``openssl cmp`` command and by our own ``Context``.

What is checked is results (return codes, files written, certificates, the MockCA's
state), never log wording, so the module holds on OpenSSL 3.0 and 3.5 alike.
"""

import os
import signal
import socket
import subprocess
import sys
import threading
from http.client import HTTPConnection

import pytest

from openssl_cmp import (CMPError, Certificate, Context, FailInfo, ITAV, Name, Option,
                         PKIStatus, PrivateKey, ReqType, TrustStore)
from openssl_cmp.testing import MockCA

from helpers import OPENSSL

TIMEOUT = 60  # seconds, for every subprocess and every client transaction
SIGN_KEY_PAIR_TYPES = "1.3.6.1.5.5.7.4.2"  # id-it-signKeyPairTypes


# --- helpers -----------------------------------------------------------------------------

class RecordingCA(MockCA):
    """A MockCA that also records what reached two of its handlers."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.genm_types = []  # ITAV types of every GENM received
        self.polls = 0  # pollReqs received

    def handle_genm(self, request, itavs):
        with self._lock:
            self.genm_types.append([itav.type for itav in itavs])
        return super().handle_genm(request, itavs)

    def handle_poll_req(self, request, cert_req_id):
        with self._lock:
            self.polls += 1
        return super().handle_poll_req(request, cert_req_id)


def new_key(path=None) -> PrivateKey:
    key = PrivateKey.generate("EC")
    if path is not None:
        path.write_bytes(key.to_pem())
    return key


def cli(http, *args, cwd):
    """``openssl cmp`` against ``http`` (the CLI takes host:port and path apart)."""
    return subprocess.run([OPENSSL, "cmp", "-config", "", "-server", http.address,
                           "-path", "pkix/", *args], cwd=str(cwd), capture_output=True,
                          text=True, timeout=TIMEOUT)


def pbm_args(mock):
    return ["-ref", "cli-client", "-secret", "pass:" + mock.secret.decode()]


def ok(proc) -> bool:
    """For asserts: rc 0, with the CLI's output in the failure message."""
    assert proc.returncode == 0, "rc=%d\n%s\n%s" % (proc.returncode, proc.stdout, proc.stderr)
    return True


def client(mock, http, *, pbm=False, cert=None, key=None, new_pkey=None, **attributes):
    """A Context over HTTP to ``http``: PBM with the mock's secret, or signatures with
    ``cert``/``key``; it trusts the mock's CA for signed responses."""
    ctx = Context()
    try:
        ctx.set_url(http.url)
        ctx.set_option(Option.TOTAL_TIMEOUT, TIMEOUT)
        ctx.set_option(Option.MSG_TIMEOUT, TIMEOUT)
        ctx.trusted = TrustStore([mock.ca_cert])
        if pbm:
            ctx.reference_value = b"ctx-client"
            ctx.secret_value = mock.secret
        if cert is not None:
            ctx.cert = cert
            ctx.pkey = key
        if new_pkey is not None:
            ctx.set_new_pkey(new_pkey)
        for name, value in attributes.items():
            setattr(ctx, name, value)
    except BaseException:
        ctx.close()
        raise
    return ctx


def enroll_pbm(mock, http, subject, key=None, **attributes) -> Certificate:
    key = key or new_key()
    with client(mock, http, pbm=True, new_pkey=key, subject_name=subject,
                **attributes) as ctx:
        cert = ctx.exec_ir()
    assert cert.public_key() == key.public_key()
    return cert


def issued_by_mock(mock, cert, subject) -> bool:
    assert cert.is_issued_by(mock.ca_cert), cert
    assert cert.subject == Name.parse(subject), (cert.subject, subject)
    assert cert in mock.issued
    return True


def port_accepts(port) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10):
            return True
    except ConnectionRefusedError:
        return False


# --- 1. the openssl command as client --------------------------------------------------

def test_cli_lifecycle(tmp_path):
    """IR (PBM), CR, KUR, GENM, RR (signatures), then a refused KUR of the revoked
    certificate, all by ``openssl cmp`` over HTTP.

    Every signature-protected request is signed with the IR certificate: a second signer
    on the same server runs into the bug shown by
    ``test_requests_signed_by_different_certificates``."""
    mock = RecordingCA(protect_with_cert=True)
    (tmp_path / "ca.pem").write_bytes(mock.ca_cert.to_pem())
    k1, k2, k3, _ = (new_key(tmp_path / ("k%d.pem" % i)) for i in range(1, 5))
    sig = ["-cert", "c1.pem", "-key", "k1.pem", "-trusted", "ca.pem"]
    with mock.serve_http() as http:
        assert ok(cli(http, "-cmd", "ir", *pbm_args(mock), "-newkey", "k1.pem",
                      "-subject", "/CN=cli-ir", "-certout", "c1.pem",
                      "-cacertsout", "capubs.pem", cwd=tmp_path))
        c1 = Certificate.from_file(tmp_path / "c1.pem")
        assert issued_by_mock(mock, c1, "/CN=cli-ir") and c1.public_key() == k1.public_key()
        assert Certificate.from_file(tmp_path / "capubs.pem") == mock.ca_cert
        assert mock.issued == [c1]

        assert ok(cli(http, "-cmd", "cr", *sig, "-newkey", "k2.pem", "-subject", "/CN=cli-cr",
                      "-certout", "c2.pem", cwd=tmp_path))
        c2 = Certificate.from_file(tmp_path / "c2.pem")
        assert issued_by_mock(mock, c2, "/CN=cli-cr") and c2.public_key() == k2.public_key()

        assert ok(cli(http, "-cmd", "kur", *sig, "-newkey", "k3.pem", "-certout", "c3.pem",
                      cwd=tmp_path))
        c3 = Certificate.from_file(tmp_path / "c3.pem")
        assert issued_by_mock(mock, c3, "/CN=cli-ir")  # KUR keeps the old subject
        assert c3.public_key() == k3.public_key() and c3.serial_number != c1.serial_number
        assert mock.issued == [c1, c2, c3]

        assert ok(cli(http, "-cmd", "genm", *sig, "-infotype", "signKeyPairTypes",
                      cwd=tmp_path))
        assert mock.genm_types == [[SIGN_KEY_PAIR_TYPES]]

        assert mock.revoked == set()
        assert ok(cli(http, "-cmd", "rr", *sig, "-oldcert", "c1.pem", cwd=tmp_path))
        assert mock.revoked == {c1.serial_number} and mock.is_revoked(c1)

        refused = cli(http, "-cmd", "kur", *sig, "-newkey", "k4.pem", "-certout", "c4.pem",
                      cwd=tmp_path)
        assert refused.returncode != 0
        assert not (tmp_path / "c4.pem").exists()
        assert mock.issued == [c1, c2, c3]
        assert http.errors == []


# --- 2. our own Context as client ------------------------------------------------------

def test_context_lifecycle():
    mock = RecordingCA(protect_with_cert=True)
    with mock.serve_http() as http:
        k1 = new_key()
        with client(mock, http, pbm=True, new_pkey=k1, subject_name="/CN=ctx-ir") as ctx:
            c1 = ctx.exec_ir()
            assert ctx.ca_pubs == [mock.ca_cert]
        assert issued_by_mock(mock, c1, "/CN=ctx-ir") and c1.public_key() == k1.public_key()

        # one signature-protected Context, reinit between transactions (see the CLI test
        # for why every request is signed with the same certificate)
        with client(mock, http, cert=c1, key=k1) as ctx:
            k2 = new_key()
            ctx.subject_name = "/CN=ctx-cr"
            ctx.set_new_pkey(k2)
            c2 = ctx.exec_cr()
            assert issued_by_mock(mock, c2, "/CN=ctx-cr") and c2.public_key() == k2.public_key()

            ctx.reinit()
            k3 = new_key()
            ctx.subject_name = None  # KUR: the subject of the old certificate
            ctx.old_cert = c1
            ctx.set_new_pkey(k3)
            c3 = ctx.exec_kur()
            assert issued_by_mock(mock, c3, "/CN=ctx-ir") and c3.public_key() == k3.public_key()
            assert mock.issued == [c1, c2, c3]

            ctx.reinit()
            ctx.push_genm_itav(ITAV(SIGN_KEY_PAIR_TYPES))
            assert [itav.type for itav in ctx.exec_genm()] == [SIGN_KEY_PAIR_TYPES]
            assert mock.genm_types == [[SIGN_KEY_PAIR_TYPES]]

            ctx.reinit()
            ctx.old_cert = c1
            ctx.exec_rr()
            assert mock.revoked == {c1.serial_number}

            ctx.reinit()
            ctx.old_cert = c1
            ctx.set_new_pkey(new_key())
            with pytest.raises(CMPError) as info:
                ctx.exec_kur()
            assert info.value.status == PKIStatus.REJECTION
            assert info.value.fail_info is not None
            # signed with the revoked c1: its signature cannot be trusted (RFC 9483 §3.5)
            assert info.value.fail_info & FailInfo.SIGNER_NOT_TRUSTED
            assert mock.issued == [c1, c2, c3]
        assert http.errors == []


# --- 3. fault injection seen over HTTP --------------------------------------------------

def test_polling(tmp_path):
    mock = RecordingCA(poll_count=2, check_after=0)
    new_key(tmp_path / "k.pem")
    with mock.serve_http() as http:
        assert ok(cli(http, "-cmd", "ir", *pbm_args(mock), "-newkey", "k.pem",
                      "-subject", "/CN=cli-poll", "-certout", "c.pem", cwd=tmp_path))
        assert issued_by_mock(mock, Certificate.from_file(tmp_path / "c.pem"), "/CN=cli-poll")
        assert mock.polls == 2

        cert = enroll_pbm(mock, http, "/CN=ctx-poll")
        assert issued_by_mock(mock, cert, "/CN=ctx-poll")
        assert mock.polls == 4
        assert len(mock.issued) == 2 and len(mock.confirmed) == 2
        assert mock.open_transactions == 0 and http.errors == []


def test_rejection(tmp_path):
    mock = MockCA(pkistatus=PKIStatus.REJECTION, fail_info=FailInfo.BAD_REQUEST,
                  status_string="go away")
    new_key(tmp_path / "k.pem")
    with mock.serve_http() as http:
        with client(mock, http, pbm=True, new_pkey=new_key(), subject_name="/CN=no") as ctx:
            with pytest.raises(CMPError) as info:
                ctx.exec_ir()
        exc = info.value
        assert exc.status == PKIStatus.REJECTION and exc.server_rejected
        assert exc.fail_info == FailInfo.BAD_REQUEST
        assert exc.status_strings == ["go away"]

        proc = cli(http, "-cmd", "ir", *pbm_args(mock), "-newkey", "k.pem",
                   "-subject", "/CN=no", "-certout", "c.pem", cwd=tmp_path)
        assert proc.returncode != 0
        assert not (tmp_path / "c.pem").exists()
        assert mock.issued == [] and mock.confirmed == [] and http.errors == []


def test_send_error(tmp_path):
    mock = MockCA(send_error=True)
    new_key(tmp_path / "k.pem")
    with mock.serve_http() as http:
        with client(mock, http, pbm=True, new_pkey=new_key(), subject_name="/CN=no") as ctx:
            with pytest.raises(CMPError) as info:
                ctx.exec_ir()
        assert info.value.server_rejected
        assert "MockCA: send_error is set" in str(info.value)  # the server's errorDetails

        proc = cli(http, "-cmd", "ir", *pbm_args(mock), "-newkey", "k.pem",
                   "-subject", "/CN=no", "-certout", "c.pem", cwd=tmp_path)
        assert proc.returncode != 0
        assert not (tmp_path / "c.pem").exists()
        assert mock.issued == [] and http.errors == []
        assert mock.open_transactions == 0  # an error message closes the transaction


@pytest.mark.parametrize("granted", [True, False])
def test_implicit_confirm(tmp_path, granted):
    """With implicit confirmation granted, no certConf reaches the server; without (client
    does not ask, or server does not grant) every enrollment is confirmed.  The order
    implicit / explicit / implicit shows that the grant does not stick to a worker."""
    mock = MockCA(grant_implicit_confirm=granted, allow_key_reuse=True)  # k.pem 3 times
    new_key(tmp_path / "k.pem")
    with mock.serve_http() as http:
        confirmed = 0
        for n, implicit in enumerate((True, False, True)):
            subject = "/CN=ctx-%d" % n
            key = new_key()
            with client(mock, http, pbm=True, new_pkey=key, subject_name=subject) as ctx:
                if implicit:
                    ctx.set_option(Option.IMPLICIT_CONFIRM, 1)
                assert issued_by_mock(mock, ctx.exec_ir(), subject)
            confirmed += 0 if (implicit and granted) else 1
            assert len(mock.confirmed) == confirmed
            assert mock.open_transactions == 0

            subject = "/CN=cli-%d" % n
            args = ["-implicit_confirm"] if implicit else []
            assert ok(cli(http, "-cmd", "ir", *pbm_args(mock), "-newkey", "k.pem",
                          "-subject", subject, "-certout", "c%d.pem" % n, *args,
                          cwd=tmp_path))
            assert issued_by_mock(mock, Certificate.from_file(tmp_path / ("c%d.pem" % n)),
                                  subject)
            confirmed += 0 if (implicit and granted) else 1
            assert len(mock.confirmed) == confirmed
            assert mock.open_transactions == 0
        assert http.errors == []


# --- 4. concurrency ----------------------------------------------------------------------

def test_many_clients_at_once():
    threads, per_thread = 8, 10
    mock = MockCA(allow_key_reuse=True)  # one key per thread, enrolled per_thread times
    start = threading.Barrier(threads)
    results, failures = {}, []

    def run(i):
        key = new_key()
        try:
            start.wait(TIMEOUT)
            for j in range(per_thread):
                subject = "/CN=t%d-%d" % (i, j)
                results[subject] = enroll_pbm(mock, http, subject, key)
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append((i, exc))

    with mock.serve_http() as http:
        workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
        for t in workers:
            t.start()
        for t in workers:
            t.join(TIMEOUT * 2)
        assert not any(t.is_alive() for t in workers)
        assert failures == []
        assert sorted(results) == sorted("/CN=t%d-%d" % (i, j) for i in range(threads)
                                         for j in range(per_thread))
        for subject, cert in results.items():
            assert issued_by_mock(mock, cert, subject)
        assert len(mock.issued) == threads * per_thread
        assert len({c.serial_number for c in mock.issued}) == threads * per_thread
        assert http.errors == []
        assert http.requests == 2 * threads * per_thread  # IR + certConf each
        assert mock.open_transactions == 0
        assert 1 <= mock.pool_size <= threads + 2


def test_interleaved_transactions():
    """Client A stops in the middle of its transaction (the server said "waiting");
    client B runs a whole IR meanwhile; then A finishes.  Each open transaction has its
    own SRV_CTX, or A's polling would hit B's state (or the other way round)."""
    mock = RecordingCA(poll_count=2, check_after=0)
    key_a, key_b = new_key(), new_key()
    with mock.serve_http() as http:
        with client(mock, http, pbm=True, new_pkey=key_a, subject_name="/CN=A") as a:
            assert a.try_certreq(ReqType.IR) == (None, 0)
            assert a.status == PKIStatus.WAITING
            assert mock.open_transactions == 1

            polls_by_a = mock.polls  # (OpenSSL may poll once before try_certreq returns)
            cert_b = enroll_pbm(mock, http, "/CN=B", key_b)
            assert issued_by_mock(mock, cert_b, "/CN=B")
            assert mock.polls == polls_by_a + 2  # B's own, as poll_count says
            assert mock.open_transactions == 1  # A's, still waiting

            steps = 0
            cert_a = None
            while cert_a is None:
                steps += 1
                assert steps <= 5, "A never got its certificate"
                cert_a, check_after = a.try_certreq(ReqType.IR)
                assert check_after == 0
        assert mock.polls == 4  # A polled as often as poll_count says, too
        assert issued_by_mock(mock, cert_a, "/CN=A") and cert_a.public_key() == key_a.public_key()
        assert cert_b.public_key() == key_b.public_key()
        assert mock.issued == [cert_b, cert_a]
        assert len(mock.confirmed) == 2
        assert mock.open_transactions == 0 and http.errors == []


# --- 5. the extraCerts cache stays bounded ----------------------------------------------

def test_extra_certs_cache_stays_bounded():
    """300 signature-protected CRs, each carrying a different extra certificate.  On
    OpenSSL 3.0 the server's inner context would add every request's extraCerts to its
    ``untrusted`` list for good; the workers must start each transaction afresh."""
    rounds, bound = 300, 4
    mock = MockCA(protect_with_cert=True, allow_key_reuse=True)  # one key, every CR
    other_key = new_key()
    extras = [Certificate.create("/CN=extra-%d" % n, other_key.public_key(), other_key)
              for n in range(rounds)]
    with mock.serve_http() as http:
        key = new_key()
        signer = enroll_pbm(mock, http, "/CN=signer", key)
        with client(mock, http, cert=signer, key=key, new_pkey=key) as ctx:
            for n, extra in enumerate(extras):
                ctx.reinit()
                ctx.subject_name = "/CN=cr-%d" % n
                ctx.extra_certs_out = [extra]
                assert ctx.exec_cr().is_issued_by(mock.ca_cert)
        workers = list(mock._all)
        sizes = [len(w.ctx.untrusted) for w in workers]
        assert max(sizes) <= bound, sizes
        # the cache is in use (so the bound above means something): the last request's
        # extra certificate is in the worker that served it
        assert any(extras[-1] in w.ctx.untrusted for w in workers)
        assert len(mock.issued) == rounds + 1
        assert mock.open_transactions == 0 and mock.pool_size <= 2 and http.errors == []


# --- 6. HTTP edges, start and stop -------------------------------------------------------

def send(http, method, body=None, content_type=None, conn=None):
    """(status, body) of one HTTP request, on a new connection or on ``conn``."""
    own = conn is None
    conn = conn or HTTPConnection(http.host, http.port, timeout=TIMEOUT)
    try:
        headers = {"Content-Type": content_type} if content_type else {}
        conn.request(method, "/pkix/", body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        if own:
            conn.close()


CMP_TYPE = "application/pkixcmp"


def test_http_protocol_edges():
    mock = MockCA()
    with mock.serve_http() as http:
        assert send(http, "GET")[0] == 405
        assert send(http, "POST", b"\x30\x00", "text/plain")[0] == 415
        assert send(http, "POST", b"not DER at all", CMP_TYPE)[0] == 400
        assert send(http, "POST", b"\x30\x03\x02\x01\x00", CMP_TYPE)[0] == 400  # no PKIMessage
        assert http.requests == 0 and http.errors == []
        # still serving CMP
        assert issued_by_mock(mock, enroll_pbm(mock, http, "/CN=after"), "/CN=after")
        assert http.requests == 2 and http.errors == []


def test_cmp_over_plain_http_client():
    """CMP messages POSTed with http.client (RFC 6712) get CMP responses back."""
    from openssl_cmp import BodyType, Message

    mock = MockCA()
    sent = []

    def transfer(ctx, request):
        sent.append(request.body_type)
        status, body = send(http, "POST", request.to_der(), CMP_TYPE)
        assert status == 200
        return Message.from_der(body)

    with mock.serve_http() as http:
        with client(mock, http, pbm=True, new_pkey=new_key(), subject_name="/CN=hand",
                    transfer_callback=transfer) as ctx:
            cert = ctx.exec_ir()
        assert issued_by_mock(mock, cert, "/CN=hand")
        assert sent == [BodyType.IR, BodyType.CERTCONF]
        assert http.requests == 2 and mock.open_transactions == 0


def test_keep_alive_connection_after_a_refused_post():
    mock = MockCA()
    with mock.serve_http() as http:
        conn = HTTPConnection(http.host, http.port, timeout=TIMEOUT)
        try:
            assert send(http, "POST", b"hello", "text/plain", conn=conn)[0] == 415
            # the same connection (or a new one, if the server asked to close) goes on
            assert send(http, "GET", conn=conn)[0] == 405
        finally:
            conn.close()


def test_start_and_stop():
    mock = MockCA()
    with mock.serve_http() as http:
        port = http.port
        assert http.url == "http://127.0.0.1:%d/pkix/" % port
        assert http.address == "127.0.0.1:%d" % port
        assert port_accepts(port)
        assert issued_by_mock(mock, enroll_pbm(mock, http, "/CN=one"), "/CN=one")
    assert not port_accepts(port)
    http.close()  # closing twice is harmless
    assert not port_accepts(port)


def test_two_servers_at_once():
    first, second = MockCA(), MockCA()
    with first.serve_http() as http1, second.serve_http() as http2:
        assert http1.port != http2.port
        cert2 = enroll_pbm(second, http2, "/CN=two")
        cert1 = enroll_pbm(first, http1, "/CN=one")
        assert issued_by_mock(first, cert1, "/CN=one") and first.issued == [cert1]
        assert issued_by_mock(second, cert2, "/CN=two") and second.issued == [cert2]
        assert not cert1.is_issued_by(second.ca_cert)
        # one MockCA may also serve on two ports
        with first.serve_http() as http3:
            assert http3.port not in (http1.port, http2.port)
            assert issued_by_mock(first, enroll_pbm(first, http3, "/CN=three"), "/CN=three")
    assert not port_accepts(http1.port) and not port_accepts(http2.port)


# --- 7. a handler raising ----------------------------------------------------------------

class Boom(Exception):
    pass


def test_handler_exception_while_serving():
    raised = []

    class FailingOnce(MockCA):
        def handle_genm(self, request, itavs):
            if not raised:
                raised.append(Boom("kaboom 42"))
                raise raised[0]
            return super().handle_genm(request, itavs)

    mock = FailingOnce()
    with mock.serve_http() as http:
        with client(mock, http, pbm=True) as ctx:
            ctx.push_genm_itav(ITAV(SIGN_KEY_PAIR_TYPES))
            with pytest.raises(CMPError) as info:
                ctx.exec_genm()
            assert info.value.server_rejected
            assert "kaboom 42" in str(info.value)  # the server's errorDetails
            assert http.errors == raised and len(raised) == 1
            assert mock.open_transactions == 0

            ctx.reinit()
            ctx.push_genm_itav(ITAV(SIGN_KEY_PAIR_TYPES))
            assert [i.type for i in ctx.exec_genm()] == [SIGN_KEY_PAIR_TYPES]
        assert issued_by_mock(mock, enroll_pbm(mock, http, "/CN=next"), "/CN=next")
        assert http.errors == raised


# --- bugs --------------------------------------------------------------------------------

class ServerCrashed(AssertionError):
    """The child process running the server died from a signal."""


# Two clients with their own certificates take turns signing requests to one server.
_TAKE_TURNS = r"""
from openssl_cmp import Context, Option, PrivateKey, TrustStore
from openssl_cmp.testing import MockCA

mock = MockCA(protect_with_cert=True, allow_key_reuse=True)  # each signer's key, 6 times


def client(http, **attributes):
    ctx = Context()
    ctx.set_url(http.url)
    ctx.set_option(Option.TOTAL_TIMEOUT, 60)
    ctx.trusted = TrustStore([mock.ca_cert])
    for name, value in attributes.items():
        setattr(ctx, name, value)
    return ctx


with mock.serve_http() as http:
    signers = []
    for name in ("a", "b"):
        key = PrivateKey.generate("EC")
        with client(http, reference_value=b"pbm", secret_value=mock.secret,
                    subject_name="/CN=" + name) as ctx:
            ctx.set_new_pkey(key)
            signers.append((ctx.exec_ir(), key))
    for n in range(5):
        for cert, key in signers:
            with client(http, cert=cert, pkey=key, subject_name="/CN=cr-%d" % n) as ctx:
                ctx.set_new_pkey(key)
                assert ctx.exec_cr().is_issued_by(mock.ca_cert)
    assert not http.errors, http.errors
    assert len(mock.issued) == 12, mock.issued
print("TOOK TURNS")
"""


def test_requests_signed_by_different_certificates():
    """Run in a child process: the bug kills the interpreter.  MALLOC_PERTURB_ makes
    glibc scribble over freed memory, so a use after free does not go unnoticed."""
    env = dict(os.environ, MALLOC_PERTURB_="165")
    proc = subprocess.run([sys.executable, "-c", _TAKE_TURNS], capture_output=True,
                          text=True, timeout=TIMEOUT, env=env)
    if proc.returncode < 0:
        raise ServerCrashed("the server process died from %s\n%s"
                            % (signal.Signals(-proc.returncode).name, proc.stderr[-3000:]))
    assert proc.returncode == 0, proc.stderr
    assert "TOOK TURNS" in proc.stdout


def test_rejected_request_frees_its_worker():
    mock = MockCA(pkistatus=PKIStatus.REJECTION, fail_info=FailInfo.BAD_REQUEST)
    with mock.serve_http() as http:
        with client(mock, http, pbm=True, new_pkey=new_key(), subject_name="/CN=no") as ctx:
            with pytest.raises(CMPError):
                ctx.exec_ir()
        assert http.requests == 1  # the client sent nothing after the rejection
        assert mock.open_transactions == 0
