"""Ownership across the boundary: every set0/get0/get1 path, with the owner dropped, the
context reinit'ed or closed and garbage collected, then the object used (also from another
thread).  A broken rule here shows up as a crash or an OpenSSL error, not a wrong value."""

import gc
import threading
import weakref

import pytest

from openssl_cmp import (CSR, ITAV, Certificate, Context, Extensions, LogLevel, Message,
                         PrivateKey, PublicKey, TrustStore)
from openssl_cmp.binding import lib

from rawserver import RawServer


@pytest.fixture
def server(pki):
    s = RawServer(pki.ee_crt.read_bytes())
    yield s
    s.close()


def enrolled_context(pki, server):
    ctx = Context()
    ctx.log_verbosity = LogLevel.ERR
    ctx.reference_value, ctx.secret_value = b"ref", b"test-secret"
    ctx.subject_name = "/CN=test-client"
    ctx.set_new_pkey(PrivateKey.from_file(pki.ee_key))
    ctx.attach_srv_ctx(server.ptr, owner=server)
    return ctx


def in_thread(fn):
    out = []
    t = threading.Thread(target=lambda: out.append(fn()))
    t.start()
    t.join(30)
    assert not t.is_alive()
    return out[0]


def closed(ctx):
    """Close ``ctx`` and return a weak reference to it; the caller then deletes its name."""
    ctx.close()
    return weakref.ref(ctx)


def assert_gone(ref):
    gc.collect()
    assert ref() is None  # no cycle keeps the context alive


def test_exec_result_outlives_reinit_close_and_gc(pki, server):
    ctx = enrolled_context(pki, server)
    cert = ctx.exec_ir()
    new_cert = ctx.new_cert  # get0 -> up-ref'd
    ctx.reinit()  # frees the context's newCert reference
    assert ctx.new_cert is None
    ref = closed(ctx)
    del ctx
    assert_gone(ref)
    for c in (cert, new_cert):
        assert c.subject.to_der() and c.to_der() == pki_cert_der(pki)
        assert in_thread(lambda: c.fingerprint()) == c.fingerprint()


def pki_cert_der(pki):
    return Certificate.from_file(pki.ee_crt).to_der()


def test_get1_stacks_outlive_context(pki, server, ):
    ctx = enrolled_context(pki, server)
    ctx.exec_ir()
    lists = [ctx.new_chain, ctx.ca_pubs, ctx.extra_certs_in, ctx.untrusted]
    ref = closed(ctx)
    del ctx
    assert_gone(ref)
    for certs in lists:
        for c in certs:
            assert c.to_der()


def test_set0_trusted_store_caller_keeps_own(pki):
    ca = Certificate.from_file(pki.ca_crt)
    store = TrustStore([ca])
    ctx = Context()
    ctx.trusted = store  # set0 got its own reference
    got = ctx.trusted  # get0 -> up-ref'd
    del store
    gc.collect()
    assert ctx.trusted.certs == [ca]
    ctx.trusted = TrustStore()  # the old store is freed by the context: ours survives
    ref = closed(ctx)
    del ctx
    assert_gone(ref)
    assert got.certs == [ca]
    assert in_thread(lambda: len(got.certs)) == 1


def test_set0_new_pkey_and_get0_new_pkey(pki):
    key = PrivateKey.from_file(pki.ee_key)
    der = key.to_der()
    ctx = Context()
    ctx.set_new_pkey(key)
    ctx.set_new_pkey(key)  # the same key twice: the previous reference is freed once
    del key
    gc.collect()
    private = ctx.get_new_pkey(private=True)
    public = ctx.get_new_pkey()
    ctx.reinit()
    ref = closed(ctx)
    del ctx
    assert_gone(ref)
    assert private.to_der() == der
    assert public == private.public_key()
    csr = in_thread(lambda: CSR.build("/CN=after", private))  # the key still signs
    assert csr.public_key() == public


