"""Regression tests for defects found in review: each crashed, leaked or corrupted state
before its fix (the reproducers were run against the old code)."""

import threading

import pytest

from openssl_cmp import (Certificate, CMPError, Context, Extensions, LogLevel, Message, Option,
                         PKIStatus, PrivateKey, StatusInfo, TrustStore, _der)
from openssl_cmp.binding import lib
from openssl_cmp.server import CertResponse, Server
from openssl_cmp.testing import MockCA

CA_KEY = PrivateKey.generate()
CA = Certificate.create("/CN=Review CA", CA_KEY, CA_KEY, ca=True)


def client(server, name, **options):
    c = Context()
    c.log_verbosity = LogLevel.EMERG
    c.reference_value, c.secret_value = b"cli", b"secret"
    c.subject_name = "/CN=" + name
    c.set_new_pkey(PrivateKey.generate())
    for option, value in options.items():
        c.set_option(Option[option], value)
    c.transfer_callback = lambda ctx, req: server.process(req)
    return c


def issue(crm):
    return CertResponse.accepted(Certificate.create(crm.subject, crm.public_key, CA_KEY,
                                                    issuer=CA))


def _rr_without(field_tag: int):
    """A genuine, PBM-protected RR whose RevDetails template lacks one field."""
    mock = MockCA()
    ctx = mock.client(subject_name="/CN=x", new_pkey=PrivateKey.generate())
    ctx.log_verbosity = LogLevel.EMERG
    cert = ctx.exec_ir()
    ctx.reinit()
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


@pytest.mark.parametrize("tag", [0x81, 0xA3], ids=["no-serial", "no-issuer"])
def test_rr_without_serial_or_issuer_is_refused_not_a_crash(tag):
    mock, request = _rr_without(tag)
    revoked = set(mock.revoked)  # the genuine RR used to capture the request
    response = mock.process(request)  # was: NULL dereference in the server (exit 139)
    assert response.body_type.name == "RP"
    assert mock.revoked == revoked and len(revoked) == 1


def test_busy_worker_is_never_evicted_or_shared():
    inside, release = threading.Event(), threading.Event()

    class Slow(Server):
        max_open_transactions = 1

        def handle_cert_request(self, request, rid, crm, csr):
            if threading.current_thread().name == "A":
                inside.set()
                release.wait(30)
            return issue(crm)

    server = Slow()
    server.ctx.reference_value, server.ctx.secret_value = b"srv", b"secret"
    server.grant_implicit_confirm = True
    result = {}

    def run(name):
        try:
            result[name] = client(server, name, IMPLICIT_CONFIRM=1).exec_ir()
        except CMPError as exc:
            result[name] = exc

    a = threading.Thread(target=run, args=("A",), name="A")
    a.start()
    assert inside.wait(30)
    b = threading.Thread(target=run, args=("B",), name="B")
    b.start()
    b.join(30)  # B must not wait for (or take over) A's worker
    assert isinstance(result["B"], Certificate)
    release.set()
    a.join(30)
    assert isinstance(result["A"], Certificate), result["A"]
    assert len(server._idle) == len(set(map(id, server._idle)))  # no worker listed twice


def test_evicted_polling_worker_keeps_its_handle_while_busy():
    in_poll, release = threading.Event(), threading.Event()
    saved = {}

    class Poll(Server):
        max_open_transactions = 1

        def handle_cert_request(self, request, rid, crm, csr):
            tid = request.transaction_id
            if tid not in saved:
                saved[tid] = request.copy()
                return CertResponse.waiting()
            return issue(crm)

        def handle_poll_req(self, request, rid):
            if threading.current_thread().name == "A":
                in_poll.set()
                release.wait(30)
            return saved[request.transaction_id], 0

        def handle_cert_conf(self, *args):
            return True

    server = Poll()
    server.ctx.reference_value, server.ctx.secret_value = b"srv", b"secret"
    result = {}
    a = threading.Thread(target=lambda: result.setdefault("A", client(server, "a").exec_ir()),
                         name="A")
    a.start()
    assert in_poll.wait(30)
    result["B"] = client(server, "b").exec_ir()  # a new transaction while A polls
    release.set()
    a.join(30)  # was: Fatal Python error: ffi.from_handle() on a dead handle
    assert isinstance(result.get("A"), Certificate) and isinstance(result["B"], Certificate)


