"""``repr`` has no side effects: on every public class (open, closed, and a Context another
thread is driving) it leaves the thread's OpenSSL error queue exactly as it found it, and it
never waits for a lock."""

import datetime
import enum
import threading

import openssl_cmp
from openssl_cmp import (CRL, CSR, ITAV, TLS, CertReqTemplate, CertRequest, CertResponse,
                         CertStatus, Certificate, CMPError, Context, CRLStatus, Error,
                         ErrorEntry, Extensions, GeneralName, LibContext, Message, Name,
                         OpenSSLError, PolicyInfo, PrivateKey, PublicKey, RejectRequest,
                         RevDetails, RevocationCheck, RevocationReason, RootCaKeyUpdate, Server,
                         StatusInfo, TrustStore, UnsupportedError, WrongPasswordError)
from openssl_cmp.binding import ffi, lib
from openssl_cmp.enums import PKIStatus
from openssl_cmp.errors import drain
from openssl_cmp.http import HTTPServing
from openssl_cmp.server import ServerContext
from openssl_cmp.testing import MockCA, Profile

KEY = PrivateKey.generate()


def _public_classes():
    """Every class the package exports (enums aside: their repr is the enum module's)."""
    names = [getattr(openssl_cmp, n) for n in openssl_cmp.__all__]
    extra = [MockCA, Profile, HTTPServing, ServerContext]
    return {c for c in names + extra
            if isinstance(c, type) and not issubclass(c, enum.Enum)}


def _sentinel():
    """Queue one entry that an operation in progress could have queued."""
    lib.ERR_new()
    lib.ERR_set_debug(b"sentinel.c", 7, b"sentinel")
    lib.ERR_set_error(lib.ERR_LIB_USER, 42, b"%s", ffi.new("char[]", b"in progress"))


def _repr_keeps_the_queue(obj):
    _sentinel()
    text = repr(obj)
    left = drain()
    assert [(e.lib_code, e.reason_code, e.data) for e in left] == \
        [(lib.ERR_LIB_USER, 42, "in progress")], (type(obj).__name__, text, left)
    assert isinstance(text, str) and text
    return text


def _owned_instances(crl_files, cmp_messages):
    ca = Certificate.create("/CN=repr CA", KEY, KEY, ca=True)
    with Context() as ctx:
        ctx.subject_name = "/CN=repr"
        ctx.set_new_pkey(KEY)
        crm = ctx.setup_crm()
    return {
        Certificate: ca,
        CRL: CRL.from_file(crl_files[0]),
        CSR: CSR.build("/CN=csr", KEY, sans=["DNS:a.example"]),
        Name: Name.parse("/CN=n/O=o"),
        GeneralName: GeneralName.parse("DNS:g.example"),
        Extensions: Extensions({"keyUsage": "critical,digitalSignature"}),
        PolicyInfo: PolicyInfo("1.2.3.4"),
        TrustStore: TrustStore([ca]),
        PrivateKey: PrivateKey.generate(),
        PublicKey: KEY.public_key(),
        Message: Message.from_der(cmp_messages[0].read_bytes()),
        ITAV: ITAV("1.2.3.4", b"\x30\x00"),
        CertRequest: crm,
        LibContext: LibContext(),
    }