def test_set1_cert_pkey_names_survive_caller_close(pki):
    cert = Certificate.from_file(pki.ee_crt)
    key = PrivateKey.from_file(pki.ee_key)
    ctx = Context()
    ctx.cert, ctx.pkey, ctx.old_cert, ctx.server_cert = cert, key, cert, cert
    ctx.subject_name = "/CN=x"
    cert.close()
    key.close()
    gc.collect()
    for got in (ctx.cert, ctx.old_cert, ctx.server_cert):
        assert got.subject.to_der()
    assert ctx.pkey.to_der()
    got_cert = ctx.cert
    ref = closed(ctx)
    del ctx
    assert_gone(ref)
    assert got_cert.to_der()


def test_set0_req_extensions_and_push0_policy_caller_keeps_own():
    exts = Extensions({"subjectAltName": "DNS:a.example"})
    ctx = Context()
    ctx.set_new_pkey(PrivateKey.generate())
    ctx.req_extensions = exts
    ctx.req_extensions = exts  # set twice: the context frees its first copy
    ctx.push_policy("1.2.3.4")
    crm = ctx.setup_crm()
    ref = closed(ctx)
    del ctx
    assert_gone(ref)
    assert exts.has_san and crm.extensions().has_san
    assert sorted(crm.extensions().names()) == ["certificatePolicies", "subjectAltName"]


def test_push0_itavs_then_caller_closes(pki, server):
    ctx = enrolled_context(pki, server)
    itav = ITAV("1.3.6.1.5.5.7.4.17")
    ctx.push_genm_itav(itav)
    ctx.push_geninfo_itav(itav)
    itav.close()
    gc.collect()
    got = ctx.exec_genm()  # RawServer echoes the request's ITAVs
    assert [i.type for i in got] == ["1.3.6.1.5.5.7.4.17"]
    geninfo = ctx.geninfo_itavs
    ref = closed(ctx)
    del ctx
    assert_gone(ref)
    assert geninfo[0].type == "1.3.6.1.5.5.7.4.17" and got[0].value_der is None


def test_transfer_callback_message_lifetimes(pki, server):
    """The request handed to the callback is a copy; the response is copied for OpenSSL."""
    kept = []

    def transfer(ctx, request):
        kept.append(request)
        response = Message._owned(lib.OSSL_CMP_SRV_process_request(server.ptr, request.ptr))
        kept.append(response)
        return response

    ctx = enrolled_context(pki, server)
    ctx.transfer_callback = transfer
    ctx.exec_ir()
    ref = closed(ctx)
    del ctx
    assert_gone(ref)
    gc.collect()
    assert [m.body_type.name for m in kept] == ["IR", "IP", "CERTCONF", "PKICONF"]
    assert all(m.to_der() for m in kept)


def test_callbacks_released_with_context():
    class Callback:
        def __call__(self, *args):
            return None

    cb = Callback()
    cb_ref = weakref.ref(cb)
    ctx = Context()
    ctx.transfer_callback = cb
    ctx.cert_conf_callback = cb
    ctx.log_callback = cb
    del cb
    gc.collect()
    assert cb_ref() is not None  # alive as long as the context can call it
    ref = closed(ctx)
    del ctx
    assert_gone(ref)
    assert cb_ref() is None


def test_context_dropped_without_close_frees_via_gc(pki, server):
    ctx = enrolled_context(pki, server)
    cert = ctx.exec_ir()
    ref = weakref.ref(ctx)
    del ctx
    gc.collect()
    assert ref() is None
    assert cert.to_der()


def test_public_key_views_outlive_parents(pki):
    cert = Certificate.from_file(pki.ee_crt)
    pub = cert.public_key()
    subject = cert.subject
    csr = CSR.from_file(pki.ee_csr)
    csr_pub = csr.public_key()
    cert.close()
    csr.close()
    gc.collect()
    assert pub == csr_pub and isinstance(pub, PublicKey)
    assert str(subject) == "CN=test-client"


def test_context_with_callbacks_freed_without_cyclic_gc():
    """The callback state does not point back at the context (nor at its own handle): the
    context goes away by reference counting alone, the moment the last name is dropped."""
    gc.disable()
    try:
        ctx = Context()
        ctx.transfer_callback = lambda c, r: r
        ctx.cert_conf_callback = lambda c, cert, f: 0
        ctx.log_callback = lambda *a: None
        ref = weakref.ref(ctx)
        state_ref = weakref.ref(ctx._boundary.state)
        del ctx
        assert ref() is None and state_ref() is None
    finally:
        gc.enable()
