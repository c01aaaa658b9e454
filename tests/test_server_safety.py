"""Server safety: configuration changed while OpenSSL is inside a call on a worker (from a
handler, or while an attached client drives it), re-entrant Server calls from handlers, and
the fair transaction pool (one client cannot evict another client's open transactions)."""

import os
import subprocess
import sys
import textwrap
import threading

import pytest

from openssl_cmp import (CMPError, Certificate, Context, LogLevel, Message, Option,
                         PrivateKey, TrustStore)
from openssl_cmp.server import CertResponse, Connection, Server
from openssl_cmp.testing import MockCA

CA_KEY = PrivateKey.generate()
CA = Certificate.create("/CN=Safety CA", CA_KEY, CA_KEY, ca=True)
KEY = PrivateKey.generate()


class Issuer(Server):
    """Issues from a fixed CA; counts certConfs."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.confirmed = 0
        self.ctx.reference_value, self.ctx.secret_value = b"srv", b"secret"
        self.ctx.log_verbosity = LogLevel.EMERG

    def handle_cert_request(self, request, cert_req_id, crm, csr):
        return CertResponse.accepted(Certificate.create(crm.subject, crm.public_key(), CA_KEY,
                                                        issuer=CA))

    def handle_cert_conf(self, request, cert_req_id, cert_hash, status):
        self.confirmed += 1
        return True


def client(server, subject="/CN=c", reference=b"cli", secret=b"secret", attach=False):
    ctx = Context()
    ctx.log_verbosity = LogLevel.EMERG
    ctx.reference_value, ctx.secret_value = reference, secret
    ctx.subject_name = subject
    ctx.set_new_pkey(KEY)
    if attach:
        server.attach(ctx)
    else:
        ctx.transfer_callback = lambda c, request: server.process(request)
    return ctx



def enrolling_client(server, name, **options):
    """A PBM client with its own new key, subject /CN=``name`` and the given options, that
    reaches ``server`` through the transfer callback."""
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
    return CertResponse.accepted(Certificate.create(crm.subject, crm.public_key(), CA_KEY,
                                                    issuer=CA))

def crafted_ir(subject, reference, secret=b"secret") -> Message:
    """An IR as a PBM client would send it (captured, never sent)."""
    out = []

    def capture(c, request):
        out.append(request.copy())
        raise RuntimeError("captured")

    with Context() as ctx:
        ctx.reference_value, ctx.secret_value = reference, secret
        ctx.subject_name = subject
        ctx.set_new_pkey(KEY)
        ctx.transfer_callback = capture
        with pytest.raises(RuntimeError, match="captured"):
            ctx.exec_ir()
    return out[0]


def nested_enrollments(clients, innermost):
    """Run ``clients[0].exec_ir()``; between its IP and its certConf run the next client's
    enrollment, and so on; ``innermost()`` runs when every transaction is open.  Returns
    True (certificate) or the CMPError of each client, in the order of ``clients``."""
    results = [None] * len(clients)

    def run(i):
        if i == len(clients):
            innermost()
            return
        ctx = clients[i]

        def between_ip_and_certconf(c, cert, fail_info):
            run(i + 1)
            return 0

        ctx.cert_conf_callback = between_ip_and_certconf
        try:
            results[i] = isinstance(ctx.exec_ir(), Certificate)
        except CMPError as exc:
            results[i] = exc

    run(0)
    for ctx in clients:
        ctx.close()
    return results


# -- configuration changed from inside a handler (subprocess: a crash must fail the test) --

ROTATION = textwrap.dedent('''
    import gc, sys
    from openssl_cmp import CMPError, Context, LogLevel, PrivateKey, TrustStore
    from openssl_cmp.testing import MockCA

    mode, rounds = sys.argv[1], int(sys.argv[2])
    key = PrivateKey.generate("EC")
    mock = MockCA(secret=b"secret-0", allow_key_reuse=True)  # one key, every round
    mock.ctx.log_verbosity = LogLevel.EMERG
    issue = mock.handle_cert_request
    rotate_to = []

    def rotating_handler(*args):  # secret rotation from inside the server core's call
        if rotate_to:
            mock.ctx.secret_value = rotate_to.pop()
        return issue(*args)

    mock.handle_cert_request = rotating_handler

    def enroll(secret):
        with Context() as ctx:
            ctx.log_verbosity = LogLevel.EMERG
            ctx.reference_value, ctx.secret_value = b"client", secret
            ctx.trusted = TrustStore([mock.ca_cert])
            ctx.subject_name = "/CN=rotation"
            ctx.set_new_pkey(key)
            if mode == "attach":
                mock.attach(ctx)
            else:
                ctx.transfer_callback = lambda c, request: mock.process(request)
            try:
                return ctx.exec_ir() is not None
            except CMPError:
                return False

    for i in range(rounds):
        old, new = b"secret-%d" % i, b"secret-%d" % (i + 1)
        issued = len(mock.issued)
        rotate_to.append(new)
        during = enroll(old)
        assert not rotate_to and len(mock.issued) == issued + 1, "the IR was answered"
        if mode == "attach":
            # the whole transaction runs inside the client's one C call: the worker gets
            # the new secret when exec_ir returns
            assert during, "round %d: the attached transaction must finish with the old secret" % i
        else:
            # the IP went out with the old secret; the worker has the new one from the next
            # request on, so the certConf (old secret) is refused with an error message
            assert not during, "round %d: the certConf must be checked with the new secret" % i
        assert not enroll(old), "round %d: the old secret must be refused" % i
        assert enroll(new), "round %d: the new secret must work" % i
        if i % 50 == 49:
            gc.collect()
    del mock, issue, rotating_handler
    gc.collect()  # frees the workers: a freed secret would be cleansed and freed again here
    print("OK", rounds)
''')


@pytest.mark.parametrize("mode", ["process", "attach"])
def test_secret_rotation_inside_a_handler(mode):
    env = {"PYTHONMALLOC": "malloc", "PYTHONFAULTHANDLER": "1",
           # freed memory is overwritten: a use-after-free reads garbage, not the old secret
           "GLIBC_TUNABLES": "glibc.malloc.perturb=165"}
    env = dict(os.environ, **env)
    proc = subprocess.run([sys.executable, "-c", ROTATION, mode, "200"], env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0 and proc.stdout.strip() == "OK 200", \
        "exit %d\n%s\n%s" % (proc.returncode, proc.stdout[-2000:], proc.stderr[-4000:])


def test_option_changed_inside_a_handler_applies_from_the_next_call():
    class Granting(Issuer):
        def handle_cert_request(self, *args):
            self.grant_implicit_confirm = True  # on the worker in use: after this call
            return super().handle_cert_request(*args)

    for attach in (False, True):
        server = Granting()
        for i in range(3):
            ctx = client(server, attach=attach)
            ctx.set_option(Option.IMPLICIT_CONFIRM, 1)
            with ctx:
                assert ctx.exec_ir().issuer == CA.subject
        assert server.grant_implicit_confirm
        # not granted to the transaction in progress (OpenSSL reads the flag after the
        # handler returns), granted from the next one on
        assert server.confirmed == 1
        assert server.open_transactions == 0


def test_concurrent_handlers_changing_the_configuration_do_not_deadlock():
    both_inside = threading.Barrier(2, timeout=30)

    class Reconfiguring(Issuer):
        def handle_cert_request(self, *args):
            both_inside.wait()  # two threads, each inside the server core on its worker
            self.ctx.log_verbosity = LogLevel.EMERG  # replayed onto both workers
            self.send_unprotected_errors = False
            return super().handle_cert_request(*args)

    server = Reconfiguring()
    results = []

    def run(name):
        with client(server, subject="/CN=" + name) as ctx:
            results.append(ctx.exec_ir().subject)

    threads = [threading.Thread(target=run, args=(n,), daemon=True) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "deadlock"
    assert len(results) == 2 and server.open_transactions == 0


def test_configuration_change_from_outside_reaches_busy_workers_afterwards():
    inside, release = threading.Event(), threading.Event()

    class Slow(Issuer):
        def handle_cert_request(self, *args):
            inside.set()
            release.wait(30)
            return super().handle_cert_request(*args)

    def enroll():
        try:
            ctx.exec_ir()
        except CMPError:  # the certConf may come after the change: refused
            pass

    server = Slow()
    ctx = client(server, secret=b"secret")
    t = threading.Thread(target=enroll)
    t.start()
    assert inside.wait(30)
    setter = threading.Thread(target=lambda: setattr(server.ctx, "secret_value", b"new"))
    setter.start()
    setter.join(0.2)
    assert setter.is_alive()  # waits for the worker OpenSSL is busy with (as before)
    release.set()
    t.join(30)
    setter.join(30)
    assert not setter.is_alive() and not t.is_alive()
    ctx.close()
    with client(server, secret=b"secret") as old:
        with pytest.raises(CMPError):
            old.exec_ir()
    with client(server, secret=b"new") as new:
        assert new.exec_ir().issuer == CA.subject


# -- Server methods called from inside a handler -----------------------------------------

def test_process_of_the_same_transaction_from_its_handler_is_refused():
    seen = []
    other = crafted_ir("/CN=other", b"other")

    class Reentrant(Issuer):
        def handle_cert_request(self, request, *args):
            if request.transaction_id != other.transaction_id:
                try:
                    self.process(request)
                except RuntimeError as exc:
                    seen.append(exc)
                # another transaction is fine: it gets a worker of its own
                seen.append(self.process(other).body_type.name)
            return super().handle_cert_request(request, *args)

    server = Reentrant()
    with client(server) as ctx:
        assert ctx.exec_ir().issuer == CA.subject
    assert isinstance(seen[0], RuntimeError) and "same transaction" in str(seen[0])
    assert seen[1] == "IP"
    assert server.confirmed == 1
    assert server.open_transactions == 1  # the other transaction awaits its certConf


def test_attach_from_inside_the_clients_own_call_is_refused():
    seen = []

    class Reattaching(Issuer):
        def handle_cert_request(self, *args):
            try:
                self.attach(ctx)  # the client whose exec_ir runs this handler
            except RuntimeError as exc:
                seen.append(exc)
            return super().handle_cert_request(*args)

    server = Reattaching()
    ctx = client(server, attach=True)
    assert ctx.exec_ir().issuer == CA.subject
    assert len(seen) == 1 and "inside one of its own calls" in str(seen[0])
    assert server.pool_size == 1 and ctx.attached_server is not None
    ctx.close()


def test_server_ctx_refuses_what_it_cannot_replay():
    server = Issuer()
    for name, value in (("transfer_callback", lambda c, r: r), ("cert_conf_callback", None),
                        ("http_callback", None), ("transaction_id", b"0" * 16),
                        ("sender_nonce", b"1" * 16), ("server", "example.org"),
                        ("proxy", "proxy:8080")):
        with pytest.raises(RuntimeError, match="server.ctx.%s" % name):
            setattr(server.ctx, name, value)
    for call in (server.ctx.reinit, server.ctx.exec_ir, server.ctx.exec_genm,
                 server.ctx.build_cert_chain, lambda: server.ctx.set_new_pkey(KEY),
                 lambda: server.ctx.push_subject_alt_name("DNS:a.example"),
                 lambda: server.ctx.set_url("http://a.example/pkix"),
                 lambda: server.ctx.attach_srv_ctx(None)):
        with pytest.raises(RuntimeError, match="server.ctx"):
            call()
    with pytest.raises(TypeError):
        server.attach(server.ctx)
    # what it replays still works, and the getters
    server.ctx.log_verbosity = LogLevel.CRIT
    server.ctx.untrusted = [CA]
    assert server.ctx.log_verbosity == LogLevel.CRIT and server.ctx.untrusted == [CA]
    with client(server) as ctx:
        assert ctx.exec_ir().issuer == CA.subject


# What server.ctx does with each method of Context: refused, recorded and replayed, or a
# read that changes nothing.  A method added to Context fails here until it is classified.
_SERVER_CTX_READS = {"get_new_pkey", "get_option", "print_errors", "req_extensions_have_san",
                     "setup_crm", "status_text", "__exit__"}
_SERVER_CTX_RECORDED = {"set_option", "push_geninfo_itav", "reset_geninfo_itavs"}


def test_every_context_method_is_refused_recorded_or_a_read_on_server_ctx():
    import inspect

    from openssl_cmp.server import ServerContext

    server = Issuer()
    unclassified = []
    for name in dir(Context):
        if name.startswith("_") and name not in ("__enter__", "__exit__"):
            continue
        attr = inspect.getattr_static(Context, name)
        if isinstance(attr, property) or not callable(attr):
            continue  # properties: __setattr__ records or refuses them (test above)
        own = ServerContext.__dict__.get(name)
        if own is not None and (own.__doc__ or "").startswith("Refused on a ServerContext"):
            with pytest.raises(RuntimeError, match=r"server\.ctx\.%s: " % name):
                getattr(server.ctx, name)()  # named in the error, before any argument
        elif name in _SERVER_CTX_RECORDED:
            assert own is not None, name  # overridden to record and replay
        elif name not in _SERVER_CTX_READS:
            unclassified.append(name)
    assert unclassified == []
    # the support operations and close are refused by their own names
    for name in ("get_ca_certs", "get_cert_req_template", "get_root_ca_key_update",
                 "get_crl_update", "close"):
        with pytest.raises(RuntimeError, match=r"server\.ctx\.%s: " % name):
            getattr(server.ctx, name)()
    with pytest.raises(RuntimeError, match="server.ctx.__enter__"):
        with server.ctx:
            pass
    assert not server.ctx.closed
    with client(server) as ctx:  # the server still works
        assert ctx.exec_ir().issuer == CA.subject


# -- the fair pool ---------------------------------------------------------------------------

def legit_client(mock):
    """The client whose open transaction a flood must not evict (PBM with MockCA's
    secret; no transfer set)."""
    legit = Context()
    legit.log_verbosity = LogLevel.EMERG
    legit.reference_value, legit.secret_value = b"legit", b"mock-secret"
    legit.trusted = TrustStore([mock.ca_cert])
    legit.subject_name = "/CN=legit"
    legit.set_new_pkey(KEY)
    return legit


def test_a_flood_from_one_client_cannot_evict_another_clients_transaction():
    mock = MockCA(allow_key_reuse=True)  # every IR here carries KEY
    mock.ctx.log_verbosity = LogLevel.EMERG
    flood = [crafted_ir("/CN=flood", b"attacker", b"mock-secret") for _ in range(1100)]
    seen = {}

    legit = legit_client(mock)
    legit.transfer_callback = lambda c, request: mock.process(request)

    def between_ip_and_certconf(ctx, cert, fail_info):
        for request in flood:
            assert mock.process(request).body_type.name == "IP"
        seen["by_client"] = sorted(mock.transactions_by_client().values())
        seen["stats"] = mock.pool_stats()
        return 0

    legit.cert_conf_callback = between_ip_and_certconf
    with legit:
        assert legit.exec_ir().is_issued_by(mock.ca_cert)  # was: "unexpected pkibody"
    assert seen["by_client"] == [1, 64]  # the default max_transactions_per_client
    assert seen["stats"]["client_limit"] == 1100 - 64
    assert seen["stats"]["global_limit"] == 0
    assert mock.open_transactions == 64 and mock.pool_size <= 66


def test_per_client_limit_abandons_the_clients_own_oldest():
    server = Issuer(max_transactions_per_client=3)
    seen = {}

    def innermost():
        seen["by_client"] = sorted(server.transactions_by_client().values())

    clients = [client(server, "/CN=b", b"b")] + \
        [client(server, "/CN=a", b"a") for _ in range(5)]
    results = nested_enrollments(clients, innermost)
    assert seen["by_client"] == [1, 3]
    assert results[0] is True  # B: untouched
    for evicted in results[1:3]:  # A's two oldest
        # the server no longer knows the transaction: "unexpected pkibody" (3.0) or
        # "unexpected certconf" (3.5)
        assert isinstance(evicted, CMPError) and evicted.server_rejected
        assert "unexpected pkibody" in str(evicted) or "unexpected certconf" in str(evicted)
    assert results[3:] == [True, True, True]
    assert server.pool_stats()["client_limit"] == 2
    assert server.open_transactions == 0 and server.transactions_by_client() == {}


def test_global_limit_abandons_the_oldest_of_the_biggest_client():
    server = Issuer(max_open_transactions=4)
    seen = {}

    def innermost():
        seen["stats"] = server.pool_stats()

    clients = [client(server, "/CN=b", b"b")] + \
        [client(server, "/CN=a", b"a") for _ in range(3)] + [client(server, "/CN=c", b"c")]
    results = nested_enrollments(clients, innermost)
    # B's transaction is the oldest, but A holds the most: A's oldest goes
    assert results[0] is True
    assert isinstance(results[1], CMPError)
    assert results[2:] == [True, True, True]
    assert seen["stats"]["counted"] == 4 and seen["stats"]["global_limit"] == 1
    assert seen["stats"]["clients"] == 3


def test_the_connection_is_a_second_key_of_the_pool_limits():
    server = Issuer(max_transactions_per_client=2)
    for i in range(3):  # three senders behind one connection
        response, exc = server._process(crafted_ir("/CN=s%d" % i, b"s%d" % i),
                                        client="192.0.2.1:40000")
        assert exc is None and response.body_type.name == "IP"
    by_client = server.transactions_by_client()
    # the connection's own oldest went; each remaining transaction is counted under its
    # sender too
    assert by_client.pop(Connection("192.0.2.1:40000")) == 2
    assert sorted(by_client.values()) == [1, 1]
    assert server.pool_stats()["client_limit"] == 1 and server.open_transactions == 2
    # one sender over several connections is held by its sender key
    for i in range(3):
        response, exc = server._process(crafted_ir("/CN=one", b"one"),
                                        client="192.0.2.2:%d" % (50000 + i))
        assert exc is None
    assert server.pool_stats()["client_limit"] == 2
    with pytest.raises(TypeError):
        server._process(crafted_ir("/CN=x", b"x"), client=["unhashable"])


def test_one_http_connection_naming_many_senders_cannot_evict_another_client():
    """A client that holds one keep-alive connection and names a new senderKID in every IR
    (one shared PBM secret makes each of them "authenticated") abandons only its own
    transactions, under the per-connection key and under the global limit."""
    import http.client

    mock = MockCA(allow_key_reuse=True)
    mock.max_open_transactions = 40
    mock.ctx.log_verbosity = LogLevel.EMERG
    flood = [crafted_ir("/CN=flood", b"kid-%d" % i, b"mock-secret").to_der()
             for i in range(60)]
    with mock.serve_http() as serving:
        port = int(serving.url.split(":")[2].split("/")[0])
        attacker = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

        def flood_between_ip_and_certconf(ctx, cert, fail_info):
            for der in flood:  # all on one connection
                attacker.request("POST", "/pkix/", der,
                                 {"Content-Type": "application/pkixcmp"})
                answer = attacker.getresponse()
                assert answer.status == 200
                assert Message.from_der(answer.read()).body_type.name == "IP"
            return 0

        legit = legit_client(mock)
        legit.set_url(serving.url)
        legit.cert_conf_callback = flood_between_ip_and_certconf
        with legit:
            assert legit.exec_ir().is_issued_by(mock.ca_cert)  # not "unexpected certconf"
        attacker.close()
    stats = mock.pool_stats()
    assert stats["global_limit"] == 60 - 39  # all the attacker's own
    assert mock.open_transactions == 39


def test_stale_transactions_still_expire():
    server = Issuer(transaction_timeout=0)
    for i in range(3):
        assert server.process(crafted_ir("/CN=s%d" % i, b"s%d" % i)).body_type.name == "IP"
    stats = server.pool_stats()
    assert stats["expired"] >= 2 and stats["open"] <= 1 and stats["workers"] <= 2


def test_pool_limits_are_validated():
    server = Issuer(transaction_timeout=1.5, max_open_transactions=10,
                    max_transactions_per_client=2)
    assert (server.transaction_timeout, server.max_open_transactions,
            server.max_transactions_per_client) == (1.5, 10, 2)
    for name, bad, error in (("max_open_transactions", 0, ValueError),
                             ("max_transactions_per_client", 1.5, TypeError),
                             ("max_transactions_per_client", True, TypeError),
                             ("transaction_timeout", -1, ValueError),
                             ("transaction_timeout", "300", TypeError)):
        with pytest.raises(error, match=name):
            setattr(server, name, bad)
        with pytest.raises(error, match=name):
            Issuer(**{name: bad})
    assert Server().max_transactions_per_client == 64


# Guards against a busy worker being evicted, shared with another client or listed twice.
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
            result[name] = enrolling_client(server, name, IMPLICIT_CONFIRM=1).exec_ir()
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


# Guards against an evicted polling worker's handle being freed while its handler runs.
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
    a = threading.Thread(
        target=lambda: result.setdefault("A", enrolling_client(server, "a").exec_ir()),
        name="A")
    a.start()
    assert in_poll.wait(30)
    result["B"] = enrolling_client(server, "b").exec_ir()  # a new transaction while A polls
    release.set()
    a.join(30)  # was: Fatal Python error: ffi.from_handle() on a dead handle
    assert isinstance(result.get("A"), Certificate) and isinstance(result["B"], Certificate)


# Guards against a server config change racing an attached transaction (a double free).
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