def test_every_public_class(crl_files, cmp_messages):
    owned = _owned_instances(crl_files, cmp_messages)
    ca = owned[Certificate]
    server = MockCA(ca_cert=ca, ca_key=KEY)
    context = server.client(subject_name="/CN=after", new_pkey=PrivateKey.generate())
    context.exec_ir()
    entry = ErrorEntry("CMP routines", "x", 1, None, None, 0, None, lib.ERR_LIB_CMP)
    others = {
        Context: context,
        ServerContext: server.ctx,
        Server: Server(),
        MockCA: server,
        TLS: TLS(trusted=[ca], cert=ca, key=KEY, extra_certs=[ca], host="ca.example"),
        CertResponse: CertResponse.accepted(ca),
        StatusInfo: StatusInfo(PKIStatus.REJECTION, 2, "no"),
        ErrorEntry: entry,
        Error: Error("x"),
        OpenSSLError: OpenSSLError("x", [entry]),
        CMPError: CMPError("x", [entry], PKIStatus.REJECTION),
        UnsupportedError: UnsupportedError("x"),
        RejectRequest: RejectRequest("x"),
        WrongPasswordError: WrongPasswordError("x", [entry]),
        RevDetails: RevDetails(issuer=ca.subject, serial=7,
                               reason=RevocationReason.KEY_COMPROMISE,
                               reasons=[RevocationReason.KEY_COMPROMISE], subject=None,
                               public_key_der=b"\x30\x00", extensions=None,
                               crl_entry_details=None, template_der=b"\x30\x00"),
        CertStatus: CertStatus(b"\x00" * 32, 0, StatusInfo(PKIStatus.ACCEPTED), None),
        CertReqTemplate: CertReqTemplate(Name.parse("/CN=t"), None, ("EC",), None),
        CRLStatus: CRLStatus(None, (GeneralName.parse("DNS:crl.example"),),
                             datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)),
        RootCaKeyUpdate: RootCaKeyUpdate(ca, ca, ca),
        Profile: Profile(ca=True, validity_days=30),
        RevocationCheck: RevocationCheck(use_cdp=True),
    }
    with server.serve_http() as http:
        others[HTTPServing] = http
        instances = {**owned, **others}
        assert set(instances) == _public_classes()  # a new public class needs a case here
        for obj in instances.values():
            _repr_keeps_the_queue(obj)
    assert _repr_keeps_the_queue(context).startswith("<Context status=")
    assert _repr_keeps_the_queue(ca).startswith("<Certificate subject='CN=repr CA'")

    # closed ones
    _repr_keeps_the_queue(http)
    context.close()
    assert _repr_keeps_the_queue(context) == "<Context closed>"
    for cls, obj in owned.items():
        obj.close()
        assert _repr_keeps_the_queue(obj) == "<%s closed>" % cls.__name__


def test_a_busy_context_does_not_block_repr():
    """Another thread is inside a transaction on the context (holding its lock): repr
    answers at once, without waiting and without touching the queue."""
    mock = MockCA()
    inside, leave = threading.Event(), threading.Event()

    def transfer(ctx, request):
        inside.set()
        leave.wait(30)
        return mock.process(request)

    ctx = Context()
    ctx.reference_value = b"client-of-" + mock.reference
    ctx.secret_value = mock.secret
    ctx.trusted = TrustStore([mock.ca_cert])
    ctx.subject_name = "/CN=busy"
    ctx.set_new_pkey(PrivateKey.generate())
    ctx.transfer_callback = transfer
    driver = threading.Thread(target=ctx.exec_ir)
    driver.start()
    try:
        assert inside.wait(30)
        seen = []

        def look():
            _sentinel()
            seen.append(repr(ctx))
            seen.append(drain())

        looker = threading.Thread(target=look)
        looker.start()
        looker.join(5)
        assert not looker.is_alive(), "repr waited for the Context's lock"
        assert seen[0] == "<Context busy>"
        assert [(e.lib_code, e.reason_code) for e in seen[1]] == [(lib.ERR_LIB_USER, 42)]
    finally:
        leave.set()
        driver.join(30)
    assert _repr_keeps_the_queue(ctx) == "<Context status=ACCEPTED>"
    ctx.close()


def test_repr_from_inside_a_callback_keeps_the_transaction_queue():
    """A callback of the transaction in progress may repr its context (the lock is this
    thread's): shown, not busy, and the queue is not cleared."""
    mock = MockCA()
    seen = []

    def transfer(ctx, request):
        seen.append(_repr_keeps_the_queue(ctx))
        seen.append(_repr_keeps_the_queue(request))
        return mock.process(request)

    with mock.client(subject_name="/CN=cb", new_pkey=PrivateKey.generate()) as ctx:
        ctx.transfer_callback = transfer
        ctx.exec_ir()
    assert seen[0].startswith("<Context status=") and seen[1].startswith("<Message IR tid=")
