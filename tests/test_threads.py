"""Threads: one context is driven by one thread at a time; different contexts run in
parallel (cffi releases the GIL during C calls) — shown with events, not timings."""

import socket
import threading

import pytest

from openssl_cmp import (Certificate, CMPError, Context, LogLevel, Message, Option,
                         PrivateKey, TrustStore)
from openssl_cmp.binding import lib

from rawserver import RawServer


def configured(pki, key=None):
    ctx = Context()
    ctx.log_verbosity = LogLevel.ERR
    ctx.reference_value, ctx.secret_value = b"ref", b"test-secret"
    ctx.subject_name = "/CN=test-client"
    ctx.set_new_pkey(key or PrivateKey.from_file(pki.ee_key))
    return ctx


def test_many_contexts_in_parallel(pki):
    key = PrivateKey.from_file(pki.ee_key)
    cert_pem = pki.ee_crt.read_bytes()
    errors, done = [], []

    def worker():
        server = RawServer(cert_pem)  # one SRV_CTX per thread: it keeps one transaction
        try:
            for _ in range(10):
                with configured(pki, key) as ctx:
                    ctx.attach_srv_ctx(server.ptr, owner=server)
                    ctx.exec_ir()
                done.append(1)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            server.close()
            lib.ERR_clear_error()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors and len(done) == 80


def test_one_context_is_serialised(pki):
    """While thread A is inside a transaction (blocked in its transfer callback), thread B
    cannot touch the same context; it proceeds once A is done."""
    server = RawServer(pki.ee_crt.read_bytes())
    inside, release, b_done = threading.Event(), threading.Event(), threading.Event()

    def transfer(ctx, request):
        inside.set()
        release.wait(30)
        return Message._owned(lib.OSSL_CMP_SRV_process_request(server.ptr, request.ptr))

    ctx = configured(pki)
    ctx.transfer_callback = transfer
    results = {}

    def a():
        results["a"] = ctx.exec_ir()

    def b():
        inside.wait(30)
        results["b_status"] = ctx.status  # must wait for A's transaction
        b_done.set()

    ta, tb = threading.Thread(target=a), threading.Thread(target=b)
    ta.start()
    tb.start()
    assert inside.wait(30)
    assert not b_done.wait(0.3)  # B is blocked on the context's lock
    release.set()
    ta.join(30)
    tb.join(30)
    assert b_done.is_set() and results["a"].to_der()
    assert results["b_status"] == 0  # B saw the finished transaction
    ctx.close()
    server.close()


def test_gil_released_during_c_calls(pki):
    """Context A blocks inside C (waiting on a socket that never answers); context B
    completes a whole enrollment meanwhile.  If the GIL were held during C calls, B could
    not run and this test would hang until A's timeout, then fail."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    connected, stop = threading.Event(), threading.Event()

    def hold():
        conn, _ = listener.accept()
        connected.set()
        stop.wait(60)
        conn.close()

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    a = configured(pki)
    a.set_url("http://127.0.0.1:%d/" % listener.getsockname()[1])
    a.set_option(Option.MSG_TIMEOUT, 60)
    a.log_verbosity = LogLevel.CRIT
    outcome = {}

    def run_a():
        try:
            a.exec_ir()
        except CMPError as exc:
            outcome["a"] = exc
        finally:
            lib.ERR_clear_error()

    ta = threading.Thread(target=run_a)
    ta.start()
    try:
        assert connected.wait(30)
        server = RawServer(pki.ee_crt.read_bytes())
        with configured(pki) as b:
            b.attach_srv_ctx(server.ptr, owner=server)
            assert b.exec_ir().to_der()
        assert ta.is_alive(), "A should still be blocked in C"
        server.close()
    finally:
        stop.set()  # the server side closes: A fails
        ta.join(60)
        listener.close()
    assert isinstance(outcome.get("a"), CMPError)
    a.close()


def test_objects_from_a_context_used_in_other_threads(pki):
    server = RawServer(pki.ee_crt.read_bytes())
    ctx = configured(pki)
    ctx.attach_srv_ctx(server.ptr, owner=server)
    cert = ctx.exec_ir()
    ctx.close()
    server.close()
    fps = []
    threads = [threading.Thread(target=lambda: fps.append(cert.fingerprint()))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(set(fps)) == 1 and len(fps) == 4


@pytest.mark.parametrize("n", [2])
def test_exception_in_callback_does_not_leak_across_threads(pki, n):
    class Boom(Exception):
        pass

    def transfer(ctx, request):
        raise Boom()

    failures = []

    def worker():
        with configured(pki) as ctx:
            ctx.transfer_callback = transfer
            try:
                ctx.exec_ir()
            except Boom:
                failures.append("boom")
        lib.ERR_clear_error()

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert failures == ["boom"] * n


# Guards against Context getters reading a stack that a setter in another thread frees.
def test_getters_race_with_setters():
    key = PrivateKey.generate()
    ca = Certificate.create("/CN=Race CA", key, key, ca=True)
    ctx = Context()
    stop = threading.Event()
    errors = []

    def writer():
        while not stop.is_set():
            ctx.untrusted = [ca]
            ctx.trusted = TrustStore([ca])

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
