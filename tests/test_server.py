"""Server: handlers, options, process() routing by transaction, the worker pool, attach
leases and configuration replay."""

import gc
import threading
import weakref

import pytest

from openssl_cmp import (CMPError, Certificate, Context, LogLevel, Message, Option, PKIStatus,
                         PrivateKey, StatusInfo, _der)
from openssl_cmp.binding import lib
from openssl_cmp.server import CertResponse, Server
from openssl_cmp.testing import MockCA

from helpers import sign_with


class Issuer(Server):
    """Issues from a fixed CA; counts calls."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.ca_key = PrivateKey.generate()
        self.ca = Certificate.create("/CN=Issuer CA", self.ca_key, self.ca_key, ca=True)
        self.calls = []
        self.ctx.reference_value = b"srv"
        self.ctx.secret_value = b"secret"
        self.ctx.log_verbosity = LogLevel.CRIT

    def handle_cert_request(self, request, cert_req_id, crm, csr):
        self.calls.append(request.body_type.name)
        cert = Certificate.create(crm.subject, crm.public_key(), self.ca_key, issuer=self.ca)
        return CertResponse.accepted(cert)

    def handle_cert_conf(self, request, cert_req_id, cert_hash, status):
        self.calls.append("CERTCONF")
        return True


def client(secret=b"secret", subject="/CN=c"):
    ctx = Context()
    ctx.reference_value = b"cli"
    if secret is not None:
        ctx.secret_value = secret
    ctx.subject_name = subject
    ctx.set_new_pkey(PrivateKey.generate())
    ctx.log_verbosity = LogLevel.CRIT
    return ctx


def test_handlers_by_keyword_and_validation():
    calls = []
    key = PrivateKey.generate()
    ca = Certificate.create("/CN=k", key, key, ca=True)

    def cert_request(request, cert_req_id, crm, csr):
        calls.append(cert_req_id)
        return CertResponse.accepted(Certificate.create(crm.subject, crm.public_key(), key,
                                                        issuer=ca))

    server = Server(handle_cert_request=cert_request, handle_cert_conf=lambda *a: True)
    server.ctx.reference_value, server.ctx.secret_value = b"s", b"secret"
    with client() as ctx:
        server.attach(ctx)
        assert ctx.exec_ir().issuer == ca.subject
    assert calls == [0]
    with pytest.raises(TypeError, match="unknown handler"):
        Server(handle_everything=lambda: 0)
    with pytest.raises(TypeError, match="callable"):
        Server(handle_rr=42)


def test_missing_handler_answers_unsupported():
    server = Issuer()
    with client() as ctx:
        server.attach(ctx)
        with pytest.raises(CMPError) as info:
            ctx.exec_genm()  # Issuer has no handle_genm
        assert info.value.server_rejected
        # 3.0: "unexpected pkibody", 3.3+: "unsupported pkibody"
        assert "pkibody" in info.value.status_strings[0]


def test_cert_response_validation():
    with pytest.raises(ValueError, match="needs a certificate"):
        CertResponse(StatusInfo(PKIStatus.ACCEPTED))
    with pytest.raises(TypeError):
        CertResponse("accepted")
    with pytest.raises(TypeError):
        CertResponse(StatusInfo(0), cert=b"der")
    assert CertResponse.waiting().status.status == PKIStatus.WAITING
    assert CertResponse.rejected(4, "x").status.texts == ["x"]


def test_accept_unprotected_option():
    server = Issuer()
    assert server.accept_unprotected is False
    with client(secret=None) as ctx:
        ctx.set_option(Option.UNPROTECTED_SEND, 1)
        ctx.set_option(Option.UNPROTECTED_ERRORS, 1)
        server.attach(ctx)
        with pytest.raises(CMPError):
            ctx.exec_ir()
    server.accept_unprotected = True  # applies to existing and future workers
    server.send_unprotected_errors = True
    assert server.accept_unprotected and server.send_unprotected_errors
    with client(secret=None) as ctx:
        ctx.set_option(Option.UNPROTECTED_SEND, 1)
        ctx.set_option(Option.UNPROTECTED_ERRORS, 1)
        server.attach(ctx)
        with pytest.raises(CMPError):  # the IP is PBM-protected but we have no secret...
            ctx.exec_ir()
    assert "IR" in server.calls  # ...yet the unprotected request was accepted
    with pytest.raises(TypeError):
        server.grant_implicit_confirm = "yes"


def test_config_changes_reach_existing_workers():
    server = Issuer()
    with client() as ctx:
        server.attach(ctx)
        ctx.exec_ir()
    assert server.pool_size == 1
    server.ctx.secret_value = b"new secret"
    with client(secret=b"secret") as ctx:
        server.attach(ctx)
        with pytest.raises(CMPError):
            ctx.exec_ir()
    with client(secret=b"new secret") as ctx:
        server.attach(ctx)
        assert ctx.exec_ir()
    assert server.pool_size == 1  # the same worker, reconfigured


def via_process(server, ctx, pause_before=None, gate=None):
    """Route ctx through server.process, optionally blocking before a body type."""
    def transfer(c, request):
        if pause_before is not None and request.body_type.name == pause_before:
            gate.wait(30)
        return server.process(request)

    ctx.transfer_callback = transfer


def test_process_routes_interleaved_transactions_to_their_workers():
    server = Issuer()
    gate, a_done = threading.Event(), threading.Event()
    a, b = client(subject="/CN=a"), client(subject="/CN=b")
    via_process(server, a, pause_before="CERTCONF", gate=gate)
    via_process(server, b)
    result = {}

    def run_a():
        result["a"] = a.exec_ir()
        a_done.set()

    t = threading.Thread(target=run_a)
    t.start()
    try:
        while "IR" not in server.calls:  # A's IR was answered; A now waits before certConf
            threading.Event().wait(0.01)
        assert server.open_transactions == 1
        result["b"] = b.exec_ir()  # a whole transaction while A's is open
    finally:
        gate.set()
        t.join(30)
    assert a_done.is_set()
    assert str(result["a"].subject) == "CN=a" and str(result["b"].subject) == "CN=b"
    assert server.calls.count("CERTCONF") == 2
    assert server.open_transactions == 0
    assert server.pool_size == 2
    a.close()
    b.close()


def test_abandoned_transactions_are_bounded():
    server = Issuer()
    server.max_open_transactions = 3
    for i in range(6):  # clients that never send their certConf
        with client(subject="/CN=gone%d" % i) as ctx:
            ctx.transfer_callback = lambda c, r: _ir_only(server, r)
            with pytest.raises(_Abandon):
                ctx.exec_ir()
    assert server.open_transactions <= 3
    assert server.pool_size <= 4


class _Abandon(Exception):
    pass


def _ir_only(server, request):
    if request.body_type.name != "IR":
        raise _Abandon()
    return server.process(request)


def test_transaction_timeout_frees_workers():
    server = Issuer()
    server.transaction_timeout = 0.0
    for i in range(5):
        with client(subject="/CN=t%d" % i) as ctx:
            ctx.transfer_callback = lambda c, r: _ir_only(server, r)
            with pytest.raises(_Abandon):
                ctx.exec_ir()
    assert server.open_transactions <= 1 and server.pool_size <= 2


def test_attach_lease_returns_worker():
    server = Issuer()
    for _ in range(20):
        with client() as ctx:
            server.attach(ctx)
            ctx.exec_ir()
    assert server.pool_size == 1
    ctx = client()
    server.attach(ctx)
    server.attach(ctx)  # re-attach: the first lease goes back
    del ctx
    gc.collect()
    assert server.pool_size <= 2


def test_abandoned_polling_worker_is_discarded():
    mock = MockCA(poll_count=5, check_after=9)
    mock.transaction_timeout = 0.0
    mock.ctx.log_verbosity = LogLevel.CRIT
    with mock.client(subject_name="/CN=p", new_pkey=PrivateKey.generate()) as ctx:
        ctx.transfer_callback = lambda c, r: mock.process(r)
        assert ctx.try_certreq(0)[0] is None  # waiting; then the client walks away
    # the next transaction must not land on the SRV_CTX that insists on a pollReq
    mock.poll_count = 0
    with mock.client(subject_name="/CN=q", new_pkey=PrivateKey.generate()) as ctx:
        ctx.transfer_callback = lambda c, r: mock.process(r)
        assert ctx.exec_ir().is_issued_by(mock.ca_cert)


def test_process_type_checks():
    server = Issuer()
    with pytest.raises(TypeError):
        server.process(b"\x30\x00")
    with pytest.raises(TypeError):
        server.attach("client")


def test_server_freed_after_clients_close():
    server = Issuer()
    ref = weakref.ref(server)
    ctx = client()
    server.attach(ctx)
    ctx.exec_ir()
    del server
    gc.collect()
    assert ref() is not None  # the attached client keeps it alive
    ctx.close()
    del ctx
    gc.collect()
    assert ref() is None


def test_many_threads_through_process():
    server = Issuer()
    errors, done = [], []

    def worker(i):
        try:
            for j in range(5):
                with client(subject="/CN=t%d-%d" % (i, j)) as ctx:
                    via_process(server, ctx)
                    ctx.exec_ir()
                    done.append(1)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors and len(done) == 30
    assert server.open_transactions == 0
    assert server.pool_size <= 6 + 1


def test_handler_inputs_kept_become_copies():
    kept = {}

    class Keeper(Issuer):
        def handle_cert_request(self, request, cert_req_id, crm, csr):
            kept["view"] = request
            kept["copy"] = request.copy()
            kept["crm"] = crm
            return super().handle_cert_request(request, cert_req_id, crm, csr)

    server = Keeper()
    with client() as ctx:
        server.attach(ctx)
        ctx.exec_ir()
    gc.collect()
    assert kept["view"].to_der() == kept["copy"].to_der()  # kept: turned into a copy
    assert str(kept["crm"].subject) == "CN=c"
    assert isinstance(kept["copy"], Message) and kept["copy"].body_type.name == "IR"


def _rr_without(field_tag: int):
    """A genuine RR, signed by the certificate it revokes (RFC 9483 §4.2), whose RevDetails
    template lacks one field."""
    mock = MockCA(protect_with_cert=True)
    key = PrivateKey.generate()
    ctx = mock.client(subject_name="/CN=x", new_pkey=key)
    ctx.log_verbosity = LogLevel.EMERG
    cert = ctx.exec_ir()
    ctx.reinit()
    sign_with(ctx, cert, key)
    ctx.old_cert = cert
    captured = []
    ctx.transfer_callback = lambda c, req: (captured.append(req.to_der()), mock.process(req))[1]
    ctx.exec_rr()
    msg = _der.single(captured[0])
    header, body = _der.children(msg.value)[:2]
    details = _der.children(_der.single(body.value).value)[0]
    template, *rest = _der.children(details.value)
    fields = [f.raw for f in _der.children(template.value) if f.tag != field_tag]
    new_details = _der.sequence(_der.sequence(*fields), *(r.raw for r in rest))
    request = Message.from_der(_der.sequence(header.raw,
                                             _der.encode(body.tag, _der.sequence(new_details))))
    assert lib.OSSL_CMP_MSG_update_transactionID(ctx.ptr, request.ptr) == 1  # re-protect
    return mock, request


# Guards against a server crash on an RR whose template lacks the serial or the issuer.
@pytest.mark.parametrize("tag", [0x81, 0xA3], ids=["no-serial", "no-issuer"])
def test_rr_without_serial_or_issuer_is_refused_not_a_crash(tag):
    mock, request = _rr_without(tag)
    revoked = set(mock.revoked)  # the genuine RR used to capture the request
    response = mock.process(request)  # was: NULL dereference in the server (exit 139)
    assert response.body_type.name == "RP"
    assert mock.revoked == revoked and len(revoked) == 1


# Guards against a worker's retired certificates growing with every transaction it serves.
def test_server_worker_drops_retired_certs_each_transaction():
    ca_key = PrivateKey.generate()
    ca = Certificate.create("/CN=Extra CA", ca_key, ca_key, ca=True)
    mock = MockCA(protect_with_cert=True, allow_key_reuse=True)  # one key, 13 enrollments
    key = PrivateKey.generate()
    first = mock.client(subject_name="/CN=s", new_pkey=key)
    first.log_verbosity = LogLevel.EMERG
    cert = first.exec_ir()
    first.close()
    for _ in range(12):
        with mock.client(new_pkey=key, subject_name="/CN=s", cert=cert, pkey=key) as ctx:
            ctx.secret_value = None
            ctx.reference_value = None
            ctx.log_verbosity = LogLevel.EMERG
            ctx.extra_certs_out = [Certificate.create("/CN=extra", key, ca_key, issuer=ca)]
            ctx.exec_cr()
    assert all(len(w.ctx._retired) <= 2 for w in mock._all)


# Guards against a non-str ``propq`` reaching C instead of raising TypeError.
def test_server_propq_wrong_type():
    with pytest.raises(TypeError):
        Server(propq=5)