def test_config_change_waits_for_an_attached_transaction():
    inside, release, done = threading.Event(), threading.Event(), threading.Event()

    class Blocking(MockCA):
        def handle_cert_request(self, *args):
            inside.set()
            release.wait(30)
            return super().handle_cert_request(*args)

    mock = Blocking()
    ctx = mock.client(subject_name="/CN=a", new_pkey=PrivateKey.generate())
    ctx.log_verbosity = LogLevel.EMERG
    result = {}
    t = threading.Thread(target=lambda: result.setdefault("cert", ctx.exec_ir()))
    t.start()
    assert inside.wait(30)
    setter = threading.Thread(target=lambda: (setattr(mock.ctx, "secret_value", b"new"),
                                              done.set()))
    setter.start()
    assert not done.wait(0.3)  # waits: the server core holds the secret right now
    release.set()
    t.join(30)
    setter.join(30)
    assert done.is_set() and isinstance(result["cert"], Certificate)
    ctx.close()


@pytest.mark.parametrize("where", ["transfer", "cert_conf"])
def test_close_from_inside_own_callback_is_refused(where):
    mock = MockCA()
    ctx = mock.client(subject_name="/CN=a", new_pkey=PrivateKey.generate())
    ctx.log_verbosity = LogLevel.EMERG
    if where == "transfer":
        def transfer(c, request):
            c.close()
        ctx.transfer_callback = transfer
    else:
        def conf(c, cert, fail_info):
            c.close()
        ctx.cert_conf_callback = conf
    with pytest.raises(RuntimeError, match="inside one of its own callbacks"):
        ctx.exec_ir()
    assert not ctx.closed
    ctx.close()


def test_getters_race_with_setters():
    ctx = Context()
    stop = threading.Event()
    errors = []

    def writer():
        while not stop.is_set():
            ctx.untrusted = [CA]
            ctx.trusted = TrustStore([CA])

    def reader():
        try:
            for _ in range(3000):
                ctx.untrusted
                ctx.trusted
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    w = threading.Thread(target=writer)
    w.start()
    reader()  # was: segfault in list_from_stack on the freed stack
    stop.set()
    w.join(30)
    assert not errors
    ctx.close()


def test_server_worker_drops_retired_certs_each_transaction():
    mock = MockCA(protect_with_cert=True)
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
            ctx.extra_certs_out = [Certificate.create("/CN=extra", key, CA_KEY, issuer=CA)]
            ctx.exec_cr()
    assert all(len(w.ctx._retired) <= 2 for w in mock._all)


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


def test_extension_text_of_malformed_value_leaves_queue_empty():
    bad = _der.sequence(_der.sequence(_der.encode_oid("2.5.29.17"),  # subjectAltName
                                      _der.encode(0x04, b"\x30\x03\xff\xff\xff")))
    exts = Extensions.from_der(bad)
    assert isinstance(exts.text(0), str)
    assert lib.ERR_peek_error() == 0


def test_build_cert_chain_logs_reach_this_context():
    seen = []
    ctx = Context()
    ctx.log_verbosity = LogLevel.DEBUG
    ctx.log_callback = lambda *args: seen.append(args[-1])
    ctx.cert, ctx.pkey = CA, CA_KEY
    ctx.build_cert_chain(TrustStore([CA]))
    assert any("chain" in line for line in seen)
    ctx.close()


def test_close_reraises_log_callback_failure():
    ctx = Context()
    seen = []

    def failing(*args):
        seen.append(args[-1])
        raise KeyError("from log")

    ctx.log_callback = failing
    ctx._state.store(KeyError("stored during free"))  # what the trampoline does
    with pytest.raises(KeyError):
        ctx.close()
    assert ctx.closed


@pytest.mark.parametrize("call,exc", [
    (lambda: Server(propq=5), TypeError),
    (lambda: TrustStore(flags=2 ** 64), ValueError),
    (lambda: PrivateKey.generate("RSA", bits=2 ** 40), ValueError),
    (lambda: MockCA(check_after="1"), TypeError),
    (lambda: Certificate.create("/CN=x", CA_KEY, CA_KEY, days="1"), TypeError),
    (lambda: StatusInfo(PKIStatus.ACCEPTED, 1 << 40), ValueError),
])
def test_bad_arguments_raise_the_right_type(call, exc):
    with pytest.raises(exc):
        call()
